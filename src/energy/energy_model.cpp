#include "podsim/energy/energy_model.h"

#include <algorithm>
#include <map>

namespace podsim {

EnergyParts op_energy(const RunResult& run, const OpResult& op, const EnergyCosts& costs,
                      const DramCommandEnergy* dram) {
  EnergyParts e;
  // Useful MACs only: a padded or zero operand slot switches little (docs/energy.md).
  e.mac_j = op.macs ? double(op.macs) * costs.mac_j(op.dtype) : 0.0;
  const double lanes = double(run.hw.chip.vector.lanes) * double(run.hw.chip.vector.sublanes);
  e.vector_j = double(op.vpu_busy_cycles) * lanes * costs.vector_op_j;
  // The on-chip memory (chip.cmem) priced as vector memory per byte: no figure for a large
  // shared SRAM level is in the node tables (an assumption, docs/energy.md).
  e.sram_j = double(op.onchip_bytes + op.cmem_read_bytes + op.cmem_write_bytes) * costs.sram_byte_j;
  e.cmem_j = double(op.cmem_read_bytes + op.cmem_write_bytes) * costs.sram_byte_j;  // a part of sram_j
  if (dram) {
    e.dram = dram_energy(*dram, {op.hbm_read_bytes, op.hbm_write_bytes, op.dram_acts, op.dram_refreshes,
                                 op.dram_bank_refreshes});
    e.dram_j = e.dram.total_j();
  } else {
    e.dram_j = double(op.hbm_read_bytes + op.hbm_write_bytes) * 8.0 * costs.dram_bit_j;
  }
  return e;
}

namespace {

void add_dram(DramEnergyParts& to, const DramEnergyParts& d) {
  to.act_j += d.act_j;
  to.read_j += d.read_j;
  to.write_j += d.write_j;
  to.refresh_j += d.refresh_j;
  to.io_j += d.io_j;
}

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
  if (run.hw.chip.energy.dram_model == "per_command")
    if (DramCommandEnergy d = dram_command_energy(run.hw); d.known) r.dram_commands = d;
  const DramCommandEnergy* dram = r.dram_commands ? &*r.dram_commands : nullptr;
  std::uint64_t macs = 0;
  for (const OpResult& op : run.ops) {
    EnergyParts e = op_energy(run, op, r.costs, dram);
    r.total.mac_j += e.mac_j;
    r.total.vector_j += e.vector_j;
    r.total.sram_j += e.sram_j;
    r.total.cmem_j += e.cmem_j;
    r.total.dram_j += e.dram_j;
    add_dram(r.total.dram, e.dram);
    r.dram_counted.acts += op.dram_acts;
    r.dram_counted.refreshes += op.dram_refreshes;
    r.dram_counted.bank_refreshes += op.dram_bank_refreshes;
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
    r.dram_counted = {0, 0, a.dram_acts, a.dram_refreshes, a.dram_bank_refreshes};
    if (dram) {
      r.total.dram = dram_energy(*dram, {run.hbm_read_bytes, run.hbm_write_bytes, a.dram_acts, a.dram_refreshes,
                                         a.dram_bank_refreshes});
      r.total.dram_j = r.total.dram.total_j();
    } else {
      r.total.dram_j = double(run.hbm_read_bytes + run.hbm_write_bytes) * 8.0 * r.costs.dram_bit_j;
    }
  }
  // Collectives read and write HBM too (sim/collective_contention.h). By command they are
  // streams, half read and half written, one ACT a row: their commands are not counted.
  if (run.pod && dram) {
    const std::uint64_t b = run.pod->collective_hbm_bytes;
    const DramEnergyParts c =
        dram_energy(*dram, {b / 2, b - b / 2, std::uint64_t(double(b) / dram->row_bytes), 0, 0});
    add_dram(r.total.dram, c);
    r.total.dram_j += c.total_j();
  } else if (run.pod) {
    r.total.dram_j += double(run.pod->collective_hbm_bytes) * 8.0 * r.costs.dram_bit_j;
  }
  // ici_bytes counts a byte once per link it crosses (PodResult).
  if (run.pod) r.total.ici_j = double(run.pod->ici_bytes) * 8.0 * r.costs.ici_bit_j;
  r.total.static_j = run.time_s() * r.costs.static_power_w * double(run.chips);
  if (!run.all_chips) power_profile(run, r);
  if (run.end_ps > 0) r.average_power_w = r.total.total_j() / run.time_s();
  if (r.total.total_j() > 0) r.tops_per_w = 2.0 * double(macs) / r.total.total_j() * 1e-12;
  if (const std::uint64_t n = run.samples_per_step()) r.joules_per_sample = r.total.total_j() / double(n);
  return r;
}

}  // namespace podsim
