// Closed-form timing of a systolic array, in cycles, for three dataflows. The PE-level
// model (arch/pe_array.h) moves real operands cycle by cycle under the same rules; tests
// check the two agree exactly.
//
// An R x C array holds a *stationary* block while a *streaming* operand flows through it.
// A fold is one stationary block held while T rows stream. Per dataflow, for a matmul
// C[M x N] = A[M x K] B[K x N]:
//
//   dataflow  stationary (rows x cols)  streams       T   load W   fill + drain
//   ws        B: K x N                   A rows        M   R        R + C - 2
//   is        A^T: K x M                 B columns     N   R        R + C - 2
//   os        C: M x N (accumulators)    A and B       K   0        R + C - 2 + R
//
//   weight load  W = R cycles: the stationary block shifts in from the top of each
//                column, one PE row per cycle, and is latched when complete.
//   stream       ceil(T x passes / packed) cycles: one row enters per cycle, skewed one
//                cycle per array row (passes > 1 for dtypes the array emulates; packed > 1
//                for narrow dtypes whose rows enter two or four at a time, MxuRate).
//   fill + drain ws/is: row t enters array row r at cycle t + r, meets column c at
//                t + r + c; the last partial sum (t = T-1, r = R-1, c = C-1) leaves the
//                bottom at (T-1) + (R-1) + (C-1) + 1, i.e. T + R + C - 2 cycles after
//                the first row entered. os: the last MAC is at the same place; then the
//                R rows of accumulators shift out of the bottom, R more cycles.
//
// Without overlap (SCALE-Sim v2's model) each fold costs W + T + fill/drain cycles,
// back to back: 2R + C + T - 2 for every dataflow. With overlap (ws and is; TPU double
// buffering) fold i+1's stationary block shifts in while fold i streams: its shift may
// start when fold i starts streaming and is latched R cycles later, so fold i+1 streams
// max(W, T) cycles after fold i, and only the last fold pays fill and drain.
#pragma once

#include <cstdint>

#include "podsim/config/hardware_spec.h"

namespace podsim {

struct SystolicArrayShape {
  std::uint32_t rows = 0;  // R
  std::uint32_t cols = 0;  // C
  Dataflow dataflow = Dataflow::ws;
  bool weight_overlap = true;  // honoured for ws and is
};

// How fast an array streams an op's dtype (chip.mxu.passes.*, chip.mxu.rate.*): passes >
// 1 emulates a wide type in several passes (fp32 on bf16 arrays); packed > 1 takes that
// many rows per cycle, narrow values sharing one lane (int8 at twice the bf16 rate on TPU
// v5e). Fill, drain and weight shift-in do not change. At {1, 1}: SCALE-Sim's timing.
struct MxuRate {
  std::uint32_t passes = 1;
  std::uint32_t packed = 1;
  std::uint64_t stream_cycles(std::uint64_t rows) const {
    return packed <= 1 ? rows * passes : (rows * passes + packed - 1) / packed;
  }
};

// How a (m, k, n) block maps onto folds of the array.
struct FoldGrid {
  std::uint64_t along_rows = 0;  // the matmul dimension laid along the array's rows
  std::uint64_t along_cols = 0;  // ... along its columns
  std::uint64_t stream = 0;      // T: the dimension that streams
  std::uint64_t row_folds = 0;   // ceil(along_rows / R)
  std::uint64_t col_folds = 0;   // ceil(along_cols / C)
  std::uint64_t folds() const { return row_folds * col_folds; }
};
FoldGrid fold_grid(const SystolicArrayShape& shape, std::uint64_t m, std::uint64_t k, std::uint64_t n);

// How a tile's folds go to a core's `mxus` arrays (TensorCore::share_tile runs it, the
// tiler's cost model costs it): by column folds, each array its own run of column folds
// with every streaming row, or by streaming rows, every array holding every fold and
// streaming a share of the rows. With at least as many column folds as arrays, always by
// columns; with fewer, whichever has the busiest array done first (its first weight
// shift to its last row in): splitting rows keeps every array busy but makes each one
// shift in all the tile's weights, which a short stream cannot hide (8 rows over four
// arrays: 2 rows per 128-cycle weight shift).
struct MxuSplit {
  bool by_columns = true;
  std::uint64_t folds_per_mxu = 0;  // on the busiest array
  std::uint64_t rows_per_fold = 0;  // streaming rows per fold on it
  // Its folds back to back (the rate included): in a steady stream of tiles (each shift
  // hidden under the fold before), and alone (the first shift and the last stream exposed).
  std::uint64_t cycles = 0, span = 0;
};
MxuSplit split_over_mxus(const SystolicArrayShape& shape, std::uint32_t mxus, const FoldGrid& grid,
                         MxuRate rate);

// A batch of identical folds handed to one array.
struct FoldBatch {
  std::uint64_t folds = 0;
  std::uint64_t rows = 0;           // T
  MxuRate rate;
  std::uint64_t inputs_ready = 0;   // cycle the streaming operand is in vector memory
  std::uint64_t weights_ready = 0;  // cycle the first stationary block is available
};

// What one run did, in absolute cycles.
struct FoldRunTiming {
  std::uint64_t load_start = 0;    // first stationary block starts shifting in
  std::uint64_t first_inject = 0;  // first streaming row enters
  std::uint64_t stream_end = 0;    // one past the last streaming row: operands free
  std::uint64_t done = 0;          // the last result has left the array
};

// Where an array's input port spent its cycles; with the op's other cycles ("non-matrix")
// they add up to the op's length.
struct ArrayCycleBreakdown {
  std::uint64_t active = 0;             // streaming rows
  std::uint64_t input_stall = 0;        // waiting for the streaming operand (its DMA)
  std::uint64_t weight_load_stall = 0;  // waiting for a stationary block from memory
  std::uint64_t weight_shift = 0;       // waiting for a block to shift in (or the array to drain first)
};

// The timing state of one array across calls. Plain C++: the TensorCore owns one per MXU.
class SystolicPipeline {
 public:
  explicit SystolicPipeline(SystolicArrayShape shape) : shape_(shape) {}

