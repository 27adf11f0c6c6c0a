#include "podsim/compiler/op_lowering.h"

namespace podsim {

LoweredMatmul lower_to_matmul(const Op& op) {
  LoweredMatmul l;
  if (const auto* mm = std::get_if<MatmulOp>(&op.body)) {
    l.matmul = *mm;
    return l;
  }
  const Conv2dOp& c = std::get<Conv2dOp>(op.body);
  l.matmul.m = c.n * c.h_out() * c.w_out();
  l.matmul.k = (c.c_in / c.groups) * c.kernel * c.kernel;
  l.matmul.n = c.c_out / c.groups;
  l.matmul.dtype = c.dtype;
  l.instances = c.groups;
  l.matmul.patches = c.patches();
  return l;
}

}  // namespace podsim
