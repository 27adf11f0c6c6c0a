#include "podsim/sim/memory_selftest.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <random>

#include "podsim/arch/dram/timing_checker.h"
#include "podsim/arch/hbm_model.h"

namespace podsim {
namespace {

struct Request {
  std::uint64_t addr;
  std::uint64_t bytes;
  bool write;
};

// Keeps `window` requests in flight; returns the result of the whole pattern.
MemoryPatternResult drive(const std::string& name, const HardwareSpec& hw, std::size_t window, bool check,
                          const std::function<bool(std::uint64_t index, Request*)>& next) {
  HbmModel hbm(hw.chip.hbm, check);
  MemoryPatternResult r;
  r.name = name;
  r.peak_gbps = double(hbm.peak_Bps()) * 1e-9;
  std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>> in_flight;
  std::vector<std::uint64_t> latencies;
  std::uint64_t now = 0, last = 0;
  bool any_read = false;
  Request q;
  for (std::uint64_t i = 0; next(i, &q); ++i) {
    if (in_flight.size() >= window) {
      now = std::max(now, in_flight.top());
      in_flight.pop();
    }
    const std::uint64_t done = hbm.serve(now, q.addr, q.bytes, q.write);
    in_flight.push(done);
    if (!q.write) any_read = true;
    latencies.push_back((done - now) * 2 + (q.write ? 1 : 0));  // tagged: even = read
    last = std::max(last, done);
    ++r.requests;
    r.bytes += q.bytes;
  }
  last = std::max(last, hbm.flush() + hw.chip.hbm.latency_ps);
  // Reads' latencies, or (write-only patterns) the writes' acceptance latencies.
  std::vector<double> lat;
  for (std::uint64_t v : latencies)
    if ((v % 2 == 0) == any_read) lat.push_back(double(v / 2) * 1e-3);
  if (!lat.empty()) {
    double sum = 0;
    for (double v : lat) sum += v;
    r.mean_latency_ns = sum / double(lat.size());
    // The 99th percentile (nearest rank): the ceil(0.99 n)-th smallest.
    const std::size_t rank = std::min(lat.size() - 1, std::size_t(std::ceil(0.99 * double(lat.size()))) - 1);
    std::nth_element(lat.begin(), lat.begin() + std::ptrdiff_t(rank), lat.end());
    r.p99_latency_ns = lat[rank];
  }
  r.elapsed_s = double(last) * 1e-12;
  r.achieved_gbps = last ? double(r.bytes) / r.elapsed_s * 1e-9 : 0.0;
  std::uint64_t hits = 0, all = 0;
  for (const auto& c : hbm.channel_stats()) {
    hits += c.row_hits;
    all += c.row_hits + c.row_misses + c.row_conflicts;
  }
  r.row_hit_rate = all ? double(hits) / double(all) : 0.0;
  if (const DramDevice* d = hbm.device()) {
    r.dram_cycles = ClockDomain(d->clock_hz()).cycle_at(last);
    if (check)
      for (const auto& ch : hbm.dram_channels()) {
        r.commands_checked += ch.commands().size();
        r.timing_violations += check_dram_timing(*d, ch.commands()).size();
      }
  }
  return r;
}

// The largest power of two not above x.
std::uint64_t floor_pow2(std::uint64_t x) {
  std::uint64_t p = 1;
  while (p * 2 <= x) p *= 2;
  return p;
}

}  // namespace

std::vector<std::string> memory_pattern_names() {
  return {"seq_read", "seq_write", "random_read_64B", "gather_256B", "zipf_gather_256B", "row_miss", "mix_2r1w"};
}

std::vector<MemoryPatternResult> run_memory_selftest(const HardwareSpec& hw, const MemorySelftestOptions& o) {
  const HbmSpec& m = hw.chip.hbm;
  const std::uint64_t span = floor_pow2(std::min<std::uint64_t>(m.capacity_bytes, 1ull << 34));  // addresses used
  const HbmModel probe(m);
  const std::size_t channels = probe.channel_count();
  // Enough requests in flight to keep every (pseudo-)channel busy: 64 KiB DMA chunks
  // for streams; 16 per channel for small random requests (bank parallelism).
  const std::size_t stream_window = 16;  // as a DMA engine keeps
  const std::size_t random_window = 16 * channels;
  const std::uint64_t chunk = 64 << 10;
  std::vector<MemoryPatternResult> out;
  auto wanted = [&](const std::string& n) {
    return o.only.empty() || std::find(o.only.begin(), o.only.end(), n) != o.only.end();
  };
  std::mt19937_64 rng(o.seed);

  if (wanted("seq_read"))
    out.push_back(drive("seq_read", hw, stream_window, o.check_timing, [&](std::uint64_t i, Request* q) {
      *q = {i * chunk, chunk, false};
      return i * chunk < o.stream_bytes;
    }));
  if (wanted("seq_write"))
    out.push_back(drive("seq_write", hw, stream_window, o.check_timing, [&](std::uint64_t i, Request* q) {
      *q = {i * chunk, chunk, true};
      return i * chunk < o.stream_bytes;
    }));
  if (wanted("random_read_64B"))
    out.push_back(drive("random_read_64B", hw, random_window, o.check_timing, [&](std::uint64_t i, Request* q) {
      *q = {(rng() % (span / 64)) * 64, 64, false};
      return i < o.random_requests;
    }));
  if (wanted("gather_256B"))
    out.push_back(drive("gather_256B", hw, random_window, o.check_timing, [&](std::uint64_t i, Request* q) {
      *q = {(rng() % (span / 256)) * 256, 256, false};
      return i < o.random_requests;
    }));
  if (wanted("zipf_gather_256B")) {
    // A hot/cold embedding table of 2^20 rows of 256 B; row k is drawn with probability
    // proportional to 1/k (Zipf, s = 1.0) and the ids are scattered over the table.
    const std::uint64_t rows = 1 << 20;
    std::vector<double> cdf(rows);
    double acc = 0;
    for (std::uint64_t k = 0; k < rows; ++k) cdf[k] = acc += 1.0 / double(k + 1);
    std::uniform_real_distribution<double> u(0.0, acc);
    out.push_back(drive("zipf_gather_256B", hw, random_window, o.check_timing, [&](std::uint64_t i, Request* q) {
      const std::uint64_t k = std::uint64_t(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin());
      const std::uint64_t id = (k * 2654435761ull) % rows;  // hot ids spread over the table
      *q = {id * 256, 256, false};
      return i < o.random_requests;
    }));
  }
  if (wanted("row_miss")) {
    // One 64 B access per DRAM row: step by a whole row block of one bank, so successive
    // accesses go to another channel, bank or row and never find their row open.
    const std::uint64_t step = probe.device() ? std::uint64_t(probe.device()->bank_groups) * probe.device()->row_bytes()
                                              : m.interleave_bytes;
    out.push_back(drive("row_miss", hw, random_window, o.check_timing, [&](std::uint64_t i, Request* q) {
      *q = {(i * step) % span, 64, false};
      return i < o.random_requests;
    }));
  }
  if (wanted("mix_2r1w"))
    out.push_back(drive("mix_2r1w", hw, random_window, o.check_timing, [&](std::uint64_t i, Request* q) {
      *q = {(rng() % (span / 256)) * 256, 256, i % 3 == 2};
      return i < o.random_requests;
    }));
  return out;
}

}  // namespace podsim
