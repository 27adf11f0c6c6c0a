// The PE array's state cycle by cycle as a VCD waveform (GTKWave, Surfer), written by
// SystemC's own tracing (sc_trace): for every PE its streaming input, whether one passed,
// its stationary value and the partial sum leaving it, one time step per array cycle
// (1 ns = 1 cycle: a bare array has no clock). The PE model streams each cycle's state to
// the trace file as it runs, so memory does not grow with the cycles traced.
#pragma once

#include <string>

#include "podsim/sim/mxu_experiment.h"

namespace podsim {

// Runs the experiment on the PE model (o.pe_model must be set), tracing its first
// o.frames cycles into `path` (written under a temporary name and renamed: a reader never
// sees half a file). Elaborates SystemC: once per process. Throws std::runtime_error when
// the file cannot be written.
MxuExperimentResult run_mxu_with_waveform(MxuExperimentOptions o, const std::string& path);

}  // namespace podsim
