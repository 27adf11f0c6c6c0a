#include "podsim/compiler/cmem_plan.h"

#include <variant>

#include "podsim/compiler/implicit_conv.h"

namespace podsim {
namespace {

void place_matmul(const HardwareSpec& hw, OpPlan& p) {
  const MatmulOp& op = p.matmul;
  const MatmulTiling& t = p.tiling;
  const std::uint64_t capacity = hw.chip.cmem.capacity_bytes;
  const std::uint64_t b = dtype_bytes(op.dtype);
  // The whole tensors, every instance's (a batched op's heads or groups are live together).
  const std::uint64_t a_tensor = (op.patches ? input_bytes(*op.patches, b) : op.m * op.k * b) * p.instances;
  const std::uint64_t c_tensor = op.m * op.n * b * p.instances;
  // The tiling's reads are A's (however often its tiles are read again) plus the weights'.
  const std::uint64_t weight_reads = op.weight_bytes(padded_weight_k(op, hw) * padded_weight_n(op, hw)) * t.blocks_m;
  std::uint64_t used = 0;
  if (!t.a_onchip && a_tensor <= capacity && t.hbm_read_bytes >= weight_reads) {
    p.a_in_cmem = true;
    used = a_tensor;
    p.cmem_read_bytes = t.hbm_read_bytes - weight_reads;
    p.tiling.hbm_read_bytes = weight_reads;
  }
  if (!t.c_onchip && t.hbm_write_bytes > 0 && used + c_tensor <= capacity) {
    p.c_in_cmem = true;
    p.cmem_write_bytes = t.hbm_write_bytes;
    p.tiling.hbm_write_bytes = 0;
  }
}

void place_vector(const VectorOp& op, OpPlan& p, std::uint64_t capacity) {
  VectorTiling& t = p.vector;
  const bool optimizer = op.fn == VectorFn::sgd || op.fn == VectorFn::momentum || op.fn == VectorFn::adam;
  if (optimizer || t.activations_onchip) return;  // parameters and their moments, or nothing off chip
  const std::uint64_t b = dtype_bytes(op.dtype);
  // The inputs it loads (a fused op's first input is in vector memory already) with its
  // side input (laid out after them: a batch norm's statistics, an unpooling's forward
  // output), and its outputs (a fused op stores none).
  const std::uint64_t inputs = t.hbm_read_bytes;
  const std::uint64_t outputs = t.hbm_write_bytes;
  const std::uint64_t tensors = (op.elements() * op.inputs + op.side_elements() + op.output_elements() * op.outputs) * b;
  if (inputs + outputs == 0 || tensors > capacity) return;
  p.a_in_cmem = inputs > 0;
  p.c_in_cmem = outputs > 0;
  p.cmem_read_bytes = inputs;
  p.cmem_write_bytes = outputs;
  t.hbm_read_bytes = 0;
  t.hbm_write_bytes = 0;
}

}  // namespace

void place_activations_in_cmem(const WorkloadSpec& workload, const HardwareSpec& hw, std::vector<OpPlan>& plans) {
  if (hw.chip.cmem.capacity_bytes == 0) return;
  for (OpPlan& p : plans) {
    if (p.in_epilogue) continue;  // runs inside its producer: moves nothing of its own
    if (p.engine == Engine::mxu) {
      place_matmul(hw, p);
    } else if (p.engine == Engine::vector) {
      if (const auto* v = std::get_if<VectorOp>(&workload.ops[p.op_index].body))
        place_vector(*v, p, hw.chip.cmem.capacity_bytes);
    }
  }
}

}  // namespace podsim
