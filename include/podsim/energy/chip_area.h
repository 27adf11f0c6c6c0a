// Silicon area of one chip, block by block: the MXUs' processing elements, vector memory,
// on-chip memory (chip.cmem), the vector units, the off-chip memory PHYs, the host link and
// the inter-chip links, plus the share of a die that is none of these (control, scalar
// unit, DMA, wiring, white space). Densities per technology node come from the
// `area_table` of configs/energy/<node>.yaml; docs/energy.md ("Area") derives every value
// and shows how the model compares with published die sizes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "podsim/config/hardware_spec.h"

namespace podsim {

// The densities a node's area table gives, in the order the tables list them.
const std::vector<std::string>& area_table_keys();  // "pe_int8_um2", ..., "uncore_percent"

struct AreaCosts {
  std::string node;
  double pe_int8_um2 = 0, pe_bf16_um2 = 0, pe_fp32_um2 = 0;  // one MXU processing element
  double sram_mm2_per_mib = 0;     // vector memory and on-chip memory
  double vector_lane_um2 = 0;      // one lane of one sublane of a vector unit
  double hbm_phy_mm2 = 0;          // one HBM stack's PHY (1,024 data bits)
  double ddr_phy_mm2 = 0;          // one 64-bit DDR channel's PHY
  double pcie_lane_mm2 = 0;        // one PCIe lane's PHY
  double ici_mm2_per_25GBps = 0;   // inter-chip link PHY per 25 GB/s each direction
  double hbm_ctrl_mm2 = 0, ddr_ctrl_mm2 = 0;          // the controllers behind those PHYs
  double pcie_ctrl_lane_mm2 = 0, ici_ctrl_mm2_per_25GBps = 0;
  double uncore_percent = 0;       // of the die: control, scalar unit, DMA, wiring, white space
};

// The node's table (throws ConfigError, key chip.energy.node, for a node without one).
AreaCosts area_costs(const std::string& node);
// The node's table with chip.area overrides applied.
AreaCosts area_costs(const std::string& node, const AreaSpec& overrides);

// A density's text as a number: >= 0, and under 100 for uncore_percent. nullopt (and *why)
// when it is not one.
std::optional<double> parse_area_density(const std::string& key, const std::string& text, std::string* why);

struct AreaBlock {
  std::string name;   // "mxu", "vmem", "cmem", "vector", "memory_io", "pcie", "ici", "uncore"
  double mm2 = 0;
  std::string what;   // how it was counted: "4 MXUs x 128x128 bf16 PEs x 2,054 um2"
};

struct ChipArea {
  std::string node;
  std::string pe_dtype;            // the dtype the PEs are priced as (the widest at full rate)
  std::vector<AreaBlock> blocks;   // in the order above; blocks of zero area left out
  double total_mm2 = 0;            // sum of the blocks, uncore included
};

// One chip of `hw`. Inter-chip links count when the configuration is a pod (more than one
// chip); the host link's PHY when chip.host.link_bandwidth is set (16 lanes).
ChipArea chip_area(const HardwareSpec& hw);

}  // namespace podsim
