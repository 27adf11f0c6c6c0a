#include "podsim/compiler/cmem_plan.h"

#include <variant>

#include "podsim/compiler/implicit_conv.h"

namespace podsim {
namespace {

// Which of an op's tensors may live in the on-chip memory.
struct Allowed {
  bool input = true, output = true;
};

// The matmul's A and C tensors, every instance's (a batched op's heads or groups are live together).
std::uint64_t a_tensor_bytes(const OpPlan& p) {
  const MatmulOp& op = p.matmul;
  const std::uint64_t b = dtype_bytes(op.dtype);
  return (op.patches ? input_bytes(*op.patches, b) : op.m * op.k * b) * p.instances;
}

void place_matmul(const HardwareSpec& hw, OpPlan& p, Allowed allowed) {
  const MatmulOp& op = p.matmul;
  const MatmulTiling& t = p.tiling;
  const std::uint64_t capacity = hw.chip.cmem.capacity_bytes;
  const std::uint64_t a_tensor = a_tensor_bytes(p);
  const std::uint64_t c_tensor = op.m * op.n * dtype_bytes(op.dtype) * p.instances;
  // The tiling's reads are A's (however often its tiles are read again) plus the weights'.
  const std::uint64_t weight_reads = op.weight_bytes(padded_weight_k(op, hw) * padded_weight_n(op, hw)) * t.blocks_m;
  std::uint64_t used = 0;
  if (allowed.input && !t.a_onchip && a_tensor <= capacity && t.hbm_read_bytes >= weight_reads) {
    p.a_in_cmem = true;
    used = a_tensor;
    p.cmem_read_bytes = t.hbm_read_bytes - weight_reads;
    p.tiling.hbm_read_bytes = weight_reads;
  }
  if (allowed.output && !t.c_onchip && t.hbm_write_bytes > 0 && used + c_tensor <= capacity) {
    p.c_in_cmem = true;
    p.cmem_write_bytes = t.hbm_write_bytes;
    p.tiling.hbm_write_bytes = 0;
  }
}

void place_vector(const VectorOp& op, OpPlan& p, std::uint64_t capacity, Allowed allowed) {
  VectorTiling& t = p.vector;
  if (is_optimizer(op.fn) || t.activations_onchip) return;  // parameters and their moments, or nothing off chip
  const std::uint64_t b = dtype_bytes(op.dtype);
  // The inputs it loads (a fused op's first input is in vector memory already) with its
  // side input (laid out after them: a batch norm's statistics, an unpooling's forward
  // output), and its outputs (a fused op stores none).
  const std::uint64_t in_tensors = (op.elements() * op.inputs + op.side_elements()) * b;
  const std::uint64_t out_tensors = op.output_elements() * op.outputs * b;
  if (allowed.input && t.hbm_read_bytes > 0 && in_tensors + out_tensors <= capacity) {
    p.a_in_cmem = true;
    p.cmem_read_bytes = t.hbm_read_bytes;
    t.hbm_read_bytes = 0;
  }
  if (allowed.output && t.hbm_write_bytes > 0 && (p.a_in_cmem ? in_tensors : 0) + out_tensors <= capacity) {
    p.c_in_cmem = true;
    p.cmem_write_bytes = t.hbm_write_bytes;
    t.hbm_write_bytes = 0;
  }
}

// A training step keeps its forward ops' inputs for the backward pass (workload/training.h):
// they live across the whole step, so the on-chip memory holds them only if all of them
// fit at once. Their bytes, with whether the workload is a training step at all.
std::uint64_t stashed_bytes(const WorkloadSpec& workload, const std::vector<OpPlan>& plans, bool* training) {
  std::uint64_t stash = 0;
  *training = false;
  for (const OpPlan& p : plans) {
    const Op& op = workload.ops[p.op_index];
    if (op.pass != Op::Pass::forward) *training = true;
    if (op.pass != Op::Pass::forward || op.frozen || p.in_epilogue) continue;
    if (p.engine == Engine::mxu) {
      stash += a_tensor_bytes(p) * op.repeat;
    } else if (const auto* v = std::get_if<VectorOp>(&op.body)) {
      stash += v->elements() * v->inputs * dtype_bytes(v->dtype) * op.repeat;
    }
  }
  return stash;
}

// Whether an op leaves its output on chip (in the on-chip memory, or in vector memory:
// nothing of it written to HBM), where the op after it finds its input.
bool output_on_chip(const OpPlan& p) {
  if (p.c_in_cmem) return true;
  if (p.engine == Engine::mxu) return p.tiling.c_onchip || p.tiling.hbm_write_bytes == 0;
  if (p.engine == Engine::vector) return p.vector.activations_onchip || p.vector.hbm_write_bytes == 0;
  return false;  // an embedding lookup writes its pooled rows to HBM
}

// A weight gradient: its A is a stashed forward input (not the op before's output) and its
// output is what the optimizer update reads from HBM.
bool weight_gradient(const Op& op, const OpPlan& p) {
  return p.engine == Engine::mxu && op.pass == Op::Pass::backward && op.gradient_elements > 0;
}

}  // namespace

void place_activations_in_cmem(const WorkloadSpec& workload, const HardwareSpec& hw, std::vector<OpPlan>& plans) {
  if (hw.chip.cmem.capacity_bytes == 0) return;
  bool training = false;
  const bool stash_fits = stashed_bytes(workload, plans, &training) <= hw.chip.cmem.capacity_bytes;
  // Whether the op that produced the next op's input (the op before it in the chain) left
  // it on chip. The step's first input is taken to be wherever its op wants it (a
  // simulated step starts with its input in memory; the infeed could have put it in
  // the on-chip memory, as it did before this rule existed).
  bool producer_on_chip = true;
  bool backward_started = false;
  for (OpPlan& p : plans) {
    if (p.in_epilogue) continue;  // runs inside its producer: moves nothing of its own
    const Op& op = workload.ops[p.op_index];
    // The backward pass starts from the loss's gradient, which the loss (not modelled)
    // produced: taken to be wherever its first op wants it, as the step's input.
    if (op.pass == Op::Pass::backward && !backward_started) {
      backward_started = true;
      producer_on_chip = true;
    }
    const bool gradient = weight_gradient(op, p);
    const bool update = p.engine == Engine::vector && is_optimizer(std::get<VectorOp>(op.body).fn);
    // A training step whose stash does not fit: the forward pass writes its activations
    // to HBM, where the backward pass finds them (a forward op's input is taken to be one
    // of them), and a weight gradient's A and a backward vector op's inputs (which include
    // a stashed tensor: a ReLU's output, a batch norm's input) are read from there. What
    // lives in the on-chip memory is the backward pass's own chain: a dX's input gradient
    // and output, and the gradients the vector ops produce.
    Allowed allowed;
    if (training && !stash_fits) {
      const bool forward = op.pass == Op::Pass::forward;
      allowed.input = !forward && !(p.engine == Engine::mxu ? op.gradient_elements > 0 : true);
      allowed.output = !forward && !gradient;
    }
    // An op's input is in the on-chip memory only if its producer left it there (the op
    // before it in the chain; a weight gradient reads the stash instead); one that came
    // over the network (after a collective) is in HBM. A weight gradient's output goes to
    // HBM, where its update reads it.
    if (!gradient && (!producer_on_chip || op.after_collective)) allowed.input = false;
    if (gradient) allowed.output = false;
    if (p.engine == Engine::mxu) {
      place_matmul(hw, p, allowed);
    } else if (p.engine == Engine::vector) {
      if (const auto* v = std::get_if<VectorOp>(&op.body)) place_vector(*v, p, hw.chip.cmem.capacity_bytes, allowed);
    }
    // Weight gradients and updates are off the activations' chain: the op after them
    // takes its input from the op before them.
    if (!gradient && !update) producer_on_chip = output_on_chip(p);
  }
}

}  // namespace podsim
