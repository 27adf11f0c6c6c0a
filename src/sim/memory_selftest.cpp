#include "podsim/sim/memory_selftest.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "podsim/arch/hbm_model.h"
#include "podsim/sim/memory_trace.h"

namespace podsim {
namespace {

// The largest power of two not above x.
std::uint64_t floor_pow2(std::uint64_t x) {
  std::uint64_t p = 1;
  while (p * 2 <= x) p *= 2;
  return p;
}

}  // namespace

std::vector<std::string> memory_pattern_names() {
  return {"seq_read", "seq_write",  "random_read_64B", "gather_256B", "zipf_gather_256B",
          "row_miss", "mix_2r1w",   "stream_copy",     "stream_add",  "stream_triad",
          "strided"};
}

std::vector<MemoryRequest> memory_pattern_trace(const HardwareSpec& hw, const std::string& name,
                                                const MemorySelftestOptions& o, std::size_t* window) {
  const HbmSpec& m = hw.chip.hbm;
  // Addresses used: the footprint if given, else the capacity (at most 16 GiB).
  const std::uint64_t span = o.footprint ? o.footprint : floor_pow2(std::min<std::uint64_t>(m.capacity_bytes, 1ull << 34));
  const HbmModel probe(m);
  const std::size_t channels = probe.channel_count();
  // Enough requests in flight to keep every (pseudo-)channel busy: for streams, 64 KiB
  // chunks as the chip's DMA engines keep them (chip.dma.outstanding per TensorCore; a
  // fixed 16 left tpu-v7's 7.4 TB/s at 52 % of peak by Little's law, 1 MiB / ~270 ns);
  // 16 per channel for small random requests (bank parallelism).
  const std::size_t stream_window =
      std::max<std::size_t>(16, std::size_t(hw.chip.dma.outstanding) * std::max<std::uint32_t>(1, hw.chip.tensor_cores));
  const std::size_t random_window = 16 * channels;
  const std::uint64_t chunk = 64 << 10;
  std::mt19937_64 rng(o.seed);
  std::vector<MemoryRequest> q;
  auto add = [&](std::uint64_t addr, std::uint64_t bytes, bool write) {
    MemoryRequest r;
    r.addr = addr;
    r.bytes = bytes;
    r.write = write;
    q.push_back(r);
  };
  *window = random_window;
  q.reserve(std::max<std::uint64_t>(o.random_requests, o.stream_bytes / chunk * 2));
  // The pattern's request size unless one is given; the i-th request writes when the
  // write fraction's running count steps up (evenly spaced: 0.25 writes every 4th).
  const auto size = [&](std::uint64_t own) { return o.request_bytes ? o.request_bytes : own; };
  const auto writes = [&](std::uint64_t i, double own) {
    const double f = o.write_fraction >= 0 ? o.write_fraction : own;
    return std::floor(double(i + 1) * f) > std::floor(double(i) * f);
  };
  const auto uniform = [&](std::uint64_t bytes, double write_share) {
    const std::uint64_t slots = std::max<std::uint64_t>(1, span / bytes);
    for (std::uint64_t i = 0; i < o.random_requests; ++i) add((rng() % slots) * bytes, bytes, writes(i, write_share));
  };
  if (name == "seq_read" || name == "seq_write") {
    *window = stream_window;
    for (std::uint64_t a = 0; a < o.stream_bytes; a += chunk) add(a, chunk, name == "seq_write");
  } else if (name == "stream_copy" || name == "stream_add" || name == "stream_triad") {
    // STREAM (McCalpin): copy b = a reads one array and writes one; add c = a + b and
    // triad a = b + s c read two and write one. Arrays of stream_bytes / arrays each,
    // back to back as a program allocates them; 64 KiB chunks of each array in turn.
    *window = stream_window;
    const std::uint64_t arrays = name == "stream_copy" ? 2 : 3;
    const std::uint64_t n = std::max<std::uint64_t>(chunk, o.stream_bytes / arrays / chunk * chunk);
    for (std::uint64_t a = 0; a < n; a += chunk) {
      for (std::uint64_t k = 0; k + 1 < arrays; ++k) add(k * n + a, chunk, false);
      add((arrays - 1) * n + a, chunk, true);
    }
  } else if (name == "random_read_64B") {
    uniform(size(64), 0.0);
  } else if (name == "gather_256B") {
    uniform(size(256), 0.0);
  } else if (name == "zipf_gather_256B") {
    // A hot/cold embedding table (2^20 rows of 256 B unless a footprint and row size are
    // given); row k is drawn with probability proportional to 1/k^s (Zipf, s = 1.0 unless
    // given) and the ids are scattered over the table.
    const std::uint64_t row = size(256);
    const std::uint64_t rows = o.footprint ? std::max<std::uint64_t>(1, o.footprint / row) : 1 << 20;
    const double s = o.zipf_s >= 0 ? o.zipf_s : 1.0;
    std::vector<double> cdf(rows);
    double acc = 0;
    for (std::uint64_t k = 0; k < rows; ++k) cdf[k] = acc += s == 1.0 ? 1.0 / double(k + 1) : std::pow(double(k + 1), -s);
    std::uniform_real_distribution<double> u(0.0, acc);
    for (std::uint64_t i = 0; i < o.random_requests; ++i) {
      const std::uint64_t k = std::min<std::uint64_t>(
          rows - 1, std::uint64_t(std::lower_bound(cdf.begin(), cdf.end(), u(rng)) - cdf.begin()));
      const std::uint64_t id = (k * 2654435761ull) % rows;  // hot ids spread over the table
      add(id * row, row, writes(i, 0.0));
    }
  } else if (name == "strided") {
    // Request i at i x stride, wrapping at the footprint: a strided walk (a column of a
    // row-major matrix, one field of an array of structs). Default: 64 B requests 2 KiB
    // apart.
    const std::uint64_t bytes = size(64), stride = o.stride ? o.stride : 2048;
    for (std::uint64_t i = 0; i < o.random_requests; ++i) add((i * stride) % span, bytes, writes(i, 0.0));
  } else if (name == "row_miss") {
    // One 64 B access per DRAM row: step by a whole row block of one bank, so successive
    // accesses go to another channel, bank or row and never find their row open.
    const std::uint64_t step = probe.device() ? std::uint64_t(probe.device()->bank_groups) * probe.device()->row_bytes()
                                              : m.interleave_bytes;
    for (std::uint64_t i = 0; i < o.random_requests; ++i) add((i * step) % span, size(64), false);
  } else if (name == "mix_2r1w") {
    uniform(size(256), 1.0 / 3);
  } else {
    throw std::invalid_argument("unknown memory pattern " + name);
  }
  return q;
}

std::vector<MemoryPatternResult> run_memory_selftest(const HardwareSpec& hw, const MemorySelftestOptions& o) {
  std::vector<MemoryPatternResult> out;
  for (const auto& name : memory_pattern_names()) {
    if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), name) == o.only.end()) continue;
    MemoryReplayOptions replay;
    const auto trace = memory_pattern_trace(hw, name, o, &replay.outstanding);
    replay.check_timing = o.check_timing;
    out.push_back(replay_memory_trace(hw, trace, replay, name));
  }
  return out;
}

}  // namespace podsim
