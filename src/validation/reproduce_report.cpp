// The reports of `podsim reproduce`: a text table, JSON, and the Markdown of
// docs/validation.md. Deterministic: nothing from the wall clock or the temporary folder.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "podsim/validation/reproduce.h"

namespace podsim {
namespace {

std::string number(double v) { return fmt::format("{:.4g}", v); }
std::string percent(double v) { return fmt::format("{:+.1f}%", 100 * v); }

std::string simulated_text(const AnchorResult& r) {
  return r.status == AnchorStatus::kError ? "-" : number(r.simulated);
}
std::string error_text(const AnchorResult& r) { return r.status == AnchorStatus::kError ? "-" : percent(r.error); }

// Groups in the order their first anchor appears.
std::vector<std::pair<std::string, std::vector<const AnchorResult*>>> by_group(const std::vector<AnchorResult>& results) {
  std::vector<std::pair<std::string, std::vector<const AnchorResult*>>> groups;
  for (const auto& r : results) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == r.spec.group; });
    if (it == groups.end()) {
      groups.push_back({r.spec.group, {}});
      it = groups.end() - 1;
    }
    it->second.push_back(&r);
  }
  return groups;
}

std::map<AnchorStatus, int> counts(const std::vector<AnchorResult>& results) {
  std::map<AnchorStatus, int> c;
  for (const auto& r : results) ++c[r.status];
  return c;
}

std::string counts_line(const std::vector<AnchorResult>& results) {
  auto c = counts(results);
  std::string s = fmt::format("{} anchors: {} pass, {} known failures, {} fail", results.size(), c[AnchorStatus::kPass],
                              c[AnchorStatus::kKnownFailure], c[AnchorStatus::kFail]);
  if (c[AnchorStatus::kUnexpectedPass]) s += fmt::format(", {} pass but are marked known (XPASS)", c[AnchorStatus::kUnexpectedPass]);
  if (c[AnchorStatus::kError]) s += fmt::format(", {} could not be run (ERROR)", c[AnchorStatus::kError]);
  return s;
}

// How far podsim is from each kind of figure: the anchors of a kind that gave a finite
// value, their median and mean |error|, and how many are within their tolerance (as the
// judgement counts them). In the kinds' order.
struct KindSummary {
  AnchorKind kind;
  std::size_t anchors = 0, within = 0;
  double median = 0, mean = 0;
};

std::vector<KindSummary> by_kind(const std::vector<AnchorResult>& results) {
  std::vector<KindSummary> out;
  for (AnchorKind k : kAnchorKinds) {
    std::vector<double> errors;
    KindSummary s{k};
    for (const auto& r : results)
      if (r.spec.kind == k && r.status != AnchorStatus::kError && std::isfinite(r.error)) {
        errors.push_back(std::abs(r.error));
        s.within += r.status == AnchorStatus::kPass || r.status == AnchorStatus::kUnexpectedPass;
      }
    if (errors.empty()) continue;
    std::sort(errors.begin(), errors.end());
    const std::size_t n = errors.size();
    s.anchors = n;
    s.median = n % 2 ? errors[n / 2] : (errors[n / 2 - 1] + errors[n / 2]) / 2;
    for (double e : errors) s.mean += e / double(n);
    out.push_back(s);
  }
  return out;
}

std::string kinds_line(const std::vector<AnchorResult>& results) {
  std::string s;
  for (const KindSummary& k : by_kind(results))
    s += fmt::format("{}{} {}: median |error| {:.1f}%, mean {:.1f}%, {} within tolerance", s.empty() ? "" : "; ",
                     k.anchors, anchor_kind_name(k.kind), 100 * k.median, 100 * k.mean, k.within);
  return s;
}

std::string run_text(const AnchorRun& run) {
  std::string s = "podsim " + run.command;
  for (const auto& a : run.args) s += a.find(' ') == std::string::npos ? " " + a : " '" + a + "'";
  return s;
}

}  // namespace

std::string reproduce_text(const std::vector<AnchorResult>& results) {
  std::string out;
  std::size_t w = 28;  // the name column: as wide as the longest name
  for (const auto& r : results) w = std::max(w, r.spec.name.size());
  for (const auto& [group, rs] : by_group(results)) {
    out += fmt::format("{}\n", group);
    out += fmt::format("  {:<{}} {:>11} {:>11} {:<10} {:>8} {:>6}  {}\n", "anchor", w, "published", "simulated", "unit",
                       "error", "tol", "status");
    for (const AnchorResult* r : rs) {
      out += fmt::format("  {:<{}} {:>11} {:>11} {:<10} {:>8} {:>6}  {}\n", r->spec.name, w, number(r->spec.published),
                         simulated_text(*r), r->spec.unit, error_text(*r), fmt::format("{:.0f}%", 100 * r->spec.tolerance),
                         anchor_status_name(r->status));
      if (r->status == AnchorStatus::kError) out += fmt::format("      {}\n", r->message);
    }
    out += "\n";
  }
  out += counts_line(results) + "\n";
  if (const std::string k = kinds_line(results); !k.empty()) out += "by kind of figure: " + k + "\n";
  return out;
}

