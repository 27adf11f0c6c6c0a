#include "podsim/report/op_metrics.h"

#include <algorithm>
#include <map>

#include "podsim/arch/clock.h"

namespace podsim {

OpMetrics op_metrics(const RunResult& run, const OpResult& op) {
  OpMetrics m;
  const std::uint64_t ps = op.end_ps - op.start_ps;
  m.time_s = double(ps) * 1e-12;
  m.cycles = ClockDomain(run.hw.chip.clock_hz).cycle_at(ps);
  // An op run in the epilogue of the matmul before it (chip.vector.overlap_fused) takes
  // no time of its own; its vector work is in that op's.
  if (op.plan.in_epilogue) m.bound = "epilogue";
  if (ps == 0) return m;
  m.achieved_flops = 2.0 * double(op.macs) / m.time_s;
  // Of the peak at the op's dtype: packed int8 (chip.mxu.rate.int8 = 2) can do twice the MACs.
  m.mxu_utilization = double(op.macs) / (double(m.cycles) * double(run.hw.macs_per_cycle()) * op.plan.rate.packed);
  m.hbm_Bps = double(op.hbm_read_bytes + op.hbm_write_bytes) / m.time_s;
  const double mxu_cycles = double(m.cycles) * double(run.hw.mxu_count());
  m.mxu_busy = double(op.mxu_active_cycles) / mxu_cycles;
  // A weight shift that overlaps streaming is counted as active, not here: this is the
  // time the arrays could not stream because the next weights were still shifting in.
  m.weight_shift_busy = double(op.mxu_weight_shift_cycles) / mxu_cycles;
  m.memory_busy = m.hbm_Bps / double(run.hw.chip.hbm.bandwidth_Bps);
  // The on-chip memory (chip.cmem) is a memory too: the busier of the two.
  if (run.hw.chip.cmem.capacity_bytes > 0)
    m.memory_busy = std::max(m.memory_busy, double(op.cmem_read_bytes + op.cmem_write_bytes) / m.time_s /
                                                double(run.hw.chip.cmem.bandwidth_Bps));
  m.vector_busy = double(op.vpu_busy_cycles) / (double(m.cycles) * double(run.hw.chip.tensor_cores));
  const double busiest = std::max({m.mxu_busy, m.weight_shift_busy, m.memory_busy, m.vector_busy});
  // When no engine is busy for even a third of the op, latency and pipeline fill set its
  // time: it was waiting. Ties go to the first named.
  m.bound = busiest < 1.0 / 3                ? "waiting"
            : m.vector_busy == busiest       ? "vector"
            : m.mxu_busy == busiest          ? "mxu"
            : m.weight_shift_busy == busiest ? "weight_shift"
                                             : "memory";
  return m;
}

std::vector<KindTotals> totals_by_kind(const RunResult& run) {
  std::map<std::string, KindTotals> by;
  for (const OpResult& o : run.ops) {
    KindTotals& t = by[o.kind];
    t.kind = o.kind;
    ++t.ops;
    t.time_s += double(o.end_ps - o.start_ps) * 1e-12;
    t.flops += 2 * o.macs;
    t.hbm_read_bytes += o.hbm_read_bytes;
    t.hbm_write_bytes += o.hbm_write_bytes;
    t.onchip_bytes += o.onchip_bytes;
  }
  std::vector<KindTotals> out;
  for (auto& [kind, t] : by) {
    t.time_share = run.time_s() > 0 ? t.time_s / run.time_s() : 0.0;
    out.push_back(t);
  }
  return out;
}

}  // namespace podsim