  FoldRunTiming run(const FoldBatch& batch);
  // Convenience: operands (streaming and stationary) both ready at `ready`.
  FoldRunTiming run(std::uint64_t ready, std::uint64_t folds, std::uint64_t rows, MxuRate rate = {}) {
    return run(FoldBatch{folds, rows, rate, ready, ready});
  }

  // Idle port time before `cycle` is not charged to the stall counters (an op starts).
  void begin_window(std::uint64_t cycle) { window_start_ = cycle; }
  // Moves the pipeline's state `cycles` later, as if every fold so far had run that much
  // later (steady-state replay, arch/steady_state.h).
  void shift(std::uint64_t cycles) {
    stream_free_ += cycles;
    shadow_free_ += cycles;
    done_ += cycles;
  }
  const ArrayCycleBreakdown& breakdown() const { return breakdown_; }
  // The breakdown's counters, for replaying an op (arch/counter_list.h).
  void list_counters(std::vector<std::uint64_t*>& out) {
    out.insert(out.end(), {&breakdown_.active, &breakdown_.input_stall, &breakdown_.weight_load_stall,
                           &breakdown_.weight_shift});
  }

  const SystolicArrayShape& shape() const { return shape_; }
  std::uint64_t weight_load_cycles() const;  // W
  std::uint64_t fill_drain_cycles() const;   // R + C - 2 (ws, is) or 2R + C - 2 (os)
  bool overlapped() const { return shape_.weight_overlap && shape_.dataflow != Dataflow::os; }

 private:
  void charge_gap(std::uint64_t inputs_ready, std::uint64_t weights_ready, std::uint64_t first_inject);

  SystolicArrayShape shape_;
  std::uint64_t stream_free_ = 0;  // first cycle the input port may inject again
  std::uint64_t shadow_free_ = 0;  // first cycle a stationary block may start shifting in
  std::uint64_t done_ = 0;         // last result out of everything run so far
  std::uint64_t window_start_ = 0;
  ArrayCycleBreakdown breakdown_;
};

// SCALE-Sim v2 cycles for an M x K by K x N matmul with no overlap, any dataflow:
//   folds x (2R + C + T - 2), with folds and T as in the table above.
std::uint64_t scalesim_cycles(const SystolicArrayShape& shape, std::uint64_t m, std::uint64_t k,
                              std::uint64_t n);

}  // namespace podsim