std::string reproduce_json(const std::vector<AnchorResult>& results) {
  nlohmann::ordered_json j;
  j["schema"] = "podsim.reproduce/1";
  j["anchors"] = nlohmann::ordered_json::array();
  for (const auto& r : results) {
    nlohmann::ordered_json a;
    a["name"] = r.spec.name;
    a["group"] = r.spec.group;
    a["kind"] = anchor_kind_name(r.spec.kind);
    a["file"] = r.spec.file;
    a["claim"] = r.spec.claim;
    a["source"] = r.spec.source;
    a["unit"] = r.spec.unit;
    a["published"] = r.spec.published;
    if (r.status == AnchorStatus::kError) {
      a["simulated"] = nullptr;
      a["error"] = nullptr;
      a["message"] = r.message;
    } else {
      a["simulated"] = r.simulated;
      a["error"] = r.error;
    }
    a["tolerance"] = r.spec.tolerance;
    a["status"] = anchor_status_name(r.status);
    if (!r.spec.known_failure.empty()) a["known_failure"] = r.spec.known_failure;
    if (!r.spec.assumptions.empty()) a["assumptions"] = r.spec.assumptions;
    a["value"] = r.spec.value_text;
    nlohmann::ordered_json runs;
    for (const auto& [name, run] : r.spec.runs) runs[name] = run_text(run);
    a["runs"] = runs;
    j["anchors"].push_back(a);
  }
  auto c = counts(results);
  j["counts"] = {{"pass", c[AnchorStatus::kPass]},
                 {"known", c[AnchorStatus::kKnownFailure]},
                 {"fail", c[AnchorStatus::kFail]},
                 {"xpass", c[AnchorStatus::kUnexpectedPass]},
                 {"error", c[AnchorStatus::kError]}};
  j["by_kind"] = nlohmann::ordered_json::object();
  for (const KindSummary& k : by_kind(results))
    j["by_kind"][anchor_kind_name(k.kind)] = {{"anchors", k.anchors},
                                              {"within_tolerance", k.within},
                                              {"median_abs_error", k.median},
                                              {"mean_abs_error", k.mean}};
  return j.dump(2) + "\n";
}

std::string reproduce_markdown(const std::vector<AnchorResult>& results) {
  std::string out =
      "# Validation against published figures\n\n"
      "<!-- Generated by `podsim reproduce --markdown docs/validation.md`; do not edit. A test checks that it\n"
      "     matches what podsim computes (tests/integration/reproduce_test.cpp). -->\n\n"
      "Each anchor is a file in `validation/`: a published figure, its source, the podsim runs\n"
      "that reproduce it, the value compared and the tolerance. `podsim reproduce` runs them\n"
      "all and exits 1 when an anchor fails that is not marked as a known failure (or when a\n"
      "known failure starts to pass: then the mark must go). A known failure says why below;\n"
      "no preset value was tuned to meet an anchor.\n\n";
  out += "**" + counts_line(results) + ".**\n\n";
  if (const auto kinds = by_kind(results); !kinds.empty()) {
    out += "How far podsim is from each kind of figure (each anchor's `kind`; |error| over the\n"
           "anchors that gave a value). A figure measured on the chip running work says the most about podsim's\n"
           "numbers; a datasheet identity mostly checks that a preset says what its source does.\n\n";
    out += "| kind | the published figure is | anchors | within tolerance | median abs. error | mean abs. error |\n";
    out += "|---|---|---:|---:|---:|---:|\n";
    for (const KindSummary& k : kinds)
      out += fmt::format("| {} | {} | {} | {} | {:.1f}% | {:.1f}% |\n", anchor_kind_name(k.kind),
                         anchor_kind_meaning(k.kind), k.anchors, k.within, 100 * k.median, 100 * k.mean);
    out += "\n";
  }
  for (const auto& [group, rs] : by_group(results)) {
    out += fmt::format("## {}\n\n", group);
    out += "| anchor | published | simulated | unit | error | tolerance | status |\n";
    out += "|---|---:|---:|---|---:|---:|---|\n";
    for (const AnchorResult* r : rs)
      out += fmt::format("| `{}` | {} | {} | {} | {} | {:.0f}% | {} |\n", r->spec.name, number(r->spec.published),
                         simulated_text(*r), r->spec.unit, error_text(*r), 100 * r->spec.tolerance,
                         anchor_status_name(r->status));
    out += "\n";
    for (const AnchorResult* r : rs) {
      out += fmt::format("### `{}`\n\n", r->spec.name);
      out += fmt::format("- **Claim:** {}\n", r->spec.claim);
      out += fmt::format("- **Kind:** {}\n", anchor_kind_name(r->spec.kind));
      out += fmt::format("- **Source:** {}\n", r->spec.source);
      for (const auto& [name, run] : r->spec.runs) out += fmt::format("- **Run `{}`:** `{}`\n", name, run_text(run));
      out += fmt::format("- **Value:** `{}`\n", r->spec.value_text);
      if (!r->spec.assumptions.empty()) out += fmt::format("- **Assumptions:** {}\n", r->spec.assumptions);
      if (!r->spec.known_failure.empty()) out += fmt::format("- **Known failure:** {}\n", r->spec.known_failure);
      if (r->status == AnchorStatus::kError) out += fmt::format("- **Error:** {}\n", r->message);
      out += "\n";
    }
  }
  return out;
}

}  // namespace podsim
