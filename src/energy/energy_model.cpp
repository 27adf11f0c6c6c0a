#include "podsim/energy/energy_model.h"

namespace podsim {

EnergyParts op_energy(const RunResult& run, const OpResult& op, const EnergyCosts& costs) {
  EnergyParts e;
  // Useful MACs only: a padded or zero operand slot switches little (docs/energy.md).
  e.mac_j = double(op.macs) * costs.mac_j(op.dtype);
  const double lanes = double(run.hw.chip.vector.lanes) * double(run.hw.chip.vector.sublanes);
  e.vector_j = double(op.vpu_busy_cycles) * lanes * costs.vector_op_j;
  e.sram_j = double(op.onchip_bytes) * costs.sram_byte_j;
  e.dram_j = double(op.hbm_read_bytes + op.hbm_write_bytes) * 8.0 * costs.dram_bit_j;
  return e;
}

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
      r.total.mac_j += double(n) * r.costs.mac_j(dtype);
      macs += n;
    }
    const double lanes = double(run.hw.chip.vector.lanes) * double(run.hw.chip.vector.sublanes);
    r.total.vector_j = double(a.vpu_busy_cycles) * lanes * r.costs.vector_op_j;
    r.total.sram_j = double(a.onchip_bytes) * r.costs.sram_byte_j;
    r.total.dram_j = double(run.hbm_read_bytes + run.hbm_write_bytes) * 8.0 * r.costs.dram_bit_j;
  }
  // ici_bytes counts a byte once per link it crosses (PodResult).
  if (run.pod) r.total.ici_j = double(run.pod->ici_bytes) * 8.0 * r.costs.ici_bit_j;
  r.total.static_j = run.time_s() * r.costs.static_power_w * double(run.chips);
  if (run.end_ps > 0) r.average_power_w = r.total.total_j() / run.time_s();
  if (r.total.total_j() > 0) r.tops_per_w = 2.0 * double(macs) / r.total.total_j() * 1e-12;
  return r;
}

}  // namespace podsim
