#include <nlohmann/json.hpp>
#include <fmt/format.h>

#include "podsim/report/report.h"

namespace podsim {

namespace {
double efficiency(const std::vector<RunResult>& runs, const RunResult& r) {
  // Weak scaling: every chip does the same work, so the ideal step time does not change.
  return r.end_ps ? double(runs.front().end_ps) / double(r.end_ps) : 0.0;
}
}  // namespace

std::string scaling_text(const std::vector<RunResult>& runs) {
  std::string out;
  if (runs.empty()) return out;
  out += fmt::format("podsim: workload '{}' on '{}', data parallel, one chip simulation composed at each pod size\n",
                     runs.front().workload.name, runs.front().hw.name);
  out += fmt::format("  {:>6} {:>9} {:>12} {:>12} {:>13} {:>10} {:>12} {:>12} {:>11}\n", "chips", "dims", "step ms",
                     "exposed ms", "contention ms", "PFLOPS", "peak PFLOPS", "ICI GiB", "efficiency");
  for (const RunResult& r : runs) {
    const PodResult& p = *r.pod;
    out += fmt::format("  {:>6} {:>9} {:>12.3f} {:>12.3f} {:>13.3f} {:>10.3f} {:>12.3f} {:>12.2f} {:>10.1f}%\n", p.chips,
                       p.dims, r.time_s() * 1e3, double(p.exposed_comm_ps) * 1e-9, double(p.contention_ps) * 1e-9,
                       r.achieved_flops() * 1e-15,
                       r.peak_flops() * 1e-15, double(p.ici_bytes) / double(1ULL << 30), 100 * efficiency(runs, r));
  }
  out += "  efficiency: step time at the first size / step time at this size (weak scaling: same work per chip)\n";
  out += "  contention: how much longer ops ran beside the gradient all-reduces' HBM and vector traffic\n";
  return out;
}

std::string scaling_json(const std::vector<RunResult>& runs) {
  nlohmann::ordered_json j;
  j["schema"] = "podsim.scaling/1";
  j["podsim_version"] = PODSIM_VERSION;
  j["workload"] = runs.empty() ? "" : runs.front().workload.name;
  j["hardware"] = runs.empty() ? "" : runs.front().hw.name;
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (const RunResult& r : runs) {
    const PodResult& p = *r.pod;
    rows.push_back({{"chips", p.chips},
                    {"dims", p.dims},
                    {"time_s", r.time_s()},
                    {"compute_s", double(p.compute_ps) * 1e-12},
                    {"exposed_comm_s", double(p.exposed_comm_ps) * 1e-12},
                    {"contention_s", double(p.contention_ps) * 1e-12},
                    {"flops", 2 * r.macs},
                    {"achieved_tflops", r.achieved_flops() * 1e-12},
                    {"peak_tflops", r.peak_flops() * 1e-12},
                    {"ici_bytes", p.ici_bytes},
                    {"scaling_efficiency", efficiency(runs, r)},
                    {"invariants_ok", r.invariants_hold()}});
  }
  j["runs"] = std::move(rows);
  return j.dump(2) + "\n";
}

}  // namespace podsim
