#include "index_file.h"

#include <cctype>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace podsim::detail {

namespace {
constexpr std::size_t kMaxIndices = std::size_t(1) << 28;  // 2 GiB of indices in memory
}

std::shared_ptr<const std::vector<std::uint64_t>> read_index_file(const std::string& path,
                                                                 const std::string& workload_file,
                                                                 std::uint64_t table_rows,
                                                                 const SourceLocation& where,
                                                                 const std::string& key_path) {
  namespace fs = std::filesystem;
  const fs::path p = fs::path(path).is_absolute() ? fs::path(path) : fs::path(workload_file).parent_path() / path;
  // A FIFO or a device would block or never end: only regular files are read.
  std::error_code ec;
  if (fs::exists(p, ec) && !fs::is_regular_file(p, ec))
    throw ConfigError(where, key_path, fmt::format("the index file '{}' is not a regular file", p.string()));
  std::ifstream in(p);
  if (!in) throw ConfigError(where, key_path, fmt::format("cannot open the index file '{}'", p.string()));
  auto out = std::make_shared<std::vector<std::uint64_t>>();
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::size_t i = 0;
    while (i < line.size()) {
      const char ch = line[i];
      if (ch == '#') break;
      if (std::isspace(static_cast<unsigned char>(ch)) || ch == ',') {
        ++i;
        continue;
      }
      const std::size_t start = i;
      while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i])) && line[i] != ',' && line[i] != '#')
        ++i;
      const std::string token = line.substr(start, i - start);
      const SourceLocation at{p.string(), line_no, int(start) + 1};
      std::uint64_t value = 0;
      bool ok = !token.empty();
      for (char d : token) {
        if (!std::isdigit(static_cast<unsigned char>(d)) || value > (UINT64_MAX - 9) / 10) {
          ok = false;
          break;
        }
        value = value * 10 + std::uint64_t(d - '0');
      }
      if (!ok) throw ConfigError(at, key_path, fmt::format("expected a whole number (a table row), got '{}'", token));
      if (value >= table_rows)
        throw ConfigError(at, key_path,
                          fmt::format("index {} is outside the table (table_rows {}: rows 0 to {})", value, table_rows,
                                      table_rows - 1));
      if (out->size() >= kMaxIndices)
        throw ConfigError(at, key_path, fmt::format("more than {} indices; sample the trace", kMaxIndices));
      out->push_back(value);
    }
  }
  if (out->empty()) throw ConfigError(where, key_path, fmt::format("the index file '{}' holds no indices", p.string()));
  return out;
}

}  // namespace podsim::detail
