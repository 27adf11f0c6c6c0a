// The DRAM controller's streaming fast path (issue 13 item 6): requests that cover a whole
// (bank, row) block from its first burst, the pieces a sequential stream is cut into, are
// placed without searching the command timelines.
//
// What the command model does for such a stream, and what this path keeps: each block
// opens its row in every bank group (ACTs at the earliest cycle the bank allows: tRP after
// its PRE, tRC after its last ACT, tRFCpb after its refresh), spaced by tRRD_S/tRRD_L and
// tFAW from the latest ACTs; its column run starts once every group's row is open, and no
// earlier than the spacing rules after the latest run allow (tCCD_S/L, read-write
// turnarounds: ColumnTimeline::after). What it leaves out: a request never goes into a gap
// *before* the latest run or the latest ACT (the command model lets a request to an idle
// bank overtake one that waits). Refresh is arithmetic: each per-bank refresh closes the
// least recently used bank not yet refreshed this round and holds it for tRFCpb (all-bank:
// every bank, tRFC). Its row commands (ACT, PRE, REF) still go into the row timeline, each
// on a free cycle (one row command per cycle; the timing checker replays them like the
// command model's), but no placement searches it for tRRD or tFAW.
//
// The path is left (leave_streaming) as soon as a request it cannot take arrives: its
// latest column runs go into the column timeline, so the command model carries on with
// every command that can still constrain what it places. (Tried: also forbidding the
// command model to place anything before the fast path's last run, or before its last
// data: -2.8 % and +0.8 % on single ops, against +-0.2 % this way.)
// tests/integration/dram_stream_path_test.cpp measures the difference from the command
// model on whole workloads (docs/memory.md gives the table).
#include <algorithm>
#include <limits>

#include "podsim/arch/dram/dram_channel.h"

