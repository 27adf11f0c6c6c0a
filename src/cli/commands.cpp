#include "commands.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "podsim/config/config_error.h"
#include "podsim/io/output_file.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/config/dram_device.h"
#include "podsim/config/hardware_params.h"
#include "podsim/config/workload_loader.h"
#include "podsim/compiler/workload_plan.h"
#include "podsim/report/report.h"
#include "podsim/sim/pod_simulate.h"
#include "podsim/sim/simulate.h"
#include "podsim/mapper/searched_run.h"
#include "podsim/workload/composite.h"
#include "podsim/workload/parallelism.h"
#include "podsim/workload/training.h"

namespace podsim::cli {
namespace {

// The files a run reads: its outputs must not overwrite them.
std::vector<std::string> run_inputs(const RunOptions& o) { return {o.workload, o.hardware}; }

int input_error(const ConfigError& e) {
  fmt::print(stderr, "error: {}\n", e.what());
  return kInputError;
}

int check_result(const RunResult& result) {
  if (!result.completed) {
    fmt::print(stderr, "error: the simulation stopped making progress: {}\n", result.stall_report);
    return kSimulationError;
  }
  if (!result.invariants_hold()) {
    for (const auto& i : result.invariants)
      if (!i.ok) fmt::print(stderr, "error: invariant {} failed: {}\n", i.name, i.detail);
    return kSimulationError;
  }
  return kOk;
}

// `podsim run --chips 1,8,64`: one chip simulation, the network at every size.
int scaling_command(const RunOptions& o, const HardwareSpec& hw, const WorkloadSpec& wl, const SimulateOptions& sim) {
  if (!o.trace_path.empty() || o.full_pod) {
    fmt::print(stderr, "error: --chips: --trace and --full-pod need one pod size\n");
    return kInputError;
  }
  const std::vector<RunResult> runs = simulate_pod_sizes(hw, wl, o.chips, sim);
  if (!o.quiet) fmt::print("{}", scaling_text(runs));
  if (!o.json_path.empty() && !write_file(o.json_path, scaling_json(runs), "the JSON report", run_inputs(o)))
    return kInputError;
  for (const RunResult& r : runs)
    if (const int rc = check_result(r)) return rc;
  return kOk;
}

}  // namespace

// Writes through a temporary file and a rename, so a reader never sees half a report.
bool write_file(const std::string& path, const std::string& text, const std::string& what,
                const std::vector<std::string>& inputs) {
  const std::string why = write_output_file(path, text, inputs);
  if (why.empty()) return true;
  fmt::print(stderr, "error: {}: cannot write {}: {}\n", path, what, why);
  return false;
}

std::optional<HardwareSpec> load_hardware_or_report(const std::string& name_or_path,
                                                    const std::vector<std::string>& overrides) {
  try {
    return load_hardware(name_or_path, overrides);
  } catch (const ConfigError& e) {
    input_error(e);
    return std::nullopt;
  }
}

int run_command(const RunOptions& o) {
  // Two outputs of one run into one file: the second would clobber the first.
  if (!o.json_path.empty() && !o.trace_path.empty()) {
    std::error_code ec1, ec2;
    const auto a = std::filesystem::weakly_canonical(o.json_path, ec1), b = std::filesystem::weakly_canonical(o.trace_path, ec2);
    if (o.json_path == o.trace_path || (!ec1 && !ec2 && a == b)) {
      fmt::print(stderr, "error: --json and --trace both name {}: give each its own file\n", o.json_path);
      return kInputError;
    }
  }
  RunResult result;
  try {
    const HardwareSpec hw = load_hardware(o.hardware, o.overrides);
    const WorkloadSpec wl = load_workload(o.workload, o.workload_overrides);
    spdlog::info("running '{}' ({} ops) on '{}'", wl.name, wl.ops.size(), hw.name);
    SimulateOptions sim;
    sim.trace = !o.trace_path.empty();
    sim.reuse_ops = !o.no_reuse;
    if (hw.chip.mapper == "search" && (!o.chips.empty() || hw.pod.chips() > 1 || wl.parallelism.given)) {
      fmt::print(stderr,
                 "error: chip.mapper=search searches one chip's tilings; this run is over a pod ({}): "
                 "set chip.mapper=heuristic, or run one chip\n",
                 !o.chips.empty() ? "--chips" : hw.pod.chips() > 1 ? fmt::format("{} chips", hw.pod.chips())
                                                                 : std::string("the workload's parallelism"));
      return kInputError;
    }
    if (!o.chips.empty()) return scaling_command(o, hw, wl, sim);
    if (!(hw.pod.chips() > 1 || wl.parallelism.given)) check_single_stage(wl);  // one chip, one stage
    if (hw.pod.chips() > 1 || wl.parallelism.given) {
      PodSimulateOptions pod;
      pod.full = o.full_pod;
      pod.full_network = o.full_network;
      pod.jobs = o.jobs;
      try {
        result = simulate_pod(hw, wl, sim, pod);
      } catch (const ConfigError&) {
        throw;  // bad input: exit 2 below
      } catch (const std::runtime_error& e) {  // a chip simulation process failed
        fmt::print(stderr, "error: {}\n", e.what());
        return kSimulationError;
      }
    } else if (hw.chip.mapper == "search") {
      try {
        result = simulate_with_searched_mappings(hw, wl, sim, o.jobs);
      } catch (const ConfigError&) {
        throw;
      } catch (const std::runtime_error& e) {  // a candidate's simulation failed
        fmt::print(stderr, "error: {}\n", e.what());
        return kSimulationError;
      }
    } else {
      result = simulate(hw, wl, sim);
    }
  } catch (const ConfigError& e) {
    return input_error(e);
  }
  if (!o.quiet) fmt::print("{}", report_text(result, TextReportOptions{o.top, o.group_depth}));
  if (!o.json_path.empty() && !write_file(o.json_path, report_json(result), "the JSON report", run_inputs(o)))
    return kInputError;
  if (!o.trace_path.empty() && !write_file(o.trace_path, trace_json(result), "the trace", run_inputs(o)))
    return kInputError;
  return check_result(result);
}

int validate_command(const RunOptions& o) {
  try {
    const HardwareSpec hw = load_hardware(o.hardware, o.overrides);
    const WorkloadSpec raw = load_workload(o.workload, o.workload_overrides);
    if (hw.pod.chips() > 1 || raw.parallelism.given) {
      const auto lines = validate_pod(hw, raw);
      fmt::print("ok: workload '{}' lowers onto '{}'\n", raw.name, hw.name);
      for (const auto& l : lines) fmt::print("{}\n", l);
      return kOk;
    }
    check_single_stage(raw);  // one chip, one stage
    WorkloadSpec wl = expand_composites(raw);
    if (wl.training.enabled) wl = expand_training(wl);
    wl = without_collectives(wl);
    const auto plans = plan_workload(wl, hw);
    fmt::print("ok: workload '{}' ({} ops) lowers onto '{}'\n", wl.name, wl.ops.size(), hw.name);
    for (const auto& p : plans) {
      const auto& t = p.tiling;
      if (p.engine != Engine::mxu)
        fmt::print("  {:<16} {} tiles of {} rows, {} B of vector memory{}\n", wl.ops[p.op_index].name, p.vector.tiles,
                   p.vector.tile_rows, p.vector.vmem_bytes, p.vector.fused ? ", fused into the op before" : "");
      else
        fmt::print("  {:<16} tiles {}x{}x{}, {} blocks x {} k-steps, {} B of vector memory\n",
                   wl.ops[p.op_index].name, t.tm, t.tk, t.tn, t.output_blocks(), t.blocks_k, t.vmem_bytes);
    }
  } catch (const ConfigError& e) {
    return input_error(e);
  }
  return kOk;
}

int params_command() {
  fmt::print("Hardware parameters (set in a hardware file, or with --set path=value):\n\n");
  fmt::print("  {:<30} {:<10} {:<12} {:<22} {}\n", "path", "type", "default", "range", "description");
  for (const auto& p : hardware_params()) {
    std::string range;
    if (p.type == ParamType::integer || p.type == ParamType::quantity) {
      const UnitKind k = p.type == ParamType::integer ? UnitKind::none : p.unit;
      range = fmt::format("{} .. {}", format_quantity(p.min, k), format_quantity(p.max, k));
    } else if (p.type == ParamType::boolean) {
      range = "true, false";
    }
    fmt::print("  {:<30} {:<10} {:<12} {:<22} {}\n", p.path, param_type_name(p.type, p.unit), p.default_text,
               range, p.description);
  }
  fmt::print("\nDRAM device presets (chip.hbm.device; each value overridable as chip.hbm.timing.<name>, sources in "
             "config/dram_device.cpp; 'auto' = tCL + BL/2 + 2 - tCWL):\n\n");
  const auto devices = dram_device_names();
  fmt::print("  {:<8}", "timing");
  for (const auto& d : devices) fmt::print(" {:>9}", d);
  fmt::print("\n");
  std::vector<std::vector<std::string>> texts;
  for (const auto& d : devices) texts.push_back(dram_preset_timing_texts(d));
  for (std::size_t i = 0; i < dram_timing_fields().size(); ++i) {
    fmt::print("  {:<8}", dram_timing_fields()[i].name);
    for (const auto& t : texts) fmt::print(" {:>9}", t[i]);
    fmt::print("\n");
  }
  fmt::print("\nWorkload op fields (workload.ops[i].<field>; '*' = every op):\n\n");
  fmt::print("  {:<8} {:<8} {:<10} {:<10} {}\n", "op", "field", "type", "default", "description");
  for (const auto& f : workload_op_fields())
    fmt::print("  {:<8} {:<8} {:<10} {:<10} {}\n", f.op, f.field, f.type,
               f.default_text.empty() ? "required" : f.default_text, f.description);
  return kOk;
}

int presets_command() {
  // Per chip, and for the whole pod (chips x the chip) where the preset is one.
  fmt::print("  {:<10} {:>6} {:>12} {:>14} {:>10} {:>13}  {}\n", "preset", "chips", "peak TFLOPS", "HBM GB/s", "HBM",
             "pod PFLOPS", "description");
  for (const auto& name : preset_names()) {
    const HardwareSpec hw = load_hardware(name);
    const std::uint64_t chips = hw.pod.chips();
    fmt::print("  {:<10} {:>6} {:>12.2f} {:>14.1f} {:>10} {:>13}  {}\n", name, chips, hw.peak_flops() * 1e-12,
               double(hw.chip.hbm.bandwidth_Bps) * 1e-9, format_quantity(hw.chip.hbm.capacity_bytes, UnitKind::size),
               chips > 1 ? fmt::format("{:.2f}", hw.system_peak_flops() * 1e-15) : "-", hw.description);
  }
  return kOk;
}

}  // namespace podsim::cli
