// Training a workload: the forward ops, then the backward pass in reverse order (for a
// matmul X[m x k] W[k x n]: dX = dY W^T, an m x n x k matmul, and dW = X^T dY, a k x m x n
// matmul; convolutions likewise on their im2col matmuls, a same-size stride-1 one's dX as
// a convolution of dY and its dW over X's patches; vector ops once more on their output
// and its gradient, shape-changing ones back to their input's shape), then one optimizer
// update per weight tensor on the vector
// unit. With recompute, each op's forward runs again just before its backward instead of
// keeping its input. A fused attention gets FlashAttention's backward kernels instead
// (workload/flash_attention_backward.h). Pure C++: the result is a plain workload.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "podsim/workload/workload_spec.h"

namespace podsim {

// Throws ConfigError for ops training does not model yet (embedding lookups).
WorkloadSpec expand_training(const WorkloadSpec& forward);

// HBM held during a training step, in bytes.
struct TrainingFootprint {
  std::uint64_t parameters = 0;           // count
  std::uint64_t weights_bytes = 0;        // master copies
  std::uint64_t optimizer_state_bytes = 0;  // adam: two moments; momentum: one
  std::uint64_t gradient_bytes = 0;       // one per weight, in the master type
  std::uint64_t stashed_activation_bytes = 0;  // forward inputs kept for the backward pass
  // Microbatches whose stashed activations a chip holds at once (a pipeline's stage 0: all M
  // under GPipe, min(S, M) under 1F1B; sim/pod_simulate.cpp); stashed_activation_bytes
  // already counts them all.
  std::uint64_t microbatches_in_flight = 1;
  // ZeRO (TrainingSpec): data ranks sharing the master weights and optimizer state, and
  // the gradients; 1 when not sharded.
  std::uint64_t state_shards = 1, gradient_shards = 1;
  bool weights_sharded = false;  // ZeRO-3
  std::uint64_t peak_bytes() const {
    return weights_bytes + optimizer_state_bytes + gradient_bytes + stashed_activation_bytes;
  }
};
TrainingFootprint training_footprint(const WorkloadSpec& forward);

const char* optimizer_name(Optimizer o);

// ZeRO-3 (TrainingSpec::shard_weights): of one pass's ops (indices into `ops`, in run
// order), those before which the data group all-gathers weights: the first op reading each
// forward op's weights (the op itself; in the backward pass its recompute, else its dX).
std::vector<std::size_t> weight_gather_points(const std::vector<Op>& ops, const std::vector<std::size_t>& pass);
// An op derived from `from` for a training step (a gradient, a recompute): its name with
// `suffix`, `body`, run `repeat` times; where, shard and the repeat and operand flags kept.
Op derived_op(const Op& from, const std::string& suffix, OpBody body, std::uint64_t repeat);

// The forward op whose weights a training op reads: "x" for x, x.recompute and x.dX.
std::string weight_owner(const std::string& op_name);

}  // namespace podsim
