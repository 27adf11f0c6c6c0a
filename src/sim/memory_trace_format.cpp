#include "podsim/sim/memory_trace.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "podsim/config/config_error.h"
#include "podsim/io/text_lines.h"

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
  TextLines lines(text);
  std::string_view view;
  while (lines.next(&view)) {
    const std::string line(view);
    const int line_no = lines.number();
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

}  // namespace podsim
