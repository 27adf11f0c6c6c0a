// Whether an inference workload's resident state fits one chip's HBM: the weights of every
// op (a matmul's B unless it is an activation, a convolution's filters, an embedding
// table), once per op (a repeated op reuses its weights), and the keys and values
// attention reads (K^T and V of its products, per sequence and K/V head: the KV cache in
// decode). Each op's own tensors are checked apart (workload_plan.cpp). A training step
// reports its footprint instead (workload/training.h).
#pragma once

#include <cstdint>

#include "podsim/config/hardware_spec.h"
#include "podsim/workload/workload_spec.h"

namespace podsim {

struct ModelFootprint {
  std::uint64_t weights_bytes = 0;
  std::uint64_t kv_cache_bytes = 0;
  std::uint64_t total() const { return weights_bytes + kv_cache_bytes; }
};

// Of a workload with its composites expanded (attention into its matmuls).
ModelFootprint model_footprint(const WorkloadSpec& expanded);

// Throws ConfigError (chip.hbm.capacity) naming the numbers when an inference workload's
// footprint exceeds the chip's HBM.
void check_model_fits(const WorkloadSpec& expanded, const HardwareSpec& hw);

}  // namespace podsim
