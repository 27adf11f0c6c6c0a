#include "podsim/workload/flash_attention_backward.h"

#include <string>

#include "podsim/workload/training.h"

namespace podsim {

bool fused_attention_ends_at(const std::vector<Op>& ops, std::size_t i) {
  using Part = Op::AttentionPart;
  return i >= 2 && i < ops.size() && ops[i].attention_part == Part::context && ops[i - 1].attention_part == Part::softmax &&
         ops[i - 2].attention_part == Part::scores && std::holds_alternative<MatmulOp>(ops[i - 2].body) &&
         std::holds_alternative<VectorOp>(ops[i - 1].body) && std::holds_alternative<MatmulOp>(ops[i].body);
}

void add_fused_attention_backward(const Op& qk, const Op& softmax, const Op& av, bool recompute,
                                  std::vector<Op>& out) {
  using Part = Op::AttentionPart;
  // Q K^T is rows x head_dim x keys (rows: a K/V head's queries), one per repeat.
  const MatmulOp& s = std::get<MatmulOp>(qk.body);
  const std::uint64_t rows = s.m, head_dim = s.k, keys = s.n;
  VectorOp softmax_grad = std::get<VectorOp>(softmax.body);  // dS = P (dP - D) from P and dP
  softmax_grad.fn = VectorFn::softmax_grad;
  softmax_grad.inputs = 2;
  softmax_grad.outputs = 1;
  auto add = [&](const Op& from, const std::string& suffix, OpBody body, Part part) {
    out.push_back(derived_op(from, suffix, std::move(body), from.repeat));
    out.back().attention_part = part;
    out.back().pass = Op::Pass::backward;
    out.back().tile.reset();
  };
  if (recompute) {
    add(qk, ".recompute", qk.body, Part::scores);
    add(softmax, ".recompute", softmax.body, Part::softmax);
    add(av, ".recompute", av.body, Part::context);
  }
  // dK, dV kernel. dP = dO V^T keeps its C; dV = P^T dO and dK = dS^T Q take their A from
  // vector memory.
  add(qk, ".bwd_dkv", qk.body, Part::scores);
  add(softmax, ".bwd_dkv", softmax.body, Part::softmax);
  add(av, ".dX_dkv", MatmulOp{rows, head_dim, keys, s.dtype}, Part::scores);
  add(softmax, ".grad_dkv", softmax_grad, Part::softmax);
  add(av, ".dB", MatmulOp{keys, rows, head_dim, s.dtype}, Part::context);
  add(qk, ".dB", MatmulOp{keys, rows, head_dim, s.dtype}, Part::context);
  // dQ kernel: dQ = dS K.
  add(qk, ".bwd_dq", qk.body, Part::scores);
  add(softmax, ".bwd_dq", softmax.body, Part::softmax);
  add(av, ".dX", MatmulOp{rows, head_dim, keys, s.dtype}, Part::scores);
  add(softmax, ".grad", softmax_grad, Part::softmax);
  add(qk, ".dX", MatmulOp{rows, keys, head_dim, s.dtype}, Part::context);
}

std::uint64_t fused_attention_stash_bytes(const Op& qk, const Op& av) {
  const MatmulOp& s = std::get<MatmulOp>(qk.body);
  const std::uint64_t b = dtype_bytes(s.dtype);
  // K and V hold every key, whatever a causal kernel skips (Op::attention_keys).
  const std::uint64_t keys = qk.attention_keys ? qk.attention_keys : s.n;
  const std::uint64_t q_and_output = 2 * s.m * s.k * b, k_and_v = 2 * keys * s.k * b, stats = 2 * s.m * 4;
  return (q_and_output + k_and_v + stats) * std::max<std::uint64_t>(qk.repeat, av.repeat);
}

}  // namespace podsim
