#include "podsim/sim/simulate.h"

#include <cstdlib>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <systemc>

#if defined(__SANITIZE_ADDRESS__)
#include <pthread.h>
#include <sanitizer/common_interface_defs.h>
#endif

#include "podsim/arch/chip.h"
#include "podsim/arch/clock.h"
#include "podsim/workload/composite.h"
#include "podsim/workload/training.h"

namespace podsim {
namespace {

// Under AddressSanitizer only. Debian's libsystemc announces each coroutine switch to ASan
// (__sanitizer_start_switch_fiber), but for the switch back to the main coroutine it
// gives no stack (the main coroutine has none of its own), so ASan keeps the last
// process's coroutine stack as the main thread's. After sc_start() that breaks every
// later exception ("ASan is ignoring requested __asan_handle_no_return", then a false
// stack-use-after-scope) and LeakSanitizer's scan at exit (it reaches SystemC's guard
// page). Announcing the real stack once more, while on it, puts ASan right.
void give_asan_the_main_stack_back() {
#if defined(__SANITIZE_ADDRESS__)
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void* bottom = nullptr;
  std::size_t size = 0;
  const bool ok = pthread_attr_getstack(&attr, &bottom, &size) == 0;
  pthread_attr_destroy(&attr);
  if (!ok) return;
  void* fake_stack = nullptr;
  __sanitizer_start_switch_fiber(&fake_stack, bottom, size);
  __sanitizer_finish_switch_fiber(fake_stack, nullptr, nullptr);
#endif
}

void check(RunResult& r, std::string name, bool ok, std::string detail) {
  r.invariants.push_back({std::move(name), ok, std::move(detail)});
}

void collect_stats(RunResult& r, const Chip& chip) {
  const HardwareSpec& hw = r.hw;
  StatsRegistry& s = r.stats;
  const double end = double(r.end_ps);
  s.add("chip", "time", "ps", r.end_ps, "simulated time to finish every op");
  s.add("chip", "cycles", "cycles", r.cycles, "core clock cycles");
  s.add("chip", "macs", "MAC", r.macs, "multiply-accumulates executed");
  s.add("chip", "padded_macs", "MAC", r.padded_macs,
        "PE slots of the folds that held no data (edge tiles), not counted in macs");
  for (std::size_t c = 0; c < chip.cores().size(); ++c) {
    const TensorCore& core = *chip.cores()[c];
    const std::string g = fmt::format("chip.core{}", c);
    for (std::size_t m = 0; m < core.mxu_counters().size(); ++m) {
      const MxuCounters& mc = core.mxu_counters()[m];
      const ArrayCycleBreakdown& b = core.mxus()[m].breakdown();
      const std::string gm = fmt::format("{}.mxu{}", g, m);
      s.add(gm, "active_cycles", "cycles", b.active, "cycles streaming rows into the array");
      s.add(gm, "input_stall_cycles", "cycles", b.input_stall, "waiting for the streaming operand");
      s.add(gm, "weight_load_stall_cycles", "cycles", b.weight_load_stall,
            "waiting for a stationary tile from memory (weight FIFO empty)");
      s.add(gm, "weight_shift_cycles", "cycles", b.weight_shift,
            "waiting for a stationary tile to shift in (or the array to drain first)");
      s.add(gm, "folds", "1", mc.folds, "stationary tiles held in the array");
      s.add(gm, "macs", "MAC", mc.macs);
      s.add(gm, "padded_macs", "MAC", mc.padded_macs);
      s.add(gm, "utilization", "1",
            r.cycles ? double(mc.macs) / (double(r.cycles) * hw.chip.mxu.rows * hw.chip.mxu.cols) : 0.0,
            "macs / (cycles x rows x cols)");
    }
    for (const DmaEngine* dma : core.dma_engines()) {
      const std::string gd = fmt::format("{}.{}", g, dma->basename());
      s.add(gd, "bytes", "B", dma->bytes_completed());
      s.add(gd, "chunks", "1", dma->chunks(), "HBM requests issued");
    }
    const BandwidthServer& port = chip.core_ports()[c];
    s.add(g + ".noc_port", "bytes", "B", port.bytes());
    s.add(g + ".noc_port", "utilization", "1", end > 0 ? double(port.busy_ps()) / end : 0.0,
          "busy time / simulated time");
  }
  for (std::size_t ch = 0; ch < r.channels.size(); ++ch) {
    const HbmChannelStats& cs = r.channels[ch];
    const std::string g = fmt::format("chip.hbm.ch{}", ch);
    s.add(g, "read_bytes", "B", cs.read_bytes);
    s.add(g, "write_bytes", "B", cs.write_bytes);
    s.add(g, "requests", "1", cs.requests);
    s.add(g, "utilization", "1", end > 0 ? double(cs.busy_ps) / end : 0.0, "busy time / simulated time");
    if (chip.hbm().is_dram()) {
      s.add(g, "row_hits", "1", cs.row_hits);
      s.add(g, "row_misses", "1", cs.row_misses);
      s.add(g, "row_conflicts", "1", cs.row_conflicts);
      s.add(g, "refreshes", "1", cs.refreshes);
      s.add(g, "forwarded_reads", "1", cs.forwarded_reads, "reads served from the write queue (read-after-write)");
      s.add(g, "streamed_requests", "1", cs.streamed,
            "row runs placed by the streaming fast path (chip.hbm.stream_fast_path), not the command timelines");
      s.add(g, "mean_queue_depth", "1", cs.mean_queue_depth, "requests waiting, seen by each arrival");
    }
  }
  s.add("sim", "process_wakeups", "1", r.wakeups, "SystemC process activations (events handled)");
  s.add("sim", "ops_replayed", "1", chip.ops_replayed(),
        "ops identical to an earlier op, replayed rather than simulated again (run --no-reuse: all simulated)");
  s.add("sim", "tiles_replayed", "1", chip.tiles_replayed(),
        "tiles of ops in a steady state, credited rather than simulated (run --no-reuse: all simulated)");
}

void check_invariants(RunResult& r, const Chip& chip, const std::vector<OpPlan>& plans) {
  std::uint64_t requested = 0, completed = 0, in_flight = 0;
  for (const auto& core : chip.cores())
    for (const DmaEngine* dma : core->dma_engines()) {
      requested += dma->bytes_requested();
      completed += dma->bytes_completed();
      in_flight += dma->in_flight() + dma->queued_jobs();
    }
  const std::uint64_t served = chip.hbm().bytes_served();
  in_flight += chip.hbm().pending_writes();
  check(r, "bytes_requested_equal_served", requested == completed && completed == served,
        fmt::format("DMA requested {} B, completed {} B, HBM served {} B", requested, completed, served));
  check(r, "nothing_in_flight", in_flight == 0, fmt::format("{} DMA requests or jobs left", in_flight));
  const std::uint64_t implied = r.workload.total_macs();
  check(r, "macs_equal_workload", r.macs == implied,
        fmt::format("simulated {} MACs, workload implies {}", r.macs, implied));
  std::uint64_t planned_read = 0, planned_write = 0, planned_cmem_read = 0, planned_cmem_write = 0;
  for (const auto& p : plans) {
    const std::uint64_t rep = r.workload.ops[p.op_index].repeat;
    planned_cmem_read += p.cmem_read_bytes * rep * (p.engine == Engine::mxu ? p.instances : 1);
    planned_cmem_write += p.cmem_write_bytes * rep * (p.engine == Engine::mxu ? p.instances : 1);
    if (p.engine == Engine::mxu) {
      planned_read += p.tiling.hbm_read_bytes * rep * p.instances;
      planned_write += p.tiling.hbm_write_bytes * rep * p.instances;
    } else {
      planned_read += p.vector.hbm_read_bytes * rep;
      planned_write += p.vector.hbm_write_bytes * rep;
    }
  }
  check(r, "hbm_bytes_equal_tiling", r.hbm_read_bytes == planned_read && r.hbm_write_bytes == planned_write,
        fmt::format("read {} B (tiling implies {}), wrote {} B (tiling implies {})", r.hbm_read_bytes,
                    planned_read, r.hbm_write_bytes, planned_write));
  if (r.hw.chip.cmem.capacity_bytes > 0)
    check(r, "cmem_bytes_equal_plan", r.cmem_read_bytes == planned_cmem_read && r.cmem_write_bytes == planned_cmem_write,
          fmt::format("on-chip memory read {} B (plan implies {}), wrote {} B (plan implies {})", r.cmem_read_bytes,
                      planned_cmem_read, r.cmem_write_bytes, planned_cmem_write));
  check(r, "all_ops_finished", r.completed, r.completed ? "" : r.stall_report);
  check(r, "time_advanced", r.end_ps > 0 || r.macs == 0, fmt::format("ended at {} ps", r.end_ps));
}

// What one chip's simulation produced, read from its module after sc_start().
void finish_chip(RunResult& r, Chip& chip, const std::vector<OpPlan>& plans) {
  const HardwareSpec& hw = r.hw;
  chip.flush_memory();
  r.completed = chip.all_done();
  if (!r.completed) r.stall_report = chip.progress();
  r.end_ps = r.completed && !chip.op_timings().empty() ? chip.op_timings().back().end_ps
                                                       : sc_core::sc_time_stamp().value();
  const ClockDomain clock(hw.chip.clock_hz);
  r.cycles = clock.cycle_at(r.end_ps);
  r.channels = chip.hbm().channel_stats();
  r.hbm_peak_Bps = chip.hbm().peak_Bps();
  r.hbm_device = hw.chip.hbm.device;
  r.hbm_series_bucket_ps = chip.hbm().series().bucket_ps();
  r.hbm_series_bytes = chip.hbm().series().bytes();
  for (const auto& cs : chip.hbm().channel_series()) r.hbm_channel_series.push_back({cs.bucket_ps(), cs.bytes()});
  r.wakeups = chip.counters().wakeups;
  for (std::size_t i = 0; i < chip.op_timings().size(); ++i) {
    const OpTiming& t = chip.op_timings()[i];
    const Op& op = r.workload.ops[plans[i].op_index];
    OpResult o;
    o.name = op.name;
    o.kind = op.kind();
    o.shape = op.shape_text();
    o.dtype = dtype_name(op.dtype());
    if (const auto* mm = std::get_if<MatmulOp>(&op.body); mm && mm->weight_dtype) o.weight_dtype = dtype_name(*mm->weight_dtype);
    o.repeat = op.repeat;
    o.macs = t.macs;
    o.start_ps = t.start_ps;
    o.end_ps = t.end_ps;
    o.hbm_read_bytes = t.hbm_read_bytes;
    o.hbm_write_bytes = t.hbm_write_bytes;
    o.cmem_read_bytes = t.cmem_read_bytes;
    o.cmem_write_bytes = t.cmem_write_bytes;
    o.dram_acts = t.dram_acts;
    o.dram_refreshes = t.dram_refreshes;
    o.dram_bank_refreshes = t.dram_bank_refreshes;
    o.mxu_active_cycles = t.mxu.active;
    o.mxu_input_stall_cycles = t.mxu.input_stall;
    o.mxu_weight_load_stall_cycles = t.mxu.weight_load_stall;
    o.mxu_weight_shift_cycles = t.mxu.weight_shift;
    const std::uint64_t span = (clock.cycle_at(t.end_ps) - clock.cycle_at(t.start_ps)) * hw.mxu_count();
    const std::uint64_t accounted = t.mxu.active + t.mxu.input_stall + t.mxu.weight_load_stall + t.mxu.weight_shift;
    o.mxu_non_matrix_cycles = span >= accounted ? span - accounted : 0;
    o.padded_macs = t.padded_macs;
    o.vpu_busy_cycles = t.vpu_busy_cycles;
    o.onchip_bytes = t.onchip_bytes;
    o.replayed_tiles = t.replayed_tiles;
    o.plan = plans[i];
    r.macs += o.macs;
    r.hbm_read_bytes += o.hbm_read_bytes;
    r.hbm_write_bytes += o.hbm_write_bytes;
    r.cmem_read_bytes += o.cmem_read_bytes;
    r.cmem_write_bytes += o.cmem_write_bytes;
    r.mxu_active_cycles += o.mxu_active_cycles;
    r.padded_macs += o.padded_macs;
    r.ops.push_back(std::move(o));
  }
  collect_stats(r, chip);
  check_invariants(r, chip, plans);
}

}  // namespace

WorkloadSpec without_collectives(const WorkloadSpec& w) {
  WorkloadSpec out = w;
  out.ops.clear();
  bool collective = false;
  for (const Op& op : w.ops) {
    if (std::holds_alternative<CollectiveOp>(op.body)) {
      collective = true;
      continue;
    }
    out.ops.push_back(op);
    out.ops.back().after_collective = collective;
    collective = false;
  }
  return out;
}

WorkloadSpec expand_workload(const WorkloadSpec& workload) {
  const WorkloadSpec flat = expand_composites(workload);  // attention into its matmuls and softmax
  WorkloadSpec out = flat.training.enabled ? expand_training(flat) : flat;
  return out;
}

RunResult simulate(const HardwareSpec& hw, const WorkloadSpec& workload, const SimulateOptions& options) {
  RunResult r;
  r.hw = hw;
  const WorkloadSpec flat = expand_composites(workload);
  r.workload = flat.training.enabled ? expand_training(flat) : flat;
  if (flat.training.enabled) r.training = training_footprint(flat);
  else r.model = model_footprint(flat);
  r.workload = without_collectives(r.workload);  // the network runs those (pod_simulate.h)
  if (options.before_planning) options.before_planning(r.workload);
  const std::vector<OpPlan> plans = plan_workload(r.workload, r.hw);

  // Quiet kernel: podsim's own output is the report.
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
  if (options.trace) r.trace = std::make_shared<TraceRecorder>();
  auto chip = std::make_unique<Chip>("chip", r.hw, r.workload, plans, r.trace.get(), options.reuse_ops);
  // Runs until no process has anything left to do: the sequencer has run every op, or a
  // block stopped making progress (the watchdog below names it).
  sc_core::sc_start();
  give_asan_the_main_stack_back();
  finish_chip(r, *chip, plans);
  spdlog::debug("simulated {} ps with {} process wake-ups", r.end_ps, r.wakeups);
  return r;
}

}  // namespace podsim
