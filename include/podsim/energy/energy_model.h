// Joules from a run: each action the simulator counted times its energy
// (energy/energy_table.h), plus static power over the simulated time. The actions:
// MACs by input dtype, vector-unit lane cycles, vector-memory bytes, off-chip bits and
// inter-chip bits per link crossed. docs/energy.md lists what is and is not counted.
#pragma once

#include <optional>
#include <vector>

#include "podsim/energy/dram_energy.h"
#include "podsim/energy/energy_table.h"
#include "podsim/sim/run_result.h"

namespace podsim {

struct EnergyParts {
  double mac_j = 0, vector_j = 0, sram_j = 0, dram_j = 0, ici_j = 0, static_j = 0;
  double cmem_j = 0;     // the part of sram_j that is the on-chip memory's (chip.cmem) bytes
  DramEnergyParts dram;  // dram_j by command (chip.energy.dram_model=per_command); zero per bit
  double dynamic_j() const { return mac_j + vector_j + sram_j + dram_j + ici_j; }
  double total_j() const { return dynamic_j() + static_j; }
};

struct RunEnergy {
  EnergyCosts costs;
  // Set when chip.energy.dram_model is per_command and the device has a command model.
  std::optional<DramCommandEnergy> dram_commands;
  // The ACTs and refreshes the run's DRAM channels issued (every chip's in a pod run): what
  // the by-command energy prices. Its byte fields stay 0 (the run's summary has them).
  DramCounts dram_counted;
  bool static_known = false;     // chip.energy.static_power set: else totals are dynamic only
  EnergyParts total;             // the run: dynamic parts summed over ops, static over the run's time
  std::vector<EnergyParts> ops;  // per op of RunResult::ops; static over the op's span
  double average_power_w = 0;    // total / simulated time (all chips of the run)
  double tops_per_w = 0;         // 2 x MACs / total joules, in 1e12 per joule
  double joules_per_sample = 0;  // total / RunResult::samples_per_step(); 0 without workload.samples
  // Single-chip runs: power over time at op granularity (below) and its highest step.
  // Pod runs (whose ops are chip 0's) have neither: peak_power_w stays 0.
  struct PowerStep {
    std::uint64_t start_ps = 0;  // the step holds until the next one starts (or the run ends)
    double watts = 0;
  };
  std::vector<PowerStep> power;
  double peak_power_w = 0;
};

RunEnergy run_energy(const RunResult& run);

// One op's dynamic energy (static left 0): what `run_energy` adds up. Off-chip memory by
// command when `dram` is given, else per bit.
EnergyParts op_energy(const RunResult& run, const OpResult& op, const EnergyCosts& costs,
                      const DramCommandEnergy* dram = nullptr);

}  // namespace podsim
