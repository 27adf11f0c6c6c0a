// Mapping by search, checked by simulation (`podsim map`): for each distinct MXU op of a
// workload, the tilings the mapper's cost model ranks best are each simulated alone, as a
// one-op workload with the tiling pinned (Op::tile), beside the heuristic's own choice.
// The result says, per op, how far the heuristic is from the best simulated candidate and
// how far the cost model's predictions are from the simulations.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "podsim/compiler/matmul_tiling.h"
#include "podsim/config/hardware_spec.h"
#include "podsim/workload/workload_spec.h"

namespace podsim {

class BoostedTrees;  // mapper/learned_cost.h

struct MappingCandidate {
  MatmulTiling tiling;
  double predicted_s = 0;  // the cost model's estimate (MatmulTiling::estimated_seconds)
  double learned_s = 0;    // the learned model's (with --model; else 0)
  double simulated_s = 0;  // the op simulated alone with this tiling
  bool heuristic = false;  // the mapper's own choice
};

struct OpMapping {
  std::string name, kind, shape, dtype;
  std::string signature;          // op_signature of its ops
  std::uint64_t occurrences = 0;  // ops of the workload with this signature
  std::uint64_t m = 0, k = 0, n = 0, dtype_bytes = 2;  // the lowered matmul (the learned model's features)
  std::vector<MappingCandidate> candidates;  // the heuristic's first, then by prediction
  std::size_t best = 0;                      // the fastest simulated
  double heuristic_s() const { return candidates.front().simulated_s; }
  double best_s() const { return candidates[best].simulated_s; }
};

struct MapResult {
  std::string workload, hardware;
  std::uint32_t top_k = 0;
  double peak_flops = 0, hbm_Bps = 0;  // the chip's (the learned model's features)
  std::uint32_t tensor_cores = 0;      // the chip's (a candidate may use fewer)
  bool learned = false;                // candidates ranked by a learned model
  std::vector<OpMapping> ops;
  std::size_t simulations = 0;
};

// Simulates (1 + top_k) programs per distinct MXU op, `jobs` at a time, each in its own
// child process (sim/isolated_runs.h): this process keeps its one elaboration.
// A training step's gradient ops are searched with the forward ops (their own shapes).
// With `model` (mapper/learned_cost.h), the candidates beside the heuristic's are the
// `top_k` the learned model ranks best instead of the analytical cost model.
MapResult search_mappings(const HardwareSpec& hw, const WorkloadSpec& workload, std::uint32_t top_k, unsigned jobs,
                          const BoostedTrees* model = nullptr);

// Ops with the same signature (kind, shape, dtypes, repeats) lower and map alike.
std::string op_signature(const Op& op);

std::string map_text(const MapResult& r);
std::string map_json(const MapResult& r);
// One row per candidate, in the order simulated (the heuristic's first), with the best
// simulated time so far: the search curve; then what the learned cost model trains on
// (the chip, the lowered matmul, the tiling's blocks and HBM bytes).
std::string map_csv(const MapResult& r);

}  // namespace podsim
