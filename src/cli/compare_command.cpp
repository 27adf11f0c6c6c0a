// `podsim compare BASE NEW`: what moved between two reports or two sweep results, and
// whether it is within tolerance. Exit 0: everything within; 1: a regression (or a metric
// missing in NEW); 2: bad input (or two different workloads, unless asked for).
// Output as text, JSON, Markdown (a pull-request comment) or JUnit XML (one test case per
// metric, a regression a failure: what CI systems display).
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "podsim/report/metric_table.h"

namespace podsim::cli {
namespace {

// Which way is better, from the metric's name: lower for times, cycles, bytes and joules;
// higher for throughput, utilization, bandwidth and work per joule (TOPS/W); unknown
// (power among them: more watts can mean the same joules spent faster): any change
// beyond tolerance counts.
int better_direction(const std::string& name) {
  auto has = [&](const char* s) { return name.find(s) != std::string::npos; };
  const bool joules = name.size() > 2 && name.compare(name.size() - 2, 2, "_j") == 0;
  // A rate: samples_per_s, tokens_per_s, requests_per_s (not joules_per_sample).
  const bool rate = name.size() > 6 && name.compare(name.size() - 6, 6, "_per_s") == 0;
  if (has("tflops") || has("utilization") || has("gbps") || has("hit_rate") || has("tops_per_w") || rate) return +1;
  if (has("time") || has("cycles") || has("latency") || has("_s") || has("bytes") || has("stall") || joules ||
      has("joules_per"))
    return -1;
  return 0;
}

// Figures of the configuration, not of the run: a change is a different input, shown as
// such, never a regression or an improvement.
bool is_input(const std::string& metric) {
  return metric == "peak_tflops" || metric == "hbm_peak_gbps" || metric == "clock_hz" || metric == "chips" ||
         metric == "area_mm2" ||  // the chip's area: a function of the hardware alone (energy/chip_area.h)
         metric == "samples_per_step";  // declared by the workload (workload.samples)
}

// The unit a metric's name implies, for the reader.
std::string unit_of(const std::string& metric) {
  auto ends = [&](const char* s) {
    const std::string t(s);
    return metric.size() >= t.size() && metric.compare(metric.size() - t.size(), t.size(), t) == 0;
  };
  if (ends("tflops_per_mm2")) return "TFLOPS/mm2";
  if (ends("tops_per_w")) return "TOPS/W";
  if (ends("_per_s")) return "/s";
  if (ends("joules_per_sample")) return "J";
  if (ends("_s")) return "s";
  if (ends("bytes")) return "B";
  if (ends("gbps")) return "GB/s";
  if (ends("tflops")) return "TFLOPS";
  if (ends("cycles")) return "cycles";
  if (ends("_hz")) return "Hz";
  if (ends("_j")) return "J";
  if (ends("_w")) return "W";
  if (ends("_mm2")) return "mm2";
  return "";
}

struct Row {
  std::string name;
  double base = 0, next = 0, rel = 0;
  bool has_next = true;
  std::string verdict;  // ok, improved, REGRESSION, input changed, missing
};

struct Outcome {
  std::vector<Row> rows;
  int regressions = 0, improvements = 0, missing = 0, inputs = 0;
};

Outcome compare_tables(const MetricTable& base, const MetricTable& next, const CompareOptions& o) {
  Outcome out;
  for (const auto& [name, b] : base) {
    Row row;
    row.name = name;
    row.base = b;
    auto it = next.find(name);
    if (it == next.end()) {
      row.has_next = false;
      row.verdict = "missing";
      ++out.missing;
      out.rows.push_back(row);
      continue;
    }
    const double n = it->second, diff = n - b;
    row.next = n;
    const double allowed = std::max(o.abs_tol, o.rel_tol * std::fabs(b));
    row.rel = b != 0 ? diff / std::fabs(b) : (diff == 0 ? 0.0 : INFINITY);
    row.verdict = "ok";
    const std::string metric = name.substr(name.rfind(' ') == std::string::npos ? 0 : name.rfind(' ') + 1);
    if (is_input(metric)) {
      if (diff != 0) {
        row.verdict = "input changed";
        ++out.inputs;
      }
    } else if (std::fabs(diff) > allowed) {
      const int dir = better_direction(metric);
      const bool worse = dir == 0 || (dir > 0 ? diff < 0 : diff > 0);
      row.verdict = worse ? "REGRESSION" : "improved";
      (worse ? out.regressions : out.improvements)++;
    }
    out.rows.push_back(row);
  }
  return out;
}

std::string metric_part(const std::string& name) {
  return name.substr(name.rfind(' ') == std::string::npos ? 0 : name.rfind(' ') + 1);
}

std::string totals(const Outcome& c, std::size_t compared) {
  return fmt::format("{} compared: {} regressions, {} improvements beyond tolerance, {} missing, {} inputs changed",
                     compared, c.regressions, c.improvements, c.missing, c.inputs);
}

void print_text(const Outcome& c, const CompareOptions& o, const MetricSource& bs, const MetricSource& ns) {
  fmt::print("podsim compare: {} vs {} (tolerance: {:g}% relative, {:g} absolute)\n", o.base, o.next, 100 * o.rel_tol,
             o.abs_tol);
  if (bs.workload != ns.workload)
    fmt::print("  workloads differ: '{}' vs '{}' (compared as asked)\n", bs.workload, ns.workload);
  if (bs.hardware != ns.hardware) fmt::print("  hardware: '{}' vs '{}'\n", bs.hardware, ns.hardware);
  std::string table;
  for (const Row& r : c.rows) {
    if (r.verdict == "ok" && !o.show_all) continue;
    const std::string unit = unit_of(metric_part(r.name));
    if (!r.has_next)
      table += fmt::format("  {:<44} {:>14.6g} {:>14} {:>9}  {:<6}  missing\n", r.name, r.base, "-", "", unit);
    else
      table += fmt::format("  {:<44} {:>14.6g} {:>14.6g} {:>+8.2f}%  {:<6}  {}\n", r.name, r.base, r.next, 100 * r.rel,
                           unit, r.verdict);
  }
  if (!table.empty())
    fmt::print("  {:<44} {:>14} {:>14} {:>9}  {:<6}  verdict\n{}", "metric", "base", "new", "change", "unit", table);
  fmt::print("{}\n", totals(c, c.rows.size()));
}

void print_json(const Outcome& c, const CompareOptions& o, const MetricSource& bs, const MetricSource& ns) {
  nlohmann::ordered_json j;
  j["schema"] = "podsim.compare/1";
  j["base"] = {{"path", o.base}, {"workload", bs.workload}, {"hardware", bs.hardware}};
  j["new"] = {{"path", o.next}, {"workload", ns.workload}, {"hardware", ns.hardware}};
  j["tolerance"] = {{"relative", o.rel_tol}, {"absolute", o.abs_tol}};
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const Row& r : c.rows) {
    nlohmann::ordered_json row = {{"metric", r.name}, {"unit", unit_of(metric_part(r.name))}, {"base", r.base}};
    if (r.has_next) {
      row["new"] = r.next;
      row["change"] = std::isfinite(r.rel) ? nlohmann::ordered_json(r.rel) : nlohmann::ordered_json(nullptr);
    } else {
      row["new"] = nullptr;
    }
    row["verdict"] = r.verdict;
    rows.push_back(std::move(row));
  }
  j["metrics"] = std::move(rows);
  j["regressions"] = c.regressions;
  j["improvements"] = c.improvements;
  j["missing"] = c.missing;
  j["inputs_changed"] = c.inputs;
  fmt::print("{}\n", j.dump(2));
}

void print_markdown(const Outcome& c, const CompareOptions& o, const MetricSource& bs, const MetricSource& ns) {
  fmt::print("### podsim compare: `{}` vs `{}`\n\n", o.base, o.next);
  if (bs.hardware != ns.hardware || bs.workload != ns.workload)
    fmt::print("Base: {} on {}; new: {} on {}.\n\n", bs.workload, bs.hardware, ns.workload, ns.hardware);
  fmt::print("| metric | base | new | change | unit | verdict |\n|---|---:|---:|---:|---|---|\n");
  for (const Row& r : c.rows) {
    if (r.verdict == "ok" && !o.show_all) continue;
    fmt::print("| `{}` | {:.6g} | {} | {} | {} | {} |\n", r.name, r.base, r.has_next ? fmt::format("{:.6g}", r.next) : "-",
               r.has_next ? fmt::format("{:+.2f} %", 100 * r.rel) : "", unit_of(metric_part(r.name)),
               r.verdict == "REGRESSION" ? "**REGRESSION**" : r.verdict);
  }
  fmt::print("\n{} (tolerance {:g} % relative, {:g} absolute)\n", totals(c, c.rows.size()), 100 * o.rel_tol, o.abs_tol);
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        // XML 1.0 allows no control characters but tab, newline and carriage return.
        if (static_cast<unsigned char>(ch) < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') out += '?';
        else out += ch;
    }
  }
  return out;
}

