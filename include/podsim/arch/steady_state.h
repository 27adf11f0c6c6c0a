// Steady-state replay inside an op (issue 18): once a program's tile pipeline repeats, the
// remaining repeats are not simulated. Time and every activity counter advance by whole
// periods instead.
//
// A period is `period` consecutive tiles of one core: whole output blocks, or, for an op
// with few blocks of many tiles (a weight gradient's long k loop), tiles inside one block's
// k loop. A skip is a whole number of periods and of turns of the operand buffers. Each core's loader stops at every period boundary, before issuing
// the boundary's tile, and asks the coordinator. The first core to reach boundary b takes
// a snapshot of the chip: the time and every counter (arch/counter_list.h). Boundary b is
// steady when, for a window of w = 1, 2, 4 or 8 periods, the two windows before it
// (b-2w -> b-w, b-w -> b)
//   - took the same time within kSteadyTolerance and counted the same MACs, the last
//     one's MACs its tiles' (every core),
//   - were submitted exactly their tiles' loads and stores (every core, reads and writes
//     apart), had exactly those bytes arrive (w = 1; within kSteadyTolerance for wider
//     windows, over which a chunk more or less matters less) and the memory serve them
//     within kSteadyTolerance (no backlog building or draining),
//   - every core has passed boundary b-1, and the tiles of every core repeat with the
//     period from the first window on in shape and stores (tile j like tile j - period);
//     their loads may differ if the skipped tiles move the last window's bytes within
//     kSteadyTolerance. With a CMEM in play, byte for byte and exactly the tiles' bytes
//     served, as before 2026-12-08.
// Then every core skips the same number of whole windows S (leaving at least one period at
// the end of every core, so the pipeline's drain is simulated): the counters get S times
// the last window's difference once, except the byte counters that must balance (DMA
// engines, bytes served, each channel's reads and writes), which get the skipped tiles'
// own bytes shared as the last window spread them; and each core, at its own boundary b,
// waits S times the last window's duration, shifts its pipeline's timestamps by as much
// and carries on with the tile after the skipped ones. The memory is left idle over the skipped time
// (HbmModel::replay: posted writes drained, rows closed, the refreshes credited), as for a
// replayed op, except that each channel stays busy past the resume for as long as its data
// bus was committed past the skip (the backlog a steady state carries from period to
// period).
//
// What this leaves out: the DMA queues' and the stores' backlog (the tiles after the skip
// find them empty), and the pipeline's last tiles before the skip run with less memory
// traffic beside them: at most about one tile's time per skip, measured against the full
// simulation (run --no-reuse) in docs/timing.md. Only runs of at least kMinTilesPerRun
// tiles per core are replayed. Tried and not kept: moving the memory's whole state on by
// the skipped time (the controller places requests when they arrive, so a backlog moved
// into the future holds back requests it would have let go first: +1.3 % on a 49-tile op),
// holding the DMA engines and the store count back by the skipped time (no measurable
// change).
// docs/timing.md gives the error measured against the full simulation (run --no-reuse).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "podsim/arch/counter_list.h"

namespace podsim {

class HbmModel;
class TensorCore;

// The relative difference two consecutive periods may differ by in time to count as steady.
constexpr double kSteadyTolerance = 0.01;
// The fewest tiles a period holds.
constexpr std::uint64_t kMinPeriodTiles = 4;
// Periods a run needs to be worth replaying: three measured, two skipped, one at the end.
constexpr std::uint64_t kMinPeriodsPerRun = 6;
// Tiles a core's run needs to be replayed: the refill after a skip costs about one tile.
constexpr std::uint64_t kMinTilesPerRun = 64;
// The most turns of the operand buffers (or blocks) a period may span.
constexpr std::uint64_t kMaxPeriodUnits = 16;
// The widest window of periods compared (1, 2, 4, ... periods; SteadyStateReplay::decide).
constexpr std::uint64_t kMaxWindowPeriods = 8;

class SteadyStateReplay {
 public:
  SteadyStateReplay(const CounterList& counters, HbmModel& hbm, const std::vector<TensorCore*>& cores,
                    std::uint64_t core_clock_hz);

  // Every core starts a new program run; `period` tiles per period, 0 for a program that
  // is always simulated whole; a skip is a multiple of `skip_unit` tiles (whole periods
  // and whole turns of the operand buffers).
  void begin(std::uint64_t period, std::uint64_t skip_unit);
  std::uint64_t period() const { return period_; }

  // Core `core` is about to issue tile `tile` (a multiple of the period) at `now_ps`.
  // Returns how many tiles it skips (0: none); *wait_ps is then the time they take.
  std::uint64_t at_boundary(std::uint32_t core, std::uint64_t tile, std::uint64_t now_ps, std::uint64_t* wait_ps);
  // A core carries on after its skip: the first one leaves the memory idle over the
  // skipped time.
  void resumed(std::uint64_t now_ps);

  std::uint64_t tiles_replayed() const { return tiles_replayed_; }
  std::uint64_t* tiles_replayed_counter() { return &tiles_replayed_; }

 private:
  struct Mark {
    std::uint64_t t_ps = 0;
    std::uint64_t hbm_bytes = 0, hbm_read_bytes = 0, macs = 0, dma_requested = 0, dma_completed = 0;
    std::uint64_t dma_read_requested = 0, cmem_bytes = 0;
    std::vector<std::uint64_t> counters, channel_bytes;
  };
  struct Decision {
    std::uint64_t tiles = 0, wait_ps = 0;
  };
  // Decides at boundary b (the caller is the first core there); 0 tiles when not steady.
  Decision decide(std::uint64_t b, std::uint64_t now_ps);
  // The same over windows of w periods: b - 2w -> b - w against b - w -> b.
  Decision decide_window(std::uint64_t b, std::uint64_t w, std::uint64_t now_ps);
  // What a skip of `windows` windows adds to each counter: the last window's difference
  // that many times, except, when `exact`, the byte counters that must balance (the DMA
  // engines' bytes, the memory's bytes served and each channel's reads and writes), which
  // get the skipped tiles' own `bytes`, `loads` of them read (see decide_window).
  std::vector<std::uint64_t> credit(const Mark& m1, const Mark& m2, std::uint64_t windows, bool exact,
                                    std::uint64_t bytes, std::uint64_t loads) const;

  const CounterList& counters_;
  // Where the byte counters credited exactly sit in counters_ (found_exact_: all found).
  struct DmaBytes {
    std::size_t requested, completed;
    bool writes;
  };
  std::vector<DmaBytes> dma_bytes_;
  std::size_t served_ = 0;
  std::vector<std::size_t> channel_reads_, channel_writes_;
  bool found_exact_ = false;
  HbmModel& hbm_;
  std::vector<TensorCore*> cores_;
  std::uint64_t core_clock_hz_;
  std::uint64_t period_ = 0, skip_unit_ = 0;
  std::map<std::uint64_t, Mark> marks_;          // by boundary, since the last skip
  std::map<std::uint64_t, Decision> decisions_;  // by boundary
  std::vector<std::uint64_t> reached_;           // per core: the last boundary it reached
  // A skip in progress: the memory is idled once, by the first core to resume.
  bool idle_pending_ = false;
  std::uint64_t skipped_ps_ = 0;
  std::vector<std::uint64_t> skipped_channel_bytes_;
  std::vector<std::uint64_t> backlog_ps_;  // per channel, at the skip: busy that long past the resume
  std::uint64_t tiles_replayed_ = 0;
};

}  // namespace podsim
