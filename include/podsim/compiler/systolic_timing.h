// Closed-form timing of a weight-stationary systolic array (the TPU's MXU), in cycles.
//
// An R x C array holds one weight tile of up to R (K depth) x C (N width) values. A *fold*
// is one weight tile held in place while T input rows stream through it:
//
//   weight load   W = R cycles: the tile shifts in from the top, one PE row per cycle
//                 (TPU v1: "256 cycles to shift a 256x256 tile in").
//   stream        T x passes cycles: one input row enters per cycle, skewed by one cycle
//                 per array row (passes > 1 for dtypes emulated with several passes).
//   fill + drain  R + C - 2 cycles: input row t enters array row r at cycle t + r, meets
//                 column c at t + r + c, and the last partial sum (t = T-1, r = R-1,
//                 c = C-1) leaves the bottom at (T-1) + (R-1) + (C-1) + 1 = T + R + C - 2
//                 cycles after the first row entered.
//
// Without weight overlap (SCALE-Sim v2's weight-stationary model) each fold costs
//   W + T + R + C - 2 = 2R + C + T - 2 cycles, and folds run back to back.
// With weight overlap (TPU double-buffered weights) the next fold's weights shift into
// the shadow registers while the current fold streams, and the input stream continues
// without a gap: fold i+1 starts streaming max(W, T) cycles after fold i, and only the
// last fold pays fill + drain. A stream that waits on its operands restarts and pays the
// weight load again.
#pragma once

#include <cstdint>

namespace podsim {

struct SystolicArrayShape {
  std::uint32_t rows = 0;  // R
  std::uint32_t cols = 0;  // C
  bool weight_overlap = true;
};

// What one call to SystolicPipeline::run did, in absolute cycles.
struct FoldRunTiming {
  std::uint64_t first_inject = 0;  // first input row enters
  std::uint64_t stream_end = 0;    // one past the last input row: operands no longer needed
  std::uint64_t done = 0;          // the last result has left the array
  std::uint64_t stream_cycles = 0; // cycles spent injecting rows (the useful part)
  std::uint64_t weight_stall_cycles = 0;  // injection port idle, waiting on a weight load
};

// The timing state of one array across calls: where its input stream and weight shadow
// buffer are free again. Plain C++: the SystemC MXU owns one and asks it for times.
class SystolicPipeline {
 public:
  explicit SystolicPipeline(SystolicArrayShape shape) : shape_(shape) {}

  // Runs `folds` folds of `rows` input rows each, `passes` times per row, with operands
  // available from cycle `ready`. `folds` may be 0 (returns an empty run at `ready`).
  FoldRunTiming run(std::uint64_t ready, std::uint64_t folds, std::uint64_t rows,
                    std::uint32_t passes = 1);

  const SystolicArrayShape& shape() const { return shape_; }
  std::uint64_t fill_drain_cycles() const { return shape_.rows + shape_.cols - 2; }
  std::uint64_t weight_load_cycles() const { return shape_.rows; }

 private:
  SystolicArrayShape shape_;
  std::uint64_t stream_free_ = 0;  // first cycle the input port may inject again
  std::uint64_t shadow_free_ = 0;  // first cycle a weight load may start
  std::uint64_t done_ = 0;         // last result out of everything run so far
};

// SCALE-Sim v2 weight-stationary cycles for an M x K by K x N matmul, no overlap:
//   ceil(K/R) x ceil(N/C) folds of (2R + C + M - 2) cycles.
std::uint64_t scalesim_ws_cycles(std::uint64_t m, std::uint64_t k, std::uint64_t n,
                                 std::uint32_t rows, std::uint32_t cols);

}  // namespace podsim
