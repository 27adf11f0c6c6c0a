#include "podsim/arch/dram/command_timeline.h"

#include <algorithm>

namespace podsim {

ColumnTimeline::ColumnTimeline(const DramDevice& d) : d_(d) {
  const auto& t = d.t;
  const std::int64_t bl = d.burst_cycles();
  max_gap_ = std::max({std::int64_t(t.tCCD_L), std::int64_t(t.tCWL) + bl + t.tWTR_L,
                       std::int64_t(t.tCL) + bl + 2 - std::int64_t(t.tCWL)}) + 1;
}

std::uint32_t ColumnTimeline::bg_of(const ColumnRun& r, std::uint32_t j) const {
  const std::uint32_t G = d_.bank_groups;
  return r.bg_fastest ? (r.first_bg + j) % G : (r.first_bg + (r.first_col + j) / d_.columns) % G;
}

bool ColumnTimeline::bursts_of(const ColumnRun& r, std::uint32_t bg, std::uint32_t* first, std::uint32_t* last) const {
  const std::uint32_t G = d_.bank_groups;
  const std::uint32_t k = (bg + G - r.first_bg) % G;  // how many groups after the first
  if (r.bg_fastest) {
    if (k >= r.count) return false;
    *first = k;
    *last = k + G * ((r.count - 1 - k) / G);
    return true;
  }
  // Columns fastest: group k holds bursts [k cols - first_col, (k+1) cols - first_col).
  const std::int64_t lo = std::int64_t(k) * d_.columns - r.first_col;
  const std::int64_t hi = lo + d_.columns - 1;
  const std::int64_t a = std::max<std::int64_t>(0, lo), b = std::min<std::int64_t>(r.count - 1, hi);
  if (a > b) return false;
  *first = std::uint32_t(a);
  *last = std::uint32_t(b);
  return true;
}

std::int64_t ColumnTimeline::gap(bool from_write, bool to_write, bool same_bg) const {
  const auto& t = d_.t;
  const std::int64_t bl = d_.burst_cycles();
  if (from_write == to_write) return same_bg ? t.tCCD_L : t.tCCD_S;
  if (from_write) return std::int64_t(t.tCWL) + bl + (same_bg ? t.tWTR_L : t.tWTR_S);  // write to read
  return std::max<std::int64_t>(std::int64_t(t.tCL) + bl + 2 - std::int64_t(t.tCWL), t.tCCD_S);  // read to write
}

std::int64_t ColumnTimeline::after(const ColumnRun& x, ColumnRun r) const {
  std::int64_t start = std::max(r.start, x.end() + gap(x.write, r.write, false));
  for (std::uint32_t bg = 0; bg < d_.bank_groups; ++bg) {
    std::uint32_t xf, xl, rf, rl;
    if (!bursts_of(x, bg, &xf, &xl) || !bursts_of(r, bg, &rf, &rl)) continue;
    start = std::max(start, x.at(xl) + gap(x.write, r.write, true) - std::int64_t(rf) * r.step);
  }
  return start;
}

bool ColumnTimeline::fits_before(const ColumnRun& r, const ColumnRun& x) const {
  if (x.start < r.end() + gap(r.write, x.write, false)) return false;
  for (std::uint32_t bg = 0; bg < d_.bank_groups; ++bg) {
    std::uint32_t xf, xl, rf, rl;
    if (!bursts_of(x, bg, &xf, &xl) || !bursts_of(r, bg, &rf, &rl)) continue;
    if (x.at(xf) < r.at(rl) + gap(r.write, x.write, true)) return false;
  }
  return true;
}

std::int64_t ColumnTimeline::place(ColumnRun r, std::int64_t earliest) const {
  r.start = earliest;
  for (bool moved = true; moved;) {
    moved = false;
    // Runs that could constrain a start here: those ending within the longest gap
    // before it, and those starting before the new run's end plus that gap.
    auto it = runs_.lower_bound(r.start - max_gap_ - std::int64_t(d_.columns * d_.bank_groups) * 64);
    for (; it != runs_.end() && it->first <= r.end() + max_gap_; ++it) {
      const ColumnRun& x = it->second;
      if (x.end() + max_gap_ < r.start) continue;  // long done
      if (x.end() < r.start) {                       // before: keep the spacing after it
        const std::int64_t s = after(x, r);
        if (s > r.start) {
          r.start = s;
          moved = true;
        }
      } else if (!(x.start > r.end() && fits_before(r, x))) {  // overlaps or too close: go after it
        r.start = std::max(r.start + 1, after(x, r));
        moved = true;
      }
      if (moved) break;
    }
  }
  return r.start;
}

void ColumnTimeline::prune(std::int64_t cycle) {
  const std::int64_t horizon = cycle - max_gap_;
  while (!runs_.empty() && runs_.begin()->second.end() < horizon &&
         std::next(runs_.begin()) != runs_.end() && std::next(runs_.begin())->second.start < horizon)
    runs_.erase(runs_.begin());
}

bool RowTimeline::act_ok(std::uint32_t bg, std::int64_t a, std::int64_t* retry) const {
  const auto& t = d_.t;
  const std::int64_t reach = std::max<std::int64_t>(t.tFAW, t.tRRD_L);
  std::vector<std::int64_t> acts;  // ACTs within tFAW, with the candidate
  for (auto it = cmds_.lower_bound(a - reach); it != cmds_.end() && it->first <= a + reach; ++it) {
    const std::int64_t x = it->first;
    if (x == a) {  // one row command per cycle
      *retry = a + 1;
      return false;
    }
    if (it->second.kind != RowKind::act) continue;
    const std::int64_t need = it->second.bg == bg ? t.tRRD_L : t.tRRD_S;
    if (x < a && a - x < need) {
      *retry = x + need;
      return false;
    }
    if (x > a && x - a < need) {
      *retry = x + need;
      return false;
    }
    acts.push_back(x);
  }
  acts.push_back(a);
  std::sort(acts.begin(), acts.end());
  for (std::size_t i = 0; i + 4 < acts.size(); ++i)
    if (acts[i + 4] - acts[i] < std::int64_t(t.tFAW)) {  // five ACTs inside one tFAW window
      *retry = std::max(a + 1, acts[i] + std::int64_t(t.tFAW));
      return false;
    }
  return true;
}

std::int64_t RowTimeline::place_act(std::uint32_t bg, std::int64_t earliest) const {
  std::int64_t a = earliest, retry = 0;
  while (!act_ok(bg, a, &retry)) a = std::max(a + 1, retry);
  return a;
}

std::int64_t RowTimeline::place_other(std::int64_t earliest) const {
  std::int64_t c = earliest;
  while (cmds_.count(c)) ++c;
  return c;
}

void RowTimeline::prune(std::int64_t cycle) {
  const std::int64_t horizon = cycle - std::int64_t(std::max(d_.t.tFAW, d_.t.tRRD_L)) - 1;
  while (!cmds_.empty() && cmds_.begin()->first < horizon) cmds_.erase(cmds_.begin());
}

}  // namespace podsim
