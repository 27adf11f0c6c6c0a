#include "podsim/energy/energy_model.h"

#include <algorithm>
#include <map>

namespace podsim {

EnergyParts op_energy(const RunResult& run, const OpResult& op, const EnergyCosts& costs) {
  EnergyParts e;
  // Useful MACs only: a padded or zero operand slot switches little (docs/energy.md).
  e.mac_j = op.macs ? double(op.macs) * costs.mac_j(op.dtype) : 0.0;
  const double lanes = double(run.hw.chip.vector.lanes) * double(run.hw.chip.vector.sublanes);
  e.vector_j = double(op.vpu_busy_cycles) * lanes * costs.vector_op_j;
  // The on-chip memory (chip.cmem) priced as vector memory per byte: no figure for a large
  // shared SRAM level is in the node tables (an assumption, docs/energy.md).
  e.sram_j = double(op.onchip_bytes + op.cmem_read_bytes + op.cmem_write_bytes) * costs.sram_byte_j;
  e.dram_j = double(op.hbm_read_bytes + op.hbm_write_bytes) * 8.0 * costs.dram_bit_j;
  return e;
}

namespace {

// Each op's dynamic energy spread evenly over its span, plus static power throughout:
// a step at every op start and end. Ops that overlap (a weight FIFO fetching ahead, an
// epilogue) add up. An op with no span adds no step (its energy is in the totals).
void power_profile(const RunResult& run, RunEnergy& r) {
  std::map<std::uint64_t, double> delta;  // time -> change in dynamic watts
  delta[0] += 0;
  delta[run.end_ps] += 0;
  for (std::size_t i = 0; i < run.ops.size(); ++i) {
    const OpResult& op = run.ops[i];
    if (op.end_ps <= op.start_ps) continue;
    const double w = r.ops[i].dynamic_j() / (double(op.end_ps - op.start_ps) * 1e-12);
    delta[op.start_ps] += w;
    delta[op.end_ps] -= w;
  }
  const double idle = r.costs.static_power_w * double(run.chips);
  double dynamic = 0;
  for (const auto& [t, d] : delta) {
    if (t >= run.end_ps) break;
    dynamic += d;
    const double watts = idle + std::max(0.0, dynamic);  // rounding never makes it negative
    if (!r.power.empty() && r.power.back().watts == watts) continue;
    r.power.push_back({t, watts});
    r.peak_power_w = std::max(r.peak_power_w, watts);
  }
}

}  // namespace

RunEnergy run_energy(const RunResult& run) {
  RunEnergy r;
  r.costs = resolve_energy_costs(run.hw.chip.energy);
  r.static_known = run.hw.chip.energy.static_power_uW > 0;
  std::uint64_t macs = 0;
  for (const OpResult& op : run.ops) {
    EnergyParts e = op_energy(run, op, r.costs);
    r.total.mac_j += e.mac_j;
    r.total.vector_j += e.vector_j;
    r.total.sram_j += e.sram_j;
    r.total.dram_j += e.dram_j;
    e.static_j = double(op.end_ps - op.start_ps) * 1e-12 * r.costs.static_power_w;
    r.ops.push_back(e);
    macs += op.macs;
  }
  if (run.all_chips) {
    // A pod run's ops are chip 0's: the totals count every chip's actions instead.
    const RunResult::ChipActions& a = *run.all_chips;
    r.total = EnergyParts{};
    macs = 0;
    for (const auto& [dtype, n] : a.macs_by_dtype) {
      if (n) r.total.mac_j += double(n) * r.costs.mac_j(dtype);
      macs += n;
    }
    const double lanes = double(run.hw.chip.vector.lanes) * double(run.hw.chip.vector.sublanes);
    r.total.vector_j = double(a.vpu_busy_cycles) * lanes * r.costs.vector_op_j;
    r.total.sram_j = double(a.onchip_bytes) * r.costs.sram_byte_j;
    r.total.dram_j = double(run.hbm_read_bytes + run.hbm_write_bytes) * 8.0 * r.costs.dram_bit_j;
  }
  // Collectives read and write HBM too (sim/collective_contention.h).
  if (run.pod) r.total.dram_j += double(run.pod->collective_hbm_bytes) * 8.0 * r.costs.dram_bit_j;
  // ici_bytes counts a byte once per link it crosses (PodResult).
  if (run.pod) r.total.ici_j = double(run.pod->ici_bytes) * 8.0 * r.costs.ici_bit_j;
  r.total.static_j = run.time_s() * r.costs.static_power_w * double(run.chips);
  if (!run.all_chips) power_profile(run, r);
  if (run.end_ps > 0) r.average_power_w = r.total.total_j() / run.time_s();
  if (r.total.total_j() > 0) r.tops_per_w = 2.0 * double(macs) / r.total.total_j() * 1e-12;
  return r;
}

}  // namespace podsim
