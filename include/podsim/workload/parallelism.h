// How a workload spreads over the chips of a pod: the layout of data, tensor and pipeline
// ranks over chip ids, and the passes that turn the workload as written (one replica, one
// microbatch) into each chip's program. Pure C++; sim/pod_simulate.h runs the result.
//
// Chip id = (stage x data + data rank) x tensor + tensor rank: tensor groups are
// consecutive chips (neighbours along the torus's first dimension), data groups stride by
// the tensor size, stages are contiguous blocks of chips.
//
// - tensor (Megatron): ops marked `shard` split over the tensor group (column: a matmul's
//   n, an elementwise op's cols; row: a matmul's k; heads: an attention's heads). A row
//   matmul's output is all-reduced over the group (forward); a column matmul's input
//   gradient is all-reduced in the backward pass (Megatron's f and g operators).
// - pipeline: the ops cut into `pipeline` stages of nearly equal MACs, at template layer
//   boundaries when there are enough, never between an op and the collective that belongs
//   to it; the boundary activations go from stage to stage
//   (and their gradients back) as point-to-point messages.
// - expert: each MoE layer's experts spread over the data group (experts / data each);
//   tokens reach their experts and come back through two all-to-alls.
// - data: the rest; in training, weight gradients are all-reduced over the data group.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "podsim/workload/workload_spec.h"

namespace podsim {

struct PodLayout {
  std::uint32_t chips = 1, data = 1, tensor = 1, pipeline = 1, microbatches = 1;
  bool expert = false;
  bool one_f_one_b = false;

  std::uint32_t tensor_rank(std::uint32_t c) const { return c % tensor; }
  std::uint32_t data_rank(std::uint32_t c) const { return (c / tensor) % data; }
  std::uint32_t stage(std::uint32_t c) const { return c / (tensor * data); }
  std::uint32_t chip(std::uint32_t stage, std::uint32_t data_rank, std::uint32_t tensor_rank) const {
    return (stage * data + data_rank) * tensor + tensor_rank;
  }
  // Microbatches whose stashed activations stage s holds at once in training: those whose
  // forward ran and whose backward has not. GPipe: all M (every forward first); 1F1B:
  // min(S - s, M) (its warm-up forwards and the one in progress; sim/pod_schedule.cpp).
  std::uint32_t microbatches_in_flight(std::uint32_t s) const {
    return one_f_one_b ? std::min(pipeline - s, microbatches) : microbatches;
  }
  // The chips of c's group, in rank order (`all`: every chip).
  std::vector<std::uint32_t> group(CommGroup g, std::uint32_t c) const;
  // The first chip of c's group, without building it (a data group of a 65536-chip pod has
  // 65536 members; building it for every chip was quadratic).
  std::uint32_t group_leader(CommGroup g, std::uint32_t c) const {
    switch (g) {
      case CommGroup::tensor: return chip(stage(c), data_rank(c), 0);
      case CommGroup::data: return chip(stage(c), 0, tensor_rank(c));
      default: return 0;
    }
  }
};

// Checks the parallelism against the pod (data x tensor x pipeline = chips; data may be
// left out). Throws ConfigError naming workload.parallelism.
PodLayout resolve_layout(const ParallelismSpec& p, std::uint32_t chips);

// Tensor parallelism over `tensor` chips: shapes divided, collectives inserted. Throws
// ConfigError when a sharded dimension does not divide.
WorkloadSpec shard_tensor_parallel(const WorkloadSpec& workload, std::uint32_t tensor);

// [first, last) op ranges of `stages` stages with nearly equal MACs, cut at template layer
// boundaries when there are enough of them.
std::vector<std::pair<std::size_t, std::size_t>> split_stages(const std::vector<Op>& ops, std::uint32_t stages,
                                                             const SourceLocation& where);

// A run on one chip has one pipeline stage: an op written into stage 1 or later (`stage:`,
// after templates expand) is the same input error as on a pod whose pipeline is shorter,
// not an order to drop. No-op when every op is in stage 0 or has none.
void check_single_stage(const WorkloadSpec& workload);

// Bytes of an op's output (what a pipeline stage hands to the next).
std::uint64_t output_bytes(const Op& op);

// Each distinct chip program (templates expanded, sharded, staged, experts placed; not yet
// through expand_composites / expand_training) and which one each chip runs.
struct ChipPrograms {
  std::vector<WorkloadSpec> programs;
  std::vector<std::uint32_t> program_of;       // per chip
  std::vector<std::uint64_t> boundary_bytes;   // per stage: activation bytes it sends on (last: 0)
};
// `sharded`, when given, is sharded_program(workload, layout.tensor) computed already (the
// planner builds thousands of layouts from a few of them).
ChipPrograms chip_programs(const WorkloadSpec& workload, const PodLayout& layout, const WorkloadSpec* sharded = nullptr);
// The workload's templates expanded and its ops split over `tensor` chips.
WorkloadSpec sharded_program(const WorkloadSpec& workload, std::uint32_t tensor);

}  // namespace podsim
