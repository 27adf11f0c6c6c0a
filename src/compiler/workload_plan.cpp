#include "podsim/compiler/workload_plan.h"

#include <fmt/format.h>

namespace podsim {
namespace {
std::uint64_t align_up(std::uint64_t x, std::uint64_t a) { return (x + a - 1) / a * a; }
}  // namespace

std::vector<OpPlan> plan_workload(const WorkloadSpec& workload, const HardwareSpec& hw) {
  std::vector<OpPlan> plans;
  const std::uint64_t stripe = hw.chip.hbm.interleave_bytes;
  for (std::size_t i = 0; i < workload.ops.size(); ++i) {
    const Op& op = workload.ops[i];
    OpPlan p;
    p.op_index = i;
    if (const auto* v = std::get_if<VectorOp>(&op.body)) {
      p.engine = Engine::vector;
      const Op* prev = i > 0 ? &workload.ops[i - 1] : nullptr;
      const bool producer = prev && (std::holds_alternative<MatmulOp>(prev->body) || std::holds_alternative<Conv2dOp>(prev->body));
      const bool fused = hw.chip.vector.fusion && v->inputs == 1 && producer &&
                         lower_to_matmul(*prev).matmul.m * lower_to_matmul(*prev).matmul.n *
                                 lower_to_matmul(*prev).instances ==
                             v->elements();
      p.vector = plan_vector(*v, hw, fused, op.where);
      // Inputs, then outputs, one after another, each aligned to the stripe.
      const std::uint64_t stride = align_up(v->elements() * dtype_bytes(v->dtype), stripe);
      p.a_base = 0;
      p.tensor_stride = stride;
      p.c_base = stride * v->inputs;
      p.footprint_bytes = stride * (v->inputs + v->outputs);
    } else if (const auto* e = std::get_if<EmbeddingOp>(&op.body)) {
      p.engine = Engine::embedding;
      p.vector = plan_embedding(*e, hw, op.where);
      p.a_base = 0;
      const std::uint64_t table = align_up(e->table_rows * e->row_bytes(), stripe);
      p.c_base = table;  // the pooled output (backward: its gradient)
      p.b_base = align_up(p.c_base + e->batch * e->dim * dtype_bytes(e->dtype), stripe);  // optimizer state tables
      p.footprint_bytes = p.b_base + e->state_tables * table;
    } else {
      const LoweredMatmul lowered = lower_to_matmul(op);
      const MatmulOp& mm = lowered.matmul;
      p.matmul = mm;
      p.instances = lowered.instances;
      if (mm.block_sparsity > 0 && (hw.chip.mxu.dataflow != Dataflow::ws || hw.chip.mxu.weight_fifo_depth > 0))
        throw ConfigError(op.where, fmt::format("workload.ops[{}].block_sparsity", i),
                          "skipping zero weight blocks is modelled for a weight-stationary array without a weight FIFO");
      if (mm.weight_sparsity > 0 && (hw.chip.mxu.dataflow != Dataflow::ws || hw.chip.mxu.weight_fifo_depth > 0))
        throw ConfigError(op.where, fmt::format("workload.ops[{}].weight_sparsity", i),
                          "fine-grained weight sparsity is modelled for a weight-stationary array without a weight FIFO");
      p.tiling = choose_matmul_tiling(mm, hw, op.where);
      p.passes = mxu_passes(hw, mm.dtype);
      if (p.passes == 0)
        throw ConfigError(op.where, fmt::format("workload.ops[{}].dtype", i),
                          fmt::format("'{}' does not support {} (chip.mxu.passes.{} is 0)", hw.name,
                                      dtype_name(mm.dtype), dtype_name(mm.dtype)));
      const std::uint64_t b = dtype_bytes(mm.dtype);
      p.a_base = 0;
      p.b_base = align_up(p.a_base + mm.m * mm.k * b, stripe);
      p.c_base = align_up(p.b_base + mm.k * mm.n * b, stripe);
      p.footprint_bytes = p.c_base + mm.m * mm.n * b;
    }
    if (p.footprint_bytes > hw.chip.hbm.capacity_bytes)
      throw ConfigError(op.where, fmt::format("workload.ops[{}]", i),
                        fmt::format("op '{}' needs {} bytes of HBM for its tensors; the chip has {} "
                                    "(chip.hbm.capacity)",
                                    op.name, p.footprint_bytes, hw.chip.hbm.capacity_bytes));
    plans.push_back(p);
  }
  return plans;
}

}  // namespace podsim
