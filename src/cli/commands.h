// The podsim subcommands, one function each; main.cpp parses the command line (CLI11
// stays there) and calls these. Each returns the process exit code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "podsim/config/hardware_spec.h"

namespace podsim::cli {

enum ExitCode : int {
  kOk = 0,
  kInputError = 2,       // bad YAML, bad value, unknown key, unknown preset ...
  kSimulationError = 3,  // an invariant failed or a block stopped making progress
};

struct RunOptions {
  std::string workload;
  std::string hardware = "tpu-v3";
  std::vector<std::string> overrides;
  std::vector<std::string> workload_overrides;  // --wset
  std::string json_path;
  std::string trace_path;
  bool quiet = false;
  std::vector<std::uint32_t> chips;  // --chips 1,8,64: the pod at each size (data parallel)
  bool full_pod = false;             // simulate every chip, not each distinct program once
  bool full_network = false;         // every chip's transfers, even on a symmetric pod
  bool no_reuse = false;             // simulate every op, even one identical to an earlier op
  unsigned jobs = 2;                 // pods: chip programs simulated at once (one process each)
  std::size_t top = 0;               // text report: only the N longest ops (0: all)
  std::size_t group_depth = 0;       // text report: ops grouped by name prefix (0: no table)
};

struct MxuOptions {
  std::uint32_t rows = 128, cols = 128;
  std::string dataflow = "ws";
  std::uint64_t m = 0, k = 0, n = 0;
  std::string dtype = "bf16";
  std::string model = "tile";
  bool no_weight_overlap = false;
  std::uint64_t seed = 1;
  std::string json_path;
  std::string frames_path;  // pe model: write PE states cycle by cycle
  std::uint64_t max_frames = 1000;
  std::string vcd_path;  // pe model: the PE states as a VCD waveform
};

struct SelftestOptions {
  std::string what = "memory";
  std::string hardware = "tpu-v3";
  std::vector<std::string> overrides;
  std::string json_path;
  std::vector<std::string> patterns;  // empty: all
  bool check_timing = false;
  bool quick = false;
  std::string trace_path;        // replay this trace instead of the patterns
  std::size_t outstanding = 16;  // closed loop: trace requests in flight
  bool open_loop = false;        // issue trace requests at their cycles
  std::string write_trace_path;  // write the one pattern's requests as a trace
  // Generator parameters for the built-in patterns (sim/memory_selftest.h); empty: the
  // pattern's own. Sizes as "256", "256 B" or "1 MiB".
  std::string request_bytes, footprint, stride;
  std::uint64_t requests = 0;
  double write_fraction = -1, zipf_s = -1;
};

struct SweepOptions {
  std::string file;
  std::string out_dir;
  unsigned jobs = 1;
  std::string shard;  // "I/N"
  double point_timeout_s = 0;
  std::vector<std::string> merge;
  std::string pareto;  // "time_s,energy_j": write DIR/pareto.csv after the run
};

struct CompareOptions {
  std::string base, next;
  double rel_tol = 0.01;
  double abs_tol = 0;
  std::vector<std::string> metrics;
  bool show_all = false;
  bool allow_different_workloads = false;
  bool ops = false;            // reports: each op's time too, by name
  std::string format = "text";  // text, json, markdown or junit
};

struct CollectiveOptions {
  std::string kind = "all_reduce";
  std::string hardware = "tpu-v3-pod";
  std::vector<std::string> overrides;
  std::vector<std::string> sizes{"64 MiB"};
  std::string algorithm = "auto";
  std::string dtype = "bf16";
  std::uint32_t root = 0, peer = 1;
  std::string json_path;
  bool full_network = false;  // every chip's transfers even when the collective is symmetric
};

struct MapOptions {
  std::string workload;
  std::string hardware = "tpu-v3";
  std::vector<std::string> overrides, workload_overrides;
  std::uint32_t top_k = 8;
  std::string json_path, csv_path;
  bool quiet = false;
  unsigned jobs = 2;
  std::vector<std::string> learn_paths;  // --learn: train a cost model from these CSVs
  std::string model_path;                // --model: write it there, or rank by it
};

struct PlanOptions {
  std::string workload;
  std::string hardware = "tpu-v4-pod";
  std::vector<std::string> overrides, workload_overrides;
  std::uint32_t chips = 0;         // 0: the preset's pod
  std::uint64_t global_batch = 0;  // 0: the workload's as written
  std::size_t top = 5;
  std::string json_path;
  bool quiet = false;
  unsigned jobs = 2;
};

struct ServeOptions {
  std::string file;
  std::string hardware = "tpu-v4";
  std::vector<std::string> overrides;
  std::vector<std::string> serve_overrides;  // --sset serve.<section>.<field>=value
  std::string json_path, csv_path;
  bool quiet = false;
  unsigned jobs = 2;  // grid simulations at once, one process each
};

struct ReproduceOptions {
  std::vector<std::string> paths;  // anchor files or folders; empty: validation/
  std::string filter;              // only anchors whose name contains this
  std::string kind;                // only anchors of this kind (measured, model, spec, closed_form)
  unsigned jobs = 2;
  std::string json_path, markdown_path;
};

// Writes `what` (a report, a trace...) to `path` through io/output_file.h: "-" is stdout, a
// device is written in place, a regular file replaced atomically, an input of the run
// (`inputs`) never overwritten. On failure prints "error: <path>: cannot write <what>:
// <why>" and returns false (exit with kInputError then).
bool write_file(const std::string& path, const std::string& text, const std::string& what = "the output",
                const std::vector<std::string>& inputs = {});

// The hardware for a command, or nullopt after printing the input error (exit with
// kInputError then).
std::optional<HardwareSpec> load_hardware_or_report(const std::string& name_or_path,
                                                    const std::vector<std::string>& overrides);

int run_command(const RunOptions& options);
int collective_command(const CollectiveOptions& options);
int sweep_command(const SweepOptions& options);
int compare_command(const CompareOptions& options);
int selftest_command(const SelftestOptions& options);
int mxu_command(const MxuOptions& options);
int validate_command(const RunOptions& options);
int reproduce_command(const ReproduceOptions& options);
int serve_command(const ServeOptions& options);
int map_command(const MapOptions& options);
int plan_command(const PlanOptions& options);
int params_command();
// Runs python/podsim/plot.py (roofline, ops, sweep) with the arguments after `plot`.
int plot_command(const std::vector<std::string>& args);
int presets_command();

}  // namespace podsim::cli
