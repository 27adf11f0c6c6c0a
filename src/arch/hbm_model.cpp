#include "podsim/arch/hbm_model.h"

#include <algorithm>
#include <stdexcept>

namespace podsim {

void BandwidthSeries::add(std::uint64_t at_ps, std::uint64_t bytes) {
  std::uint64_t index = at_ps / bucket_ps_;
  while (index >= kMaxBuckets) {  // widen: merge neighbours
    std::vector<std::uint64_t> merged((bytes_.size() + 1) / 2, 0);
    for (std::size_t i = 0; i < bytes_.size(); ++i) merged[i / 2] += bytes_[i];
    bytes_ = std::move(merged);
    bucket_ps_ *= 2;
    index = at_ps / bucket_ps_;
  }
  if (bytes_.size() <= index) bytes_.resize(index + 1, 0);
  bytes_[index] += bytes;
}

HbmModel::HbmModel(const HbmSpec& spec, bool log_commands) : spec_(spec) {
  if (spec.device == "ideal") {
    // The chip bandwidth is split evenly; the remainder (a few B/s at most) goes to the
    // first channels so the channels add up to the chip figure exactly.
    const std::uint64_t per = spec.bandwidth_Bps / spec.channels;
    const std::uint64_t extra = spec.bandwidth_Bps % spec.channels;
    ideal_.reserve(spec.channels);
    for (std::uint32_t c = 0; c < spec.channels; ++c) ideal_.emplace_back(per + (c < extra ? 1 : 0));
    bytes_.resize(spec.channels);
    channel_series_.resize(spec.channels);
    return;
  }
  device_ = resolve_dram_device(spec);  // validated at load: cannot throw for a loaded spec
  dram_clock_ = ClockDomain(device_.clock_hz());
  const std::uint32_t pcs = spec.channels * device_.pseudo_channels;
  map_ = std::make_unique<AddressMap>(device_, pcs, spec.mapping, spec.xor_bank, spec.channel_hash, spec.xor_channel,
                                      spec.xor_row_shift);
  DramControllerSpec ctrl;
  ctrl.queue_depth = spec.queue_depth;
  ctrl.open_page = spec.page_policy != "closed";
  ctrl.page_timeout = spec.page_policy == "adaptive" ? std::int64_t(spec.page_timeout) : 0;
  ctrl.per_bank_refresh = spec.refresh == "per_bank";
  ctrl.log_commands = log_commands;
  ctrl.write_high_percent = spec.write_high_watermark;
  ctrl.write_low_percent = spec.write_low_watermark;
  ctrl.refresh_phases = spec.refresh_stagger ? pcs : 1;
  ctrl.stream_fast_path = spec.stream_fast_path;
  dram_.reserve(pcs);
  for (std::uint32_t i = 0; i < pcs; ++i) {
    ctrl.refresh_phase = spec.refresh_stagger ? i : 0;
    dram_.emplace_back(device_, ctrl);
  }
  bytes_.resize(pcs);
  by_pc_.resize(pcs);
  channel_series_.resize(pcs);
}

std::uint64_t HbmModel::peak_Bps() const {
  return is_dram() ? dram_pc_peak_Bps(device_) * dram_.size() : spec_.bandwidth_Bps;
}

std::uint32_t HbmModel::channel_of(std::uint64_t addr) const {
  if (is_dram()) return map_->decode(addr).pc;
  return static_cast<std::uint32_t>((addr / spec_.interleave_bytes) % spec_.channels);
}

std::uint64_t HbmModel::serve_ideal(std::uint64_t now_ps, const Segment& seg, bool is_write) {
  std::uint64_t finished = now_ps;
  std::uint64_t offset = 0;
  while (offset < seg.bytes) {
    const std::uint64_t a = seg.addr + offset;
    const std::uint64_t stripe_left = spec_.interleave_bytes - a % spec_.interleave_bytes;
    const std::uint64_t piece = std::min(stripe_left, seg.bytes - offset);
    const std::uint32_t c = channel_of(a);
    const std::uint64_t done = ideal_[c].reserve(now_ps, piece);
    finished = std::max(finished, done);
    auto& s = bytes_[c];
    (is_write ? s.write_bytes : s.read_bytes) += piece;
    ++s.requests;
    series_.add(done, piece);
    channel_series_[c].add(done, piece);
    offset += piece;
  }
  return finished;
}

void HbmModel::attach_onchip_memory(const CmemSpec& cmem) {
  if (cmem.capacity_bytes == 0) return;
  HbmSpec level;
  level.device = "ideal";
  level.channels = kCmemChannels;
  level.bandwidth_Bps = cmem.bandwidth_Bps;
  level.latency_ps = cmem.latency_ps;
  level.capacity_bytes = cmem.capacity_bytes;
  level.interleave_bytes = kCmemInterleave;
  cmem_ = std::make_unique<HbmModel>(level);
}

std::uint64_t HbmModel::cmem_read_bytes() const {
  std::uint64_t n = 0;
  if (cmem_)
    for (const auto& s : cmem_->bytes_) n += s.read_bytes;
  return n;
}

std::uint64_t HbmModel::cmem_write_bytes() const {
  std::uint64_t n = 0;
  if (cmem_)
    for (const auto& s : cmem_->bytes_) n += s.write_bytes;
  return n;
}

std::uint64_t HbmModel::serve_batch(std::uint64_t now_ps, const Segment* segments, std::size_t count, bool is_write) {
  if (!cmem_) return serve_hbm(now_ps, segments, count, is_write);
  hbm_part_.clear();
  cmem_part_.clear();
  for (std::size_t i = 0; i < count; ++i) (segments[i].addr >= kCmemBase ? cmem_part_ : hbm_part_).push_back(segments[i]);
  if (cmem_part_.empty()) return serve_hbm(now_ps, segments, count, is_write);
  // A chunk can straddle two tensors (the end of A and the start of B): it completes when
  // both memories are done.
  for (const Segment& s : cmem_part_) served_bytes_ += s.bytes;
  std::uint64_t finished = cmem_->serve_batch(now_ps, cmem_part_, is_write);
  if (!hbm_part_.empty()) finished = std::max(finished, serve_hbm(now_ps, hbm_part_.data(), hbm_part_.size(), is_write));
  return finished;
}

std::uint64_t HbmModel::serve_hbm(std::uint64_t now_ps, const Segment* segments, std::size_t count, bool is_write) {
  std::uint64_t finished = now_ps;
  for (std::size_t i = 0; i < count; ++i) served_bytes_ += segments[i].bytes;
  if (!is_dram()) {
    for (std::size_t i = 0; i < count; ++i) finished = std::max(finished, serve_ideal(now_ps, segments[i], is_write));
    return finished + spec_.latency_ps;
  }
  // Cut every segment into row runs, grouped by pseudo-channel.
  const std::uint64_t arrival = dram_clock_.cycle_at(now_ps);
  const std::uint64_t bb = map_->burst_bytes();
  touched_pcs_.clear();
  for (std::size_t si = 0; si < count; ++si) {
    const Segment& s = segments[si];
    std::uint64_t burst = s.addr / bb;
    const std::uint64_t end = s.addr + s.bytes;
    while (burst * bb < end) {
      const DramAddress a = map_->decode(burst * bb);
      // Bursts left in this (pseudo-channel, bank, row) block of the mapping.
      const std::uint64_t in_block = map_->bursts_left_in_block(a);
      const std::uint64_t need = (end + bb - 1) / bb - burst;
      const std::uint64_t n = std::min(in_block, need);
      DramPiece p;
      p.arrival = arrival;
      p.write = is_write;
      p.bank = a.bank;
      p.row = a.row;
      p.first_bg = a.bg;
      p.first_col = a.col;
      p.bursts = std::uint32_t(n);
      p.bg_fastest = map_->bank_groups_fastest();
      const std::uint64_t lo = std::max(s.addr, burst * bb), hi = std::min(end, (burst + n) * bb);
      if (by_pc_[a.pc].empty()) touched_pcs_.push_back(a.pc);
      by_pc_[a.pc].push_back({p, hi - lo});
      burst += n;
    }
  }
  std::sort(touched_pcs_.begin(), touched_pcs_.end());  // deterministic channel order
  for (std::uint32_t pc : touched_pcs_) {
    auto& pending = by_pc_[pc];
    DramChannel& ch = dram_[pc];
    while (!pending.empty()) {
      // FR-FCFS within the batch: the first row hit, else the oldest.
      auto pick = pending.begin();
      if (!is_write && pending.size() > 1)
        for (auto it = pending.begin(); it != pending.end(); ++it)
          if (ch.row_hit(it->piece)) {
            pick = it;
            break;
          }
      const DramPiece piece = pick->piece;
      const std::uint64_t asked = pick->bytes;
      pending.erase(pick);
      const std::uint64_t done_ps = dram_clock_.ps_of(is_write ? ch.write(piece) : ch.read(piece));
      finished = std::max(finished, done_ps);
      auto& st = bytes_[pc];
      (is_write ? st.write_bytes : st.read_bytes) += asked;
      ++st.requests;
      series_.add(done_ps, asked);
      channel_series_[pc].add(done_ps, asked);
    }
  }
  return finished + spec_.latency_ps;
}

std::vector<std::uint64_t> HbmModel::channel_bytes() const {
  std::vector<std::uint64_t> out;
  out.reserve(bytes_.size() + (cmem_ ? kCmemChannels : 0));
  for (const auto& s : bytes_) out.push_back(s.read_bytes + s.write_bytes);
  if (cmem_)  // after HBM's: replay() and the series index HBM's channels only
    for (const auto& s : cmem_->bytes_) out.push_back(s.read_bytes + s.write_bytes);
  return out;
}

std::uint64_t HbmModel::read_bytes() const {
  std::uint64_t n = cmem_read_bytes();
  for (const auto& s : bytes_) n += s.read_bytes;
  return n;
}

std::vector<std::uint64_t> HbmModel::backlog_ps(std::uint64_t now_ps) const {
  std::vector<std::uint64_t> out(dram_.size(), 0);
  for (std::size_t c = 0; c < dram_.size(); ++c) {
    const std::uint64_t free_ps = dram_clock_.ps_of(std::uint64_t(std::max<std::int64_t>(0, dram_[c].data_free())));
    out[c] = free_ps > now_ps ? free_ps - now_ps : 0;
  }
  return out;
}

void HbmModel::replay(std::uint64_t from_ps, std::uint64_t to_ps, const std::vector<std::uint64_t>& bytes) {
  replay(from_ps, to_ps, bytes, std::vector<std::uint64_t>(dram_.size(), 0));
}

void HbmModel::replay(std::uint64_t from_ps, std::uint64_t to_ps, const std::vector<std::uint64_t>& bytes,
                      const std::vector<std::uint64_t>& backlog_ps) {
  for (std::size_t c = 0; c < dram_.size(); ++c)
    dram_[c].idle_until(std::int64_t(dram_clock_.cycle_at(to_ps + backlog_ps[c])));
  // The series are plots: 16 even steps per channel over the replayed op.
  constexpr std::uint64_t kSteps = 16;
  const std::uint64_t span = to_ps > from_ps ? to_ps - from_ps : 0;
  for (std::size_t c = 0; c < bytes.size() && c < channel_series_.size(); ++c) {
    std::uint64_t given = 0;
    for (std::uint64_t s = 1; s <= kSteps; ++s) {
      const std::uint64_t upto = bytes[c] * s / kSteps;
      const std::uint64_t at = from_ps + span * s / kSteps - (s == kSteps && span ? 1 : 0);  // inside the interval
      channel_series_[c].add(at, upto - given);
      series_.add(at, upto - given);
      given = upto;
    }
  }
}

void HbmModel::list_counters(std::vector<std::uint64_t*>& out) {
  out.push_back(&served_bytes_);
  for (auto& s : bytes_) out.insert(out.end(), {&s.read_bytes, &s.write_bytes, &s.requests});
  for (auto& server : ideal_) server.list_counters(out);
  for (auto& ch : dram_) ch.list_counters(out);
  if (cmem_) cmem_->list_counters(out);
}

std::vector<const std::uint64_t*> HbmModel::channel_read_counters() const {
  std::vector<const std::uint64_t*> out;
  for (const auto& s : bytes_) out.push_back(&s.read_bytes);
  return out;
}

std::vector<const std::uint64_t*> HbmModel::channel_write_counters() const {
  std::vector<const std::uint64_t*> out;
  for (const auto& s : bytes_) out.push_back(&s.write_bytes);
  return out;
}

std::uint64_t HbmModel::flush() {
  std::uint64_t last = 0;
  for (auto& ch : dram_) last = std::max(last, dram_clock_.ps_of(ch.flush()));
  return last;
}

std::size_t HbmModel::pending_writes() const {
  std::size_t n = 0;
  for (const auto& ch : dram_) n += ch.pending_writes();
  return n;
}

std::vector<HbmChannelStats> HbmModel::channel_stats() const {
  std::vector<HbmChannelStats> out = bytes_;
  for (std::size_t c = 0; c < out.size(); ++c) {
    if (!is_dram()) {
      out[c].busy_ps = ideal_[c].busy_ps();
      continue;
    }
    const DramChannelStats& d = dram_[c].stats();
    out[c].busy_ps = dram_clock_.ps_of(d.busy_cycles);
    out[c].row_hits = d.row_hits;
    out[c].row_misses = d.row_misses;
    out[c].row_conflicts = d.row_conflicts;
    out[c].refreshes = d.refreshes;
    out[c].acts = d.commands[std::size_t(DramCommandType::ACT)];
    out[c].all_bank_refreshes = d.commands[std::size_t(DramCommandType::REF)];
    out[c].bank_refreshes = d.commands[std::size_t(DramCommandType::REF_PB)];
    out[c].forwarded_reads = d.forwarded_reads;
    out[c].streamed = d.streamed;
    out[c].mean_queue_depth = d.arrivals ? double(d.queue_depth_sum) / double(d.arrivals) : 0.0;
  }
  return out;
}

}  // namespace podsim
