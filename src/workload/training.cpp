#include "podsim/workload/training.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "podsim/workload/flash_attention_backward.h"

namespace podsim {
namespace {

// A data rank's share of n elements under ZeRO sharding (the last rank's may be smaller;
// the fullest is counted).
std::uint64_t shard_of(std::uint64_t n, std::uint64_t shards) { return (n + shards - 1) / std::max<std::uint64_t>(1, shards); }

// Parameters of an op's weight tensor (0 for ops without weights).
std::uint64_t parameters_of(const Op& op) {
  if (op.b_is_activation) return 0;
  if (const auto* mm = std::get_if<MatmulOp>(&op.body)) return mm->k * mm->n;
  if (const auto* c = std::get_if<Conv2dOp>(&op.body)) return (c->c_in / c->groups) * c->kernel * c->kernel * c->c_out;
  return 0;
}

// Bytes of the op's input activations, kept for its backward pass, for one run: A of a
// matmul, and B too when it is an activation (attention's K^T and V: their products'
// gradients need both operands).
std::uint64_t input_bytes(const Op& op) {
  if (const auto* mm = std::get_if<MatmulOp>(&op.body))
    return (mm->m * mm->k + (op.b_is_activation ? mm->k * mm->n : 0)) * dtype_bytes(mm->dtype);
  if (const auto* c = std::get_if<Conv2dOp>(&op.body)) return c->n * c->h * c->w * c->c_in * dtype_bytes(c->dtype);
  if (const auto* v = std::get_if<VectorOp>(&op.body)) return v->elements() * dtype_bytes(v->dtype) * v->inputs;
  return 0;
}

}  // namespace

Op derived_op(const Op& from, const std::string& suffix, OpBody body, std::uint64_t repeat) {
  Op op;
  op.name = from.name + suffix;
  op.repeat = repeat;
  op.body = std::move(body);
  op.where = from.where;
  op.shard = from.shard;
  op.independent_repeats = from.independent_repeats;  // a head's gradients need only that head
  op.b_is_activation = from.b_is_activation;
  op.attention_keys = from.attention_keys;
  return op;
}

namespace {

void add_backward_ops(const Op& op, std::vector<Op>& out);

// The optimizer step over `params` weights: weight and gradient, plus the optimizer's
// state tensors, all in the master type; with ZeRO this chip's share only.
VectorOp optimizer_update(const TrainingSpec& t, std::uint64_t params) {
  VectorOp u;
  u.fn = t.optimizer == Optimizer::sgd ? VectorFn::sgd : t.optimizer == Optimizer::momentum ? VectorFn::momentum
                                                                                             : VectorFn::adam;
  u.inputs = t.optimizer == Optimizer::sgd ? 2 : t.optimizer == Optimizer::momentum ? 3 : 4;
  u.outputs = u.inputs - 1;
  u.rows = shard_of(params, t.state_shards);
  u.cols = 1;
  u.dtype = t.master;
  return u;
}

// The ops expand_composites made of MoE layer r are named after it.
bool in_layer(const Op& op, const MoeRouting& r) { return op.name.rfind(r.op + ".", 0) == 0; }

// A frozen MoE layer (a teacher's, a QLoRA base model's) trains nothing.
bool frozen_layer(const WorkloadSpec& w, const MoeRouting& r) {
  return std::any_of(w.ops.begin(), w.ops.end(), [&](const Op& op) { return in_layer(op, r) && op.frozen; });
}

// Parameters of the MoE layer's expert matmuls that ran (experts some token reached).
std::uint64_t routed_expert_parameters(const WorkloadSpec& w, const MoeRouting& r) {
  std::uint64_t sum = 0;
  for (const Op& op : w.ops)
    if (op.moe_expert && in_layer(op, r)) sum += parameters_of(op) * op.repeat;
  return sum;
}

// The gradient through a vector op. Elementwise and row ops read their output (or input)
// and the incoming gradient: the same work on two inputs. Shape-changing ops send the
// gradient back to the input's shape: a transpose transposes it back, a reshape copies
// it back, a sum or mean broadcasts it along the rows, average pooling spreads it over
// each window; max reduction and max pooling also read the forward input (the gradient
// beside it as a side input) to find the maxima.
VectorOp vector_backward(const VectorOp& v) {
  VectorOp b = v;
  b.outputs = 1;
  b.out_rows = b.out_cols = b.side_rows = b.side_cols = 0;
  auto from_gradient = [&](VectorFn fn) {  // input: the output's gradient; output: the input's shape
    b.fn = fn;
    b.inputs = 1;
    b.rows = v.output_rows();
    b.cols = v.output_cols();
    b.out_rows = v.rows;
    b.out_cols = v.cols;
  };
  auto beside_input = [&](VectorFn fn) {  // input: the forward input; the gradient beside it
    b.fn = fn;
    b.inputs = 1;
    b.side_rows = v.output_rows();
    b.side_cols = v.output_cols();
  };
  switch (v.fn) {
    case VectorFn::transpose: from_gradient(VectorFn::transpose); break;
    case VectorFn::copy: from_gradient(VectorFn::copy); break;
    case VectorFn::reduce_sum:
    case VectorFn::reduce_mean: from_gradient(VectorFn::broadcast); break;
    case VectorFn::avgpool: from_gradient(VectorFn::unpool); break;
    case VectorFn::reduce_max: beside_input(VectorFn::broadcast); break;
    case VectorFn::maxpool: beside_input(VectorFn::unpool); break;
    // A gated activation's gradient needs gate and up (the forward input) and dY beside
    // them; it writes d(gate) and d(up), the input's shape.
    case VectorFn::swiglu:
    case VectorFn::geglu: beside_input(v.fn); break;
    case VectorFn::rope: from_gradient(VectorFn::rope); break;  // the inverse rotation of dY
    case VectorFn::softmax:  // from its output and dY
      b.fn = VectorFn::softmax_grad;
      b.inputs = 2;
      break;
    default: b.inputs = std::max<std::uint32_t>(2, v.inputs);
  }
  return b;
}

void add_backward(const Op& op, Optimizer optimizer, std::vector<Op>& out) {
  const std::size_t first = out.size();
  if (const auto* e = std::get_if<EmbeddingOp>(&op.body)) {
    // Sparse: scatter-add the pooled gradient into the looked-up rows, the optimizer step
    // fused in (its state rows updated beside them). No dense update op.
    EmbeddingOp b = *e;
    b.backward = true;
    b.state_tables = optimizer == Optimizer::adam ? 2 : optimizer == Optimizer::momentum ? 1 : 0;
    out.push_back(derived_op(op, ".dW", b, op.repeat));
  } else {
    add_backward_ops(op, out);
  }
  // A tiling the workload pins is the forward op's; its gradients have other shapes.
  for (std::size_t i = first; i < out.size(); ++i) {
    out[i].pass = Op::Pass::backward;
    out[i].tile.reset();
  }
}

void add_backward_ops(const Op& op, std::vector<Op>& out) {
  if (const auto* c = std::get_if<CollectiveOp>(&op.body)) {
    // The gradient of a collective is another collective (all_to_all -> all_to_all; a
    // tensor-parallel all-reduce -> none, its "f" partner -> all_reduce).
    if (!c->backward) return;
    CollectiveOp b = *c;
    b.kind = *c->backward;
    b.forward = true;
    b.backward.reset();
    if (c->kind == CollectiveKind::all_to_all && (!c->weights.empty() || !c->sender_bytes.empty())) {
      // The gradients travel back: the transposed traffic. Sender i sent s_i split by the
      // weights w; now i sends w_i x sum(s) / sum(w), split in proportion to s.
      const std::size_t n = std::max(c->weights.size(), c->sender_bytes.size());
      std::vector<std::uint64_t> s = c->sender_bytes, w = c->weights;
      if (s.empty()) s.assign(n, c->bytes);
      if (w.empty()) w.assign(n, 1);
      long double ss = 0, sw = 0;
      for (auto x : s) ss += x;
      for (auto x : w) sw += x;
      b.sender_bytes.resize(n);
      for (std::size_t i = 0; i < n; ++i) b.sender_bytes[i] = sw > 0 ? std::uint64_t(w[i] * ss / sw) : 0;
      b.weights = s;
    }
    out.push_back(derived_op(op, ".grad", b, op.repeat));
    return;
  }
  if (const auto* mm = std::get_if<MatmulOp>(&op.body)) {
    // dX = dY W^T: (m x n)(n x k); dW = X^T dY: (k x m)(m x n).
    out.push_back(derived_op(op, ".dX", MatmulOp{mm->m, mm->n, mm->k, mm->dtype}, op.repeat));
    if (op.b_is_activation) {  // the gradient of an activation: nothing to update or all-reduce
      out.push_back(derived_op(op, ".dB", MatmulOp{mm->k, mm->m, mm->n, mm->dtype}, op.repeat));
    } else {
      out.push_back(derived_op(op, ".dW", MatmulOp{mm->k, mm->m, mm->n, mm->dtype}, op.repeat));
      out.back().gradient_elements = mm->k * mm->n * op.repeat;
    }
  } else if (const auto* c = std::get_if<Conv2dOp>(&op.body)) {
    const std::uint64_t M = c->n * c->h_out() * c->w_out(), K = (c->c_in / c->groups) * c->kernel * c->kernel,
                        N = c->c_out / c->groups;
    // dX: a stride-1 convolution that keeps the image size is its own transpose: dY
    // convolved with the flipped kernels, padding kernel - 1 - padding, c_out channels in
    // and c_in out (implicit GEMM, as many MACs as the forward). Otherwise dY W^T on the
    // im2col matrix (M x K out), folded back onto the input.
    const bool same_size = c->stride == 1 && c->h_out() == c->h && c->w_out() == c->w && c->groups == 1 &&
                           c->kernel > 1 && c->dilation * (c->kernel - 1) >= c->padding;
    if (same_size) {
      Conv2dOp t = *c;
      t.h = c->h_out();
      t.w = c->w_out();
      t.c_in = c->c_out;
      t.c_out = c->c_in;
      t.padding = c->dilation * (c->kernel - 1) - c->padding;
      out.push_back(derived_op(op, ".dX", t, op.repeat));
    } else {
      out.push_back(derived_op(op, ".dX", MatmulOp{M, N, K, c->dtype}, op.repeat * c->groups));
    }
    // dW = X^T dY over the patches of X (read from X: implicit GEMM for k x k kernels).
    MatmulOp dw{K, M, N, c->dtype};
    dw.patches = c->patches();
    if (dw.patches) dw.patches->transposed = true;
    out.push_back(derived_op(op, ".dW", dw, op.repeat * c->groups));
    out.back().gradient_elements = K * N * op.repeat * c->groups;
  } else if (const auto* v = std::get_if<VectorOp>(&op.body)) {
    out.push_back(derived_op(op, ".grad", vector_backward(*v), op.repeat));
  } else {
    throw ConfigError(op.where, "workload.training",
                      fmt::format("training with op '{}' ({}) is not modelled yet", op.name, op.kind()));
  }
}

}  // namespace

std::string weight_owner(const std::string& name) {
  const std::size_t dot = name.rfind('.');
  if (dot != std::string::npos &&
      (name.compare(dot, std::string::npos, ".recompute") == 0 || name.compare(dot, std::string::npos, ".dX") == 0))
    return name.substr(0, dot);
  return name;
}

std::vector<std::size_t> weight_gather_points(const std::vector<Op>& ops, const std::vector<std::size_t>& pass) {
  std::vector<std::size_t> out;
  std::set<std::string> seen;
  for (std::size_t i : pass)
    if (ops[i].weight_elements > 0 && seen.insert(weight_owner(ops[i].name)).second) out.push_back(i);
  return out;
}

const char* optimizer_name(Optimizer o) {
  switch (o) {
    case Optimizer::sgd: return "sgd";
    case Optimizer::momentum: return "momentum";
    case Optimizer::adam: return "adam";
  }
  return "?";
}

WorkloadSpec expand_training(const WorkloadSpec& forward) {
  WorkloadSpec w = forward;
  w.ops.clear();
  for (const Op& op : forward.ops) {
    const auto* c = std::get_if<CollectiveOp>(&op.body);
    if (c && !c->forward) continue;  // only its backward runs
    w.ops.push_back(op);
    if (!op.frozen) w.ops.back().weight_elements = parameters_of(op) * op.repeat;
  }
  for (std::size_t r = forward.ops.size(); r-- > 0;) {
    const auto it = forward.ops.begin() + std::ptrdiff_t(r);
    if (it->frozen) continue;  // a teacher: forward only
    // Quantized weights are inference-only unless frozen (a QLoRA-style base model):
    // training would update them in their dtype, which is not what trainers do.
    const auto* qm = std::get_if<MatmulOp>(&it->body);
    const auto* qe = std::get_if<MoeOp>(&it->body);
    if ((qm && qm->dequantizes()) || (qe && qe->weight_dtype && *qe->weight_dtype != qe->dtype))
      throw ConfigError(it->where, it->name + (qm && it->b_is_activation ? ".kv_dtype" : ".weight_dtype"),
                        "quantized weights and KV caches are for inference; a training step runs them only frozen "
                        "(frozen: true, as a QLoRA base model), since it would update them in their stored dtype");
    if (fused_attention_ends_at(forward.ops, r)) {  // FlashAttention's backward kernels (K and V checked above)
      add_fused_attention_backward(forward.ops[r - 2], forward.ops[r - 1], *it, forward.training.recompute, w.ops);
      r -= 2;
      continue;
    }
    const auto* c = std::get_if<CollectiveOp>(&it->body);
    const std::uint64_t weights = parameters_of(*it) * it->repeat;
    if (forward.training.recompute && !(c && !c->forward)) {
      w.ops.push_back(derived_op(*it, ".recompute", it->body, it->repeat));
      w.ops.back().pass = Op::Pass::backward;
      w.ops.back().tile.reset();  // as before it honoured only forward ops' pins
      w.ops.back().weight_elements = weights;
    }
    const std::size_t first_backward = w.ops.size();
    add_backward(*it, forward.training.optimizer, w.ops);
    if (first_backward < w.ops.size() && w.ops[first_backward].name == it->name + ".dX")
      w.ops[first_backward].weight_elements = weights;  // dX = dY W^T reads the weights
  }
  const TrainingSpec& t = forward.training;
  for (const Op& op : forward.ops) {
    const std::uint64_t params = op.frozen ? 0 : parameters_of(op);
    if (params == 0) continue;
    w.ops.push_back(derived_op(op, ".update", optimizer_update(t, params), 1));
    w.ops.back().pass = Op::Pass::update;
  }
  // A MoE layer's experts that no token reached this step ran no matmul, but the
  // optimizer still steps their weights (Adam's moments decay whatever the gradient).
  for (const MoeRouting& r : forward.moe_routing) {
    if (frozen_layer(forward, r)) continue;
    const std::uint64_t idle = r.expert_parameters - std::min(r.expert_parameters, routed_expert_parameters(forward, r));
    if (idle == 0) continue;
    Op layer;
    layer.name = r.op + ".idle_experts";
    const auto it = std::find_if(forward.ops.begin(), forward.ops.end(), [&](const Op& o) { return in_layer(o, r); });
    if (it != forward.ops.end()) layer.where = it->where;
    w.ops.push_back(derived_op(layer, ".update", optimizer_update(t, idle), 1));
    w.ops.back().pass = Op::Pass::update;
  }
  return w;
}

TrainingFootprint training_footprint(const WorkloadSpec& forward) {
  TrainingFootprint f;
  const TrainingSpec& t = forward.training;
  const std::uint64_t master = dtype_bytes(t.master);
  const std::uint64_t state = t.optimizer == Optimizer::adam ? 2 : t.optimizer == Optimizer::momentum ? 1 : 0;
  f.state_shards = t.state_shards;
  f.gradient_shards = t.gradient_shards;
  f.weights_sharded = t.shard_weights;
  std::uint64_t largest = 0;  // the most weights one op reads
  // Master weights, optimizer state and gradient of p trained parameters.
  auto trained = [&](std::uint64_t p) {
    f.parameters += p;
    // ZeRO: the master weights and the state are this chip's share; with a master type
    // wider than the compute type the chip also holds every weight in the compute type (the
    // working copy its ops read, all-gathered after each update). Equal types: the
    // weights it computes with are the master copy, whole.
    const std::uint64_t share = shard_of(p, t.state_shards);
    if (t.shard_weights)  // ZeRO-3: the share only; gathered weights are counted below
      f.weights_bytes += share * master;
    else if (t.state_shards > 1 && t.master != t.compute)
      f.weights_bytes += share * master + p * dtype_bytes(t.compute);
    else
      f.weights_bytes += p * master;
    f.optimizer_state_bytes += share * master * state;
    f.gradient_bytes += shard_of(p, t.gradient_shards) * master;
  };
  // A MoE layer holds every expert, routed to or not (MoeRouting::expert_parameters); its
  // expert matmuls are counted there, not one by one.
  for (const MoeRouting& r : forward.moe_routing) {
    if (frozen_layer(forward, r))
      f.weights_bytes += r.expert_weight_bytes;  // in their stored type, nothing else
    else
      trained(r.expert_parameters);
  }
  for (std::size_t i = 0; i < forward.ops.size(); ++i) {
    const Op& op = forward.ops[i];
    if (op.frozen && op.moe_expert) continue;  // counted with its layer, above
    if (op.frozen) {  // a frozen teacher keeps its weights (compute type; tables their own), nothing else
      const auto* e = std::get_if<EmbeddingOp>(&op.body);
      f.weights_bytes += e ? e->table_rows * e->row_bytes() : parameters_of(op) * dtype_bytes(t.compute);
      continue;
    }
    if (const auto* e = std::get_if<EmbeddingOp>(&op.body)) {
      // A table in its own type, its optimizer state beside it; its gradient is sparse:
      // only the looked-up rows.
      const std::uint64_t table = e->table_rows * e->row_bytes();
      f.parameters += e->table_rows * e->dim;
      f.weights_bytes += table;
      f.optimizer_state_bytes += table * state;
      f.gradient_bytes += e->batch * e->lookups * e->row_bytes() * op.repeat;
      continue;
    }
    const std::uint64_t p = parameters_of(op);
    if (!op.moe_expert) trained(p);
    largest = std::max(largest, p * op.repeat);
    // Every run keeps its own inputs: a step of a repeated op, a head of an attention.
    // A fused attention keeps its Q, K, V and output, not its scores or probabilities.
    if (t.recompute) continue;
    if (i + 2 < forward.ops.size() && fused_attention_ends_at(forward.ops, i + 2))
      f.stashed_activation_bytes += fused_attention_stash_bytes(op, forward.ops[i + 2]);
    else if (!fused_attention_ends_at(forward.ops, i) && !fused_attention_ends_at(forward.ops, i + 1))
      f.stashed_activation_bytes += input_bytes(op) * op.repeat;  // (the fused kernel's softmax and av: above)
  }
  // ZeRO-3 holds the weights of the op running and of the next one, gathered ahead of it
  // (sim/pod_schedule.cpp), in the compute type: at most twice the largest op's.
  if (t.shard_weights) f.weights_bytes += 2 * largest * dtype_bytes(t.compute);
  return f;
}

}  // namespace podsim
