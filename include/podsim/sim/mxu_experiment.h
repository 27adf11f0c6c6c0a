// One matmul on one bare systolic array, with the tile-level model or the PE-level
// reference: what `podsim mxu` runs. With the PE model it also runs real seeded random
// data and measures the array's numerical error and the error of the reduced precision.
#pragma once

#include <cstdint>

#include "podsim/arch/pe_array.h"
#include "podsim/compiler/systolic_timing.h"
#include "podsim/workload/dtype.h"

namespace podsim {

struct MxuExperimentOptions {
  SystolicArrayShape shape;
  std::uint64_t m = 0, k = 0, n = 0;
  DType dtype = DType::bf16;
  bool pe_model = false;
  std::uint64_t seed = 1;
  std::uint64_t frames = 0;  // PE model: cycles of PE states to keep
  PeFrameSink sink;          // PE model: where the frames go (none: kept in the result)
};

struct MxuExperimentResult {
  std::uint64_t cycles = 0;
  double utilization = 0;            // m k n / (cycles R C)
  std::uint64_t scalesim_cycles = 0; // the no-overlap SCALE-Sim count, for comparison
  std::uint64_t folds = 0;
  // PE model only:
  bool has_numerics = false;
  double max_abs_error = 0;          // vs an fp64 product of the same (rounded) operands
  double error_bound = 0;            // fp32 accumulation bound: max_ij (K+2) 2^-24 sum_k |a_ik b_kj|
  double quantization_rel_error = 0; // ||C - C_fp64(original data)||_F / ||C_fp64||_F
  PeArrayResult pe;
};

MxuExperimentResult run_mxu_experiment(const MxuExperimentOptions& options);

}  // namespace podsim