void print_junit(const Outcome& c, const CompareOptions& o) {
  const int failures = c.regressions + c.missing;
  fmt::print("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  fmt::print("<testsuites name=\"podsim compare\" tests=\"{}\" failures=\"{}\">\n", c.rows.size(), failures);
  fmt::print("  <testsuite name=\"{} vs {}\" tests=\"{}\" failures=\"{}\">\n", xml_escape(o.base), xml_escape(o.next),
             c.rows.size(), failures);
  for (const Row& r : c.rows) {
    fmt::print("    <testcase classname=\"podsim.compare\" name=\"{}\"", xml_escape(r.name));
    if (r.verdict == "REGRESSION" || r.verdict == "missing") {
      const std::string msg = r.has_next ? fmt::format("{:.6g} -> {:.6g} {} ({:+.2f} %), tolerance {:g} % / {:g}", r.base,
                                                       r.next, unit_of(metric_part(r.name)), 100 * r.rel,
                                                       100 * o.rel_tol, o.abs_tol)
                                         : "missing in the new results";
      fmt::print(">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n", xml_escape(msg),
                 xml_escape(r.verdict));
    } else {
      fmt::print("/>\n");
    }
  }
  fmt::print("  </testsuite>\n</testsuites>\n");
}

}  // namespace

int compare_command(const CompareOptions& o) {
  MetricTable base, next;
  MetricSource base_source, next_source;
  std::string why;
  if (!load_metric_table(o.base, o.metrics, &base, &why, &base_source, o.ops) ||
      !load_metric_table(o.next, o.metrics, &next, &why, &next_source, o.ops)) {
    fmt::print(stderr, "error: {}\n", why);
    return kInputError;
  }
  // Two different workloads have nothing to regress against each other.
  if (base_source.workload != next_source.workload && !o.allow_different_workloads) {
    fmt::print(stderr,
               "error: {} is a run of workload '{}' and {} of '{}': they cannot regress against each other "
               "(--allow-different-workloads compares them anyway)\n",
               o.base, base_source.workload, o.next, next_source.workload);
    return kInputError;
  }
  if (base.empty()) {
    fmt::print(stderr, "error: {}: no numeric metrics to compare{}\n", o.base, o.metrics.empty() ? "" : " (check --metrics)");
    return kInputError;
  }
  const Outcome c = compare_tables(base, next, o);
  if (o.format == "json") print_json(c, o, base_source, next_source);
  else if (o.format == "markdown") print_markdown(c, o, base_source, next_source);
  else if (o.format == "junit") print_junit(c, o);
  else print_text(c, o, base_source, next_source);
  return c.regressions > 0 || c.missing > 0 ? 1 : kOk;
}

}  // namespace podsim::cli
