// Simulates several chip programs, each alone in its own process, `jobs` at a time: a
// chip's result then never depends on the other chips (one SystemC kernel shares its
// timed queue, and equal-time ties would order differently), and the programs use every
// core. The first program runs last, in this process, with the full result (report,
// stats, trace); the others come back with what the pod composition needs: each op's
// times, MACs and bytes, and whether their invariants held.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "podsim/sim/simulate.h"

namespace podsim {

// Programs `first` onwards, each in a child process (this process elaborates nothing):
// entries before `first` come back empty.
std::vector<RunResult> simulate_in_children(const HardwareSpec& hw, const std::vector<WorkloadSpec>& programs,
                                            const SimulateOptions& options, unsigned jobs, std::size_t first = 0);
// The same, each program with its own options (options[p]). With `errors`, a program whose
// simulation fails leaves its message there (errors[p]; "" for the others) and an empty
// result, instead of throwing.
std::vector<RunResult> simulate_in_children(const HardwareSpec& hw, const std::vector<WorkloadSpec>& programs,
                                            const std::vector<SimulateOptions>& options, unsigned jobs,
                                            std::size_t first = 0, std::vector<std::string>* errors = nullptr);

std::vector<RunResult> simulate_isolated(const HardwareSpec& hw, const std::vector<WorkloadSpec>& programs,
                                         const SimulateOptions& options, unsigned jobs);

}  // namespace podsim