namespace podsim {

bool DramChannel::stream_eligible(const DramPiece& p) const {
  return ctrl_.open_page && ctrl_.page_timeout == 0 && p.first_bg == 0 && p.first_col == 0 &&
         p.bursts == d_.bank_groups * d_.columns && d_.bank_groups <= ColumnRun::kMaxGroups;
}

void DramChannel::enter_streaming() {
  streaming_ = true;
  const ColumnRun* latest = cols_.latest();
  have_last_run_ = latest != nullptr;
  if (latest) last_run_ = *latest;
  last_run_is_block_ = false;  // the command model's run: any shape
  // The latest ACTs from the row timeline, oldest first into the ring.
  std::int64_t cycles[4];
  std::uint32_t bgs[4];
  const std::size_t n = rows_.latest_acts(4, cycles, bgs);
  for (int i = 0; i < 4; ++i) recent_act_[i] = kLongAgo;
  std::fill(std::begin(last_act_of_bg_), std::end(last_act_of_bg_), kLongAgo);
  last_act_ = kLongAgo;
  recent_next_ = 0;
  for (std::size_t k = n; k > 0; --k) {
    const std::int64_t c = cycles[k - 1];
    recent_act_[recent_next_] = c;
    recent_next_ = (recent_next_ + 1) % 4;
    last_act_of_bg_[bgs[k - 1]] = std::max(last_act_of_bg_[bgs[k - 1]], c);
    if (c >= last_act_) {
      last_act_ = c;
      last_act_bg_ = bgs[k - 1];
    }
  }
}

void DramChannel::leave_streaming() {
  streaming_ = false;
  for (std::uint32_t i = 0; i < recent_run_count_; ++i)
    cols_.insert(recent_runs_[(recent_run_next_ + kRecentRuns - recent_run_count_ + i) % kRecentRuns]);
  recent_run_count_ = 0;
}

std::int64_t DramChannel::stream_act(std::uint32_t bg, std::int64_t earliest) {
  const auto& tm = d_.t;
  // After the latest ACT (ACTs are appended in time order), tRRD_L after this group's
  // latest, and tFAW after the fourth latest.
  std::int64_t a = std::max({earliest, last_act_ + std::int64_t(last_act_bg_ == bg ? tm.tRRD_L : tm.tRRD_S),
                             last_act_of_bg_[bg] + std::int64_t(tm.tRRD_L), recent_act_[recent_next_] + std::int64_t(tm.tFAW)});
  a = rows_.place_other(a);  // one row command per cycle (a PRE or REF may be there)
  rows_.insert(a, RowKind::act, bg);
  recent_act_[recent_next_] = a;
  recent_next_ = (recent_next_ + 1) % 4;
  last_act_ = a;
  last_act_bg_ = bg;
  last_act_of_bg_[bg] = a;
  return a;
}

std::int64_t DramChannel::schedule_streaming(const DramPiece& p, std::int64_t t) {
  if (!streaming_) enter_streaming();
  refresh_streaming_until(t);
  const auto& tm = d_.t;
  const std::uint32_t G = d_.bank_groups;
  ColumnRun run = block_run_[p.write][p.bg_fastest];
  run.start = t;
  if (have_last_run_ && last_run_is_block_ && last_run_.bg_fastest == p.bg_fastest)
    run.start = std::max(t, last_run_.start + block_gap_[last_run_.write][p.write][p.bg_fastest]);
  else if (have_last_run_)
    run.start = cols_.after(last_run_, run);
  const std::int64_t rcd = p.write ? tm.tRCDWR : tm.tRCD;
  std::uint64_t activations = 0;
  for (std::uint32_t g = 0; g < G; ++g) {
    if (run.first_of[g] < 0) continue;
    Bank& bk = bank(g, p.bank);
    std::int64_t open_at = bk.act;  // the row's ACT
    if (bk.open_row != std::int64_t(p.row)) {
      std::int64_t ready = std::max(t, bk.ready);
      if (bk.open_row >= 0) {  // a conflict: PRE first
        const std::int64_t pre = rows_.place_other(std::max(t, precharge_time(bk)));
        rows_.insert(pre, RowKind::other, g);
        ready = std::max(ready, pre + std::int64_t(tm.tRP));
        ++stats_.row_conflicts;
        log(pre, DramCommandType::PRE, g, p.bank, std::uint32_t(bk.open_row));
      } else {
        ++stats_.row_misses;
      }
      open_at = stream_act(g, ready);
      log(open_at, DramCommandType::ACT, g, p.bank, p.row);
      ++activations;
      bk.open_row = p.row;
      bk.act = open_at;
      bk.ready = std::max(bk.ready, open_at + std::int64_t(tm.tRC));
      mark_use(g, p.bank, open_at);
    }
    run.start = std::max(run.start, open_at + rcd - std::int64_t(run.first_of[g]) * run.step);
  }
  last_run_ = run;
  have_last_run_ = true;
  last_run_is_block_ = true;
  recent_runs_[recent_run_next_] = run;
  recent_run_next_ = (recent_run_next_ + 1) % kRecentRuns;
  recent_run_count_ = std::min(recent_run_count_ + 1, kRecentRuns);
  ++stats_.streamed;
  return issue_columns(p, run, activations);
}

void DramChannel::refresh_streaming_until(std::int64_t t) {
  const auto& tm = d_.t;
  const std::uint32_t banks = d_.bank_groups * d_.banks_per_group;
  const std::int64_t interval = refresh_interval();
  if (next_refresh_ <= t) skip_idle_refresh_rounds(t);  // a long quiet stretch: whole rounds counted
  auto close = [&](std::uint32_t index, std::int64_t due) {
    Bank& bk = banks_[index];
    if (bk.open_row < 0) return;
    const std::int64_t pre = rows_.place_other(std::max(due, precharge_time(bk)));
    rows_.insert(pre, RowKind::other, index / d_.banks_per_group);
    log(pre, DramCommandType::PRE, index / d_.banks_per_group, index % d_.banks_per_group, std::uint32_t(bk.open_row));
    bk.open_row = -1;
    bk.ready = std::max(bk.ready, pre + std::int64_t(tm.tRP));
  };
  while (next_refresh_ <= t) {
    const std::int64_t due = next_refresh_;
    if (ctrl_.per_bank_refresh) {
      if (refreshed_this_round_ == banks) {
        std::fill(refreshed_.begin(), refreshed_.end(), 0);
        refreshed_this_round_ = 0;
      }
      const std::uint32_t pick = least_recently_used_unrefreshed();
      refreshed_[pick] = 1;
      ++refreshed_this_round_;
      Bank& bk = banks_[pick];
      close(pick, due);
      const std::int64_t ref = rows_.place_other(std::max(due, bk.ready));
      rows_.insert(ref, RowKind::other, pick / d_.banks_per_group);
      bk.ready = ref + std::int64_t(tm.tRFCpb);
      log(ref, DramCommandType::REF_PB, pick / d_.banks_per_group, pick % d_.banks_per_group, 0);
    } else {
      std::int64_t ref = due;
      for (std::uint32_t i = 0; i < banks; ++i) {
        close(i, due);
        ref = std::max(ref, banks_[i].ready);
      }
      ref = rows_.place_other(ref);
      rows_.insert(ref, RowKind::other, 0);
      for (Bank& bk : banks_) bk.ready = ref + std::int64_t(tm.tRFC);
      log(ref, DramCommandType::REF, 0, 0, 0);
    }
    ++stats_.refreshes;
    next_refresh_ += interval;
  }
}

}  // namespace podsim
