// `chip.mapper: search`: a run whose MXU ops take the tilings found by simulation. Each
// distinct forward MXU op's heuristic tiling and the cost model's next
// `chip.mapper_candidates` are simulated alone (mapper/op_search.h, in child processes);
// where one beats the heuristic's, every op of that signature is run with it pinned, as
// if the workload had pinned it (`tile:`), then the whole workload is simulated once.
// Ops the workload pins itself keep their tiling; backward ops keep the heuristic's.
#pragma once

#include "podsim/sim/simulate.h"

namespace podsim {

// One chip (the caller refuses pods). Throws ConfigError when the workload cannot be
// lowered; std::runtime_error when a candidate's simulation fails.
RunResult simulate_with_searched_mappings(const HardwareSpec& hw, const WorkloadSpec& workload,
                                          SimulateOptions options, unsigned jobs);

}  // namespace podsim
