#include "podsim/arch/dram/dram_channel.h"

#include <algorithm>
#include <functional>
#include <limits>

namespace podsim {

const char* dram_command_name(DramCommandType t) {
  switch (t) {
    case DramCommandType::ACT: return "ACT";
    case DramCommandType::PRE: return "PRE";
    case DramCommandType::PRE_AUTO: return "PRE(auto)";
    case DramCommandType::RD: return "RD";
    case DramCommandType::WR: return "WR";
    case DramCommandType::REF: return "REF";
    case DramCommandType::REF_PB: return "REFpb";
  }
  return "?";
}

DramChannel::DramChannel(const DramDevice& device, const DramControllerSpec& ctrl)
    : d_(device),
      ctrl_(ctrl),
      banks_(std::size_t(device.bank_groups) * device.banks_per_group),
      last_use_(banks_.size(), kLongAgo),
      rows_(device),
      cols_(device),
      next_refresh_(refresh_interval() +
                    refresh_interval() * std::int64_t(ctrl.refresh_phase) / std::max<std::int64_t>(1, ctrl.refresh_phases)),
      refreshed_(std::size_t(device.bank_groups) * device.banks_per_group, 0) {
  stats_.bank_acts.assign(std::size_t(device.bank_groups) * device.banks_per_group, 0);
  // The fast path's whole-block runs, indexed once.
  const auto& tm = d_.t;
  for (int w = 0; w < 2; ++w)
    for (int f = 0; f < 2; ++f) {
      ColumnRun& r = block_run_[w][f];
      r.count = d_.bank_groups * d_.columns;
      r.write = w != 0;
      r.bg_fastest = f != 0;
      const std::uint32_t cycle_len = r.bg_fastest ? std::min<std::uint32_t>(r.count, d_.bank_groups) : 1;
      r.step = std::max<std::uint32_t>(tm.tCCD_S, (tm.tCCD_L + cycle_len - 1) / cycle_len);
      cols_.index(r);
    }
  for (int from = 0; from < 2; ++from)
    for (int to = 0; to < 2; ++to)
      for (int f = 0; f < 2; ++f) {
        ColumnRun r = block_run_[to][f];
        r.start = std::numeric_limits<std::int64_t>::min() / 2;
        block_gap_[from][to][f] = cols_.after(block_run_[from][f], r);  // the earlier run starts at 0
      }
}

void DramChannel::log(std::int64_t cycle, DramCommandType type, std::uint32_t bg, std::uint32_t bank,
                      std::uint32_t row) {
  if (type != DramCommandType::RD && type != DramCommandType::WR) ++stats_.commands[std::size_t(type)];  // column commands: counted per run
  if (type == DramCommandType::ACT) ++stats_.bank_acts[std::size_t(bg) * d_.banks_per_group + bank];
  if (ctrl_.log_commands) log_.push_back({std::uint64_t(cycle), type, bg, bank, row});
}

bool DramChannel::row_hit(const DramPiece& p) const {
  return bank(p.first_bg, p.bank).open_row == std::int64_t(p.row);
}

// The earliest PRE for an open bank: tRAS after its ACT, tRTP after its last read, write
// recovery after its last write's data.
std::int64_t DramChannel::precharge_time(const Bank& b) const {
  const auto& t = d_.t;
  return std::max({b.act + t.tRAS, b.last_rd + t.tRTP, b.last_wr + t.tCWL + d_.burst_cycles() + t.tWR});
}

void DramChannel::close_bank(std::uint32_t g, std::uint32_t b, std::int64_t not_before) {
  Bank& bk = bank(g, b);
  if (bk.open_row < 0) return;
  const std::int64_t p = rows_.place_other(std::max(not_before, precharge_time(bk)));
  rows_.insert(p, RowKind::other, g);
  log(p, DramCommandType::PRE, g, b, std::uint32_t(bk.open_row));
  bk.open_row = -1;
  bk.ready = std::max(bk.ready, p + std::int64_t(d_.t.tRP));
}

void DramChannel::skip_idle_refresh_rounds(std::int64_t t) {
  // Over a stretch with no request, refresh rounds repeat exactly: every bank closed, the
  // same order (per bank: least recently used first, and no bank is used), nothing else on
  // the buses. Whole rounds are counted instead of placed, keeping the last round before t
  // placed for real, so what a later request sees is unchanged; the timing checker's log
  // (log_commands) keeps every command.
  if (ctrl_.log_commands) return;
  const std::uint32_t banks = d_.bank_groups * d_.banks_per_group;
  if (ctrl_.per_bank_refresh && refreshed_this_round_ != banks) return;  // not at a round boundary
  const std::int64_t per_round = ctrl_.per_bank_refresh ? banks : 1;
  const std::int64_t round = refresh_interval() * per_round;
  const auto& tm = d_.t;
  const std::int64_t quiet_from =
      data_free_ + std::int64_t(tm.tRC + tm.tRFC + tm.tWR + tm.tRP + tm.tCWL) + 2 * d_.burst_cycles();
  if (next_refresh_ < quiet_from + round) return;  // a full round after the last request: all closed
  const std::int64_t skip = (t - next_refresh_) / round - 1;
  if (skip <= 0) return;
  next_refresh_ += skip * round;
  stats_.refreshes += std::uint64_t(skip * per_round);
  stats_.refreshes_counted += std::uint64_t(skip * per_round);
  stats_.commands[std::size_t(ctrl_.per_bank_refresh ? DramCommandType::REF_PB : DramCommandType::REF)] +=
      std::uint64_t(skip * per_round);
}

std::uint32_t DramChannel::least_recently_used_unrefreshed() const {
  // Branch-free (refreshed banks rank last): which banks are done this round follows no
  // pattern a branch predictor learns, and this runs once per refresh, i.e. every
  // tREFI / banks cycles of every pseudo-channel (about as often as a request arrives on a
  // stream). Ties go to the lowest index.
  const std::uint32_t banks = d_.bank_groups * d_.banks_per_group;
  constexpr std::int64_t kLast = std::numeric_limits<std::int64_t>::max();
  std::uint32_t pick = 0;
  std::int64_t oldest = kLast;
  for (std::uint32_t i = 0; i < banks; ++i) {
    const std::int64_t done = -std::int64_t(refreshed_[i]);  // all ones once refreshed
    const std::int64_t used = (last_use_[i] & ~done) | (kLast & done);
    pick = used < oldest ? i : pick;
    oldest = used < oldest ? used : oldest;
  }
  return pick;
}

void DramChannel::refresh_banks_until(std::int64_t t) {
  const auto& tm = d_.t;
  const std::uint32_t banks = d_.bank_groups * d_.banks_per_group;
  const std::int64_t interval = refresh_interval();
  while (next_refresh_ <= t) {
    skip_idle_refresh_rounds(t);
    if (next_refresh_ > t) break;
    // Every bank once per tREFI, in the order the controller likes best: the least
    // recently used bank not yet refreshed this round (JEDEC leaves the order open), so a
    // stream rarely meets the bank being refreshed. The others keep serving requests.
    if (refreshed_this_round_ == banks) {
      std::fill(refreshed_.begin(), refreshed_.end(), 0);
      refreshed_this_round_ = 0;
    }
    const std::uint32_t pick = least_recently_used_unrefreshed();
    refreshed_[pick] = 1;
    ++refreshed_this_round_;
    const std::uint32_t g = pick / d_.banks_per_group, b = pick % d_.banks_per_group;
    Bank& bk = bank(g, b);
    close_bank(g, b, next_refresh_);
    const std::int64_t ref = rows_.place_other(std::max<std::int64_t>(next_refresh_, bk.ready));
    rows_.insert(ref, RowKind::other, g);
    log(ref, DramCommandType::REF_PB, g, b, 0);
    bk.ready = ref + tm.tRFCpb;
    ++stats_.refreshes;
    next_refresh_ += interval;
    // Nothing is placed before the earlier of the next refresh and t any more (requests
    // come at t or later): pruning up to the next refresh alone dropped ACTs a request at t
    // still had to keep tRRD from (one tRRD_S violation in a full-size stream_add).
    if ((stats_.refreshes & 1023) == 0) rows_.prune(std::min(next_refresh_, t));
  }
}

void DramChannel::refresh_until(std::int64_t t) {
  if (streaming_) return refresh_streaming_until(t);
  if (ctrl_.per_bank_refresh) return refresh_banks_until(t);
  const auto& tm = d_.t;
  while (next_refresh_ <= t) {
    skip_idle_refresh_rounds(t);
    if (next_refresh_ > t) break;
    // Close every open bank, then refresh all banks at once.
    std::int64_t ref = next_refresh_;
    for (std::uint32_t g = 0; g < d_.bank_groups; ++g)
      for (std::uint32_t b = 0; b < d_.banks_per_group; ++b) {
        close_bank(g, b, next_refresh_);
        ref = std::max(ref, bank(g, b).ready);  // tRP after its PRE, tRC after its ACT
      }
    ref = rows_.place_other(ref);
    rows_.insert(ref, RowKind::other, 0);
    log(ref, DramCommandType::REF, 0, 0, 0);
    for (auto& bk : banks_) bk.ready = ref + tm.tRFC;
    ++stats_.refreshes;
    next_refresh_ += refresh_interval();
    if ((stats_.refreshes & 1023) == 0) rows_.prune(std::min(next_refresh_, t));
  }
}

DramChannel::ActPlan DramChannel::plan_activate(std::uint32_t bg, std::uint32_t b, std::uint32_t row, std::int64_t t) const {
  const Bank& bk = bank(bg, b);
  ActPlan plan;
  if (bk.open_row == std::int64_t(row)) return plan;  // a row hit: nothing to place
  std::int64_t ready = bk.ready;
  if (bk.open_row >= 0) {
    plan.pre = rows_.place_other(std::max(t, precharge_time(bk)));
    ready = std::max(ready, plan.pre + std::int64_t(d_.t.tRP));
  }
  plan.act = rows_.place_act(bg, std::max(t, ready));
  return plan;
}

std::int64_t DramChannel::activate(std::uint32_t bg, std::uint32_t b, std::uint32_t row, const ActPlan& plan, bool write) {
  const auto& tm = d_.t;
  const std::int64_t rcd = write ? tm.tRCDWR : tm.tRCD;
  Bank& bk = bank(bg, b);
  if (plan.act < 0) return bk.act + rcd;  // the row is open
  if (plan.pre >= 0) {
    ++stats_.row_conflicts;
    rows_.insert(plan.pre, RowKind::other, bg);
    log(plan.pre, DramCommandType::PRE, bg, b, std::uint32_t(bk.open_row));
    bk.ready = std::max(bk.ready, plan.pre + tm.tRP);
  } else {
    ++stats_.row_misses;
  }
  rows_.insert(plan.act, RowKind::act, bg);
  log(plan.act, DramCommandType::ACT, bg, b, row);
  bk.open_row = row;
  bk.act = plan.act;
  mark_use(bg, b, plan.act);
  bk.ready = std::max(bk.ready, plan.act + std::int64_t(tm.tRC));
  return plan.act + rcd;
}

std::int64_t DramChannel::schedule(const DramPiece& p, std::int64_t earliest) {
  const auto& tm = d_.t;
  const std::uint32_t G = d_.bank_groups;
  // Nothing is placed before the present (floor_): the timelines forget the past.
  if (ctrl_.stream_fast_path) {
    if (stream_eligible(p)) return schedule_streaming(p, std::max({std::int64_t(p.arrival), earliest, floor_}));
    if (streaming_) leave_streaming();  // moves floor_ past the fast path's runs
  }
  const std::int64_t t = std::max({std::int64_t(p.arrival), earliest, floor_});
  refresh_until(t);

  // The bursts as one run; rotating bank groups lets bursts follow at tCCD_S as long as a
  // group comes round no sooner than tCCD_L.
  ColumnRun run;
  run.count = p.bursts;
  run.write = p.write;
  run.first_bg = p.first_bg;
  run.first_col = p.first_col;
  run.bg_fastest = p.bg_fastest;
  const std::uint32_t cycle_len = p.bg_fastest ? std::min<std::uint32_t>(p.bursts, G) : 1;
  run.step = std::max<std::uint32_t>(tm.tCCD_S, (tm.tCCD_L + cycle_len - 1) / cycle_len);
  cols_.index(run);

  // Open the row in every bank group the run touches; the run may start once each
  // group's first burst finds its row open.
  std::int64_t start = t;
  std::uint64_t activations = 0;
  // (run.first_of / last_of: each bank group's first and last burst, -1 if none.)
  // Groups in index order. Placing them earliest-first (a group whose bank is still in
  // tRC not holding back the others) was tried: +0.9-1.1 % on random reads, -0.6 % on
  // gathers, +20 % wall time on resnet50-train; not kept (docs/memory.md).
  for (std::uint32_t bg = 0; bg < G; ++bg) {
    if (run.first_of[bg] < 0) continue;
    const ActPlan plan = plan_activate(bg, p.bank, p.row, t);
    activations += plan.act >= 0 ? 1 : 0;
    const std::int64_t ready = activate(bg, p.bank, p.row, plan, p.write);
    start = std::max(start, ready - std::int64_t(run.first_of[bg]) * run.step);
  }
  run.start = cols_.place(run, start);
  cols_.insert(run);
  const std::int64_t data_end = issue_columns(p, run, activations);

  if (!ctrl_.open_page) {  // auto precharge: the bank closes by itself, no bus command
    for (std::uint32_t bg = 0; bg < G; ++bg) {
      if (run.first_of[bg] < 0) continue;
      Bank& bk = bank(bg, p.bank);
      const std::int64_t pre = precharge_time(bk);
      log(pre, DramCommandType::PRE_AUTO, bg, p.bank, p.row);
      bk.open_row = -1;
      bk.ready = std::max(bk.ready, pre + tm.tRP);
    }
  }
  return data_end;
}

std::int64_t DramChannel::issue_columns(const DramPiece& p, const ColumnRun& run, std::uint64_t activations) {
  for (std::uint32_t bg = 0; bg < d_.bank_groups; ++bg) {
    if (run.last_of[bg] < 0) continue;
    Bank& bk = bank(bg, p.bank);
    const std::int64_t last = run.at(std::uint32_t(run.last_of[bg]));
    std::int64_t& last_cmd = p.write ? bk.last_wr : bk.last_rd;
    last_cmd = std::max(last_cmd, last);
    mark_use(bg, p.bank, last);
  }
  stats_.commands[std::size_t(p.write ? DramCommandType::WR : DramCommandType::RD)] += run.count;
  if (ctrl_.log_commands)
    for (std::uint32_t j = 0; j < run.count; ++j)
      log(run.at(j), p.write ? DramCommandType::WR : DramCommandType::RD, cols_.bg_of(run, j), p.bank, p.row);
  const std::int64_t bl = d_.burst_cycles();
  const std::int64_t data_end = run.end() + (p.write ? d_.t.tCWL : d_.t.tCL) + bl;
  data_free_ = std::max(data_free_, data_end);
  stats_.busy_cycles += std::uint64_t(p.bursts) * std::uint64_t(bl);
  // Row-buffer hits count column accesses that needed no activation.
  stats_.row_hits += p.bursts - std::min<std::uint64_t>(p.bursts, activations);
  return data_end;
}

void DramChannel::close_idle_rows(std::int64_t now) {
  // Each bank left open is closed here, at the first advance after its timeout: its PRE
  // then lands at or after the previous floor, where the row timeline still knows every
  // command (a bank open at that advance was used no earlier than floor - timeout).
  for (std::uint32_t g = 0; g < d_.bank_groups; ++g)
    for (std::uint32_t b = 0; b < d_.banks_per_group; ++b) {
      const Bank& bk = bank(g, b);
      if (bk.open_row < 0) continue;
      const std::int64_t idle_from = std::max({bk.act, bk.last_rd, bk.last_wr}) + ctrl_.page_timeout;
      if (idle_from < now) close_bank(g, b, std::max(idle_from, floor_));
    }
}

void DramChannel::advance_to(std::int64_t now) {
  if (now <= floor_) return;
  if (ctrl_.page_timeout > 0) close_idle_rows(now);
  refresh_until(now);  // refreshes due in between go at their due times, before the past is forgotten
  floor_ = now;
  rows_.prune(floor_);
  cols_.prune(floor_);
}

std::uint64_t DramChannel::read(const DramPiece& p) {
  // Use idle data-bus time before this read to drain posted writes.
  const std::int64_t write_time = std::int64_t(d_.t.tCWL) + d_.burst_cycles() + d_.t.tCCD_L;
  while (!write_queue_.empty() && data_free_ + write_time <= std::int64_t(p.arrival)) {
    const DramPiece w = write_queue_.front();
    write_queue_.pop_front();
    pending_write_bursts_ -= w.bursts;
    schedule(w, data_free_);
  }
  advance_to(std::int64_t(p.arrival));
  ++stats_.arrivals;
  std::int64_t after_writes = 0;
  if (!write_queue_.empty() && forward_or_order(p, &after_writes)) {
    ++stats_.forwarded_reads;
    ++stats_.reads;
    stats_.read_bytes += std::uint64_t(p.bursts) * d_.burst_bytes();
    return p.arrival + 1;
  }
  // Reads done by now leave the queue (arrivals never go back in time): what is left is
  // waiting, and a full queue's earliest completion is still the one it waits for.
  const auto later = std::greater<std::int64_t>();
  while (!read_completions_.empty() && read_completions_.front() <= std::int64_t(p.arrival)) {
    std::pop_heap(read_completions_.begin(), read_completions_.end(), later);
    read_completions_.pop_back();
  }
  stats_.queue_depth_sum += write_queue_.size() + read_completions_.size();

  // A full read queue admits this read when a place frees: when the earliest of the
  // queue_depth latest-finishing reads is done (reads finish out of order, so not the read
  // queue_depth arrivals earlier). read_completions_ is a min-heap of those.
  const std::int64_t entry =
      std::max(after_writes, read_completions_.size() >= ctrl_.queue_depth ? read_completions_.front() : 0);
  const std::int64_t done = schedule(p, entry);
  read_completions_.push_back(done);
  std::push_heap(read_completions_.begin(), read_completions_.end(), later);
  if (read_completions_.size() > ctrl_.queue_depth) {
    std::pop_heap(read_completions_.begin(), read_completions_.end(), later);
    read_completions_.pop_back();
  }
  ++stats_.reads;
  stats_.read_bytes += std::uint64_t(p.bursts) * d_.burst_bytes();
  return std::uint64_t(done);
}

bool DramChannel::forward_or_order(const DramPiece& p, std::int64_t* after) {
  const std::uint64_t lo = block_offset(p), hi = lo + p.bursts;
  auto same_block = [&](const DramPiece& w) { return w.bank == p.bank && w.row == p.row && w.bg_fastest == p.bg_fastest; };
  auto overlaps = [&](const DramPiece& w) {
    const std::uint64_t wlo = block_offset(w);
    return same_block(w) && wlo < hi && lo < wlo + w.bursts;
  };
  bool any = false;
  for (const DramPiece& w : write_queue_) {
    const std::uint64_t wlo = block_offset(w);
    if (same_block(w) && wlo <= lo && hi <= wlo + w.bursts) return true;
    any = any || overlaps(w);
  }
  if (!any) return false;
  // Write the overlapping ones first, oldest first; the read is placed after their data.
  for (auto it = write_queue_.begin(); it != write_queue_.end();) {
    if (!overlaps(*it)) {
      ++it;
      continue;
    }
    const DramPiece w = *it;
    it = write_queue_.erase(it);
    pending_write_bursts_ -= w.bursts;
    *after = std::max(*after, schedule(w, 0));
  }
  return false;
}

std::int64_t DramChannel::drain_writes_to(std::uint64_t keep_bursts) {
  std::int64_t last_done = std::int64_t(floor_);
  while (!write_queue_.empty() && pending_write_bursts_ > keep_bursts) {
    // FR-FCFS among the posted writes: the oldest row hit, else the oldest.
    auto pick = write_queue_.begin();
    for (auto it = write_queue_.begin(); it != write_queue_.end(); ++it)
      if (row_hit(*it)) {
        pick = it;
        break;
      }
    const DramPiece w = *pick;
    write_queue_.erase(pick);
    pending_write_bursts_ -= w.bursts;
    last_done = std::max(last_done, schedule(w, 0));
  }
  return last_done;
}

std::uint64_t DramChannel::write(const DramPiece& p) {
  advance_to(std::int64_t(p.arrival));
  ++stats_.arrivals;
  stats_.queue_depth_sum += write_queue_.size();
  ++stats_.writes;
  stats_.write_bytes += std::uint64_t(p.bursts) * d_.burst_bytes();
  // The write buffer holds queue_depth entries of two bursts (64 B requests on HBM2). A
  // write that would pass the high watermark waits until older writes drain to the low
  // one (defaults: a full buffer drains to half).
  const std::uint64_t capacity = std::uint64_t(ctrl_.queue_depth) * 2;
  const std::uint64_t high = capacity * ctrl_.write_high_percent / 100, low = capacity * ctrl_.write_low_percent / 100;
  std::int64_t accepted = std::int64_t(p.arrival);
  if (pending_write_bursts_ + p.bursts > high && !write_queue_.empty())
    accepted = std::max(accepted, drain_writes_to(low > p.bursts ? low - p.bursts : 0));
  write_queue_.push_back(p);
  pending_write_bursts_ += p.bursts;
  return std::uint64_t(accepted);
}

void DramChannel::idle_until(std::int64_t cycle) {
  drain_writes_to(0);
  for (auto& b : banks_) b.open_row = -1;
  const std::int64_t interval = refresh_interval();
  if (next_refresh_ <= cycle) next_refresh_ += ((cycle - next_refresh_) / interval + 1) * interval;
  if (cycle > floor_) {
    floor_ = cycle;
    rows_.prune(floor_);
    cols_.prune(floor_);
  }
}

std::uint64_t DramChannel::flush() {
  drain_writes_to(0);
  return std::uint64_t(std::max<std::int64_t>(0, data_free_));
}

}  // namespace podsim
