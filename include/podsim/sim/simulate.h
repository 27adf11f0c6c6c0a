// The one entry point that runs a simulation: lower the workload, build the chip, run
// SystemC to the end, check the invariants, collect the stats.
#pragma once

#include <functional>
#include <vector>

#include "podsim/sim/run_result.h"

namespace podsim {

struct SimulateOptions {
  bool trace = false;  // record a timeline (RunResult::trace) for --trace
  // Replay an op identical to one simulated earlier instead of simulating it again
  // (arch/chip.h). Off while tracing: a trace shows every op's own events.
  bool reuse_ops = true;
  // Called on the expanded ops (templates, composites and training unrolled) before they
  // are planned: the search mapper pins the tilings it found (mapper/searched_run.h).
  std::function<void(WorkloadSpec&)> before_planning;
};

// One SystemC elaboration, so call it once per process. Throws ConfigError when the
// workload cannot be lowered onto the chip.
RunResult simulate(const HardwareSpec& hw, const WorkloadSpec& workload, const SimulateOptions& options = {});

// Templates, composite ops and training expanded into plain ops (collectives included).
WorkloadSpec expand_workload(const WorkloadSpec& workload);
// The ops a chip itself runs: collectives removed.
WorkloadSpec without_collectives(const WorkloadSpec& workload);

}  // namespace podsim
