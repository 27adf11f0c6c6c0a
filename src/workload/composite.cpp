#include "podsim/workload/composite.h"

namespace podsim {

WorkloadSpec expand_composites(const WorkloadSpec& in) {
  WorkloadSpec out = in;
  out.ops.clear();
  for (const Op& op : in.ops) {
    const auto* a = std::get_if<AttentionOp>(&op.body);
    if (!a) {
      out.ops.push_back(op);
      continue;
    }
    auto part = [&](const char* suffix, OpBody body, std::uint64_t repeat) {
      Op p;
      p.name = op.name + suffix;
      p.repeat = repeat * op.repeat;
      p.body = std::move(body);
      p.where = op.where;
      out.ops.push_back(std::move(p));
    };
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
