#include "podsim/arch/dram/dram_channel.h"

#include <algorithm>

namespace podsim {

const char* dram_command_name(DramCommandType t) {
  switch (t) {
    case DramCommandType::ACT: return "ACT";
    case DramCommandType::PRE: return "PRE";
    case DramCommandType::PRE_AUTO: return "PRE(auto)";
    case DramCommandType::RD: return "RD";
    case DramCommandType::WR: return "WR";
    case DramCommandType::REF: return "REF";
  }
  return "?";
}

DramChannel::DramChannel(const DramDevice& device, const DramControllerSpec& ctrl)
    : d_(device),
      ctrl_(ctrl),
      banks_(std::size_t(device.bank_groups) * device.banks_per_group),
      last_act_bg_(device.bank_groups, kLongAgo),
      last_col_bg_(device.bank_groups, kLongAgo),
      last_wr_bg_(device.bank_groups, kLongAgo),
      next_refresh_(device.t.tREFI) {}

void DramChannel::log(std::int64_t cycle, DramCommandType type, std::uint32_t bg, std::uint32_t bank,
                      std::uint32_t row) {
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

void DramChannel::refresh_until(std::int64_t t) {
  const auto& tm = d_.t;
  while (next_refresh_ <= t) {
    // Close every open bank, then refresh all banks at once.
    std::int64_t ref = std::max<std::int64_t>(next_refresh_, row_bus_ + 1);
    for (std::uint32_t g = 0; g < d_.bank_groups; ++g)
      for (std::uint32_t b = 0; b < d_.banks_per_group; ++b) {
        Bank& bk = bank(g, b);
        if (bk.open_row >= 0) {
          const std::int64_t p = std::max({std::int64_t(next_refresh_), row_bus_ + 1, precharge_time(bk)});
          log(p, DramCommandType::PRE, g, b, std::uint32_t(bk.open_row));
          row_bus_ = p;
          bk.open_row = -1;
          bk.ready = std::max(bk.ready, p + tm.tRP);
        }
        ref = std::max(ref, bk.ready);  // tRP after its PRE, tRC after its ACT
      }
    ref = std::max(ref, row_bus_ + 1);
    log(ref, DramCommandType::REF, 0, 0, 0);
    row_bus_ = ref;
    for (auto& bk : banks_) bk.ready = ref + tm.tRFC;
    ++stats_.refreshes;
    next_refresh_ += tm.tREFI;
  }
}

std::int64_t DramChannel::activate(std::uint32_t bg, std::uint32_t b, std::uint32_t row, std::int64_t t) {
  const auto& tm = d_.t;
  Bank& bk = bank(bg, b);
  if (bk.open_row == std::int64_t(row)) {
    ++stats_.row_hits;
    return bk.act + tm.tRCD;
  }
  if (bk.open_row >= 0) {
    ++stats_.row_conflicts;
    const std::int64_t p = std::max({t, row_bus_ + 1, precharge_time(bk)});
    log(p, DramCommandType::PRE, bg, b, std::uint32_t(bk.open_row));
    row_bus_ = p;
    bk.ready = std::max(bk.ready, p + tm.tRP);
  } else {
    ++stats_.row_misses;
  }
  const std::int64_t oldest_of_four = act_window_[act_window_next_];
  const std::int64_t a = std::max({t, bk.ready, row_bus_ + 1, last_act_ + tm.tRRD_S, last_act_bg_[bg] + tm.tRRD_L,
                                   oldest_of_four + tm.tFAW});
  log(a, DramCommandType::ACT, bg, b, row);
  row_bus_ = a;
  last_act_ = a;
  last_act_bg_[bg] = a;
  act_window_[act_window_next_] = a;
  act_window_next_ = (act_window_next_ + 1) % 4;
  bk.open_row = row;
  bk.act = a;
  bk.ready = std::max(bk.ready, a + std::int64_t(tm.tRC));
  return a + tm.tRCD;
}

// The earliest cycle for a column command given the bus, bank-group and turnaround rules.
std::int64_t DramChannel::column_time(bool write, std::uint32_t bg, std::int64_t t, std::int64_t act_ready) const {
  const auto& tm = d_.t;
  const std::int64_t bl = d_.burst_cycles();
  std::int64_t c = std::max({t, act_ready, col_bus_ + 1, last_col_ + tm.tCCD_S, last_col_bg_[bg] + tm.tCCD_L});
  if (write) {
    c = std::max(c, last_rd_ + tm.tCL + bl + 2 - std::int64_t(tm.tCWL));  // read-to-write turnaround
  } else {
    c = std::max({c, last_wr_ + tm.tCWL + bl + tm.tWTR_S, last_wr_bg_[bg] + tm.tCWL + bl + tm.tWTR_L});
  }
  return c;
}

void DramChannel::note_column(bool write, std::uint32_t bg, std::uint32_t b, std::uint32_t row, std::int64_t c) {
  log(c, write ? DramCommandType::WR : DramCommandType::RD, bg, b, row);
  col_bus_ = last_col_ = last_col_bg_[bg] = c;
  if (write) {
    last_wr_ = last_wr_bg_[bg] = bank(bg, b).last_wr = c;
  } else {
    last_rd_ = bank(bg, b).last_rd = c;
  }
}

std::int64_t DramChannel::schedule(const DramPiece& p, std::int64_t earliest) {
  const auto& tm = d_.t;
  const std::uint32_t G = d_.bank_groups, cols = d_.columns;
  std::int64_t t = std::max<std::int64_t>(std::int64_t(p.arrival), earliest);
  refresh_until(t);

  // The bank groups the run touches, in order, with the index of its first burst there.
  struct Touch {
    std::uint32_t bg;
    std::int64_t act_ready;
  };
  std::vector<Touch> touched;
  auto bg_of = [&](std::uint64_t j) -> std::uint32_t {
    return p.bg_fastest ? std::uint32_t((p.first_bg + j) % G) : std::uint32_t((p.first_bg + (p.first_col + j) / cols) % G);
  };
  const std::uint64_t distinct = p.bg_fastest ? std::min<std::uint64_t>(p.bursts, G)
                                              : std::min<std::uint64_t>(G, (p.first_col + p.bursts - 1) / cols + 1);
  for (std::uint64_t i = 0; i < distinct; ++i) {
    const std::uint32_t bg = p.bg_fastest ? bg_of(i) : std::uint32_t((p.first_bg + i) % G);
    touched.push_back({bg, activate(bg, p.bank, p.row, t)});
  }
  auto ready_of = [&](std::uint32_t bg) {
    for (const auto& x : touched)
      if (x.bg == bg) return x.act_ready;
    return t;
  };

  const std::int64_t bl = d_.burst_cycles();
  std::int64_t c = 0;
  const bool closed_form = p.bg_fastest && !ctrl_.log_commands && p.bursts > G &&
                           std::int64_t(tm.tCCD_L) <= std::int64_t(G) * tm.tCCD_S;
  if (closed_form) {
    // The first G bursts each wait for their bank group; after that every burst follows
    // the previous one by tCCD_S (the same group comes round every G >= tCCD_L/tCCD_S).
    for (std::uint32_t j = 0; j < G; ++j) {
      const std::uint32_t bg = bg_of(j);
      c = column_time(p.write, bg, t, ready_of(bg));
      note_column(p.write, bg, p.bank, p.row, c);
    }
    const std::int64_t last = c + std::int64_t(p.bursts - G) * tm.tCCD_S;
    // Record each group's last burst: burst j is at c + (j - (G-1)) tCCD_S.
    for (std::uint32_t back = 0; back < G; ++back) {
      const std::uint64_t j = p.bursts - 1 - back;
      const std::uint32_t bg = bg_of(j);
      const std::int64_t cj = last - std::int64_t(back) * tm.tCCD_S;
      last_col_bg_[bg] = std::max(last_col_bg_[bg], cj);
      if (p.write) last_wr_bg_[bg] = std::max(last_wr_bg_[bg], cj), bank(bg, p.bank).last_wr = std::max(bank(bg, p.bank).last_wr, cj);
      else bank(bg, p.bank).last_rd = std::max(bank(bg, p.bank).last_rd, cj);
    }
    col_bus_ = last_col_ = c = last;
    if (p.write) last_wr_ = last; else last_rd_ = last;
  } else {
    for (std::uint64_t j = 0; j < p.bursts; ++j) {
      const std::uint32_t bg = bg_of(j);
      c = column_time(p.write, bg, t, ready_of(bg));
      note_column(p.write, bg, p.bank, p.row, c);
    }
  }
  const std::int64_t data_end = c + (p.write ? tm.tCWL : tm.tCL) + bl;
  data_free_ = std::max(data_free_, data_end);
  stats_.busy_cycles += std::uint64_t(p.bursts) * std::uint64_t(bl);

  if (!ctrl_.open_page) {  // auto precharge: the bank closes by itself, no bus command
    for (const auto& x : touched) {
      Bank& bk = bank(x.bg, p.bank);
      const std::int64_t pre = precharge_time(bk);
      log(pre, DramCommandType::PRE_AUTO, x.bg, p.bank, p.row);
      bk.open_row = -1;
      bk.ready = std::max(bk.ready, pre + tm.tRP);
    }
  }
  return data_end;
}

std::uint64_t DramChannel::read(const DramPiece& p) {
  // Use idle time before this read to drain posted writes.
  while (!write_queue_.empty() && std::max<std::int64_t>(last_col_ + d_.t.tCCD_S, write_queue_.front().arrival) +
                                          d_.t.tCWL + d_.burst_cycles() <=
                                      std::int64_t(p.arrival)) {
    const DramPiece w = write_queue_.front();
    write_queue_.pop_front();
    schedule(w, 0);
  }
  ++stats_.arrivals;
  std::uint64_t waiting = write_queue_.size();
  for (std::int64_t done : read_completions_) waiting += done > std::int64_t(p.arrival) ? 1 : 0;
  stats_.queue_depth_sum += waiting;

  // A full read queue admits this read when the read queue_depth places earlier is done.
  const std::int64_t entry = read_completions_.size() >= ctrl_.queue_depth ? read_completions_.front() : 0;
  const std::int64_t done = schedule(p, entry);
  read_completions_.push_back(done);
  if (read_completions_.size() > ctrl_.queue_depth) read_completions_.pop_front();
  ++stats_.reads;
  stats_.read_bytes += std::uint64_t(p.bursts) * d_.burst_bytes();
  return std::uint64_t(done);
}

std::int64_t DramChannel::drain_writes(std::size_t keep) {
  std::int64_t first_done = -1;
  while (write_queue_.size() > keep) {
    // FR-FCFS among the posted writes: the oldest row hit, else the oldest.
    auto pick = write_queue_.begin();
    for (auto it = write_queue_.begin(); it != write_queue_.end(); ++it)
      if (row_hit(*it)) {
        pick = it;
        break;
      }
    const DramPiece w = *pick;
    write_queue_.erase(pick);
    const std::int64_t done = schedule(w, 0);
    if (first_done < 0) first_done = done;
  }
  return first_done;
}

std::uint64_t DramChannel::write(const DramPiece& p) {
  ++stats_.arrivals;
  stats_.queue_depth_sum += write_queue_.size();
  ++stats_.writes;
  stats_.write_bytes += std::uint64_t(p.bursts) * d_.burst_bytes();
  std::int64_t accepted = std::int64_t(p.arrival);
  if (write_queue_.size() >= ctrl_.queue_depth) {
    // Full: drain to half; this write enters when the first drained write's data is in.
    accepted = std::max(accepted, drain_writes(ctrl_.queue_depth / 2));
  }
  write_queue_.push_back(p);
  return std::uint64_t(accepted);
}

std::uint64_t DramChannel::flush() {
  drain_writes(0);
  return std::uint64_t(std::max<std::int64_t>(0, data_free_));
}

}  // namespace podsim
