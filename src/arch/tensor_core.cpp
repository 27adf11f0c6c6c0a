#include "podsim/arch/tensor_core.h"

#include <algorithm>

#include <fmt/format.h>

namespace podsim {

using sc_core::sc_time;

namespace {
std::uint64_t now_ps() { return sc_core::sc_time_stamp().value(); }
std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }
}  // namespace

TensorCore::TensorCore(sc_core::sc_module_name name, const HardwareSpec& hw, HbmModel& hbm,
                       BandwidthServer& port, SimCounters& counters)
    : sc_module(name),
      hw_(hw),
      clock_(hw.chip.clock_hz),
      counters_(counters),
      read_dma_("read_dma", hw.chip.dma, hbm, port, counters),
      write_dma_("write_dma", hw.chip.dma, hbm, port, counters),
      mxu_counters_(hw.chip.mxus_per_core) {
  const SystolicArrayShape shape{hw.chip.mxu.rows, hw.chip.mxu.cols, hw.chip.mxu.weight_overlap};
  for (std::uint32_t j = 0; j < hw.chip.mxus_per_core; ++j) mxus_.emplace_back(shape);
  SC_HAS_PROCESS(TensorCore);
  SC_THREAD(loader);
  SC_THREAD(compute);
  SC_THREAD(storer);
}

void TensorCore::start(const CoreMatmulProgram& program) {
  program_ = program;
  tiles_ = MatmulTileSequence(program.op, program.tiling, program.core, program.cores);
  issued_ = scheduled_ = blocks_started_ = blocks_stored_ = 0;
  blocks_total_ = program.tiling.blocks_k ? tiles_.size() / program.tiling.blocks_k : 0;
  finished_ = tiles_.size() == 0;
  buffer_free_ps_[0] = buffer_free_ps_[1] = 0;
  ++program_id_;
  start_ev_.notify();
}

void TensorCore::wait_for(std::uint64_t& seen_program) {
  while (program_id_ == seen_program) {
    wait(start_ev_);
    ++counters_.wakeups;
  }
  seen_program = program_id_;
}

void TensorCore::loader() {
  std::uint64_t seen = 0;
  for (;;) {
    wait_for(seen);
    const std::uint64_t b = dtype_bytes(program_.op.dtype);
    for (std::uint64_t i = 0; i < tiles_.size(); ++i) {
      while (i >= scheduled_ + 2) {  // both operand buffers hold tiles not yet scheduled
        wait(scheduled_ev_);
        ++counters_.wakeups;
      }
      // Tile i-2 is scheduled; its buffer is free once its input stream has ended.
      const std::uint64_t free_at = buffer_free_ps_[i % 2];
      if (free_at > now_ps()) {
        wait(sc_time::from_value(free_at - now_ps()));
        ++counters_.wakeups;
      }
      const MatmulTile t = tiles_.at(i);
      DmaJob& job = load_jobs_[i % 2];
      job.reset(false);
      const auto& op = program_.op;
      job.regions.push_back({program_.a_base + (t.m0 * op.k + t.k0) * b, t.tm, t.tk * b, op.k * b});
      job.regions.push_back({program_.b_base + (t.k0 * op.n + t.n0) * b, t.tk, t.tn * b, op.n * b});
      read_dma_.submit(job);
      ++issued_;
      issued_ev_.notify();
    }
  }
}

