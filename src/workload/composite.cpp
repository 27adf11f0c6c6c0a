#include "podsim/workload/composite.h"

#include <algorithm>

#include "podsim/workload/templates.h"

namespace podsim {
namespace {

// A matmul whose B is stored in `w` (quantized weights or KV cache), dequantized to its
// dtype on the vector unit (MatmulOp::weight_dtype).
MatmulOp quantized(MatmulOp mm, std::optional<DType> w) {
  if (w && *w != mm.dtype) mm.weight_dtype = w;
  return mm;
}


// Router, softmax over the experts, dispatch of the kept tokens, each expert's FFN on the
// tokens it keeps, combine. With expert parallelism the routing is global (every chip's
// tokens), this chip runs its own experts' FFNs, and two all-to-alls move the tokens to
// the chips holding their experts and back.
template <typename Part>
void expand_moe(const MoeOp& m, Part& part) {
  const std::uint64_t E = m.ep_size;
  MoeOp global = m;  // the routing over all chips' tokens
  global.tokens = m.tokens * E;
  for (auto& x : global.loads) x *= E;
  const std::vector<std::uint64_t> kept = global.processed();
  const std::uint64_t per_chip = m.experts / E;
  auto local_kept = [&](std::uint64_t chip) {
    std::uint64_t sum = 0;
    for (std::uint64_t e = chip * per_chip; e < (chip + 1) * per_chip; ++e) sum += kept[e];
    return sum;
  };
  std::uint64_t total = 0;
  for (auto x : kept) total += x;
  part(".router", MatmulOp{m.tokens, m.d_model, m.experts, m.dtype}, 1);
  part(".router_softmax", VectorOp::make(VectorFn::softmax, m.tokens, m.experts, 1, m.dtype), 1);
  // This chip's kept token copies: its share of the global ones.
  const std::uint64_t mine = (total + E - 1) / E;
  if (mine > 0) part(".dispatch", VectorOp::make(VectorFn::scale, mine, m.d_model, 1, m.dtype), 1);
  const std::uint64_t row = m.d_model * dtype_bytes(m.dtype);
  auto all_to_all = [&](std::uint64_t bytes) {
    CollectiveOp a2a;
    a2a.kind = CollectiveKind::all_to_all;
    a2a.group = CommGroup::data;
    a2a.backward = CollectiveKind::all_to_all;
    a2a.dtype = m.dtype;
    a2a.bytes = bytes;
    return a2a;
  };
  if (E > 1) {
    // Dispatch: every chip sends its kept tokens, to each chip in proportion to the tokens
    // that chip's experts keep; combine sends each chip's results back to the senders.
    CollectiveOp a2a = all_to_all(mine * row);
    for (std::uint64_t c = 0; c < E; ++c) a2a.weights.push_back(local_kept(c));
    part(".a2a_dispatch", a2a, 1);
  }
  for (std::uint64_t e = m.ep_rank * per_chip; e < (m.ep_rank + 1) * per_chip; ++e) {
    if (kept[e] == 0) continue;
    const std::string ex = ".e" + std::to_string(e);
    if (m.ffn == VectorFn::gelu) {
      part(ex + ".ffn1", quantized(MatmulOp{kept[e], m.d_model, m.d_ff, m.dtype}, m.weight_dtype), 1);
      part(ex + ".act", VectorOp::make(VectorFn::gelu, kept[e], m.d_ff, 1, m.dtype), 1);
    } else {  // gated: gate and up as one matmul, act(gate) x up in one vector pass
      part(ex + ".ffn1", quantized(MatmulOp{kept[e], m.d_model, 2 * m.d_ff, m.dtype}, m.weight_dtype), 1);
      VectorOp g = VectorOp::make(m.ffn, kept[e], 2 * m.d_ff, 1, m.dtype);
      g.out_cols = m.d_ff;
      part(ex + ".act", g, 1);
    }
    part(ex + ".ffn2", quantized(MatmulOp{kept[e], m.d_ff, m.d_model, m.dtype}, m.weight_dtype), 1);
  }
  if (E > 1) {
    CollectiveOp a2a = all_to_all(local_kept(m.ep_rank) * row);
    for (std::uint64_t c = 0; c < E; ++c) a2a.sender_bytes.push_back(local_kept(c) * row);
    part(".a2a_combine", a2a, 1);
  }
  part(".combine", VectorOp::make(VectorFn::add, m.tokens, m.d_model, 2, m.dtype), 1);
}

}  // namespace

WorkloadSpec expand_templates(const WorkloadSpec& original) {
  WorkloadSpec in = original;
  in.ops.clear();
  for (const Op& op : original.ops) {
    if (std::holds_alternative<TemplateOp>(op.body)) {
      Op t = op;
      std::get<TemplateOp>(t.body).training = original.training.enabled;
      for (Op& o : expand_template(t)) in.ops.push_back(std::move(o));
    } else {
      in.ops.push_back(op);
    }
  }
  return in;
}

WorkloadSpec expand_composites(const WorkloadSpec& original) {
  // Templates first: they may hold composite ops of their own.
  const WorkloadSpec in = expand_templates(original);
  WorkloadSpec out = in;
  out.ops.clear();
  for (const Op& op : in.ops) {
    auto part = [&](const std::string& suffix, OpBody body, std::uint64_t repeat,
                    Op::AttentionPart attention = Op::AttentionPart::none) {
      Op p;
      p.attention_part = attention;
      p.name = op.name + suffix;
      p.repeat = repeat * op.repeat;
      p.body = std::move(body);
      p.where = op.where;
      p.frozen = op.frozen;
      out.ops.push_back(std::move(p));
    };
    if (const auto* m = std::get_if<MoeOp>(&op.body)) {
      const std::size_t first = out.ops.size();
      expand_moe(*m, part);
      // Its matmuls but the router are the experts' (their weights counted below).
      for (std::size_t i = first; i < out.ops.size(); ++i)
        out.ops[i].moe_expert = std::holds_alternative<MatmulOp>(out.ops[i].body) && out.ops[i].name != op.name + ".router";
      MoeOp global = *m;  // the report shows the routing over all chips' tokens
      global.tokens *= m->ep_size;
      for (auto& x : global.loads) x *= m->ep_size;
      global.ep_size = 1;
      out.moe_routing.push_back({op.name, global.capacity(), global.dropped(), global.routed(), global.processed()});
      // This chip's experts' weights, every one of them: up (and gate) and down.
      const std::uint64_t up = m->ffn == VectorFn::gelu ? m->d_ff : 2 * m->d_ff;
      const MatmulOp w = quantized(MatmulOp{1, m->d_model, up, m->dtype}, m->weight_dtype);
      const std::uint64_t mine = m->experts / std::max<std::uint64_t>(1, m->ep_size);
      out.moe_routing.back().expert_weight_bytes = mine * w.weight_bytes((up + m->d_ff) * m->d_model);
      out.moe_routing.back().expert_parameters = mine * (up + m->d_ff) * m->d_model;
      continue;
    }
    const auto* a = std::get_if<AttentionOp>(&op.body);
    if (!a) {
      out.ops.push_back(op);
      continue;
    }
    // One product per (sequence, K/V head): the group of query heads that share a K/V
    // head stack their queries along M (as GQA kernels do), so each K and V is read once
    // per group. Multi-head attention is the group of one.
    const std::uint64_t per_kv_head = a->batch * a->key_value_heads();
    const std::uint64_t rows = a->group() * a->queries();
    using Part = Op::AttentionPart;
    part(".qk", quantized(MatmulOp{rows, a->head_dim, a->computed_keys(), a->dtype}, a->kv_dtype), per_kv_head, a->fused ? Part::scores : Part::none);
    out.ops.back().independent_repeats = true;  // one group's product per repeat
    out.ops.back().b_is_activation = true;      // K^T
    out.ops.back().attention_keys = a->keys();
    part(".softmax", VectorOp::make(VectorFn::softmax, per_kv_head * rows, a->computed_keys(), 1, a->dtype), 1,
         a->fused ? Part::softmax : Part::none);
    part(".av", quantized(MatmulOp{rows, a->computed_keys(), a->head_dim, a->dtype}, a->kv_dtype), per_kv_head, a->fused ? Part::context : Part::none);
    out.ops.back().independent_repeats = true;
    out.ops.back().b_is_activation = true;  // V
    out.ops.back().attention_keys = a->keys();
  }
  return out;
}

}  // namespace podsim
