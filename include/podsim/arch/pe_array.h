// The PE-level reference model of a systolic array: every cycle, every processing element
// moves real operands to its neighbours' registers and multiplies-accumulates real
// numbers. It is the reference the fast tile-level timing (compiler/systolic_timing.h) is
// tested against, cycle for cycle, and the teaching view (frames of what each PE holds).
//
// Its schedule comes from local readiness rules, not from the closed form:
//   ws  a fold's weights shift down each column (column c starts c cycles after column
//       0) through a transit chain and are latched into the PEs' shadow registers after R
//       shifts; a PE copies shadow to active when the first activation of the new fold
//       reaches it. With overlap the next fold's shift starts when the current fold's
//       first row enters the array; without, when the array has emptied. Rows are
//       injected one per cycle, skewed one cycle per array row, as soon as column 0 has
//       latched the fold's weights and the previous fold's rows are all in.
//   is  ws with the operands' roles swapped: C^T = B^T A^T.
//   os  A rows enter from the left and B columns from the top, skewed; each PE
//       accumulates its output; when the fold's last MAC is done the accumulators shift
//       out of the bottom one row per cycle, and the next fold starts when they are out.
// Arithmetic: int8 products accumulate exactly (int32); float types multiply and
// accumulate in fp32 (operands are given already rounded to their dtype).
#pragma once

#include <cstdint>
#include <vector>

#include <functional>

#include "podsim/compiler/systolic_timing.h"
#include "podsim/workload/dtype.h"

namespace podsim {

// One PE at one cycle, for the teaching view.
struct PeState {
  bool has_input = false;  // a streaming value passed through this cycle
  double input = 0;        // that value (activation; for os the A value)
  double stationary = 0;   // active weight (ws/is) or the B value passing (os)
  double partial = 0;      // partial sum leaving the PE (ws/is) or its accumulator (os)
};

struct PeFrame {
  std::uint64_t cycle = 0;
  std::vector<PeState> pes;  // R x C, row-major
};

struct PeArrayResult {
  std::uint64_t cycles = 0;     // the cycle after the last result left the array
  std::vector<double> c;        // M x N, row-major
  std::uint64_t macs = 0;       // useful multiply-accumulates
  std::vector<PeFrame> frames;  // first `max_frames` cycles, if asked for
};

// Where recorded frames go: into PeArrayResult::frames, or, with a sink, to the sink as
// each cycle is done (nothing kept: a waveform streams to disk in bounded memory).
using PeFrameSink = std::function<void(const PeFrame&)>;

// Runs C = A B (A: m x k, B: k x n, row-major) on the array. `max_frames` > 0 records
// that many cycles of PE states (keep the array small: R x C values per frame).
PeArrayResult run_pe_array(const SystolicArrayShape& shape, DType dtype, std::uint64_t m, std::uint64_t k,
                           std::uint64_t n, const std::vector<double>& a, const std::vector<double>& b,
                           std::uint64_t max_frames = 0, const PeFrameSink& sink = {});

}  // namespace podsim
