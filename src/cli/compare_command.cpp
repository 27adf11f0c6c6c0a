// `podsim compare BASE NEW`: what moved between two reports or two sweep results, and
// whether it is within tolerance. Exit 0: everything within; 1: a regression; 2: bad input.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "podsim/report/metric_table.h"

namespace podsim::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Which way is better, from the metric's name: lower for times, cycles and bytes; higher
// for throughput, utilization and bandwidth; unknown: any change beyond tolerance counts.
int better_direction(const std::string& name) {
  auto has = [&](const char* s) { return name.find(s) != std::string::npos; };
  if (has("tflops") || has("utilization") || has("gbps") || has("hit_rate")) return +1;
  if (has("time") || has("cycles") || has("latency") || has("_s") || has("bytes") || has("stall")) return -1;
  return 0;
}

// Figures of the configuration, not of the run: a change is a different input, shown as
// such, never a regression or an improvement.
bool is_input(const std::string& metric) {
  return metric == "peak_tflops" || metric == "hbm_peak_gbps" || metric == "clock_hz" || metric == "chips";
}

using Table = MetricTable;

}  // namespace

int compare_command(const CompareOptions& o) {
  Table base, next;
  MetricSource base_source, next_source;
  std::string why;
  if (!load_metric_table(o.base, o.metrics, &base, &why, &base_source) ||
      !load_metric_table(o.next, o.metrics, &next, &why, &next_source)) {
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
  int regressions = 0, improvements = 0, missing = 0, inputs = 0;
  std::string table;
  for (const auto& [name, b] : base) {
    auto it = next.find(name);
    if (it == next.end()) {
      table += fmt::format("  {:<44} {:>14.6g} {:>14} {:>9}  missing\n", name, b, "-", "");
      ++missing;
      continue;
    }
    const double n = it->second, diff = n - b;
    const double allowed = std::max(o.abs_tol, o.rel_tol * std::fabs(b));
    const double rel = b != 0 ? diff / std::fabs(b) : (diff == 0 ? 0.0 : INFINITY);
    std::string verdict = "ok";
    const std::string metric = name.substr(name.rfind(' ') == std::string::npos ? 0 : name.rfind(' ') + 1);
    if (is_input(metric)) {
      if (diff != 0) {
        verdict = "input changed";
        ++inputs;
      }
    } else if (std::fabs(diff) > allowed) {
      const int dir = better_direction(metric);
      const bool worse = dir == 0 || (dir > 0 ? diff < 0 : diff > 0);
      verdict = worse ? "REGRESSION" : "improved";
      (worse ? regressions : improvements)++;
    }
    if (verdict != "ok" || o.show_all)
      table += fmt::format("  {:<44} {:>14.6g} {:>14.6g} {:>+8.2f}%  {}\n", name, b, n, 100 * rel, verdict);
  }
  fmt::print("podsim compare: {} vs {} (tolerance: {:g}% relative, {:g} absolute)\n", o.base, o.next, 100 * o.rel_tol,
             o.abs_tol);
  if (base_source.workload != next_source.workload)
    fmt::print("  workloads differ: '{}' vs '{}' (compared as asked)\n", base_source.workload, next_source.workload);
  if (base_source.hardware != next_source.hardware)
    fmt::print("  hardware: '{}' vs '{}'\n", base_source.hardware, next_source.hardware);
  if (!table.empty()) fmt::print("  {:<44} {:>14} {:>14} {:>9}  verdict\n{}", "metric", "base", "new", "change", table);
  fmt::print("{} compared: {} regressions, {} improvements beyond tolerance, {} missing, {} inputs changed\n",
             base.size(), regressions, improvements, missing, inputs);
  return regressions > 0 || missing > 0 ? 1 : kOk;
}

}  // namespace podsim::cli
