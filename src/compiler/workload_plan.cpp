#include "podsim/compiler/workload_plan.h"

#include <fmt/format.h>

namespace podsim {
namespace {
std::uint64_t align_up(std::uint64_t x, std::uint64_t a) { return (x + a - 1) / a * a; }
}  // namespace

std::vector<OpPlan> plan_workload(const WorkloadSpec& workload, const HardwareSpec& hw) {
  std::vector<OpPlan> plans;
  for (std::size_t i = 0; i < workload.ops.size(); ++i) {
    const Op& op = workload.ops[i];
    const LoweredMatmul lowered = lower_to_matmul(op);
    const MatmulOp& mm = lowered.matmul;
    OpPlan p;
    p.op_index = i;
    p.matmul = mm;
    p.instances = lowered.instances;
    p.tiling = choose_matmul_tiling(mm, hw, op.where);
    p.passes = mxu_passes(hw, mm.dtype);
    if (p.passes == 0)
      throw ConfigError(op.where, fmt::format("workload.ops[{}].dtype", i),
                        fmt::format("'{}' does not support {} (chip.mxu.passes.{} is 0)", hw.name,
                                    dtype_name(mm.dtype), dtype_name(mm.dtype)));
    const std::uint64_t b = dtype_bytes(mm.dtype);
    const std::uint64_t stripe = hw.chip.hbm.interleave_bytes;
    p.a_base = 0;
    p.b_base = align_up(p.a_base + mm.m * mm.k * b, stripe);
    p.c_base = align_up(p.b_base + mm.k * mm.n * b, stripe);
    p.footprint_bytes = p.c_base + mm.m * mm.n * b;
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
