// `podsim plan`'s report: the best configurations, then why the others were set aside.
#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "podsim/planner/pod_planner.h"

namespace podsim {

// "t8 p8 d4 mb16x1 1f1b recompute zero3": how the tables and the JSON name a candidate.
std::string PlanCandidate::label() const {
  std::string s = fmt::format("t{} p{} d{} mb{}x{}", tensor, pipeline, data, microbatches, micro_batch);
  if (pipeline > 1) s += one_f_one_b ? " 1f1b" : " gpipe";
  if (recompute) s += " recompute";
  if (expert) s += " expert";
  if (zero) s += fmt::format(" zero{}", zero);
  return s;
}

namespace {

double gib(std::uint64_t b) { return double(b) / double(1ULL << 30); }

std::string seconds(double s) {
  if (s >= 1) return fmt::format("{:.3f} s", s);
  if (s >= 1e-3) return fmt::format("{:.3f} ms", s * 1e3);
  return fmt::format("{:.3f} us", s * 1e6);
}

// A rejection's kind: "does not fit", or the key path of a layout error.
std::string reason_kind(const std::string& why) {
  const auto colon = why.find(':');
  return colon == std::string::npos ? why : why.substr(0, colon);
}

}  // namespace

std::string plan_text(const PlanResult& r, std::size_t rejected_shown) {
  std::string out = fmt::format("podsim plan: workload '{}' on '{}', {} chips ({}), global batch {}\n", r.workload,
                                r.hardware, r.chips, r.dims, r.global_batch);
  const std::size_t fit = r.candidates - r.rejected.size();
  out += fmt::format(
      "  {} configurations: {} fit {:.3g} GiB of HBM per chip, {} rejected; {} estimated ({} stage programs simulated, "
      "{} collectives modelled), {} set aside by their lower bound\n",
      r.candidates, fit, gib(r.hbm_capacity), r.rejected.size(), r.estimated_count, r.programs_simulated,
      r.collectives_modelled, r.pruned);
  if (!r.estimated.empty()) {
    out += fmt::format("\n  {:<4} {:<40} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>9} {:>8}\n", "rank", "configuration",
                       "step", "compute", "tensor comm", "bubble", "grad comm", "optimizer", "HBM/chip", "bucket");
    for (std::size_t i = 0; i < r.estimated.size(); ++i) {
      const PlanCandidate& c = r.estimated[i];
      out += fmt::format("  {:<4} {:<40} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>5.1f} GiB {:>4} MiB\n", i + 1,
                         c.label() + (c.as_written ? " *" : ""), seconds(c.step_s), seconds(c.stage_compute_s),
                         seconds(c.tensor_comm_s), seconds(c.bubble_s), seconds(c.exposed_grad_s),
                         seconds(c.optimizer_s), gib(c.memory.peak_bytes()), c.bucket_bytes >> 20);
    }
    out += "  (tN pN dN: tensor, pipeline and data degrees; mbMxB: M microbatches of B; compute: the first stage's\n"
           "   ops over every microbatch, its tensor collectives included; grad comm: the gradient all-reduce left\n"
           "   exposed after the last backward; zero2: optimizer state, master weights and gradients sharded over the\n"
           "   data group (ZeRO-2: gradients reduce-scattered, the updated weights all-gathered, in grad comm);\n"
           "   zero3: the weights too, all-gathered before each op that reads them (stalls in compute);\n"
           "   * the workload's own parallelism)\n";
  } else {
    out += "\n  no configuration fits.\n";
  }
  out += fmt::format("\n  {}\n", r.as_written_rank);
  if (!r.rejected.empty()) {
    std::map<std::string, std::size_t> kinds;
    for (const PlanCandidate& c : r.rejected) ++kinds[reason_kind(c.rejected)];
    out += "\n  rejected:";
    for (const auto& [kind, n] : kinds) out += fmt::format(" {} {};", n, kind);
    out.back() = '\n';
    // The nearest misses first: the smallest footprints that still do not fit.
    std::vector<const PlanCandidate*> shown;
    for (const PlanCandidate& c : r.rejected) shown.push_back(&c);
    std::stable_sort(shown.begin(), shown.end(), [](const PlanCandidate* a, const PlanCandidate* b) {
      const bool fa = a->memory.peak_bytes() > 0, fb = b->memory.peak_bytes() > 0;  // 0: not laid out
      if (fa != fb) return fa;
      return a->memory.peak_bytes() < b->memory.peak_bytes();
    });
    for (std::size_t i = 0; i < shown.size() && i < rejected_shown; ++i)
      out += fmt::format("    {:<40} {}\n", shown[i]->label(), shown[i]->rejected);
  }
  return out;
}

std::string plan_json(const PlanResult& r) {
  using nlohmann::json;
  auto candidate = [](const PlanCandidate& c) {
    json j = {{"label", c.label()},
              {"data", c.data},
              {"tensor", c.tensor},
              {"pipeline", c.pipeline},
              {"microbatches", c.microbatches},
              {"micro_batch", c.micro_batch},
              {"schedule", c.pipeline > 1 ? (c.one_f_one_b ? "1f1b" : "gpipe") : "none"},
              {"recompute", c.recompute},
              {"expert", c.expert},
              {"zero", c.zero},
              {"as_written", c.as_written},
              {"hbm_per_chip_bytes", c.memory.peak_bytes()},
              {"stashed_activation_bytes", c.memory.stashed_activation_bytes},
              {"microbatches_in_flight", c.memory.microbatches_in_flight},
              {"lower_bound_s", c.lower_bound_s}};
    if (c.estimated) {
      j["step_s"] = c.step_s;
      j["stage_compute_s"] = c.stage_compute_s;
      j["tensor_comm_s"] = c.tensor_comm_s;
      j["bubble_s"] = c.bubble_s;
      j["exposed_grad_comm_s"] = c.exposed_grad_s;
      j["grad_contention_s"] = c.contention_s;
      j["optimizer_s"] = c.optimizer_s;
      j["gradient_bucket_bytes"] = c.bucket_bytes;
    }
    if (!c.rejected.empty()) j["rejected"] = c.rejected;
    return j;
  };
  json j = {{"workload", r.workload},
            {"hardware", r.hardware},
            {"chips", r.chips},
            {"dims", r.dims},
            {"global_batch", r.global_batch},
            {"hbm_capacity_bytes", r.hbm_capacity},
            {"candidates", r.candidates},
            {"pruned", r.pruned},
            {"estimated", r.estimated_count},
            {"programs_simulated", r.programs_simulated},
            {"collectives_modelled", r.collectives_modelled},
            {"as_written", r.as_written_rank}};
  j["best"] = json::array();
  for (const PlanCandidate& c : r.estimated) j["best"].push_back(candidate(c));
  j["rejected"] = json::array();
  for (const PlanCandidate& c : r.rejected) j["rejected"].push_back(candidate(c));
  return j.dump(2) + "\n";
}

}  // namespace podsim
