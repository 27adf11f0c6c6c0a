#include "podsim/energy/block_energy.h"

#include <algorithm>
#include <cmath>

namespace podsim {

std::vector<BlockEnergy> energy_by_block(const RunEnergy& energy, const ChipArea& area) {
  const EnergyParts& t = energy.total;
  // The on-chip memory's joules are a part of sram_j (energy_model.cpp); here they go to
  // their own block. Pod totals count vector memory only (cmem_j 0).
  const double cmem_j = t.cmem_j;
  std::vector<BlockEnergy> out;
  double die_mm2 = 0;
  for (const AreaBlock& b : area.blocks) die_mm2 += b.mm2;
  for (const AreaBlock& b : area.blocks) {
    BlockEnergy e;
    e.block = b.name;
    if (b.name == "mxu") e.dynamic_j = t.mac_j;
    else if (b.name == "vector") e.dynamic_j = t.vector_j;
    else if (b.name == "vmem") e.dynamic_j = t.sram_j - cmem_j;
    else if (b.name == "cmem") e.dynamic_j = cmem_j;
    else if (b.name == "ici") e.dynamic_j = t.ici_j;
    e.static_j = die_mm2 > 0 ? t.static_j * b.mm2 / die_mm2 : 0.0;
    out.push_back(e);
  }
  // Joules no die block took (links on a configuration without ICI area; a die whose
  // area overrides are all 0 takes the static power too): kept in the total, under the
  // uncore, rather than lost.
  double placed = 0;
  for (const BlockEnergy& e : out) placed += e.dynamic_j;
  const double unplaced_dynamic = t.mac_j + t.vector_j + t.sram_j + t.ici_j - placed;
  const double unplaced_static = die_mm2 > 0 ? 0.0 : t.static_j;
  if (std::abs(unplaced_dynamic) > 1e-12 * t.total_j() || unplaced_static != 0) {  // not rounding
    auto it = std::find_if(out.begin(), out.end(), [](const BlockEnergy& e) { return e.block == "uncore"; });
    if (it == out.end()) it = out.insert(out.end(), BlockEnergy{"uncore", 0.0, 0.0});
    it->dynamic_j += unplaced_dynamic;
    it->static_j += unplaced_static;
  }
  out.push_back({"dram", t.dram_j, 0.0});
  return out;
}

}  // namespace podsim
