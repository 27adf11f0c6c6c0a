#include "podsim/sim/memory_trace.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <queue>
#include <sstream>

#include <fmt/format.h>

#include "podsim/arch/dram/timing_checker.h"
#include "podsim/arch/hbm_model.h"
#include "podsim/config/config_error.h"

namespace podsim {
namespace {

constexpr std::size_t kMaxRequests = 10'000'000;
constexpr std::uintmax_t kMaxTraceBytes = 64ull << 20;
constexpr std::uint64_t kMaxRequestBytes = 1ull << 30;

// A field of at most 24 characters, for error messages.
std::string shown(const std::string& s) { return s.size() > 24 ? s.substr(0, 24) + "..." : s; }

bool parse_uint(const std::string& s, std::uint64_t* out) {
  if (s.empty()) return false;
  const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  const std::string digits = hex ? s.substr(2) : s;
  if (digits.empty() || digits.size() > (hex ? 16u : 19u)) return false;
  for (char c : digits)
    if (!(hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c))))
      return false;
  *out = std::stoull(digits, nullptr, hex ? 16 : 10);
  return true;
}

}  // namespace

std::vector<MemoryRequest> parse_memory_trace(const std::string& text, const std::string& source) {
  std::vector<MemoryRequest> out;
  std::size_t pos = 0;
  int line_no = 0;
  while (pos < text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    // Fields with their 1-based columns; '#' ends the line.
    std::vector<std::pair<std::string, int>> fields;
    for (std::size_t i = 0; i < line.size();) {
      const char c = line[i];
      if (c == '#') break;
      if (c == ' ' || c == '\t' || c == ',' || c == '\r') {
        ++i;
        continue;
      }
      const std::size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != ',' && line[i] != '\r' &&
             line[i] != '#')
        ++i;
      fields.emplace_back(line.substr(start, i - start), int(start) + 1);
    }
    if (fields.empty()) continue;
    auto fail = [&](std::size_t f, const std::string& what) {
      const int col = f < fields.size() ? fields[f].second : int(line.size()) + 1;
      throw ConfigError({source, line_no, col}, "trace", what);
    };
    if (fields.size() < 2 || fields.size() > 4)
      fail(std::min<std::size_t>(fields.size(), 4),
           fmt::format("expected ADDRESS OP [CYCLE] [BYTES], got {} fields", fields.size()));
    MemoryRequest r;
    if (!parse_uint(fields[0].first, &r.addr))
      fail(0, fmt::format("expected an address (hex 0x... or decimal), got '{}'", shown(fields[0].first)));
    std::string op = fields[1].first;
    for (char& c : op) c = char(std::toupper(static_cast<unsigned char>(c)));
    if (op == "R" || op == "RD" || op == "READ" || op == "LOAD") r.write = false;
    else if (op == "W" || op == "WR" || op == "WRITE" || op == "STORE") r.write = true;
    else fail(1, fmt::format("expected R or W (READ, WRITE), got '{}'", shown(fields[1].first)));
    std::uint64_t v = 0;
    if (fields.size() >= 3) {
      if (!parse_uint(fields[2].first, &v) || v > (1ull << 62))
        fail(2, fmt::format("expected an issue cycle (a whole number), got '{}'", shown(fields[2].first)));
      r.cycle = std::int64_t(v);
      if (!out.empty() && out.back().cycle > r.cycle)
        fail(2, fmt::format("cycle {} is before the previous request's {}: cycles must not decrease", r.cycle,
                            out.back().cycle));
    }
    if (fields.size() == 4) {
      if (!parse_uint(fields[3].first, &v) || v == 0 || v > kMaxRequestBytes)
        fail(3, fmt::format("expected a request size of 1 B to 1 GiB, got '{}'", shown(fields[3].first)));
      r.bytes = v;
    }
    if (r.addr > (1ull << 56) || r.addr + r.bytes > (1ull << 56))
      fail(0, fmt::format("address {:#x} is beyond 2^56", r.addr));
    if (out.size() >= kMaxRequests)
      fail(0, fmt::format("more than {} requests; replay a sample of the trace", kMaxRequests));
    if (!out.empty() && (out.back().cycle < 0) != (r.cycle < 0))
      fail(fields.size() >= 3 ? 2 : 1, "every request or none must give an issue cycle");
    out.push_back(r);
  }
  if (out.empty()) throw ConfigError({source, 0, 0}, "trace", "no requests; expected lines of ADDRESS OP [CYCLE] [BYTES]");
  return out;
}

std::vector<MemoryRequest> load_memory_trace(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ConfigError({path, 0, 0}, "trace", "no such file");
  if (!fs::is_regular_file(path, ec)) throw ConfigError({path, 0, 0}, "trace", "not a regular file");
  if (fs::file_size(path, ec) > kMaxTraceBytes)
    throw ConfigError({path, 0, 0}, "trace",
                      fmt::format("larger than {} MiB; replay a sample of the trace", kMaxTraceBytes >> 20));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({path, 0, 0}, "trace", "cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_memory_trace(text.str(), path);
}

std::string format_memory_trace(const std::vector<MemoryRequest>& requests) {
  const bool cycles = !requests.empty() && std::all_of(requests.begin(), requests.end(),
                                                       [](const MemoryRequest& r) { return r.cycle >= 0; });
  std::string out = cycles ? "# address op cycle bytes\n" : "# address op bytes: use 0 as the cycle when closed loop\n";
  for (const auto& r : requests) {
    if (cycles) out += fmt::format("{:#x} {} {} {}\n", r.addr, r.write ? 'W' : 'R', r.cycle, r.bytes);
    else out += fmt::format("{:#x} {} 0 {}\n", r.addr, r.write ? 'W' : 'R', r.bytes);
  }
  return out;
}

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
    for (double v : lat) {
      sum += v;
      std::size_t bucket = 0;
      while (bucket < 40 && v >= std::ldexp(1.0, int(bucket))) ++bucket;
      if (r.latency_histogram.size() <= bucket) r.latency_histogram.resize(bucket + 1, 0);
      ++r.latency_histogram[bucket];
    }
    r.mean_latency_ns = sum / double(lat.size());
    // Percentiles by nearest rank: the ceil(p n)-th smallest.
    auto rank_of = [&](double p) {
      return std::min(lat.size() - 1, std::size_t(std::max(1.0, std::ceil(p * double(lat.size())))) - 1);
    };
    std::sort(lat.begin(), lat.end());
    r.p50_latency_ns = lat[rank_of(0.50)];
    r.p99_latency_ns = lat[rank_of(0.99)];
    r.max_latency_ns = lat.back();
  }
  r.elapsed_s = double(last) * 1e-12;
  r.achieved_gbps = last ? double(r.bytes) / r.elapsed_s * 1e-9 : 0.0;
  for (const auto& c : hbm.channel_stats()) {
    r.row_hits += c.row_hits;
    r.row_misses += c.row_misses;
    r.row_conflicts += c.row_conflicts;
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
