// The command buses of one pseudo-channel as timelines, so a controller can place a
// request's commands in any free gap that satisfies every spacing rule with the
// commands before *and after* it: a request to an idle bank is not held up behind an
// earlier request that waits for a busy one (FR-FCFS's reordering, done in closed form).
//
// Column commands are kept as runs: `count` bursts `step` cycles apart whose bank groups
// follow the address mapping (rotating, or one group per row of columns).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "podsim/config/dram_device.h"
#include "podsim/arch/dram/row_command_ring.h"
#include "podsim/arch/dram/sorted_window.h"

namespace podsim {

struct ColumnRun {
  std::int64_t start = 0;
  std::uint32_t count = 1;
  std::uint32_t step = 1;
  bool write = false;
  std::uint32_t first_bg = 0, first_col = 0;
  bool bg_fastest = true;

  std::int64_t end() const { return start + std::int64_t(count - 1) * step; }  // last command
  std::int64_t at(std::uint32_t j) const { return start + std::int64_t(j) * step; }

  // Filled by ColumnTimeline::index(): per bank group, its first and last burst (-1: none).
  static constexpr std::uint32_t kMaxGroups = 8;
  std::int32_t first_of[kMaxGroups] = {-1, -1, -1, -1, -1, -1, -1, -1};
  std::int32_t last_of[kMaxGroups] = {-1, -1, -1, -1, -1, -1, -1, -1};
};

class ColumnTimeline {
 public:
  explicit ColumnTimeline(const DramDevice& d);
  // The run's bank group for burst j.
  std::uint32_t bg_of(const ColumnRun& r, std::uint32_t j) const;
  // First and last burst index of bank group `bg` in the run, or false if absent.
  bool bursts_of(const ColumnRun& r, std::uint32_t bg, std::uint32_t* first, std::uint32_t* last) const;
  // Fills the run's per-bank-group first and last burst.
  void index(ColumnRun& run) const;
  // The earliest start >= earliest at which `run` (indexed) fits between the runs already placed.
  std::int64_t place(const ColumnRun& run, std::int64_t earliest) const;
  void insert(const ColumnRun& run) { runs_.insert(run.start, run); }
  // Forgets runs that ended before `cycle` minus the longest spacing rule.
  void prune(std::int64_t cycle);
  // The run placed latest (the greatest start), or null if none is kept.
  const ColumnRun* latest() const { return runs_.empty() ? nullptr : &runs_[runs_.size() - 1].second; }
  // The earliest start for `r` after `x` (r entirely later).
  std::int64_t after(const ColumnRun& x, const ColumnRun& r) const;

 private:
  std::int64_t gap(bool from_write, bool to_write, bool same_bg) const;
  // Whether `r` at its start ends early enough before `x`.
  bool fits_before(const ColumnRun& r, const ColumnRun& x) const;

  DramDevice d_;
  std::int64_t max_gap_;   // the longest spacing rule between two column commands
  std::int64_t max_span_;  // the longest run possible
  SortedWindow<ColumnRun> runs_;
};

enum class RowKind { act, other };

class RowTimeline {
 public:
  explicit RowTimeline(const DramDevice& d) : d_(d) {}
  // Earliest cycle >= earliest for an ACT to bank group `bg` (tRRD_S, tRRD_L and tFAW with
  // the ACTs on both sides; one row command per cycle).
  std::int64_t place_act(std::uint32_t bg, std::int64_t earliest) const;
  // Earliest free cycle >= earliest for another row command (PRE, REF).
  std::int64_t place_other(std::int64_t earliest) const {
    std::int64_t c = earliest;
    while (cmds_.occupied(c)) ++c;  // commands fill few consecutive cycles
    return c;
  }
  void insert(std::int64_t cycle, RowKind kind, std::uint32_t bg) { cmds_.insert(cycle, kind == RowKind::act, bg); }
  void prune(std::int64_t cycle);
  // Up to `n` of the latest ACTs, latest first: cycles and bank groups; returns how many.
  std::size_t latest_acts(std::size_t n, std::int64_t* cycles, std::uint32_t* bgs) const {
    std::size_t m = 0;
    for (std::int64_t c = cmds_.prev_act(cmds_.last()); c != RowCommandRing::kNone && m < n; c = cmds_.prev_act(c - 1)) {
      cycles[m] = c;
      bgs[m++] = cmds_.bg_at(c);
    }
    return m;
  }

 private:
  // Whether an ACT to `bg` at `a` keeps tRRD and one-command-per-cycle with its
  // neighbours; if not, a later cycle worth trying.
  bool spaced(std::uint32_t bg, std::int64_t a, std::int64_t* retry) const;
  DramDevice d_;
  RowCommandRing cmds_;
  // prune() forgets in strides of kPruneStride cycles (see there).
  static constexpr std::int64_t kPruneStride = 1024;
  std::int64_t pruned_to_ = 0;
};

}  // namespace podsim
