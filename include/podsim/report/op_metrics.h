// Figures derived from one op's result, shared by the JSON and text writers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "podsim/sim/run_result.h"

namespace podsim {

struct OpMetrics {
  double time_s = 0;
  std::uint64_t cycles = 0;
  double achieved_flops = 0;
  double mxu_utilization = 0;  // macs / (cycles x MACs per cycle of the chip)
  double hbm_Bps = 0;
  // Shares of the op's time each limiter was busy: the MXUs streaming data ("mxu"), the
  // MXUs shifting weights in while not streaming ("weight_shift"), the vector units, and
  // HBM (bytes over peak bandwidth; with chip.cmem, the busier of HBM and the on-chip
  // memory). MXU and vector shares are averaged over the units.
  double mxu_busy = 0, weight_shift_busy = 0, vector_busy = 0, memory_busy = 0;
  // What bounded the op: the busiest of those, "mxu", "weight_shift", "vector" or
  // "memory"; "waiting" when none is busy for a third of it (latency, pipeline fill).
  std::string bound;
};

OpMetrics op_metrics(const RunResult& run, const OpResult& op);

// Totals over the ops of one kind (matmul, conv2d, elementwise, pool, ...).
struct KindTotals {
  std::string kind;
  std::uint64_t ops = 0;
  double time_s = 0;
  double time_share = 0;  // of the run's simulated time
  std::uint64_t flops = 0;
  std::uint64_t hbm_read_bytes = 0, hbm_write_bytes = 0, onchip_bytes = 0;
};
// Sorted by kind name (deterministic reports).
std::vector<KindTotals> totals_by_kind(const RunResult& run);

}  // namespace podsim
