#include "podsim/report/op_metrics.h"

#include <algorithm>

#include "podsim/arch/clock.h"

namespace podsim {

OpMetrics op_metrics(const RunResult& run, const OpResult& op) {
  OpMetrics m;
  const std::uint64_t ps = op.end_ps - op.start_ps;
  m.time_s = double(ps) * 1e-12;
  m.cycles = ClockDomain(run.hw.chip.clock_hz).cycle_at(ps);
  if (ps == 0) return m;
  m.achieved_flops = 2.0 * double(op.macs) / m.time_s;
  m.mxu_utilization = double(op.macs) / (double(m.cycles) * double(run.hw.macs_per_cycle()));
  m.hbm_Bps = double(op.hbm_read_bytes + op.hbm_write_bytes) / m.time_s;
  const double mxu_busy = double(op.mxu_active_cycles) / (double(m.cycles) * double(run.hw.mxu_count()));
  const double hbm_busy = m.hbm_Bps / double(run.hw.chip.hbm.bandwidth_Bps);
  const double vpu_busy = double(op.vpu_busy_cycles) / (double(m.cycles) * double(run.hw.chip.tensor_cores));
  const double busiest = std::max({mxu_busy, hbm_busy, vpu_busy});
  // When no engine is busy for even a third of the op, latency and pipeline fill set its
  // time: it was waiting.
  m.bound = busiest < 1.0 / 3 ? "waiting"
            : vpu_busy == busiest ? "vector" : mxu_busy >= hbm_busy ? "mxu" : "memory";
  return m;
}

}  // namespace podsim
