#include "podsim/workload/composite.h"

#include "podsim/workload/templates.h"

namespace podsim {
namespace {

VectorOp vector(VectorFn fn, std::uint64_t rows, std::uint64_t cols, std::uint32_t inputs, DType t) {
  VectorOp v;
  v.fn = fn;
  v.rows = rows;
  v.cols = cols;
  v.inputs = inputs;
  v.dtype = t;
  return v;
}

// Router, softmax over the experts, dispatch of the kept tokens, each expert's FFN on the
// tokens it keeps, combine.
template <typename Part>
void expand_moe(const MoeOp& m, Part& part) {
  part(".router", MatmulOp{m.tokens, m.d_model, m.experts, m.dtype}, 1);
  part(".router_softmax", vector(VectorFn::softmax, m.tokens, m.experts, 1, m.dtype), 1);
  const std::vector<std::uint64_t> kept = m.processed();
  std::uint64_t total = 0;
  for (auto x : kept) total += x;
  if (total > 0) part(".dispatch", vector(VectorFn::scale, total, m.d_model, 1, m.dtype), 1);
  for (std::uint64_t e = 0; e < m.experts; ++e) {
    if (kept[e] == 0) continue;
    const std::string ex = ".e" + std::to_string(e);
    part(ex + ".ffn1", MatmulOp{kept[e], m.d_model, m.d_ff, m.dtype}, 1);
    part(ex + ".act", vector(VectorFn::gelu, kept[e], m.d_ff, 1, m.dtype), 1);
    part(ex + ".ffn2", MatmulOp{kept[e], m.d_ff, m.d_model, m.dtype}, 1);
  }
  part(".combine", vector(VectorFn::add, m.tokens, m.d_model, 2, m.dtype), 1);
}

}  // namespace

WorkloadSpec expand_composites(const WorkloadSpec& original) {
  // Templates first: they may hold composite ops of their own.
  WorkloadSpec in = original;
  in.ops.clear();
  for (const Op& op : original.ops) {
    if (std::holds_alternative<TemplateOp>(op.body)) {
      for (Op& o : expand_template(op)) in.ops.push_back(std::move(o));
    } else {
      in.ops.push_back(op);
    }
  }
  WorkloadSpec out = in;
  out.ops.clear();
  for (const Op& op : in.ops) {
    auto part = [&](const std::string& suffix, OpBody body, std::uint64_t repeat) {
      Op p;
      p.name = op.name + suffix;
      p.repeat = repeat * op.repeat;
      p.body = std::move(body);
      p.where = op.where;
      p.frozen = op.frozen;
      out.ops.push_back(std::move(p));
    };
    if (const auto* m = std::get_if<MoeOp>(&op.body)) {
      expand_moe(*m, part);
      out.moe_routing.push_back({op.name, m->capacity(), m->dropped(), m->routed(), m->processed()});
      continue;
    }
    const auto* a = std::get_if<AttentionOp>(&op.body);
    if (!a) {
      out.ops.push_back(op);
      continue;
    }
    const std::uint64_t per_head = a->batch * a->heads;
    part(".qk", MatmulOp{a->queries(), a->head_dim, a->keys(), a->dtype}, per_head);
    VectorOp sm;
    sm.fn = VectorFn::softmax;
    sm.rows = per_head * a->queries();
    sm.cols = a->keys();
    sm.dtype = a->dtype;
    part(".softmax", sm, 1);
    part(".av", MatmulOp{a->queries(), a->keys(), a->head_dim, a->dtype}, per_head);
  }
  return out;
}

}  // namespace podsim
