#include "podsim/arch/tensor_core.h"

#include <algorithm>

#include <fmt/format.h>

namespace podsim {

using sc_core::sc_time;

namespace {
std::uint64_t now_ps() { return sc_core::sc_time_stamp().value(); }

void wait_until_ps(std::uint64_t t, SimCounters& counters) {
  if (t > now_ps()) {
    sc_core::wait(sc_time::from_value(t - now_ps()));
    ++counters.wakeups;
  }
}
}  // namespace

TensorCore::TensorCore(sc_core::sc_module_name name, const HardwareSpec& hw, HbmModel& hbm,
                       BandwidthServer& port, SimCounters& counters, TraceRecorder* trace)
    : sc_module(name),
      hw_(hw),
      clock_(hw.chip.clock_hz),
      counters_(counters),
      read_dma_("read_dma", hw.chip.dma, hbm, port, counters),
      write_dma_("write_dma", hw.chip.dma, hbm, port, counters),
      weight_dma_("weight_dma", hw.chip.dma, hbm, port, counters),
      mxu_counters_(hw.chip.mxus_per_core),
      buffer_free_ps_(hw.chip.vmem_operand_buffers, 0),
      fifo_free_ps_(hw.chip.mxu.weight_fifo_depth, 0) {
  for (std::uint32_t i = 0; i < hw.chip.vmem_operand_buffers; ++i) load_jobs_.push_back(std::make_unique<DmaJob>());
  for (std::uint32_t j = 0; j < hw.chip.mxus_per_core; ++j) mxus_.emplace_back(array_shape(hw));
  for (std::uint32_t s = 0; s < hw.chip.mxu.weight_fifo_depth; ++s) weight_jobs_.push_back(std::make_unique<DmaJob>());
  trace_ = trace;
  if (trace_) {
    const std::string base = basename();
    for (std::uint32_t j = 0; j < hw.chip.mxus_per_core; ++j) mxu_tracks_.push_back(trace_->track(base + ".mxu" + std::to_string(j)));
    read_dma_.set_trace(trace_, trace_->track(base + ".read_dma"));
    write_dma_.set_trace(trace_, trace_->track(base + ".write_dma"));
    if (weight_fifo()) weight_dma_.set_trace(trace_, trace_->track(base + ".weight_dma"));
    vpu_track_ = trace_->track(base + ".vector_unit");
  }
  SC_HAS_PROCESS(TensorCore);
  SC_THREAD(loader);
  SC_THREAD(compute);
  SC_THREAD(storer);
  if (weight_fifo()) SC_THREAD(weight_fetcher);
}

void TensorCore::list_counters(std::vector<std::uint64_t*>& out) {
  for (auto& m : mxu_counters_) out.insert(out.end(), {&m.macs, &m.padded_macs, &m.folds});
  for (auto& m : mxus_) m.list_counters(out);
  out.insert(out.end(), {&vpu_busy_cycles_, &onchip_bytes_});
  read_dma_.list_counters(out);
  write_dma_.list_counters(out);
  weight_dma_.list_counters(out);
}

void TensorCore::start(const CoreMatmulProgram& program, const CoreMatmulProgram* next) {
  program_ = program;
  tiles_ = MatmulTileSequence(program.op, program.tiling, program.core, program.cores, program.instances);
  issued_ = scheduled_ = blocks_started_ = blocks_stored_ = 0;
  skip_ = Skip{};
  scan_from_ = scan_to_ = scan_period_ = 0;
  scan_end_ = false;
  if (weight_fifo() && program.engine == Engine::mxu) {
    if (!next_queued_) fetch_queue_.push_back(program);
    next_queued_ = false;
    if (next && next->engine == Engine::mxu && hw_.chip.mxu.weight_prefetch_across_ops) {
      fetch_queue_.push_back(*next);
      next_queued_ = true;
    }
    fetch_queued_ev_.notify();
  }
  blocks_total_ = program.engine != Engine::mxu ? tile_count()
                  : program.tiling.blocks_k ? tiles_.size() / program.tiling.blocks_k : 0;
  finished_ = tile_count() == 0;
  a_loaded_.assign(program.tiling.a_resident ? program.tiling.blocks_m * program.tiling.blocks_k : 0, false);
  a_loaded_instance_ = 0;
  std::fill(buffer_free_ps_.begin(), buffer_free_ps_.end(), 0);
  for (auto& m : mxus_) m.begin_window(clock_.cycle_at(now_ps()));
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

std::vector<MxuShare> TensorCore::share_tile(const SystolicArrayShape& shape, std::uint32_t mxus,
                                             const MatmulTile& t, MxuRate rate) {
  const FoldGrid g = fold_grid(shape, t.tm, t.tk, t.tn);
  const bool by_columns = split_over_mxus(shape, mxus, g, rate).by_columns;
  std::vector<MxuShare> shares;
  std::uint64_t next_col_fold = 0;
  for (std::uint32_t j = 0; j < mxus; ++j) {
    MxuShare s;
    s.mxu = j;
    s.row_folds = g.row_folds;
    if (by_columns) {
      // Column split: each MXU takes a contiguous run of column folds (whole blocks); with
      // fewer column folds than MXUs the last MXUs get none.
      s.col_fold_begin = next_col_fold;
      s.col_folds = g.col_folds / mxus + (j < g.col_folds % mxus ? 1 : 0);
      next_col_fold += s.col_folds;
      s.rows = g.stream;
      const std::uint64_t width =
          std::min(g.along_cols, (s.col_fold_begin + s.col_folds) * shape.cols) - s.col_fold_begin * shape.cols;
      s.macs = s.rows * g.along_rows * width;
    } else {
      // Row split: each MXU holds every block and streams a share of the rows.
      s.col_folds = g.col_folds;
      s.rows = g.stream / mxus + (j < g.stream % mxus ? 1 : 0);
      s.macs = s.rows * g.along_rows * g.along_cols;
    }
    if (s.rows > 0 && s.col_folds > 0) shares.push_back(s);
  }
  return shares;
}

void TensorCore::sparse_share(const MatmulOp& op, const MatmulTile& t, MxuShare* s, std::uint64_t* folds,
                              std::vector<std::pair<std::uint64_t, std::uint64_t>>* run) const {
  if (op.weight_sparsity > 0) {
    // Fine-grained: useful MACs over the share's columns and the tile's nonzero k rows; with
    // zero skipping the nonzero weights pack into fewer row folds.
    const std::uint64_t R = hw_.chip.mxu.rows, C = hw_.chip.mxu.cols;
    const std::uint64_t n0 = t.n0 + s->col_fold_begin * C;
    const std::uint64_t n1 = std::min(t.n0 + t.tn, t.n0 + (s->col_fold_begin + s->col_folds) * C);
    const std::uint64_t nonzero = op.nonzero_k(t.k0, t.k0 + t.tk);
    s->macs = s->rows * nonzero * (n1 - n0);
    const std::uint64_t row_folds = hw_.chip.mxu.skip_zero_weights ? (nonzero + R - 1) / R : s->row_folds;
    *folds = s->col_folds * row_folds;
    if (run)
      for (std::uint64_t c = s->col_fold_begin; c < s->col_fold_begin + s->col_folds; ++c)
        for (std::uint64_t r = 0; r < row_folds; ++r) run->push_back({r, c});
    return;
  }
  // ws: fold (r, c) holds B[k0 + r R .., n0 + c C ..]. It runs unless every weight in it
  // lies in a zero block; useful MACs count only the nonzero blocks' weights.
  const std::uint64_t R = hw_.chip.mxu.rows, C = hw_.chip.mxu.cols;
  std::uint64_t executed = 0, macs = 0;
  for (std::uint64_t c = s->col_fold_begin; c < s->col_fold_begin + s->col_folds; ++c)
    for (std::uint64_t r = 0; r < s->row_folds; ++r) {
      const std::uint64_t k0 = t.k0 + r * R, k1 = std::min(t.k0 + t.tk, k0 + R);
      const std::uint64_t n0 = t.n0 + c * C, n1 = std::min(t.n0 + t.tn, n0 + C);
      const std::uint64_t nonzero = op.nonzero_weights(k0, k1, n0, n1);
      if (nonzero == 0) continue;  // an all-zero weight tile: skipped
      ++executed;
      if (run) run->push_back({r, c});
      macs += s->rows * nonzero;
    }
  *folds = executed;
  s->macs = macs;
}

DmaRegion TensorCore::weight_region(const CoreMatmulProgram& p, const MatmulTile& t, std::uint64_t row_fold,
                                    std::uint64_t col_fold) const {
  // ws: rows of the array hold k, columns hold n. The fold's block of B:
  const std::uint64_t R = hw_.chip.mxu.rows, C = hw_.chip.mxu.cols;
  const MatmulOp& op = p.op;
  const std::uint64_t k = t.k0 + row_fold * R, n = t.n0 + col_fold * C;
  const std::uint64_t pitch = op.weight_bytes(padded_weight_n(op, hw_));
  // Padded layout: a whole R x C tile even at the matrix edges (Jouppi et al. 2017 Sec. 7).
  if (hw_.chip.mxu.padded_weight_tiles) return {p.b_base + k * pitch + op.weight_bytes(n), R, op.weight_bytes(C), pitch};
  const std::uint64_t rows = std::min(R, t.k0 + t.tk - k), cols = std::min(C, t.n0 + t.tn - n);
  return {p.b_base + k * pitch + op.weight_bytes(n), rows, op.weight_bytes(cols), pitch};
}

void TensorCore::loader() {
  std::uint64_t seen = 0;
  for (;;) {
    wait_for(seen);
    const std::uint64_t buffers = load_jobs_.size();
    for (std::uint64_t i = 0; i < tile_count(); ++i) {
      if (steady_ && i > 0) i = skip_if_steady(i);
      while (i >= scheduled_ + buffers) {  // every operand buffer holds a tile not yet scheduled
        wait(scheduled_ev_);
        ++counters_.wakeups;
      }
      // Tile i-B is scheduled; its buffer is free once its input stream has ended.
      wait_until_ps(buffer_free_ps_[i % buffers], counters_);
      DmaJob& job = *load_jobs_[i % buffers];
      job.reset(false);
      job.label = program_.engine == Engine::embedding ? "gather" : "load tile";
      load_regions(i, job.regions);
      read_dma_.submit(job);
      ++issued_;
      issued_ev_.notify();
    }
  }
}

void TensorCore::weight_fetcher() {
  for (;;) {
    while (fetch_queue_.empty()) {
      wait(fetch_queued_ev_);
      ++counters_.wakeups;
    }
    const CoreMatmulProgram p = fetch_queue_.front();
    fetch_weights_of(p);
    fetch_queue_.pop_front();
  }
}

void TensorCore::fetch_weights_of(const CoreMatmulProgram& p) {
  const std::uint64_t depth = hw_.chip.mxu.weight_fifo_depth;
  const SystolicArrayShape shape = array_shape(hw_);
  const MatmulTileSequence tiles(p.op, p.tiling, p.core, p.cores, p.instances);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> folds;  // (row fold, column fold), as the array runs them
  for (std::uint64_t i = 0; i < tiles.size(); ++i) {
    const MatmulTile t = tiles.at(i);
    for (MxuShare s : share_tile(shape, static_cast<std::uint32_t>(mxus_.size()), t, p.rate)) {
      folds.clear();
      if (p.op.block_sparsity > 0 || p.op.weight_sparsity > 0) {
        std::uint64_t n = 0;
        sparse_share(p.op, t, &s, &n, &folds);
      } else {
        for (std::uint64_t c = s.col_fold_begin; c < s.col_fold_begin + s.col_folds; ++c)
          for (std::uint64_t r = 0; r < s.row_folds; ++r) folds.push_back({r, c});
      }
      for (const auto& [r, c] : folds) {
        const std::uint64_t g = weights_issued_;
        while (g >= weights_consumed_ + depth) {  // FIFO full
          wait(weights_consumed_ev_);
          ++counters_.wakeups;
        }
        wait_until_ps(fifo_free_ps_[g % depth], counters_);  // slot drains into the array
        DmaJob& job = *weight_jobs_[g % depth];
        job.reset(false);
        job.regions.push_back(weight_region(p, t, r, c));
        weight_dma_.submit(job);
        ++weights_issued_;
        weights_issued_ev_.notify();
      }
    }
  }
}

void TensorCore::schedule_tile(const MatmulTile& t, std::uint64_t ready, std::uint64_t* stream_end,
                               std::uint64_t* done) {
  const SystolicArrayShape shape = array_shape(hw_);
  const std::uint64_t R = shape.rows, C = shape.cols;
  *stream_end = *done = ready;
  for (MxuShare s : share_tile(shape, static_cast<std::uint32_t>(mxus_.size()), t, program_.rate)) {
    SystolicPipeline& array = mxus_[s.mxu];
    std::uint64_t folds = s.col_folds * s.row_folds;
    if (program_.op.block_sparsity > 0 || program_.op.weight_sparsity > 0) sparse_share(program_.op, t, &s, &folds);
    if (!weight_fifo()) {
      const FoldRunTiming r = array.run(FoldBatch{folds, s.rows, program_.rate, ready, ready});
      if (trace_) trace_->slice(mxu_tracks_[s.mxu], clock_.ps_of(r.first_inject), clock_.ps_of(r.stream_end), program_.label);
      *stream_end = std::max(*stream_end, r.stream_end);
      *done = std::max(*done, r.done);
    } else {
      // Fold by fold: each waits for its weight tile to arrive in the FIFO.
      const std::uint64_t depth = hw_.chip.mxu.weight_fifo_depth;
      for (std::uint64_t f = 0; f < folds; ++f) {
        const std::uint64_t g = weights_consumed_;
        while (weights_issued_ <= g) {
          wait(weights_issued_ev_);
          ++counters_.wakeups;
        }
        DmaJob& job = *weight_jobs_[g % depth];
        while (!job.finished) {
          wait(job.done);
          ++counters_.wakeups;
        }
        const FoldRunTiming r =
            array.run(FoldBatch{1, s.rows, program_.rate, ready, clock_.cycle_at(job.done_ps)});
        // The FIFO slot frees once the tile has shifted into the array.
        fifo_free_ps_[g % depth] = clock_.ps_of(r.load_start + array.weight_load_cycles());
        if (trace_) trace_->slice(mxu_tracks_[s.mxu], clock_.ps_of(r.first_inject), clock_.ps_of(r.stream_end), program_.label);
        ++weights_consumed_;
        weights_consumed_ev_.notify();
        *stream_end = std::max(*stream_end, r.stream_end);
        *done = std::max(*done, r.done);
      }
    }
    MxuCounters& c = mxu_counters_[s.mxu];
    c.folds += folds;
    c.macs += s.macs;
    c.padded_macs += folds * s.rows * R * C - s.macs;
    // Vector memory traffic of the array: each fold reads its stationary block (R x C) and
    // streams `rows` rows of R values in, `rows` rows of C partial sums out (accumulators).
    const std::uint64_t b = dtype_bytes(program_.op.dtype), acc = hw_.chip.mxu.accumulator_bits / 8;
    onchip_bytes_ += folds * (R * C * b + s.rows * R * b + s.rows * C * acc);
  }
}

void TensorCore::compute() {
  std::uint64_t seen = 0;
  for (;;) {
    wait_for(seen);
    for (std::uint64_t i = 0; i < tile_count(); ++i) {
      if (i == skip_.from) {  // the loader skipped tiles [from, to): steady-state replay
        i = skip_.to;
        skip_in_compute();
      }
      const bool mxu = program_.engine == Engine::mxu;
      const MatmulTile t = mxu ? tiles_.at(i) : MatmulTile{};
      if (!mxu || t.first_k) {
        while (blocks_started_ >= blocks_stored_ + 2) {  // both output blocks busy
          wait(stored_ev_);
          ++counters_.wakeups;
        }
        ++blocks_started_;
      }
      while (issued_ <= i) {
        wait(issued_ev_);
        ++counters_.wakeups;
      }
      DmaJob& job = *load_jobs_[i % load_jobs_.size()];
      while (!job.finished) {
        wait(job.done);
        ++counters_.wakeups;
      }
      // The timing is closed form, so the tile is scheduled now and the thread moves on:
      // the next tile's weights can then shift in while this one streams.
      std::uint64_t stream_end = 0, done = 0;
      const std::uint64_t ready = clock_.cycle_at(now_ps());
      if (mxu) {
        schedule_tile(t, dequantize(t, ready), &stream_end, &done);
      } else {
        // The vector unit: rows x columns of element work, tiles back to back.
        std::uint64_t first = 0, rows = 0;
        vector_tile_rows(i, &first, &rows);
        const std::uint64_t cycles =
            program_.engine == Engine::vector
                ? vector_op_tile_cycles(hw_, program_.vector, first, rows)
                : vector_tile_cycles(hw_, VectorCost{1 + 2 * program_.embedding.state_tables, 0, 0},
                                     rows * program_.embedding.lookups, program_.embedding.dim);
        const std::uint64_t start = std::max(ready, vpu_free_);
        vpu_free_ = start + cycles;
        vpu_busy_cycles_ += cycles;
        // The vector unit reads its inputs and writes its outputs in vector memory.
        if (program_.engine == Engine::vector) {
          const VectorOp& v = program_.vector;
          const std::uint64_t written = v.fn == VectorFn::transpose
                                            ? rows * v.cols
                                            : mapped_span(v, first, rows, v.output_rows()) * v.output_cols();
          onchip_bytes_ += (rows * v.cols * v.inputs + mapped_span(v, first, rows, v.side_rows) * v.side_cols +
                            written * v.outputs) *
                           dtype_bytes(v.dtype);
        }
        else if (!program_.embedding.backward)
          onchip_bytes_ += (rows * program_.embedding.lookups + rows) * program_.embedding.row_bytes();
        else  // rows and state rows read and written, the gradient row read
          onchip_bytes_ += (2 * rows * program_.embedding.lookups * (1 + program_.embedding.state_tables) + rows) *
                           program_.embedding.row_bytes();
        stream_end = done = vpu_free_;
        if (trace_ && !mxu_tracks_.empty())
          trace_->slice(vpu_track_, clock_.ps_of(start), clock_.ps_of(vpu_free_), program_.label);
      }
      buffer_free_ps_[i % buffer_free_ps_.size()] = clock_.ps_of(stream_end);
      ++scheduled_;
      scheduled_ev_.notify();
      if (mxu && t.last_k && program_.epilogue) done = run_epilogue(t, done);
      if (!mxu || t.last_k) {
        stores_.push_back({store_regions(i), clock_.ps_of(done)});
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

std::uint64_t TensorCore::dequantize(const MatmulTile& t, std::uint64_t loaded) {
  // Quantized weights (MatmulOp::weight_dtype): the tile's stored weights become the op's
  // dtype on the vector unit before they shift into the arrays. The vector unit does this
  // while the arrays stream the tile before, so it costs time only where it is the longer.
  const MatmulOp& op = program_.op;
  if (!op.dequantizes()) return loaded;
  const std::uint64_t cycles = vector_tile_cycles(hw_, dequantize_cost(op.b_dtype()), t.tk, t.tn);
  const std::uint64_t start = std::max(loaded, vpu_free_);
  vpu_free_ = start + cycles;
  vpu_busy_cycles_ += cycles;
  onchip_bytes_ += op.weight_bytes(t.tk * t.tn) + t.tk * t.tn * dtype_bytes(op.dtype);  // read, and written
  if (trace_ && !mxu_tracks_.empty())
    trace_->slice(vpu_track_, clock_.ps_of(start), clock_.ps_of(vpu_free_), program_.label + " dequantize");
  return vpu_free_;
}

std::uint64_t TensorCore::run_epilogue(const MatmulTile& t, std::uint64_t results_ready) {
  // The block's results go through the vector unit on their way out of the accumulators,
  // while the arrays work on the next blocks; the store waits for it.
  const std::uint64_t cycles = vector_tile_cycles(hw_, *program_.epilogue, t.tm, t.tn);
  const std::uint64_t start = std::max(results_ready, vpu_free_);
  vpu_free_ = start + cycles;
  vpu_busy_cycles_ += cycles;
  onchip_bytes_ += 2 * t.tm * t.tn * dtype_bytes(program_.op.dtype);  // read and written in vector memory
  if (trace_ && !mxu_tracks_.empty())
    trace_->slice(vpu_track_, clock_.ps_of(start), clock_.ps_of(vpu_free_), program_.label + " epilogue");
  return vpu_free_;
}

void TensorCore::storer() {
  for (;;) {
    while (stores_.empty()) {
      wait(store_queued_ev_);
      ++counters_.wakeups;
    }
    const PendingStore s = stores_.front();
    stores_.pop_front();
    wait_until_ps(s.ready_ps, counters_);  // the block's last results are still draining
    store_job_.reset(true);
    store_job_.label = "store block";
    store_job_.regions = s.regions;
    write_dma_.submit(store_job_);
    while (!store_job_.finished) {
      wait(store_job_.done);
      ++counters_.wakeups;
    }
    ++blocks_stored_;
    stored_ev_.notify();
  }
}

std::uint64_t TensorCore::tile_count() const {
  if (program_.engine == Engine::mxu) return tiles_.size();
  const std::uint64_t all = program_.vtiling.tiles;
  return program_.core < program_.cores && all > program_.core ? (all - program_.core + program_.cores - 1) / program_.cores : 0;
}

void TensorCore::vector_tile_rows(std::uint64_t i, std::uint64_t* first_row, std::uint64_t* rows) const {
  const std::uint64_t total = program_.engine == Engine::vector ? program_.vector.rows : program_.embedding.batch;
  const std::uint64_t tile = program_.core + i * program_.cores;  // tiles dealt round robin
  *first_row = tile * program_.vtiling.tile_rows;
  *rows = std::min(program_.vtiling.tile_rows, total - *first_row);
}

void TensorCore::embedding_rows(std::uint64_t i, std::vector<DmaRegion>& regions) const {
  std::uint64_t first = 0, rows = 0;
  vector_tile_rows(i, &first, &rows);
  const EmbeddingOp& e = program_.embedding;
  const std::uint64_t table = program_.c_base;  // the table's size, aligned (workload_plan.cpp)
  for (std::uint64_t s = first; s < first + rows; ++s)  // one gather entry per looked-up row
    for (std::uint64_t j = 0; j < e.lookups; ++j) {
      const std::uint64_t offset = embedding_row(e, s, j) * e.row_bytes();
      regions.push_back({program_.a_base + offset, 1, e.row_bytes(), e.row_bytes()});
      for (std::uint32_t k = 0; k < (e.backward ? e.state_tables : 0); ++k)
        regions.push_back({program_.b_base + k * table + offset, 1, e.row_bytes(), e.row_bytes()});
    }
}

void TensorCore::load_regions(std::uint64_t i, std::vector<DmaRegion>& regions) {
  if (program_.engine != Engine::mxu) return planned_load_regions(i, false, regions);
  const MatmulTile t = tiles_.at(i);
  // An A-resident tiling loads each A block once and keeps it in vector memory.
  const std::uint64_t a_block = (t.m0 / program_.tiling.tm) * program_.tiling.blocks_k + t.k0 / program_.tiling.tk;
  if (t.instance != a_loaded_instance_) {  // another instance: another A
    std::fill(a_loaded_.begin(), a_loaded_.end(), false);
    a_loaded_instance_ = t.instance;
  }
  // A in vector memory already (chip.vmem.holds_activations, fused attention) is not loaded.
  const bool load_a = !program_.tiling.a_onchip && (!program_.tiling.a_resident || !a_loaded_[a_block]);
  planned_load_regions(i, load_a, regions);
  if (load_a && program_.tiling.a_resident) a_loaded_[a_block] = true;
}

void TensorCore::planned_load_regions(std::uint64_t i, bool load_a, std::vector<DmaRegion>& regions) const {
  if (program_.engine == Engine::vector) {
    if (program_.vtiling.activations_onchip) return;  // all its tensors are in vector memory
    std::uint64_t first = 0, rows = 0;
    vector_tile_rows(i, &first, &rows);
    const VectorOp& v = program_.vector;
    const std::uint64_t b = dtype_bytes(v.dtype);
    const std::uint64_t row_bytes = v.cols * b;
    // Fused: the first input is the producer's output, still in vector memory.
    for (std::uint32_t in = program_.vtiling.fused ? 1 : 0; in < v.inputs; ++in)
      regions.push_back({program_.a_base + in * program_.tensor_stride + first * row_bytes, rows, row_bytes, row_bytes});
    if (v.side_rows > 0 && mapped_span(v, first, rows, v.side_rows) > 0) {  // after the inputs (workload_plan.cpp)
      const std::uint64_t side_bytes = v.side_cols * b;
      regions.push_back({program_.a_base + v.inputs * program_.tensor_stride +
                             mapped_row(first, v.rows, v.side_rows) * side_bytes,
                         mapped_span(v, first, rows, v.side_rows), side_bytes, side_bytes});
    }
    return;
  }
  if (program_.engine == Engine::embedding) {
    std::uint64_t first = 0, rows = 0;
    vector_tile_rows(i, &first, &rows);
    const EmbeddingOp& e = program_.embedding;
    if (e.backward)  // the samples' gradient rows
      regions.push_back({program_.c_base + first * e.row_bytes(), rows, e.row_bytes(), e.row_bytes()});
    embedding_rows(i, regions);
    return;
  }
  const MatmulTile t = tiles_.at(i);
  const auto& op = program_.op;
  const std::uint64_t b = dtype_bytes(op.dtype);
  if (load_a) {
    if (op.patches) {  // implicit GEMM: the input rows under the tile's windows
      patch_spans_.clear();
      patch_block(*op.patches, b, t.m0, t.tm, t.k0, t.tk, &patch_spans_);
      for (const InputSpan& s : patch_spans_)
        regions.push_back({program_.a_base + s.offset, s.count, s.row_bytes, s.stride});
    } else {
      regions.push_back({program_.a_base + (t.m0 * op.k + t.k0) * b, t.tm, t.tk * b, op.k * b});
    }
  }
  if (!weight_fifo()) {
    // Padded layout: the tile's K and N rounded up to whole array tiles.
    // B as stored: quantized weights move in their own (narrower) type.
    const std::uint64_t pitch = op.weight_bytes(padded_weight_n(op, hw_));
    const std::uint64_t R = hw_.chip.mxu.rows, C = hw_.chip.mxu.cols;
    const bool padded = hw_.chip.mxu.padded_weight_tiles;
    regions.push_back({program_.b_base + t.k0 * pitch + op.weight_bytes(t.n0), padded ? (t.tk + R - 1) / R * R : t.tk,
                       op.weight_bytes(padded ? (t.tn + C - 1) / C * C : t.tn), pitch});
  }
}

std::vector<DmaRegion> TensorCore::store_regions(std::uint64_t i) const {
  if (program_.engine == Engine::vector) {
    if (program_.vtiling.fused || program_.vtiling.activations_onchip) return {};  // stays in vector memory
    std::uint64_t first = 0, rows = 0;
    vector_tile_rows(i, &first, &rows);
    const VectorOp& v = program_.vector;
    const std::uint64_t b = dtype_bytes(v.dtype);
    std::vector<DmaRegion> out;
    if (v.fn == VectorFn::transpose) {
      // Input rows [first, first + rows) become columns of the output: a strip of `rows`
      // elements in each of its cols rows, rows x b bytes apart from one row to the next.
      out.push_back({program_.c_base + first * b, v.cols, rows * b, v.rows * b});
      return out;
    }
    const std::uint64_t row_bytes = v.output_cols() * b;
    const std::uint64_t out_first = mapped_row(first, v.rows, v.output_rows());
    const std::uint64_t out_rows = mapped_span(v, first, rows, v.output_rows());
    for (std::uint32_t o = 0; o < v.outputs && out_rows > 0; ++o)
      out.push_back({program_.c_base + o * program_.tensor_stride + out_first * row_bytes, out_rows, row_bytes,
                     row_bytes});
    return out;
  }
  if (program_.engine == Engine::embedding) {
    std::vector<DmaRegion> out;
    if (program_.embedding.backward) {  // scatter: every updated row back where it came from
      embedding_rows(i, out);
      return out;
    }
    std::uint64_t first = 0, rows = 0;
    vector_tile_rows(i, &first, &rows);
    const std::uint64_t row_bytes = program_.embedding.dim * dtype_bytes(program_.embedding.dtype);
    return {{program_.c_base + first * row_bytes, rows, row_bytes, row_bytes}};
  }
  if (program_.tiling.c_onchip) return {};  // C stays in vector memory for the next op
  const MatmulTile t = tiles_.at(i);
  const auto& op = program_.op;
  const std::uint64_t b = dtype_bytes(op.dtype);
  return {{program_.c_base + (t.m0 * op.n + t.n0) * b, t.tm, t.tn * b, op.n * b}};
}

std::string TensorCore::progress() const {
  return fmt::format("{}: tiles loaded {}/{}, scheduled {}/{}, blocks stored {}/{}, weight tiles fetched {} "
                     "used {}, read DMA {} in flight, write DMA {} in flight",
                     name(), issued_, tile_count(), scheduled_, tile_count(), blocks_stored_, blocks_total_,
                     weights_issued_, weights_consumed_, read_dma_.in_flight(), write_dma_.in_flight());
}

}  // namespace podsim
