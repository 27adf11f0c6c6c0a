// Every op the MXUs run becomes one or more identical matmuls.
//
// conv2d is lowered im2col-style: each of the `groups` groups is a matmul with
//   M = n h_out w_out   (one row per output pixel)
//   K = (c_in / groups) kernel^2   (the receptive field)
//   N = c_out / groups
// With a k x k kernel (k > 1, one group) the A tiles come straight from the NHWC input
// (implicit GEMM, compiler/implicit_conv.h): an input pixel is read once per tile that
// needs it, not once per kernel position. A 1 x 1 convolution's A is its input (or a
// strided view of it). Grouped and depthwise convolutions read the materialised im2col
// matrix (every input pixel once per kernel position that covers it): an upper bound.
// Depthwise convolution (groups = c_in = c_out) becomes c_in matmuls with N = 1, which
// is why it uses a sliver of a 128-wide array.
#pragma once

#include <cstdint>

#include "podsim/workload/workload_spec.h"

namespace podsim {

struct LoweredMatmul {
  MatmulOp matmul;
  std::uint64_t instances = 1;  // run back to back (conv groups)
};

LoweredMatmul lower_to_matmul(const Op& op);

}  // namespace podsim
