// The one entry point that runs a simulation: lower the workload, build the chip, run
// SystemC to the end, check the invariants, collect the stats.
#pragma once

#include "podsim/sim/run_result.h"

namespace podsim {

struct SimulateOptions {
  bool trace = false;  // record a timeline (RunResult::trace) for --trace
};

// One SystemC elaboration, so call it once per process. Throws ConfigError when the
// workload cannot be lowered onto the chip.
RunResult simulate(const HardwareSpec& hw, const WorkloadSpec& workload, const SimulateOptions& options = {});

}  // namespace podsim
