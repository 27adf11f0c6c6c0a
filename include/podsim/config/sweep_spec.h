// A design sweep: a base hardware and workload, axes over any parameter path, optional
// constraints, and the report metrics to collect. Loaded from YAML by load_sweep():
//   sweep:
//     hardware: tpu-v3            # preset name or file (relative to the sweep file)
//     workload: gemm.yaml         # relative to the sweep file
//     grid:                       # every combination
//       chip.mxu.rows: [64, 128, 256]
//       workload.ops[0].m: {from: 256, to: 4096, mul: 2}
//     zip:                        # optional: these axes move together (equal lengths)
//       chip.clock: [700 MHz, 940 MHz]
//       chip.hbm.bandwidth: [700 GB/s, 900 GB/s]
//     random: {samples: 100, seed: 7, axes: {chip.mxu.rows: [64, 128, 256]}}  # instead of grid/zip
//     constraints: ["chip.mxu.rows <= chip.mxu.cols"]
//     budgets: ["average_power_w <= 200"]  # on results: a point past one is "over_budget"
//     metrics: [time_s, achieved_tflops]
// A serve sweep names `serve: chat.yaml` instead of the workload: its axes are hardware
// parameters and serve file fields (serve.requests.rate, serve.scheduler.max_batch), its
// metrics the serve report's summary (ttft_s.p99, output_tokens_per_s).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "podsim/config/config_error.h"

namespace podsim {

struct SweepAxis {
  std::string path;                 // a `podsim params` path or a workload path
  std::vector<std::string> values;  // as written ("128", "900 GB/s")
  SourceLocation where;
  std::size_t zip_group = 0;        // zip axes: which group moves it (zip: a list of maps)
};

struct SweepConstraint {
  std::string text;  // "chip.mxu.rows <= chip.mxu.cols"
  std::string lhs, op, rhs;
  SourceLocation where;
};

// A limit on a run's result (power, energy, time): checked after the point runs; a point
// past it keeps its metrics and is recorded with status "over_budget".
struct SweepBudget {
  std::string text;    // "average_power_w <= 200"
  std::string metric;  // a summary metric
  std::string op;      // <= < >= >
  double limit = 0;
  SourceLocation where;
};

struct SweepSpec {
  std::string source;    // the sweep file
  std::string hardware;  // preset name, or a path resolved against the sweep file
  std::string workload;  // resolved path (empty in a serve sweep)
  std::string serve;     // a serve sweep: the serve file, resolved (each point runs podsim serve)
  std::vector<SweepAxis> grid, zip, random;
  std::uint64_t random_samples = 0, random_seed = 0;
  std::vector<SweepConstraint> constraints;
  std::vector<SweepBudget> budgets;
  std::vector<std::string> metrics;
  std::vector<SourceLocation> metric_where;  // where each metric is written

  // Every axis in column order (grid, then zip, then random).
  std::vector<const SweepAxis*> axes() const;
};

SweepSpec load_sweep(const std::string& path);  // throws ConfigError
// The same from YAML text; `source` names it in errors and relative paths are resolved
// against its folder.
SweepSpec load_sweep_text(const std::string& text, const std::string& source);

// The metric names a sweep may collect: summary keys, plus "ops.<index or name>.<key>"
// and "stats.<group>.<name>" paths into the report.
bool is_known_metric(const std::string& name);
std::vector<std::string> summary_metric_names();
// The metrics of a serve sweep: the serve report's summary keys, latency statistics as
// <key>.<stat> (ttft_s.p99); serving/serve_report.cpp writes them, a test compares.
std::vector<std::string> serve_metric_names();

// The keys of an op in a run report (report_json.cpp), for ops.<op>.<key> metrics.
std::vector<std::string> op_metric_keys();

// The report's stats, for stats.<group>.<name> metrics: each group's pattern ('#' stands
// for a core, MXU or channel number: "chip.core#.mxu#") and its names. sim/simulate.cpp
// and sim/pod_simulate.cpp add them; a test checks every stat of real reports is here.
struct StatsGroupSchema {
  std::string pattern;
  std::vector<std::string> names;
};
const std::vector<StatsGroupSchema>& stats_metric_schema();
// Empty if `group`.`name` is a stat a report can carry; else why not, with a suggestion.
std::string check_stats_metric(const std::string& group, const std::string& name);

}  // namespace podsim
