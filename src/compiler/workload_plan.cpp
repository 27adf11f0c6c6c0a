#include "podsim/compiler/workload_plan.h"

#include <algorithm>

#include <fmt/format.h>

#include "podsim/compiler/cmem_plan.h"
#include "podsim/compiler/implicit_conv.h"
#include "podsim/compiler/model_capacity.h"

namespace podsim {
namespace {
std::uint64_t align_up(std::uint64_t x, std::uint64_t a) { return (x + a - 1) / a * a; }

// Row ops: each output element depends on its whole input row.
bool needs_whole_rows(VectorFn f) {
  return f == VectorFn::softmax || f == VectorFn::softmax_grad || f == VectorFn::layernorm || f == VectorFn::rmsnorm;
}
// A fused attention kernel is a run of consecutive ops with attention parts (set by
// expand_composites for the forward kernel, by expand_training for the backward ones):
// [first, last) of the run holding op i, empty for an op outside one.
std::pair<std::size_t, std::size_t> attention_run(const WorkloadSpec& w, std::size_t i) {
  using Part = Op::AttentionPart;
  if (w.ops[i].attention_part == Part::none) return {i, i};
  std::size_t first = i, last = i + 1;
  while (first > 0 && w.ops[first - 1].attention_part != Part::none) --first;
  while (last < w.ops.size() && w.ops[last].attention_part != Part::none) ++last;
  return {first, last};
}

// Op i is in a fused kernel: a run of at least Q K^T, softmax and the product with V.
bool attention_fusable(const WorkloadSpec& w, std::size_t i) {
  const auto [first, last] = attention_run(w, i);
  return last - first >= 3;
}

// What a fused kernel's op keeps in vector memory: the scores it produces (C), the
// probabilities or score gradients it consumes (A), one block of queries at a time.
OnchipOperands attention_onchip(const Op& op) {
  using Part = Op::AttentionPart;
  return {op.attention_part == Part::context, op.attention_part == Part::scores, true};
}

// The scores stay in vector memory only when every matmul of the kernel found a tiling
// that keeps what it was asked to; then its vector ops (softmax, its gradient) move no
// HBM bytes either. Otherwise the whole kernel is planned unfused (the scores and their
// gradients through HBM).
void fuse_attention(const WorkloadSpec& w, const HardwareSpec& hw, std::vector<OpPlan>& plans) {
  for (std::size_t i = 0; i < plans.size();) {
    const auto [first, last] = attention_run(w, i);
    if (last == first || !attention_fusable(w, i)) {
      i = std::max(last, i + 1);
      continue;
    }
    bool kept = true;
    for (std::size_t j = first; j < last; ++j) {
      if (plans[j].engine != Engine::mxu) continue;
      const OnchipOperands want = attention_onchip(w.ops[j]);
      kept = kept && (!want.a || plans[j].tiling.a_onchip) && (!want.c || plans[j].tiling.c_onchip);
    }
    for (std::size_t j = first; j < last; ++j) {
      OpPlan& p = plans[j];
      if (kept && p.engine == Engine::vector) {
        const VectorOp& v = std::get<VectorOp>(w.ops[j].body);
        p.vector = keep_onchip(p.vector, v);
        // The kernel's softmax (or its gradient) works on each block of scores (or of dP)
        // as it leaves the arrays, on the vector unit while the MXUs go on (chip.vector.
        // overlap_fused): the epilogue of the product before it.
        if (hw.chip.vector.overlap_fused && j > first && plans[j - 1].engine == Engine::mxu &&
            w.ops[j - 1].attention_part == Op::AttentionPart::scores) {
          plans[j - 1].epilogue = vector_cost(v.fn);
          p.in_epilogue = true;
        }
      } else if (!kept && p.engine == Engine::mxu && !hw.chip.vmem_holds_activations && p.tiling.onchip().any()) {
        p.tiling = choose_matmul_tiling(p.matmul, hw, w.ops[j].where, {});
      }
    }
    i = last;
  }
}

// An op whose tensors do not fit in HBM is an input error, found before anything grows
// with the op's size.
void check_capacity(const OpPlan& p, const Op& op, std::size_t i, const HardwareSpec& hw) {
  if (p.footprint_bytes > hw.chip.hbm.capacity_bytes)
    throw ConfigError(op.where, fmt::format("workload.ops[{}]", i),
                      fmt::format("op '{}' needs {} bytes of HBM for its tensors; the chip has {} "
                                  "(chip.hbm.capacity)",
                                  op.name, p.footprint_bytes, hw.chip.hbm.capacity_bytes));
}

// Unary elementwise functions: any output block can be finished on its own.
bool blockwise(const VectorOp& v) {
  if (v.inputs != 1 || v.outputs != 1 || !v.shape_preserving()) return false;
  switch (v.fn) {
    case VectorFn::relu: case VectorFn::gelu: case VectorFn::sigmoid: case VectorFn::tanh: case VectorFn::exp:
    case VectorFn::scale: return true;
    default: return false;
  }
}

// chip.vector.overlap_fused: a fused unary elementwise op right after an MXU op (its
// producer, as many runs) becomes that op's epilogue.
void overlap_epilogues(const WorkloadSpec& w, const HardwareSpec& hw, std::vector<OpPlan>& plans) {
  if (!hw.chip.vector.overlap_fused) return;
  for (std::size_t i = 1; i < plans.size(); ++i) {
    OpPlan &producer = plans[i - 1], &p = plans[i];
    const auto* v = std::get_if<VectorOp>(&w.ops[i].body);
    if (!v || p.engine != Engine::vector || !p.vector.fused || !blockwise(*v)) continue;
    if (producer.engine != Engine::mxu || w.ops[i - 1].gradient_elements > 0) continue;  // a dW is not its producer
    if (w.ops[i - 1].repeat != w.ops[i].repeat) continue;
    producer.epilogue = vector_cost(v->fn);
    p.in_epilogue = true;
  }
}

}  // namespace

// XLA-style fusion: the op's first input is the previous op's output, still in vector
// memory (a matmul or conv2d's C, or an elementwise op's result, of as many elements).
bool fuses_into(const VectorOp& v, const Op& producer) {
  if (!v.shape_preserving() || is_optimizer(v.fn) || v.inputs > 2) return false;
  // Batch norm needs every row's statistics before it can normalise one: it reads its
  // producer's output from HBM (two passes in XLA too); a ReLU after it fuses into it.
  if (v.fn == VectorFn::batchnorm) return false;
  std::uint64_t produced = 0;
  if (std::holds_alternative<MatmulOp>(producer.body) || std::holds_alternative<Conv2dOp>(producer.body)) {
    const LoweredMatmul l = lower_to_matmul(producer);
    produced = l.matmul.m * l.matmul.n * l.instances;
  } else if (const auto* pv = std::get_if<VectorOp>(&producer.body)) {
    if (!pv->shape_preserving() || is_optimizer(pv->fn) || pv->outputs != 1) return false;
    produced = pv->elements();
  }
  return produced == v.elements();
}

std::vector<OpPlan> plan_workload(const WorkloadSpec& workload, const HardwareSpec& hw) {
  std::vector<OpPlan> plans;
  const std::uint64_t stripe = hw.chip.hbm.interleave_bytes;
  for (std::size_t i = 0; i < workload.ops.size(); ++i) {
    const Op& op = workload.ops[i];
    OpPlan p;
    p.op_index = i;
    if (const auto* v = std::get_if<VectorOp>(&op.body)) {
      p.engine = Engine::vector;
      // The producer is the op before, or in a backward pass the one before a weight
      // gradient (dX, dW: the vector op transforms dX's result, dW's is a weight's).
      std::size_t producer = i - 1;
      if (i > 1 && workload.ops[producer].gradient_elements > 0) --producer;
      // A row op (softmax, a norm) needs whole rows: it fuses into a matmul only when one
      // output tile holds whole rows (XLA fuses the reduction into the dot only then).
      const bool whole_rows = producer < plans.size() && plans[producer].engine == Engine::mxu &&
                              needs_whole_rows(v->fn) && plans[producer].tiling.blocks_n > 1;
      const bool fused = hw.chip.vector.fusion && i > 0 && !op.after_collective &&
                         fuses_into(*v, workload.ops[producer]) && !whole_rows;
      p.vector = plan_vector(*v, hw, fused, op.where);
      // Inputs, the side input, then outputs, one after another, each aligned to the stripe.
      const std::uint64_t b = dtype_bytes(v->dtype);
      const std::uint64_t stride =
          align_up(std::max({v->elements(), v->output_elements(), v->side_elements()}) * b, stripe);
      const std::uint64_t sides = v->side_rows > 0 ? 1 : 0;
      p.a_base = 0;
      p.tensor_stride = stride;
      p.c_base = stride * (v->inputs + sides);
      p.footprint_bytes = stride * (v->inputs + sides + v->outputs);
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
      MatmulOp mm = lowered.matmul;
      mm.batch_instances = lowered.instances * (op.independent_repeats ? op.repeat : 1);
      p.matmul = mm;
      p.instances = lowered.instances;
      if (mm.block_sparsity > 0 && (hw.chip.mxu.dataflow != Dataflow::ws || hw.chip.mxu.weight_fifo_depth > 0))
        throw ConfigError(op.where, fmt::format("workload.ops[{}].block_sparsity", i),
                          "skipping zero weight blocks is modelled for a weight-stationary array without a weight FIFO");
      if (mm.weight_sparsity > 0 && (hw.chip.mxu.dataflow != Dataflow::ws || hw.chip.mxu.weight_fifo_depth > 0))
        throw ConfigError(op.where, fmt::format("workload.ops[{}].weight_sparsity", i),
                          "fine-grained weight sparsity is modelled for a weight-stationary array without a weight FIFO");
      if (mm.dequantizes() && hw.chip.mxu.weight_fifo_depth > 0)
        throw ConfigError(op.where, fmt::format("workload.ops[{}].weight_dtype", i),
                          "quantized weights are dequantized in vector memory; a weight FIFO streams them from memory "
                          "to the array with no vector unit between (tpu-v1)");
      const std::uint64_t b = dtype_bytes(mm.dtype);
      p.a_base = 0;
      // A: the matrix, or for a convolution's patches the input they are read from.
      const std::uint64_t a_bytes = mm.patches ? input_bytes(*mm.patches, b) : mm.m * mm.k * b;
      p.b_base = align_up(p.a_base + a_bytes, stripe);
      p.c_base = align_up(p.b_base + mm.weight_bytes(padded_weight_k(mm, hw) * padded_weight_n(mm, hw)), stripe);
      p.footprint_bytes = p.c_base + mm.m * mm.n * b;
      check_capacity(p, op, i, hw);  // before the tiling search, which grows with the op
      // TPU v1's Unified Buffer keeps A and C; fused attention keeps the scores (Q K^T's C,
      // the product with V's A; attention_onchip). fuse_attention() below undoes a
      // half-kept kernel.
      OnchipOperands keep;
      if (hw.chip.vmem_holds_activations) keep = {true, true};
      if (attention_fusable(workload, i) && !keep.any()) keep = attention_onchip(op);
      if (op.tile) {  // a training step's backward ops come without the forward op's (training.cpp)
        const auto& [tm, tk, tn, cores] = *op.tile;
        if (cores > hw.chip.tensor_cores)
          throw ConfigError(op.where, fmt::format("workload.ops[{}].tile", i),
                            fmt::format("[{}, {}, {}, {}] deals the output blocks over {} TensorCores; the chip has {} "
                                        "(chip.tensor_cores)", tm, tk, tn, cores, cores, hw.chip.tensor_cores));
        const std::optional<MatmulTiling> pinned =
            pinned_matmul_tiling(mm, hw, tm, tk, tn, keep, static_cast<std::uint32_t>(cores));
        if (!pinned) {
          const MatmulTiling t = make_matmul_tiling(mm, hw, std::min(tm, mm.m), std::min(tk, mm.k), std::min(tn, mm.n));
          throw ConfigError(op.where, fmt::format("workload.ops[{}].tile", i),
                            fmt::format("[{}, {}, {}] needs {} bytes of vector memory per core; the chip has {} "
                                        "(chip.vmem.capacity)", tm, tk, tn, t.vmem_bytes, hw.chip.vmem_bytes));
        }
        p.tiling = *pinned;
      } else {
        p.tiling = choose_matmul_tiling(mm, hw, op.where, keep);
      }
      p.rate = mxu_rate(hw, mm.dtype);
      if (p.rate.passes == 0)
        throw ConfigError(op.where, fmt::format("workload.ops[{}].dtype", i),
                          fmt::format("'{}' does not support {} (chip.mxu.passes.{} is 0)", hw.name,
                                      dtype_name(mm.dtype), dtype_name(mm.dtype)));
    }
    check_capacity(p, op, i, hw);
    plans.push_back(p);
  }
  fuse_attention(workload, hw, plans);
  overlap_epilogues(workload, hw, plans);
  place_activations_in_cmem(workload, hw, plans);  // after fusion: what is left to move
  check_model_fits(workload, hw);  // every op fits alone; now all the weights and caches together
  return plans;
}

}  // namespace podsim
