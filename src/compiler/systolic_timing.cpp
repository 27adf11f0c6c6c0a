#include "podsim/compiler/systolic_timing.h"

#include <algorithm>

namespace podsim {

FoldRunTiming SystolicPipeline::run(std::uint64_t ready, std::uint64_t folds, std::uint64_t rows,
                                    std::uint32_t passes) {
  FoldRunTiming t;
  if (folds == 0 || rows == 0) {
    t.first_inject = t.stream_end = t.done = ready;
    return t;
  }
  const std::uint64_t W = weight_load_cycles();
  const std::uint64_t stream = rows * passes;
  const std::uint64_t tail = fill_drain_cycles();

  if (shape_.weight_overlap) {
    // First fold: its load starts once the operands are here and the shadow buffer is
    // free; it streams once loaded and the port is free.
    const std::uint64_t load_start = std::max(ready, shadow_free_);
    t.first_inject = std::max(load_start + W, stream_free_);
    // Each later fold's load starts when the previous fold starts streaming (the shadow
    // buffer is then free), so fold i+1 streams max(W, stream) cycles after fold i.
    const std::uint64_t step = std::max(W, stream);
    const std::uint64_t last_inject = t.first_inject + (folds - 1) * step;
    t.stream_end = last_inject + stream;
    t.done = t.stream_end + tail;
    t.stream_cycles = folds * stream;
    // Port idle time inside this run, plus any wait on a load before the first fold
    // that the previous stream did not cover.
    const std::uint64_t gap_before = t.first_inject - std::max(ready, stream_free_);
    t.weight_stall_cycles = gap_before + (folds - 1) * (step - stream);
    shadow_free_ = last_inject;
    stream_free_ = t.stream_end;
  } else {
    // Every fold: load, stream, drain; the next load starts after the drain.
    const std::uint64_t per_fold = W + stream + tail;  // = 2R + C + T - 2 when passes = 1
    const std::uint64_t start = std::max(ready, done_);
    t.first_inject = start + W;
    t.done = start + folds * per_fold;
    t.stream_end = t.done - tail;
    t.stream_cycles = folds * stream;
    t.weight_stall_cycles = folds * W;
    stream_free_ = t.stream_end;
    shadow_free_ = t.done;
  }
  done_ = std::max(done_, t.done);
  return t;
}

std::uint64_t scalesim_ws_cycles(std::uint64_t m, std::uint64_t k, std::uint64_t n,
                                 std::uint32_t rows, std::uint32_t cols) {
  const std::uint64_t folds = ((k + rows - 1) / rows) * ((n + cols - 1) / cols);
  return folds * (2ULL * rows + cols + m - 2);
}

}  // namespace podsim
