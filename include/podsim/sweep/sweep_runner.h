// Runs a sweep: every point in its own `podsim run` process (SystemC elaborates once per
// process), up to `jobs` at a time, into an output folder:
//   DIR/points/<id>.json         the point's full report (written by the child, atomically)
//   DIR/points/<id>.result.json  the point's record: params, metrics, status, error
//   DIR/points/<id>.log          the child's stderr
//   DIR/results.csv, results.jsonl  every record, sorted by point id (rebuilt from the
//                                   records, atomically: never a half-written row)
//   DIR/sweep.json               what the columns are (for merge and compare)
// Records are the source of truth: a rerun into the same folder skips points that have
// one (failed and timed-out points are run again), so a killed sweep loses nothing that
// finished. Output does not depend on -j, shards or the order points finish in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "podsim/config/sweep_spec.h"

namespace podsim {

struct SweepRunOptions {
  std::string out_dir;
  unsigned jobs = 1;
  std::uint64_t shard_index = 0, shard_count = 1;  // run points with id % count == index
  double point_timeout_s = 0;                      // 0: none
  std::string podsim_binary;                       // the executable for the points
  bool show_progress = true;
};

struct SweepSummary {
  std::uint64_t points = 0, ran = 0, skipped_done = 0, ok = 0, failed = 0, constrained = 0;
  std::uint64_t over_budget = 0;  // ran (counted in ok) but past a budget (SweepSpec::budgets)
};

// Returns what happened; throws std::runtime_error for an unusable output folder.
// Every ops.<op>.<key> metric names an op of the base workload as its report lists them
// (expanded: attention into its parts, training's backward ops), by index or name; else a
// ConfigError at the metric, with the nearest name. run_sweep() calls it first.
void check_op_metrics(const SweepSpec& spec);
SweepSummary run_sweep(const SweepSpec& spec, const SweepRunOptions& options);

// Joins the records of several output folders (shards) into `out_dir` and writes its
// results.csv / results.jsonl; returns the number of points.
std::uint64_t merge_sweeps(const std::vector<std::string>& dirs, const std::string& out_dir);

}  // namespace podsim
