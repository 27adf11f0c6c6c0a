// Every op the MXUs run becomes one or more identical matmuls.
//
// conv2d is lowered im2col-style: each of the `groups` groups is a matmul with
//   M = n h_out w_out   (one row per output pixel)
//   K = (c_in / groups) kernel^2   (the receptive field)
//   N = c_out / groups
// The A operand is the im2col matrix, and its HBM traffic is counted as if materialised
// (every input pixel read once per kernel position that covers it): an upper bound on
// what a direct-convolution DMA would move. Depthwise convolution (groups = c_in = c_out)
// becomes c_in matmuls with N = 1, which is why it uses a sliver of a 128-wide array.
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
