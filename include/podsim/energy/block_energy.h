// A run's joules by block of the chip (issue 19: energy per block, static power per
// block): each dynamic part goes to the block that spends it (MACs to the MXUs, lane cycles
// to the vector units, vector-memory bytes to vmem, on-chip memory bytes to cmem, link bits
// to the ICI), the off-chip memory's joules to the DRAM devices (off the die), and the
// chip's static power spread over the die's blocks in proportion to their area
// (energy/chip_area.h): leakage grows with the transistors a block holds, about its area at
// one node. An assumption: no TPU publishes its static power by block. docs/energy.md.
#pragma once

#include <string>
#include <vector>

#include "podsim/energy/chip_area.h"
#include "podsim/energy/energy_model.h"

namespace podsim {

struct BlockEnergy {
  std::string block;  // an area block's name, or "dram" (the off-chip devices and their I/O)
  double dynamic_j = 0, static_j = 0;
  double total_j() const { return dynamic_j + static_j; }
};

// In the area's block order, then "dram"; the blocks add up to `energy.total`.
std::vector<BlockEnergy> energy_by_block(const RunEnergy& energy, const ChipArea& area);

}  // namespace podsim
