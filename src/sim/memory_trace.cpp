#include "podsim/sim/memory_trace.h"

#include <algorithm>
#include <cmath>
#include <queue>

#include "podsim/arch/dram/timing_checker.h"
#include "podsim/arch/hbm_model.h"

namespace podsim {

MemoryPatternResult replay_memory_trace(const HardwareSpec& hw, const std::vector<MemoryRequest>& requests,
                                        const MemoryReplayOptions& o, const std::string& name) {
  HbmModel hbm(hw.chip.hbm, o.check_timing);
  MemoryPatternResult r;
  r.name = name;
  r.peak_gbps = double(hbm.peak_Bps()) * 1e-9;
  // Issue cycles are DRAM clock cycles (1 ns on the ideal device).
  const DramDevice* device = hbm.device();
  const ClockDomain clock(device ? device->clock_hz() : 1'000'000'000);
  const std::size_t window = std::max<std::size_t>(1, o.outstanding);
  std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> in_flight;
  std::vector<std::uint64_t> latencies;  // ps x 2, tagged: even = read
  latencies.reserve(requests.size());
  std::uint64_t now = 0, last = 0;
  bool any_read = false;
  for (const MemoryRequest& q : requests) {
    if (o.open_loop) {
      now = std::max(now, clock.ps_of(std::uint64_t(std::max<std::int64_t>(0, q.cycle))));
    } else if (in_flight.size() >= window) {
      now = std::max(now, in_flight.top());
      in_flight.pop();
    }
    const std::uint64_t done = hbm.serve(now, q.addr, q.bytes, q.write);
    if (!o.open_loop) in_flight.push(done);
    any_read = any_read || !q.write;
    latencies.push_back((done - now) * 2 + (q.write ? 1 : 0));
    last = std::max(last, done);
    ++(q.write ? r.writes : r.reads);
    ++r.requests;
    r.bytes += q.bytes;
  }
  last = std::max(last, hbm.flush() + hw.chip.hbm.latency_ps);
  // Reads' latencies, or (write-only traces) the writes' acceptance latencies.
  std::vector<double> lat;
  for (std::uint64_t v : latencies)
    if ((v % 2 == 0) == any_read) lat.push_back(double(v / 2) * 1e-3);
  if (!lat.empty()) {
    double sum = 0;
    // Bucket b counts latencies in [2^(b-1), 2^b) ns (bucket 0: under 1 ns; the last, 40,
    // everything from 2^39 ns): the number of powers 2^0 .. 2^39 at or below v, which for
    // v >= 1 is floor(log2 v) + 1, read exactly from the exponent by ilogb.
    constexpr int kBuckets = 40;
    for (double v : lat) {
      sum += v;
      const std::size_t bucket = v < 1.0 ? 0 : std::size_t(std::min(kBuckets, std::ilogb(v) + 1));
      if (r.latency_histogram.size() <= bucket) r.latency_histogram.resize(bucket + 1, 0);
      ++r.latency_histogram[bucket];
    }
    r.mean_latency_ns = sum / double(lat.size());
    // Percentiles by nearest rank: the ceil(p n)-th smallest.
    auto rank_of = [&](double p) {
      return std::min(lat.size() - 1, std::size_t(std::max(1.0, std::ceil(p * double(lat.size())))) - 1);
    };
    // Order statistics by selection, not a full sort: the same values.
    const std::size_t p50 = rank_of(0.50), p99 = rank_of(0.99);
    std::nth_element(lat.begin(), lat.begin() + std::ptrdiff_t(p50), lat.end());
    r.p50_latency_ns = lat[p50];
    std::nth_element(lat.begin() + std::ptrdiff_t(p50), lat.begin() + std::ptrdiff_t(p99), lat.end());
    r.p99_latency_ns = lat[p99];
    r.max_latency_ns = *std::max_element(lat.begin() + std::ptrdiff_t(p99), lat.end());
  }
  r.elapsed_s = double(last) * 1e-12;
  r.achieved_gbps = last ? double(r.bytes) / r.elapsed_s * 1e-9 : 0.0;
  for (const auto& c : hbm.channel_stats()) {
    r.row_hits += c.row_hits;
    r.row_misses += c.row_misses;
    r.row_conflicts += c.row_conflicts;
    r.forwarded_reads += c.forwarded_reads;
  }
  const std::uint64_t all = r.row_hits + r.row_misses + r.row_conflicts;
  r.row_hit_rate = all ? double(r.row_hits) / double(all) : 0.0;
  if (device) {
    r.dram_cycles = ClockDomain(device->clock_hz()).cycle_at(last);
    std::uint64_t by_kind[kDramCommandTypes] = {};
    for (const auto& ch : hbm.dram_channels()) {
      for (std::size_t k = 0; k < kDramCommandTypes; ++k) by_kind[k] += ch.stats().commands[k];
      r.bank_acts.insert(r.bank_acts.end(), ch.stats().bank_acts.begin(), ch.stats().bank_acts.end());
      if (o.check_timing) {
        r.commands_checked += ch.commands().size();
        r.timing_violations += check_dram_timing(*device, ch.commands()).size();
      }
    }
    for (std::size_t k = 0; k < kDramCommandTypes; ++k)
      r.commands.emplace_back(dram_command_name(DramCommandType(k)), by_kind[k]);
  }
  return r;
}

}  // namespace podsim
