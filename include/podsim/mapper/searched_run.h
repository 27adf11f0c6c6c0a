// `chip.mapper: search`: a run whose MXU ops take the tilings found by simulation. Each
// distinct MXU op's heuristic tiling and the cost model's next `chip.mapper_candidates`
// are simulated alone (mapper/op_search.h, in child processes); where one beats the
// heuristic's, every op of that signature is pinned to it, as if the workload had pinned
// it (`tile:`). Ops the workload pins itself keep their tiling. Ops alone miss what their
// neighbours give them, so the whole workload is then run both ways (in children) and the
// faster kept: the search is never slower than the heuristic.
#pragma once

#include "podsim/sim/simulate.h"

namespace podsim {

// One chip (the caller refuses pods). Throws ConfigError when the workload cannot be
// lowered; std::runtime_error when a candidate's simulation fails.
RunResult simulate_with_searched_mappings(const HardwareSpec& hw, const WorkloadSpec& workload,
                                          SimulateOptions options, unsigned jobs);

}  // namespace podsim
