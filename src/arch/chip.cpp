#include "podsim/arch/chip.h"

#include <fmt/format.h>

namespace podsim {

Chip::Chip(sc_core::sc_module_name name, const HardwareSpec& hw, const WorkloadSpec& workload,
           const std::vector<OpPlan>& plans, TraceRecorder* trace)
    : sc_module(name), hw_(hw), workload_(workload), plans_(plans), hbm_(hw.chip.hbm), trace_(trace) {
  if (trace_) ops_track_ = trace_->track("ops");
  ports_.reserve(hw.chip.tensor_cores);  // cores keep references: no reallocation after
  for (std::uint32_t c = 0; c < hw.chip.tensor_cores; ++c) ports_.emplace_back(hw.chip.noc.core_port_Bps);
  for (std::uint32_t c = 0; c < hw.chip.tensor_cores; ++c)
    cores_.push_back(std::make_unique<TensorCore>(fmt::format("core{}", c).c_str(), hw, hbm_,
                                                  ports_[c], counters_, trace_));
  SC_HAS_PROCESS(Chip);
  SC_THREAD(sequencer);
}

OpTiming Chip::snapshot() const {
  OpTiming s;
  s.start_ps = sc_core::sc_time_stamp().value();
  for (const auto& ch : hbm_.channel_stats()) {
    s.hbm_read_bytes += ch.read_bytes;
    s.hbm_write_bytes += ch.write_bytes;
  }
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

void Chip::sequencer() {
  for (const OpPlan& plan : plans_) {
    const Op& op = workload_.ops[plan.op_index];
    const OpTiming before = snapshot();
    for (std::uint64_t r = 0; r < op.repeat * plan.instances; ++r) {
      for (std::uint32_t c = 0; c < cores_.size(); ++c) {
        CoreMatmulProgram program;
        program.engine = plan.engine;
        program.vtiling = plan.vector;
        if (const auto* v = std::get_if<VectorOp>(&op.body)) program.vector = *v;
        if (const auto* e = std::get_if<EmbeddingOp>(&op.body)) program.embedding = *e;
        program.op = plan.matmul;
        program.tiling = plan.tiling;
        program.passes = plan.passes;
        program.a_base = plan.a_base;
        program.b_base = plan.b_base;
        program.c_base = plan.c_base;
        program.tensor_stride = plan.tensor_stride;
        program.core = c;
        program.cores = static_cast<std::uint32_t>(cores_.size());
        program.label = op.name;
        cores_[c]->start(program);
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
    t.mxu.active = after.mxu.active - before.mxu.active;
    t.mxu.input_stall = after.mxu.input_stall - before.mxu.input_stall;
    t.mxu.weight_load_stall = after.mxu.weight_load_stall - before.mxu.weight_load_stall;
    t.mxu.weight_shift = after.mxu.weight_shift - before.mxu.weight_shift;
    t.macs = after.macs - before.macs;
    t.vpu_busy_cycles = after.vpu_busy_cycles - before.vpu_busy_cycles;
    t.onchip_bytes = after.onchip_bytes - before.onchip_bytes;
    t.padded_macs = after.padded_macs - before.padded_macs;
    timings_.push_back(t);
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
