// The TensorCore's part in steady-state replay (arch/steady_state.h): asking at period
// boundaries, skipping, and describing its tiles to the coordinator.
#include <algorithm>
#include <numeric>

#include "podsim/arch/steady_state.h"
#include "podsim/arch/tensor_core.h"

namespace podsim {

bool TensorCore::TileSignature::operator==(const TileSignature& o) const {
  return std::equal(std::begin(shape), std::end(shape), std::begin(o.shape)) && load_bytes == o.load_bytes &&
         store_bytes == o.store_bytes && regions == o.regions;
}

bool TensorCore::TileSignature::same_shape(const TileSignature& o) const {
  return std::equal(std::begin(shape), std::end(shape), std::begin(o.shape)) && store_bytes == o.store_bytes;
}

TensorCore::TileSignature TensorCore::signature(std::uint64_t i) const {
  TileSignature s;
  std::vector<DmaRegion> regions;
  if (program_.engine == Engine::mxu) {
    const MatmulTile t = tiles_.at(i);
    s.shape[0] = t.tm;
    s.shape[1] = t.tk;
    s.shape[2] = t.tn;
    s.shape[3] = (t.first_k ? 1 : 0) + (t.last_k ? 2 : 0);
    planned_load_regions(i, !program_.tiling.a_onchip, regions);
  } else {
    std::uint64_t first = 0, rows = 0;
    vector_tile_rows(i, &first, &rows);
    s.shape[0] = rows;
    planned_load_regions(i, false, regions);
  }
  s.regions = regions.size();
  for (const DmaRegion& r : regions) s.load_bytes += r.bytes();
  if (program_.engine != Engine::mxu || tiles_.at(i).last_k)
    for (const DmaRegion& r : store_regions(i)) {
      s.store_bytes += r.bytes();
      ++s.regions;
    }
  return s;
}

std::uint64_t TensorCore::tile_hbm_bytes(std::uint64_t from, std::uint64_t count, std::uint64_t* loads) const {
  std::uint64_t bytes = 0, loaded = 0;
  for (std::uint64_t i = from; i < from + count && i < tile_count(); ++i) {
    const TileSignature s = signature(i);
    bytes += s.load_bytes + s.store_bytes;
    loaded += s.load_bytes;
  }
  if (loads) *loads = loaded;
  return bytes;
}

std::uint64_t TensorCore::tile_macs(std::uint64_t from, std::uint64_t count) const {
  if (program_.engine != Engine::mxu) return 0;  // the vector unit counts no MACs
  if (program_.op.block_sparsity > 0 || program_.op.weight_sparsity > 0) return kUnknownMacs;
  std::uint64_t macs = 0;
  for (std::uint64_t i = from; i < from + count && i < tile_count(); ++i) {
    const MatmulTile t = tiles_.at(i);
    macs += t.tm * t.tk * t.tn;  // the MXU shares of a dense tile add up to its volume
  }
  return macs;
}

std::uint64_t TensorCore::repeating_tiles(std::uint64_t from, std::uint64_t period, std::uint64_t limit,
                                          bool same_bytes) const {
  if (period == 0 || from < 2 * period) return 0;
  const std::uint64_t check_from = from - period;  // tile j against tile j - period from here
  // Carry on an earlier scan when it covers check_from; otherwise start again there.
  if (scan_period_ != period || scan_same_bytes_ != same_bytes || check_from < scan_from_ || check_from > scan_to_) {
    scan_period_ = period;
    scan_same_bytes_ = same_bytes;
    scan_from_ = scan_to_ = check_from;
    scan_end_ = false;
  }
  const std::uint64_t want = std::min(tile_count(), from + limit);
  while (!scan_end_ && scan_to_ < want) {
    const TileSignature now = signature(scan_to_), before = signature(scan_to_ - period);
    if (!(same_bytes ? now == before : now.same_shape(before))) {
      scan_end_ = true;
      break;
    }
    ++scan_to_;
  }
  if (scan_to_ <= from) return 0;
  return std::min(limit, scan_to_ - from);
}

std::uint64_t TensorCore::skip_if_steady(std::uint64_t i) {
  std::uint64_t wait_ps = 0;
  const std::uint64_t tiles = steady_->at_boundary(core_index_, i, sc_core::sc_time_stamp().value(), &wait_ps);
  if (tiles == 0) return i;
  skip_ = Skip{i, i + tiles, wait_ps};
  issued_ = i + tiles;  // the compute stage finds them issued, and skips them
  issued_ev_.notify();
  if (trace_) {  // the skipped time as one slice on the core's own track
    const std::uint64_t now = sc_core::sc_time_stamp().value();
    trace_->slice(trace_->track(std::string(basename()) + ".replayed"), now, now + wait_ps,
                  program_.label + " (" + std::to_string(tiles) + " tiles replayed)");
  }
  sc_core::wait(sc_core::sc_time::from_value(wait_ps));
  ++counters_.wakeups;
  steady_->resumed(sc_core::sc_time_stamp().value());
  return i + tiles;
}

void TensorCore::skip_in_compute() {
  // Everything the pipeline has scheduled moves on by the skipped time, as the same
  // stage of the tiles `tiles` later would stand in the full simulation.
  const std::uint64_t tiles = skip_.to - skip_.from;
  const std::uint64_t cycles = clock_.cycle_at(skip_.shift_ps);  // shift_ps is a whole number of cycles
  for (auto& array : mxus_) array.shift(cycles);
  vpu_free_ += cycles;
  for (auto& t : buffer_free_ps_) t += skip_.shift_ps;
  // The blocks the skipped tiles start and finish (a skip inside one block's k loop
  // starts and finishes none).
  std::uint64_t started = tiles, finished = tiles;
  if (program_.engine == Engine::mxu) {
    started = finished = 0;
    for (std::uint64_t i = skip_.from; i < skip_.to; ++i) {
      const MatmulTile t = tiles_.at(i);
      started += t.first_k ? 1 : 0;
      finished += t.last_k ? 1 : 0;
    }
  }
  blocks_started_ += started;
  blocks_stored_ += finished;
  scheduled_ += tiles;
  scheduled_ev_.notify();
  stored_ev_.notify();
  skip_ = Skip{};
}

std::uint64_t TensorCore::steady_period() const {
  // At least kMinPeriodTiles tiles (a skip is also a whole number of turns of the operand
  // buffers: steady_skip_unit).
  auto at_least_min = [](std::uint64_t unit) { return unit * ((kMinPeriodTiles + unit - 1) / unit); };
  std::uint64_t unit = at_least_min(1);
  if (program_.engine == Engine::mxu) {
    const MatmulOp& op = program_.op;
    // Not replayed: A-resident tilings (whether a tile loads A depends on the tiles
    // before), sparse weights (each tile runs its own folds), and a weight FIFO (weights
    // are fetched fold by fold, across ops).
    if (program_.tiling.a_resident || op.block_sparsity > 0 || op.weight_sparsity > 0 || weight_fifo() ||
        program_.tiling.blocks_k == 0)
      return 0;
    // Whole output blocks (a block's first tile starts the accumulator, its last stores
    // it) when the core runs enough of them; otherwise periods inside one block's k loop,
    // whose middle tiles are alike, if it is long (a weight gradient's).
    const std::uint64_t blocks = at_least_min(program_.tiling.blocks_k);
    if (!(tile_count() < kMinPeriodsPerRun * blocks && program_.tiling.blocks_k >= kMinPeriodsPerRun * unit))
      unit = blocks;
  } else if (program_.engine != Engine::vector) {
    return 0;  // embedding lookups draw their own rows
  }
  if (tile_count() < kMinTilesPerRun) return 0;
  // The tiles' shapes and bytes may repeat only over several units (a convolution's input
  // rows under its windows follow the image's rows): the first multiple under which the
  // first periods repeat.
  for (std::uint64_t m = 1; m <= kMaxPeriodUnits; ++m) {
    const std::uint64_t p = unit * m;
    if (tile_count() < kMinPeriodsPerRun * p) break;
    bool repeats = true;
    for (std::uint64_t j = p; j < 3 * p && repeats; ++j) repeats = signature(j) == signature(j - p);
    if (repeats) return p;
  }
  return unit;
}

std::uint64_t TensorCore::steady_skip_unit(std::uint64_t period) const {
  // Tile j and j + skip use the same operand buffer, so the buffers' shifted times line up.
  return period ? std::lcm(period, std::uint64_t(load_jobs_.size())) : 0;
}

}  // namespace podsim
