#include "podsim/compiler/systolic_timing.h"

#include <algorithm>

namespace podsim {
namespace {
std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }
}  // namespace

FoldGrid fold_grid(const SystolicArrayShape& shape, std::uint64_t m, std::uint64_t k, std::uint64_t n) {
  FoldGrid g;
  switch (shape.dataflow) {
    case Dataflow::ws: g.along_rows = k; g.along_cols = n; g.stream = m; break;
    case Dataflow::is: g.along_rows = k; g.along_cols = m; g.stream = n; break;
    case Dataflow::os: g.along_rows = m; g.along_cols = n; g.stream = k; break;
  }
  g.row_folds = ceil_div(g.along_rows, shape.rows);
  g.col_folds = ceil_div(g.along_cols, shape.cols);
  return g;
}

MxuSplit split_over_mxus(const SystolicArrayShape& shape, std::uint32_t mxus, const FoldGrid& g, MxuRate rate) {
  const SystolicPipeline array(shape);
  const std::uint64_t W = array.weight_load_cycles();
  auto fill = [&](MxuSplit& s) {
    const std::uint64_t stream = rate.stream_cycles(s.rows_per_fold);
    if (array.overlapped()) {
      s.cycles = s.folds_per_mxu * std::max(stream, W);
      s.span = s.folds_per_mxu ? W + (s.folds_per_mxu - 1) * std::max(stream, W) + stream : 0;
    } else {
      s.cycles = s.span = s.folds_per_mxu * (W + stream + array.fill_drain_cycles());
    }
  };
  MxuSplit cols;
  cols.folds_per_mxu = ceil_div(g.col_folds, std::max<std::uint32_t>(mxus, 1)) * g.row_folds;
  cols.rows_per_fold = g.stream;
  fill(cols);
  if (g.col_folds >= mxus || mxus <= 1) return cols;
  MxuSplit rows;
  rows.by_columns = false;
  rows.folds_per_mxu = g.folds();
  rows.rows_per_fold = ceil_div(g.stream, mxus);
  fill(rows);
  return rows.span < cols.span ? rows : cols;
}

std::uint64_t SystolicPipeline::weight_load_cycles() const {
  return shape_.dataflow == Dataflow::os ? 0 : shape_.rows;
}

std::uint64_t SystolicPipeline::fill_drain_cycles() const {
  const std::uint64_t wave = shape_.rows + shape_.cols - 2;
  return shape_.dataflow == Dataflow::os ? wave + shape_.rows : wave;
}

void SystolicPipeline::charge_gap(std::uint64_t inputs_ready, std::uint64_t weights_ready,
                                  std::uint64_t first_inject) {
  // The port was idle from when it could next inject until first_inject. Charge the
  // causes in order: the streaming operand, then the stationary one from memory, then
  // the shift (or the drain before it).
  const std::uint64_t from = std::max(stream_free_, window_start_);
  if (first_inject <= from) return;
  const std::uint64_t t1 = std::clamp(inputs_ready, from, first_inject);
  const std::uint64_t t2 = std::clamp(weights_ready, t1, first_inject);
  breakdown_.input_stall += t1 - from;
  breakdown_.weight_load_stall += t2 - t1;
  breakdown_.weight_shift += first_inject - t2;
}

FoldRunTiming SystolicPipeline::run(const FoldBatch& b) {
  FoldRunTiming t;
  const std::uint64_t ready = std::max(b.inputs_ready, b.weights_ready);
  if (b.folds == 0 || b.rows == 0) {
    t.load_start = t.first_inject = t.stream_end = t.done = ready;
    return t;
  }
  const std::uint64_t W = weight_load_cycles();
  const std::uint64_t stream = b.rate.stream_cycles(b.rows);
  const std::uint64_t tail = fill_drain_cycles();

  if (overlapped()) {
    // First fold: its block shifts in once it is here and the shadow registers are free
    // (it need not wait for the streaming operand), and streams once latched, the port is
    // free and the streaming operand is here.
    t.load_start = std::max(b.weights_ready, shadow_free_);
    t.first_inject = std::max({t.load_start + W, stream_free_, b.inputs_ready});
    // Each later fold's block shifts in from when the previous fold starts streaming, so
    // fold i+1 streams max(W, stream) cycles after fold i.
    const std::uint64_t step = std::max(W, stream);
    const std::uint64_t last_inject = t.first_inject + (b.folds - 1) * step;
    t.stream_end = last_inject + stream;
    t.done = t.stream_end + tail;
    charge_gap(b.inputs_ready, b.weights_ready, t.first_inject);
    breakdown_.weight_shift += (b.folds - 1) * (step - stream);
    shadow_free_ = last_inject;
  } else {
    // Every fold: load, stream, fill/drain; the next load starts when the array is empty.
    const std::uint64_t per_fold = W + stream + tail;  // = 2R + C + T - 2 at one pass
    t.load_start = std::max(ready, done_);
    t.first_inject = t.load_start + W;
    t.done = t.load_start + b.folds * per_fold;
    t.stream_end = t.done - tail;
    charge_gap(b.inputs_ready, b.weights_ready, t.first_inject);
    breakdown_.weight_shift += (b.folds - 1) * (tail + W);
    shadow_free_ = t.done;
  }
  breakdown_.active += b.folds * stream;
  stream_free_ = t.stream_end;
  done_ = std::max(done_, t.done);
  return t;
}

std::uint64_t scalesim_cycles(const SystolicArrayShape& shape, std::uint64_t m, std::uint64_t k,
                              std::uint64_t n) {
  const FoldGrid g = fold_grid(shape, m, k, n);
  return g.folds() * (2ULL * shape.rows + shape.cols + g.stream - 2);
}

}  // namespace podsim