void TensorCore::run_tile(const MatmulTile& t, std::uint64_t* stream_end_ps, std::uint64_t* done_ps) {
  const std::uint64_t R = hw_.chip.mxu.rows, C = hw_.chip.mxu.cols;
  const std::uint64_t mxus = mxus_.size();
  const std::uint64_t folds_k = ceil_div(t.tk, R), folds_n = ceil_div(t.tn, C);
  const std::uint64_t ready = clock_.cycle_at(now_ps());
  std::uint64_t stream_end = ready, done = ready;
  std::uint64_t fold_start = 0;  // first n-fold of the next MXU (column split)
  for (std::uint64_t j = 0; j < mxus; ++j) {
    std::uint64_t folds, rows, macs;
    if (folds_n >= mxus) {
      // Column split: each MXU takes a contiguous run of n-folds (whole weight tiles).
      const std::uint64_t nf = folds_n / mxus + (j < folds_n % mxus ? 1 : 0);
      const std::uint64_t width = std::min(t.tn, (fold_start + nf) * C) - fold_start * C;
      fold_start += nf;
      folds = folds_k * nf;
      rows = t.tm;
      macs = t.tm * t.tk * width;
    } else {
      // Fewer weight tiles than MXUs: every MXU holds all of them and streams a share
      // of the rows.
      rows = t.tm / mxus + (j < t.tm % mxus ? 1 : 0);
      folds = folds_k * folds_n;
      macs = rows * t.tk * t.tn;
    }
    if (rows == 0 || folds == 0) continue;
    const FoldRunTiming r = mxus_[j].run(ready, folds, rows, program_.passes);
    stream_end = std::max(stream_end, r.stream_end);
    done = std::max(done, r.done);
    MxuCounters& c = mxu_counters_[j];
    c.stream_cycles += r.stream_cycles;
    c.weight_stall_cycles += r.weight_stall_cycles;
    c.folds += folds;
    c.macs += macs;
    c.padded_macs += folds * rows * R * C - macs;
  }
  *stream_end_ps = clock_.ps_of(stream_end);
  *done_ps = clock_.ps_of(done);
}

void TensorCore::compute() {
  std::uint64_t seen = 0;
  for (;;) {
    wait_for(seen);
    for (std::uint64_t i = 0; i < tiles_.size(); ++i) {
      const MatmulTile t = tiles_.at(i);
      if (t.first_k) {
        while (blocks_started_ >= blocks_stored_ + 2) {  // both accumulator blocks busy
          wait(stored_ev_);
          ++counters_.wakeups;
        }
        ++blocks_started_;
      }
      while (issued_ <= i) {
        wait(issued_ev_);
        ++counters_.wakeups;
      }
      DmaJob& job = load_jobs_[i % 2];
      while (!job.finished) {
        wait(job.done);
        ++counters_.wakeups;
      }
      // The MXUs' timing is closed form, so the tile is scheduled now and the thread
      // moves on: the next tile's weights can then shift in while this one streams.
      std::uint64_t stream_end = 0, done = 0;
      run_tile(t, &stream_end, &done);
      buffer_free_ps_[i % 2] = stream_end;
      ++scheduled_;
      scheduled_ev_.notify();
      if (t.last_k) {
        stores_.push_back({t, done});
        store_queued_ev_.notify();
      }
    }
    while (blocks_stored_ < blocks_total_) {
      wait(stored_ev_);
      ++counters_.wakeups;
    }
    finished_ = true;
    finished_ev_.notify();
  }
}

void TensorCore::storer() {
  for (;;) {
    while (stores_.empty()) {
      wait(store_queued_ev_);
      ++counters_.wakeups;
    }
    const PendingStore s = stores_.front();
    stores_.pop_front();
    if (s.ready_ps > now_ps()) {  // the block's last results are still draining
      wait(sc_time::from_value(s.ready_ps - now_ps()));
      ++counters_.wakeups;
    }
    const std::uint64_t b = dtype_bytes(program_.op.dtype);
    const auto& op = program_.op;
    store_job_.reset(true);
    store_job_.regions.push_back(
        {program_.c_base + (s.tile.m0 * op.n + s.tile.n0) * b, s.tile.tm, s.tile.tn * b, op.n * b});
    write_dma_.submit(store_job_);
    while (!store_job_.finished) {
      wait(store_job_.done);
      ++counters_.wakeups;
    }
    ++blocks_stored_;
    stored_ev_.notify();
  }
}

std::string TensorCore::progress() const {
  return fmt::format("{}: tiles loaded {}/{}, scheduled {}/{}, blocks stored {}/{}, read DMA {} in flight, "
                     "write DMA {} in flight",
                     name(), issued_, tiles_.size(), scheduled_, tiles_.size(), blocks_stored_,
                     blocks_total_, read_dma_.in_flight(), write_dma_.in_flight());
}

}  // namespace podsim
