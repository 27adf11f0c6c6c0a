// Off-chip memory energy by command (chip.energy.dram_model=per_command): each ACT (with
// its PRE), each bit read or written in the array, each refresh, from the device's IDD
// currents the way DRAMsim3 and DRAMPower price them, plus the I/O's share per bit. The
// default (per_bit) prices every bit alike at chip.energy.dram_bit. docs/energy.md,
// "Off-chip memory by command", gives the sources and the measured difference.
#pragma once

#include <cstdint>
#include <string>

#include "podsim/config/hardware_spec.h"

namespace podsim {

struct DramCommandEnergy {
  bool known = false;           // a device with a command model (not chip.hbm.device=ideal)
  std::string source;           // where the currents come from
  double act_j = 0;             // one ACT and the PRE that closes its row
  double read_bit_j = 0;        // one bit read: array and on-die data path (IDD4R over IDD3N)
  double write_bit_j = 0;       // one bit written (IDD4W over IDD3N)
  double refresh_j = 0;         // one all-bank refresh of a channel (IDD5AB over IDD3N for tRFC)
  double bank_refresh_j = 0;    // one per-bank refresh: the all-bank one over the banks
  double io_bit_j = 0;          // per bit moved: chip.energy.dram_bit less a streaming read's core share
  double row_bytes = 0;         // one ACT's row (for traffic known only as a stream)
};

// The chip's off-chip memory device priced by command; `known` false for the ideal device.
DramCommandEnergy dram_command_energy(const HardwareSpec& hw);

struct DramCounts {
  std::uint64_t read_bytes = 0, write_bytes = 0;
  std::uint64_t acts = 0, refreshes = 0, bank_refreshes = 0;
};

struct DramEnergyParts {
  double act_j = 0, read_j = 0, write_j = 0, refresh_j = 0, io_j = 0;
  double total_j() const { return act_j + read_j + write_j + refresh_j + io_j; }
};

DramEnergyParts dram_energy(const DramCommandEnergy& e, const DramCounts& n);

}  // namespace podsim
