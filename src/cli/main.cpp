// podsim's command line. libsystemc would provide main() and call sc_main; podsim
// defines main() itself to silence the kernel's banner first (stdout holds the report).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>

#include <sysc/kernel/sc_externs.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "podsim/config/config_error.h"
#include "podsim/validation/anchor.h"

int main(int argc, char* argv[]) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}

int sc_main(int argc, char* argv[]) {
  CLI::App app{"podsim: a cycle-approximate simulator of TPU-style ML accelerators"};
  app.set_version_flag("--version", PODSIM_VERSION);
  app.require_subcommand(1);
  int verbosity = 0;
  app.add_flag("-v,--verbose", verbosity, "more log output (-vv for debug)");

  podsim::cli::RunOptions run;
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("workload", run.workload, "workload YAML file")->required();
    cmd->add_option("--hw", run.hardware, "hardware preset name or YAML file")->capture_default_str();
    cmd->add_option("--set", run.overrides, "override a hardware parameter: path=value (repeatable)");
    cmd->add_option("--wset", run.workload_overrides,
                    "override a workload field: workload.ops[0].m=512 or workload.ops.<name>.m=512 (repeatable)");
  };
  CLI::App* run_cmd = app.add_subcommand("run", "simulate a workload and print its report");
  add_common(run_cmd);
  run_cmd->add_option("--json", run.json_path, "also write the JSON report to this file");
  run_cmd->add_option("--trace", run.trace_path, "write a timeline (Chrome trace-event JSON: Perfetto, chrome://tracing)");
  run_cmd->add_flag("-q,--quiet", run.quiet, "do not print the summary");
  run_cmd->add_option("--chips", run.chips, "run data parallel at each pod size, e.g. 1,8,64,256,1024: a scaling table")
      ->delimiter(',')->check(CLI::Range(1, 65536));
  run_cmd->add_flag("--full-pod", run.full_pod, "simulate every chip of the pod, not each distinct chip program once");
  run_cmd->add_flag("--full-network", run.full_network,
                    "put every chip's transfers in the network model, even when the pod is symmetric and chip 0's "
                    "stand for all (docs/pods.md)");
  run_cmd->add_option("--top", run.top, "text report: only the N longest ops, longest first (0: every op)")
      ->check(CLI::Range(std::size_t(0), std::size_t(1) << 30));
  run_cmd->add_option("--group", run.group_depth,
                      "text report: a table of ops grouped by the first N dot-separated parts of their names "
                      "(r50.s1b1.conv1 -> r50.s1b1 at 2)")
      ->check(CLI::Range(std::size_t(0), std::size_t(64)));
  run_cmd->add_flag("--no-reuse", run.no_reuse,
                    "simulate every op, also those identical to an earlier op (by default replayed: docs/timing.md)");
  run.jobs = std::max(1u, std::thread::hardware_concurrency());
  run_cmd->add_option("-j,--jobs", run.jobs, "pods: chip programs simulated at once, each in its own process")
      ->check(CLI::Range(1, 1024))->capture_default_str();
  CLI::App* validate_cmd = app.add_subcommand("validate", "check a workload and hardware without simulating");
  add_common(validate_cmd);
  podsim::cli::MxuOptions mxu;
  CLI::App* mxu_cmd = app.add_subcommand("mxu", "run one matmul on a bare systolic array (tile or PE-level model)");
  mxu_cmd->add_option("--rows", mxu.rows, "array rows R")->check(CLI::Range(1, 4096))->capture_default_str();
  mxu_cmd->add_option("--cols", mxu.cols, "array columns C")->check(CLI::Range(1, 4096))->capture_default_str();
  mxu_cmd->add_option("--dataflow", mxu.dataflow, "ws, os or is")->check(CLI::IsMember({"ws", "os", "is"}))
      ->capture_default_str();
  mxu_cmd->add_option("--m", mxu.m, "rows of A and C")->required()->check(CLI::Range(1, 1 << 24));
  mxu_cmd->add_option("--k", mxu.k, "the reduction dimension")->required()->check(CLI::Range(1, 1 << 24));
  mxu_cmd->add_option("--n", mxu.n, "columns of B and C")->required()->check(CLI::Range(1, 1 << 24));
  mxu_cmd->add_option("--dtype", mxu.dtype, "int8, fp8, bf16, fp16 or fp32")
      ->check(CLI::IsMember({"int8", "fp8", "bf16", "fp16", "fp32"}))->capture_default_str();
  mxu_cmd->add_option("--model", mxu.model, "tile (closed form) or pe (cycle by cycle, real data)")
      ->check(CLI::IsMember({"tile", "pe"}))->capture_default_str();
  mxu_cmd->add_flag("--no-weight-overlap", mxu.no_weight_overlap,
                    "load each stationary tile only after the previous fold drained (SCALE-Sim's model)");
  mxu_cmd->add_option("--seed", mxu.seed, "random data seed (pe model)")->capture_default_str();
  mxu_cmd->add_option("--json", mxu.json_path, "write the result as JSON");
  mxu_cmd->add_option("--frames", mxu.frames_path, "pe model: write every PE's state per cycle (JSON)");
  mxu_cmd->add_option("--max-frames", mxu.max_frames, "pe model: cycles to record with --frames or --vcd")->capture_default_str();
  mxu_cmd->add_option("--vcd", mxu.vcd_path,
                      "pe model: write every PE's state per cycle as a VCD waveform (GTKWave), through SystemC's sc_trace");
  podsim::cli::SelftestOptions selftest;
  CLI::App* selftest_cmd = app.add_subcommand("selftest", "measure what the memory system achieves on standard patterns");
  selftest_cmd->add_option("what", selftest.what, "memory")->check(CLI::IsMember({"memory"}))->required();
  selftest_cmd->add_option("--hw", selftest.hardware, "hardware preset name or YAML file")->capture_default_str();
  selftest_cmd->add_option("--set", selftest.overrides, "override a hardware parameter: path=value");
  selftest_cmd->add_option("--json", selftest.json_path, "write the results as JSON");
  selftest_cmd->add_option("--pattern", selftest.patterns, "run only these patterns");
  selftest_cmd->add_flag("--check-timing", selftest.check_timing,
                         "log every DRAM command and replay it through the timing checker");
  selftest_cmd->add_flag("--quick", selftest.quick, "16 MiB streams and 20,000 random requests per pattern");
  selftest_cmd->add_option("--trace", selftest.trace_path,
                           "replay a request trace (lines of ADDRESS R|W [CYCLE] [BYTES]; docs/memory.md)");
  selftest_cmd->add_option("--outstanding", selftest.outstanding, "closed loop: trace requests in flight")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  selftest_cmd->add_flag("--open-loop", selftest.open_loop, "issue each trace request at its CYCLE, not on completions");
  selftest_cmd->add_option("--write-trace", selftest.write_trace_path,
                           "write the requests of the one --pattern as a trace file (and run it)");
  selftest_cmd->add_option("--request-bytes", selftest.request_bytes,
                           "size of each random, gather, strided, row_miss or mix request (a zipf row), e.g. 128 or '4 KiB'");
  selftest_cmd->add_option("--footprint", selftest.footprint,
                           "bytes the random patterns draw addresses from (zipf: the table), e.g. '1 GiB'");
  selftest_cmd->add_option("--stride", selftest.stride, "the step of the strided pattern (default 2 KiB)");
  selftest_cmd->add_option("--requests", selftest.requests, "requests of the random, gather, strided and mix patterns")
      ->check(CLI::Range(1, 10'000'000));
  selftest_cmd->add_option("--write-fraction", selftest.write_fraction,
                           "share of random, gather, strided and zipf requests that write (mix: 1/3)")
      ->check(CLI::Range(0.0, 1.0));
  selftest_cmd->add_option("--zipf-s", selftest.zipf_s, "the zipf pattern's exponent (default 1.0)")
      ->check(CLI::Range(0.0, 10.0));
  podsim::cli::PlanOptions plan;
  CLI::App* plan_cmd =
      app.add_subcommand("plan", "search a training step's data, tensor and pipeline degrees, microbatches, schedule "
                                 "and recompute on a pod: the best that fit HBM, and why the rest do not");
  plan_cmd->add_option("workload", plan.workload, "workload YAML file (model templates, with training:)")->required();
  plan_cmd->add_option("--hw", plan.hardware, "pod preset name or YAML file")->capture_default_str();
  plan_cmd->add_option("--set", plan.overrides, "override a hardware parameter: path=value (repeatable)");
  plan_cmd->add_option("--wset", plan.workload_overrides, "override a workload field (repeatable)");
  plan_cmd->add_option("--chips", plan.chips, "pod size (default: the preset's); dims near-cubic")
      ->check(CLI::Range(1, 1 << 20));
  plan_cmd->add_option("--global-batch", plan.global_batch,
                       "batch per step, in the templates' unit (default: the workload's: batch x microbatches x data)")
      ->check(CLI::Range(std::uint64_t(1), std::uint64_t(1) << 40));
  plan_cmd->add_option("-k,--top", plan.top, "configurations ranked exactly and shown")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  plan_cmd->add_option("--json", plan.json_path, "also write the ranking and every rejection as JSON");
  plan_cmd->add_flag("-q,--quiet", plan.quiet, "do not print the table");
  plan.jobs = std::max(1u, std::thread::hardware_concurrency());
  plan_cmd->add_option("-j,--jobs", plan.jobs, "stage programs simulated at once, each in its own process")
      ->check(CLI::Range(1, 256));
  podsim::cli::MapOptions map;
  CLI::App* map_cmd = app.add_subcommand("map", "search each MXU op's tilings: the cost model's best, simulated");
  map_cmd->add_option("workload", map.workload, "workload YAML file (not with --learn)");
  map_cmd->add_option("--hw", map.hardware, "hardware preset name or YAML file")->capture_default_str();
  map_cmd->add_option("--set", map.overrides, "override a hardware parameter: path=value (repeatable)");
  map_cmd->add_option("--wset", map.workload_overrides, "override a workload field (repeatable)");
  map_cmd->add_option("-k,--top", map.top_k, "candidates simulated per op beside the heuristic's")
      ->check(CLI::Range(0, 256))->capture_default_str();
  map_cmd->add_option("--json", map.json_path, "also write every candidate (predicted and simulated) as JSON");
  map_cmd->add_option("--csv", map.csv_path,
                      "also write every candidate as a CSV row, in the order simulated, with the best time so far "
                      "(the search curve)");
  map_cmd->add_flag("-q,--quiet", map.quiet, "do not print the table");
  map_cmd->add_option("--learn", map.learn_paths,
                      "train a learned cost model from these `--csv` files (comma-separated or repeated) and write it "
                      "to --model; prints its error on held-out shapes")
      ->delimiter(',');
  map_cmd->add_option("--model", map.model_path,
                      "with --learn: where the model goes; with a workload: rank each op's candidates by this model "
                      "(docs/mapping.md)");
  map.jobs = std::max(1u, std::thread::hardware_concurrency());
  map_cmd->add_option("-j,--jobs", map.jobs, "simulations at once, each in its own process")
      ->check(CLI::Range(1, 1024))->capture_default_str();
  podsim::cli::ServeOptions serve;
  CLI::App* serve_cmd = app.add_subcommand("serve", "serve LLM requests with continuous batching: TTFT, TPOT, throughput");
  serve_cmd->add_option("file", serve.file, "serve YAML file (docs/serving.md)")->required();
  serve_cmd->add_option("--hw", serve.hardware, "hardware preset name or YAML file")->capture_default_str();
  serve_cmd->add_option("--set", serve.overrides, "override a hardware parameter: path=value (repeatable)");
  serve_cmd->add_option("--sset", serve.serve_overrides,
                        "override a field of the serve file: serve.requests.rate=8, serve.scheduler.max_batch=64 (repeatable)");
  serve_cmd->add_option("--json", serve.json_path, "also write the JSON report to this file");
  serve_cmd->add_option("--csv", serve.csv_path, "write one line per request (arrival, first token, finish, latencies)");
  serve_cmd->add_flag("-q,--quiet", serve.quiet, "do not print the summary");
  serve.jobs = std::max(1u, std::thread::hardware_concurrency());
  serve_cmd->add_option("-j,--jobs", serve.jobs, "grid simulations at once, each in its own process")
      ->check(CLI::Range(1, 1024))->capture_default_str();
  podsim::cli::SweepOptions sweep;
  CLI::App* sweep_cmd = app.add_subcommand("sweep", "run a design sweep (one process per point), or merge shards");
  sweep_cmd->add_option("file", sweep.file, "sweep YAML file");
  sweep_cmd->add_option("-j,--jobs", sweep.jobs, "points run at once")->check(CLI::Range(1, 1024))->capture_default_str();
  sweep_cmd->add_option("--out", sweep.out_dir, "output folder (default: <sweep name>-results)");
  sweep_cmd->add_option("--shard", sweep.shard, "run only shard I of N: I/N");
  sweep_cmd->add_option("--point-timeout", sweep.point_timeout_s, "seconds before a point is killed and recorded as timed out")
      ->check(CLI::NonNegativeNumber);
  sweep_cmd->add_option("--pareto", sweep.pareto,
                        "objectives joined by commas (metric, or metric:max), like time_s,energy_j: write the points "
                        "no other beats on all of them to OUT/pareto.csv and pareto.jsonl");
  sweep_cmd->add_option("--merge", sweep.merge, "join these output folders (shards) into --out");
  podsim::cli::CompareOptions compare;
  CLI::App* compare_cmd = app.add_subcommand("compare", "compare two reports or two sweep results");
  compare_cmd->add_option("base", compare.base, "baseline report .json, or sweep folder / results.jsonl")->required();
  compare_cmd->add_option("new", compare.next, "new report or sweep results")->required();
  auto tolerance = [](double* out) {
    return [out](const std::string& text) {
      std::string t = text;
      const bool percent = !t.empty() && t.back() == '%';
      if (percent) t.pop_back();
      std::size_t used = 0;
      double v = 0;
      try {
        v = std::stod(t, &used);
      } catch (...) {
        used = 0;
      }
      // NaN compares false with everything, so a NaN tolerance would pass every regression.
      if (used != t.size() || used == 0 || !std::isfinite(v) || v < 0)
        throw CLI::ValidationError("expected a finite non-negative number or percentage, like 1%");
      *out = percent ? v / 100 : v;
    };
  };
  compare_cmd->add_option_function<std::string>("--rel-tol", tolerance(&compare.rel_tol), "relative tolerance (default 1%)");
  compare_cmd->add_option_function<std::string>("--abs-tol", tolerance(&compare.abs_tol), "absolute tolerance (default 0)");
  compare_cmd->add_option("--metrics", compare.metrics, "compare only these metrics")->delimiter(',');
  compare_cmd->add_flag("--all", compare.show_all, "list every metric, not only the ones that moved");
  compare_cmd->add_flag("--ops", compare.ops, "reports: compare each op's time too, matched by name");
  compare_cmd->add_option("--format", compare.format, "text, json, markdown or junit (JUnit XML for CI)")
      ->check(CLI::IsMember({"text", "json", "markdown", "junit"}))
      ->capture_default_str();
  compare_cmd->add_flag("--allow-different-workloads", compare.allow_different_workloads,
                        "compare reports of two different workloads (refused otherwise: exit 2)");
  podsim::cli::CollectiveOptions coll;
  CLI::App* coll_cmd = app.add_subcommand("collective", "time one collective over a pod's inter-chip network");
  coll_cmd->add_option("kind", coll.kind, "all_reduce, reduce_scatter, all_gather, all_to_all, broadcast or send_recv")
      ->capture_default_str();
  coll_cmd->add_option("--hw", coll.hardware, "hardware preset name or YAML file (with a pod)")->capture_default_str();
  coll_cmd->add_option("--set", coll.overrides, "override a hardware parameter, e.g. pod.dims=8x8 (repeatable)");
  coll_cmd->add_option("--bytes", coll.sizes, "buffer sizes, e.g. '1 KiB,64 MiB' (all_reduce: each chip's buffer)")
      ->delimiter(',');
  coll_cmd->add_option("--algorithm", coll.algorithm, "auto, ring, bidir_ring or torus")
      ->check(CLI::IsMember({"auto", "ring", "bidir_ring", "torus"}))->capture_default_str();
  coll_cmd->add_option("--dtype", coll.dtype, "element type the reductions add")->capture_default_str();
  coll_cmd->add_option("--root", coll.root, "broadcast root / send_recv source chip")->capture_default_str();
  coll_cmd->add_option("--peer", coll.peer, "send_recv destination chip")->capture_default_str();
  coll_cmd->add_option("--json", coll.json_path, "write the results (with per-link bytes) as JSON");
  coll_cmd->add_flag("--full-network", coll.full_network,
                     "every chip's transfers, even for a whole-pod torus collective where chip 0's stand for all");
  podsim::cli::ReproduceOptions repro;
  repro.jobs = run.jobs;
  CLI::App* repro_cmd = app.add_subcommand("reproduce", "run the published anchors (validation/) and judge each: exit 1 on a failure");
  repro_cmd->add_option("anchors", repro.paths, "anchor files or folders (default: validation)");
  repro_cmd->add_option("--filter", repro.filter, "only anchors whose name contains this");
  std::vector<std::string> anchor_kinds;
  for (podsim::AnchorKind k : podsim::kAnchorKinds) anchor_kinds.push_back(podsim::anchor_kind_name(k));
  repro_cmd->add_option("--kind", repro.kind, "only anchors of this kind of figure")->check(CLI::IsMember(anchor_kinds));
  repro_cmd->add_option("-j,--jobs", repro.jobs, "runs at once, each its own process")->check(CLI::Range(1, 1024))
      ->capture_default_str();
  repro_cmd->add_option("--json", repro.json_path, "write the results as JSON");
  repro_cmd->add_option("--markdown", repro.markdown_path, "write the results as Markdown (docs/validation.md)");
  CLI::App* params_cmd = app.add_subcommand("params", "list every hardware parameter and workload field");
  CLI::App* presets_cmd = app.add_subcommand("presets", "list the built-in hardware presets");
  CLI::App* plot_cmd = app.add_subcommand(
      "plot", "plot a report or a sweep (matplotlib): roofline REPORT -o F, ops REPORT -o F, serve SERVE.json [--requests CSV] -o F, "
              "sweep RESULTS.csv --x A --y M [--hue B] [--heatmap] -o F, timeline TRACE.json -o F, scaling SCALING.json -o F");
  plot_cmd->prefix_command();  // everything after `plot` goes to python/podsim/plot.py

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : podsim::cli::kInputError;  // --help is not an error
  }
  // Logs go to stderr through the named logger "podsim"; stdout holds only the report.
  spdlog::set_default_logger(spdlog::stderr_color_mt("podsim"));
  spdlog::set_level(verbosity >= 3 ? spdlog::level::trace : verbosity >= 2 ? spdlog::level::debug
                    : verbosity == 1 ? spdlog::level::info
                                     : spdlog::level::warn);
  spdlog::set_pattern("[%l] %v");

  auto dispatch = [&]() -> int {
    if (*run_cmd) return podsim::cli::run_command(run);
    if (*validate_cmd) return podsim::cli::validate_command(run);
    if (*mxu_cmd) return podsim::cli::mxu_command(mxu);
    if (*selftest_cmd) return podsim::cli::selftest_command(selftest);
    if (*sweep_cmd) return podsim::cli::sweep_command(sweep);
    if (*compare_cmd) return podsim::cli::compare_command(compare);
    if (*coll_cmd) return podsim::cli::collective_command(coll);
    if (*repro_cmd) return podsim::cli::reproduce_command(repro);
    if (*serve_cmd) return podsim::cli::serve_command(serve);
    if (*map_cmd) return podsim::cli::map_command(map);
    if (*plan_cmd) return podsim::cli::plan_command(plan);
    if (*params_cmd) return podsim::cli::params_command();
    if (*presets_cmd) return podsim::cli::presets_command();
    if (*plot_cmd) return podsim::cli::plot_command(plot_cmd->remaining());
    return podsim::cli::kInputError;
  };
  // The one top-level handler: whatever escapes a command becomes a message on stderr and
  // exit 2 (bad input) or 3 (podsim's own failure), never an abort or SystemC's report on
  // stdout.
  // Messages go out with fputs: fmt::print would throw if stderr itself cannot be written.
  auto say = [](const std::string& message) { std::fputs(message.c_str(), stderr); };
  int rc = podsim::cli::kInputError;
  try {
    rc = dispatch();
  } catch (const podsim::ConfigError& e) {
    say(fmt::format("error: {}\n", e.what()));
    rc = podsim::cli::kInputError;
  } catch (const std::bad_alloc&) {
    say("error: out of memory: the run needs more memory than this machine gives it; use a smaller workload or pod\n");
    rc = podsim::cli::kSimulationError;
  } catch (const std::exception& e) {
    say(fmt::format("internal error: {}\n", e.what()));
    rc = podsim::cli::kSimulationError;
  } catch (...) {
    say("internal error: an unknown exception\n");
    rc = podsim::cli::kSimulationError;
  }
  // A report that did not reach standard output (a full disk, a closed pipe) is an error.
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    say(fmt::format("error: standard output: {}\n", std::strerror(errno)));
    if (rc == podsim::cli::kOk) rc = podsim::cli::kInputError;
  }
  return rc;
}
