#include "podsim/arch/chip.h"

#include <fmt/format.h>

namespace podsim {

namespace {

// How many of an op's runs are independent instances that one MXU program batches.
std::uint64_t batched_instances(const Op& op, const OpPlan& p) {
  if (p.engine != Engine::mxu) return 1;
  return p.instances * (op.independent_repeats ? op.repeat : 1);
}

// Everything that decides how an op runs; empty for ops never replayed (embedding lookups
// draw their own indices).
std::string op_replay_key(const Op& op, const OpPlan& p) {
  if (p.engine == Engine::embedding) return {};
  std::string key = fmt::format("{}|{}|{}|{}{}|{}|{}|{}|{}|{}|{}|{}", op.kind(), op.shape_text(),
                                dtype_name(op.dtype()), op.repeat, op.independent_repeats ? "i" : "", int(p.engine),
                                p.instances, fmt::format("{}/{}", p.rate.passes, p.rate.packed), p.a_base, p.b_base, p.c_base, p.tensor_stride);
  if (p.a_in_cmem || p.c_in_cmem) key += fmt::format("|cmem{}{}", p.a_in_cmem ? "A" : "", p.c_in_cmem ? "C" : "");
  if (p.engine == Engine::mxu) {
    const MatmulTiling& t = p.tiling;
    const MatmulOp& m = p.matmul;
    key += fmt::format("|{}x{}x{}|{}x{}x{}/{}{}{}{}|{}|{}|{}", m.m, m.k, m.n, t.tm, t.tk, t.tn, t.cores,
                       t.a_resident ? "r" : "", t.a_onchip ? "A" : "", t.c_onchip ? "C" : "",
                       m.block_sparsity, m.weight_sparsity, m.sparsity_seed);
    if (m.weight_dtype) key += fmt::format("|w{}", dtype_name(*m.weight_dtype));
    if (const auto& e = p.epilogue) key += fmt::format("|e{}/{}/{}", e->vpu_per_element, e->eup_per_element, e->eup_per_row);
    if (const auto& w = m.patches)  // a convolution's window decides which input rows its tiles read
      key += fmt::format("|{}x{}x{}x{} k{}s{}p{}d{}{}", w->n, w->h, w->w, w->c, w->kernel, w->stride, w->padding,
                         w->dilation, w->transposed ? "t" : "");
  } else {
    const auto& v = std::get<VectorOp>(op.body);
    key += fmt::format("|{}|{}|{}|{}|{}|{}x{}|{}", v.inputs, v.outputs, p.vector.tile_rows,
                       p.vector.fused + 2 * p.vector.activations_onchip, v.window,
                       v.side_rows, v.side_cols, v.out_rows);
  }
  return key;
}

}  // namespace

Chip::Chip(sc_core::sc_module_name name, const HardwareSpec& hw, const WorkloadSpec& workload,
           const std::vector<OpPlan>& plans, TraceRecorder* trace, bool reuse_ops)
    : sc_module(name), hw_(hw), workload_(workload), plans_(plans), hbm_(hw.chip.hbm), trace_(trace),
      reuse_ops_(reuse_ops) {
  if (trace_) ops_track_ = trace_->track("ops");
  hbm_.attach_onchip_memory(hw.chip.cmem);
  ports_.reserve(hw.chip.tensor_cores);  // cores keep references: no reallocation after
  for (std::uint32_t c = 0; c < hw.chip.tensor_cores; ++c) ports_.emplace_back(hw.chip.noc.core_port_Bps);
  for (std::uint32_t c = 0; c < hw.chip.tensor_cores; ++c)
    cores_.push_back(std::make_unique<TensorCore>(fmt::format("core{}", c).c_str(), hw, hbm_,
                                                  ports_[c], counters_, trace_));
  for (auto& core : cores_) core->list_counters(counter_list_);
  for (auto& port : ports_) port.list_counters(counter_list_);
  hbm_.list_counters(counter_list_);
  if (reuse_ops_) {
    std::vector<TensorCore*> cores;
    for (auto& core : cores_) cores.push_back(core.get());
    steady_ = std::make_unique<SteadyStateReplay>(counter_list_, hbm_, cores, hw.chip.clock_hz);
    for (std::uint32_t c = 0; c < cores_.size(); ++c) cores_[c]->set_steady_state(steady_.get(), c);
  }
  SC_HAS_PROCESS(Chip);
  SC_THREAD(sequencer);
}

void Chip::replay(const Recording& rec, const std::string& name) {
  const std::uint64_t from = sc_core::sc_time_stamp().value();
  const std::uint64_t span = rec.timing.end_ps - rec.timing.start_ps;
  wait(sc_core::sc_time::from_value(span));
  for (std::size_t i = 0; i < counter_list_.size(); ++i) *counter_list_[i] += rec.counters[i];
  hbm_.replay(from, from + span, rec.channel_bytes);
  OpTiming t = rec.timing;
  t.start_ps = from;
  t.end_ps = from + span;
  timings_.push_back(t);
  if (trace_) trace_->slice(ops_track_, t.start_ps, t.end_ps, name + " (replayed)");
  ++ops_replayed_;
}

OpTiming Chip::snapshot() const {
  OpTiming s;
  s.start_ps = sc_core::sc_time_stamp().value();
  s.replayed_tiles = tiles_replayed();
  for (const auto& ch : hbm_.channel_stats()) {
    s.hbm_read_bytes += ch.read_bytes;
    s.hbm_write_bytes += ch.write_bytes;
    s.dram_acts += ch.acts;
    s.dram_refreshes += ch.all_bank_refreshes;
    s.dram_bank_refreshes += ch.bank_refreshes;
  }
  s.cmem_read_bytes = hbm_.cmem_read_bytes();
  s.cmem_write_bytes = hbm_.cmem_write_bytes();
  for (const auto& core : cores_) {
    s.vpu_busy_cycles += core->vpu_busy_cycles();
    s.onchip_bytes += core->onchip_bytes();
    for (const auto& m : core->mxu_counters()) {
      s.macs += m.macs;
      s.padded_macs += m.padded_macs;
    }
    for (const auto& array : core->mxus()) {
      const ArrayCycleBreakdown& b = array.breakdown();
      s.mxu.active += b.active;
      s.mxu.input_stall += b.input_stall;
      s.mxu.weight_load_stall += b.weight_load_stall;
      s.mxu.weight_shift += b.weight_shift;
    }
  }
  return s;
}

CoreMatmulProgram Chip::program_for(const OpPlan& plan, std::uint32_t core) const {
  const Op& op = workload_.ops[plan.op_index];
  CoreMatmulProgram program;
  program.engine = plan.engine;
  program.vtiling = plan.vector;
  if (const auto* v = std::get_if<VectorOp>(&op.body)) program.vector = *v;
  if (const auto* e = std::get_if<EmbeddingOp>(&op.body)) program.embedding = *e;
  program.op = plan.matmul;
  program.tiling = plan.tiling;
  program.rate = plan.rate;
  // Tensors in the on-chip memory (compiler/cmem_plan.h) are addressed above kCmemBase:
  // the memory model serves them there.
  program.a_base = plan.a_base + (plan.a_in_cmem ? kCmemBase : 0);
  program.b_base = plan.b_base;
  program.c_base = plan.c_base + (plan.c_in_cmem ? kCmemBase : 0);
  program.tensor_stride = plan.tensor_stride;
  program.core = core;
  program.cores = static_cast<std::uint32_t>(cores_.size());
  // A tiling may deal its output blocks over fewer cores (MatmulTiling::cores): the rest idle.
  if (plan.engine == Engine::mxu && plan.tiling.cores > 0) program.cores = std::min(program.cores, plan.tiling.cores);
  program.instances = batched_instances(op, plan);
  program.epilogue = plan.epilogue;
  program.label = op.name;
  return program;
}

void Chip::sequencer() {
  // With a weight FIFO that fetches ahead across ops, a matmul followed by a matmul (ops
  // run in its epilogue aside) hands its successor's first weight tiles to the fetcher
  // while it finishes. Such linked ops are not self-contained (each one's counters hold
  // some of the next one's fetches), so they are neither recorded nor replayed.
  const bool prefetch = hw_.chip.mxu.weight_fifo_depth > 0 && hw_.chip.mxu.weight_prefetch_across_ops;
  std::vector<std::size_t> next_run(plans_.size(), plans_.size());  // the next op that runs
  for (std::size_t i = plans_.size(); i-- > 1;)
    next_run[i - 1] = plans_[i].in_epilogue ? next_run[i] : i;
  std::vector<bool> linked(plans_.size(), false), linked_in(plans_.size(), false);  // to the next op that runs, from the one before
  for (std::size_t i = 0; prefetch && i < plans_.size(); ++i) {
    const std::size_t j = next_run[i];
    if (j < plans_.size() && plans_[i].engine == Engine::mxu && plans_[j].engine == Engine::mxu)
      linked[i] = linked_in[j] = true;
  }
  for (std::size_t i = 0; i < plans_.size(); ++i) {
    const OpPlan& plan = plans_[i];
    const Op& op = workload_.ops[plan.op_index];
    if (plan.in_epilogue) {  // done in the op before it: no time of its own
      OpTiming t;
      t.start_ps = t.end_ps = snapshot().start_ps;
      timings_.push_back(t);
      ++ops_done_;
      continue;
    }
    const bool self_contained = !linked[i] && !linked_in[i];
    const std::string key = reuse_ops_ && self_contained ? op_replay_key(op, plan) : std::string();
    if (!key.empty()) {
      const auto seen = recordings_.find(key);
      if (seen != recordings_.end()) {
        replay(seen->second, op.name);
        ++ops_done_;
        continue;
      }
    }
    const std::vector<std::uint64_t> counters_before = key.empty() ? std::vector<std::uint64_t>{}
                                                                    : read_counters(counter_list_);
    const std::vector<std::uint64_t> bytes_before = key.empty() ? std::vector<std::uint64_t>{} : hbm_.channel_bytes();
    const OpTiming before = snapshot();
    // Independent instances (convolution groups, attention heads) run as one batched
    // program; what remains are runs one after another (repeats that are steps).
    const std::uint64_t runs = op.repeat * plan.instances / batched_instances(op, plan);
    for (std::uint64_t r = 0; r < runs; ++r) {
      for (std::uint32_t c = 0; c < cores_.size(); ++c) {
        const CoreMatmulProgram program = program_for(plan, c);
        // What this core runs next: the same program again, or the next op's.
        CoreMatmulProgram next;
        const bool has_next = r + 1 < runs || linked[i];
        if (has_next) next = r + 1 < runs ? program : program_for(plans_[next_run[i]], c);
        cores_[c]->start(program, has_next ? &next : nullptr);
      }
      if (steady_) {  // before the cores' threads run
        const std::uint64_t period = cores_[0]->steady_period();
        steady_->begin(period, cores_[0]->steady_skip_unit(period));
      }
      for (auto& core : cores_)
        while (!core->finished()) {
          wait(core->finished_event());
          ++counters_.wakeups;
        }
    }
    const OpTiming after = snapshot();
    OpTiming t;
    t.start_ps = before.start_ps;
    t.end_ps = after.start_ps;
    t.hbm_read_bytes = after.hbm_read_bytes - before.hbm_read_bytes;
    t.hbm_write_bytes = after.hbm_write_bytes - before.hbm_write_bytes;
    t.cmem_read_bytes = after.cmem_read_bytes - before.cmem_read_bytes;
    t.cmem_write_bytes = after.cmem_write_bytes - before.cmem_write_bytes;
    t.dram_acts = after.dram_acts - before.dram_acts;
    t.dram_refreshes = after.dram_refreshes - before.dram_refreshes;
    t.dram_bank_refreshes = after.dram_bank_refreshes - before.dram_bank_refreshes;
    t.mxu.active = after.mxu.active - before.mxu.active;
    t.mxu.input_stall = after.mxu.input_stall - before.mxu.input_stall;
    t.mxu.weight_load_stall = after.mxu.weight_load_stall - before.mxu.weight_load_stall;
    t.mxu.weight_shift = after.mxu.weight_shift - before.mxu.weight_shift;
    t.macs = after.macs - before.macs;
    t.vpu_busy_cycles = after.vpu_busy_cycles - before.vpu_busy_cycles;
    t.onchip_bytes = after.onchip_bytes - before.onchip_bytes;
    t.replayed_tiles = after.replayed_tiles - before.replayed_tiles;
    t.padded_macs = after.padded_macs - before.padded_macs;
    timings_.push_back(t);
    if (!key.empty()) {
      Recording rec;
      rec.timing = t;
      rec.counters = read_counters(counter_list_);
      for (std::size_t i = 0; i < rec.counters.size(); ++i) rec.counters[i] -= counters_before[i];
      rec.channel_bytes = hbm_.channel_bytes();
      for (std::size_t c = 0; c < rec.channel_bytes.size(); ++c) rec.channel_bytes[c] -= bytes_before[c];
      recordings_.emplace(key, std::move(rec));
    }
    if (trace_) trace_->slice(ops_track_, t.start_ps, t.end_ps, op.name);
    ++ops_done_;
  }
}

std::string Chip::progress() const {
  std::string out = fmt::format("{} of {} ops finished", ops_done_, plans_.size());
  for (const auto& core : cores_) out += "; " + core->progress();
  return out;
}

}  // namespace podsim
