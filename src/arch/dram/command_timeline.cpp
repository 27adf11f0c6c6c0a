#include "podsim/arch/dram/command_timeline.h"

#include <algorithm>

namespace podsim {

ColumnTimeline::ColumnTimeline(const DramDevice& d) : d_(d) {
  const auto& t = d.t;
  const std::int64_t bl = d.burst_cycles();
  max_gap_ = std::max({std::int64_t(t.tCCD_L), std::int64_t(t.tCWL) + bl + t.tWTR_L,
                       std::int64_t(t.tRTW)}) + 1;
  // The longest run: a whole (bank, row) block of every bank group, at the widest step.
  max_span_ = std::int64_t(d.bank_groups) * d.columns * std::max(t.tCCD_L, t.tCCD_S);
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

void ColumnTimeline::index(ColumnRun& r) const {
  for (std::uint32_t bg = 0; bg < ColumnRun::kMaxGroups; ++bg) {
    std::uint32_t f, l;
    if (bg < d_.bank_groups && bursts_of(r, bg, &f, &l)) {
      r.first_of[bg] = std::int32_t(f);
      r.last_of[bg] = std::int32_t(l);
    } else {
      r.first_of[bg] = r.last_of[bg] = -1;
    }
  }
}

std::int64_t ColumnTimeline::gap(bool from_write, bool to_write, bool same_bg) const {
  const auto& t = d_.t;
  const std::int64_t bl = d_.burst_cycles();
  if (from_write == to_write) return same_bg ? t.tCCD_L : t.tCCD_S;
  if (from_write) return std::int64_t(t.tCWL) + bl + (same_bg ? t.tWTR_L : t.tWTR_S);  // write to read
  return std::max<std::int64_t>(t.tRTW, t.tCCD_S);  // read to write
}

std::int64_t ColumnTimeline::after(const ColumnRun& x, const ColumnRun& r) const {
  std::int64_t start = std::max(r.start, x.end() + gap(x.write, r.write, false));
  const std::int64_t same = gap(x.write, r.write, true);
  for (std::uint32_t bg = 0; bg < d_.bank_groups; ++bg) {
    if (x.last_of[bg] < 0 || r.first_of[bg] < 0) continue;
    start = std::max(start, x.at(std::uint32_t(x.last_of[bg])) + same - std::int64_t(r.first_of[bg]) * r.step);
  }
  return start;
}

bool ColumnTimeline::fits_before(const ColumnRun& r, const ColumnRun& x) const {
  if (x.start < r.end() + gap(r.write, x.write, false)) return false;
  const std::int64_t same = gap(r.write, x.write, true);
  for (std::uint32_t bg = 0; bg < d_.bank_groups; ++bg) {
    if (x.first_of[bg] < 0 || r.last_of[bg] < 0) continue;
    if (x.at(std::uint32_t(x.first_of[bg])) < r.at(std::uint32_t(r.last_of[bg])) + same) return false;
  }
  return true;
}

std::int64_t ColumnTimeline::place(const ColumnRun& run, std::int64_t earliest) const {
  ColumnRun r = run;
  r.start = earliest;
  // One forward pass over the runs (sorted by start, never overlapping, so their ends are
  // sorted too): start at the first run that ends close enough to matter; a clash moves
  // the candidate past the run it clashes with; runs already passed only get further away.
  const std::int64_t from = r.start - max_gap_;
  const std::size_t first = runs_.partition_point([&](const auto& e) { return e.second.end() < from; });
  for (std::size_t i = first; i < runs_.size(); ++i) {
    const ColumnRun& x = runs_[i].second;
    if (x.start > r.end() + max_gap_) break;  // this and all later runs are far enough
    if (x.end() + max_gap_ < r.start) continue;
    if (x.end() < r.start) {  // before: keep the spacing after it
      r.start = std::max(r.start, after(x, r));
    } else if (!(x.start > r.end() && fits_before(r, x))) {  // overlaps or too close: go after it
      r.start = std::max(r.start + 1, after(x, r));
    }
  }
  return r.start;
}

void ColumnTimeline::prune(std::int64_t cycle) {
  const std::int64_t horizon = cycle - max_gap_ - max_span_;
  runs_.drop_front_while([&](const auto& e) { return e.second.end() < horizon; });
}

bool RowTimeline::spaced(std::uint32_t bg, std::int64_t a, std::int64_t* retry) const {
  const auto& t = d_.t;
  // Every clash in the neighbourhood at once: the retry jumps past all of them. The
  // commands are visited in time order, each against the candidate as moved so far. Only
  // ACTs closer than tRRD and a command on the candidate's own cycle clash, so the scan
  // spans tRRD - 1 either side of the candidate (until 2026-12-07 it spanned tFAW, about
  // 2.5x as many commands, with the same result: tests and reports byte-identical).
  const std::int64_t reach = std::max<std::int64_t>(t.tRRD_L, t.tRRD_S) - 1;
  std::int64_t next = a;
  cmds_.visit(a - reach, next + reach, [&](std::int64_t x, bool act, std::uint32_t g) {
    if (!act) {
      if (x == next) next = x + 1;  // one row command per cycle
    } else {
      const std::int64_t need = g == bg ? t.tRRD_L : t.tRRD_S;
      if (x > next - need && x < next + need) next = x + need;
    }
    return next + reach;
  });
  *retry = next;
  return next == a;
}

std::int64_t RowTimeline::place_act(std::uint32_t bg, std::int64_t earliest) const {
  const auto& t = d_.t;
  const std::int64_t faw = t.tFAW;
  std::int64_t a = earliest, retry = 0;
  for (;;) {
    // One pass suffices: the cycle spaced() moves to is itself spaced. Its scan goes on
    // past every command it moves beyond, and a command it passed cannot clash again:
    // moving past command y puts the candidate at least tRRD(y) after y (an ACT on the
    // candidate's own cycle included), and anything before y that was clear of the old
    // candidate is clearer still. Re-checking gave the same cycle on every workload and
    // self-test pattern (byte-identical reports) and cost a second scan.
    spaced(bg, a, &retry);
    a = retry;
    // tFAW: no five ACTs (the candidate among them) inside one window.
    // The ACTs around the candidate, in time order, with the candidate merged in at its
    // place (at most 40: more than 2 x tFAW / tRRD_S on any device).
    std::int64_t window[41];
    std::size_t m = 0;
    bool placed = false;
    cmds_.visit<true>(a - faw, a + faw, [&](std::int64_t x, bool, std::uint32_t) {
      if (!placed && x > a) {
        window[m++] = a;
        placed = true;
      }
      window[m++] = x;
      return m < 40 ? a + faw : RowCommandRing::kNone;
    });
    if (!placed) window[m++] = a;
    std::int64_t next = a;
    for (std::size_t i = 0; i + 4 < m; ++i)
      if (window[i + 4] - window[i] < faw) next = std::max(next, window[i] + faw);
    if (next == a) return a;
    a = next;
  }
}

void RowTimeline::prune(std::int64_t cycle) {
  const std::int64_t horizon = cycle - std::int64_t(std::max(d_.t.tFAW, d_.t.tRRD_L)) - 1;
  // Forgetting walks the bitmap's words, and the present moves on with every request: it
  // is done once the horizon has moved kPruneStride cycles (it was 8 % of resnet50-train's
  // profile done on every request). Commands kept longer lie before every cycle a query
  // can reach (candidates are at or after `cycle`, and no rule looks back further than
  // tFAW), and an ACT kept in latest_acts' answer that old constrains nothing: the same
  // placements (reports byte-identical).
  if (horizon < pruned_to_ + kPruneStride) return;
  pruned_to_ = horizon;
  cmds_.forget_before(horizon);
}

}  // namespace podsim
