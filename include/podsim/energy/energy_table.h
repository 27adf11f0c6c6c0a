// Energy per action for a chip: the technology table (configs/energy/<node>.yaml) named by
// chip.energy.node, with the chip's overrides (chip.energy.<action>) applied, and the
// chip's own off-chip and static figures. energy/energy_model.h multiplies these by a
// run's action counts.
#pragma once

#include <string>
#include <vector>

#include "podsim/config/hardware_spec.h"

namespace podsim {

// The actions a technology table prices, in the order tables list them.
const std::vector<std::string>& energy_table_actions();  // "mac_int8", ..., "sram_byte"
// The technology nodes there is a table for ("45nm", "28nm", ...), sorted.
std::vector<std::string> energy_table_nodes();

// Joules per action, W for power: plain doubles for the arithmetic of a report.
struct EnergyCosts {
  std::string node;
  double mac_int8_j = 0, mac_fp8_j = 0, mac_bf16_j = 0, mac_fp16_j = 0, mac_fp32_j = 0;
  double vector_op_j = 0;   // one lane of the vector unit busy for one cycle
  double sram_byte_j = 0;   // one byte read from or written to vector memory
  double dram_bit_j = 0;    // one bit read from or written to off-chip memory, I/O included
  double ici_bit_j = 0;     // one bit over one inter-chip link
  double static_power_w = 0;  // per chip, busy or idle

  double mac_j(const std::string& dtype) const;  // by the op's input dtype
};

// Resolves the table and overrides. Throws ConfigError (key chip.energy...) on an unknown
// node, an unknown action or a malformed value in a table.
EnergyCosts resolve_energy_costs(const EnergySpec& spec);

// The table's text value of `action` for `node` ("0.187 pJ"), for `podsim params`.
std::string energy_table_value(const std::string& node, const std::string& action);

}  // namespace podsim
