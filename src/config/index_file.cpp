#include "index_file.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "podsim/io/text_lines.h"

namespace podsim::detail {

namespace {
constexpr std::size_t kMaxIndices = std::size_t(1) << 28;  // 2 GiB of indices in memory
}

std::vector<std::uint64_t> parse_index_text(const std::string& text, const std::string& file, std::uint64_t table_rows,
                                            const std::string& key_path) {
  std::vector<std::uint64_t> out;
  TextLines lines(text);
  std::string_view view;
  while (lines.next(&view)) {
    const std::string line(view);
    const int line_no = lines.number();
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
      const SourceLocation at{file, line_no, int(start) + 1};
      std::uint64_t value = 0;
      bool ok = !token.empty();
      for (char d : token) {
        if (!std::isdigit(static_cast<unsigned char>(d)) || value > (UINT64_MAX - 9) / 10) {
          ok = false;
          break;
        }
        value = value * 10 + std::uint64_t(d - '0');
      }
      // The token is quoted short: the file may not be an index file at all.
      if (!ok)
        throw ConfigError(at, key_path,
                          fmt::format("expected a whole number (a table row), got '{}'",
                                      token.size() > 16 ? token.substr(0, 16) + "..." : token));
      if (value >= table_rows)
        throw ConfigError(at, key_path,
                          fmt::format("index {} is outside the table (table_rows {}: rows 0 to {})", value, table_rows,
                                      table_rows - 1));
      if (out.size() >= kMaxIndices)
        throw ConfigError(at, key_path, fmt::format("more than {} indices; sample the trace", kMaxIndices));
      out.push_back(value);
    }
  }
  return out;
}

std::shared_ptr<const std::vector<std::uint64_t>> read_index_file(const std::string& path,
                                                                 const std::string& workload_file,
                                                                 std::uint64_t table_rows,
                                                                 const SourceLocation& where,
                                                                 const std::string& key_path) {
  namespace fs = std::filesystem;
  const fs::path folder = fs::path(workload_file).parent_path();
  const fs::path p = fs::path(path).is_absolute() ? fs::path(path) : folder / path;
  // Index files stay inside the workload's folder: a workload from elsewhere must not make
  // podsim read (and quote) any file on the machine. PODSIM_INDEX_FILES_ANYWHERE=1 lifts it.
  std::error_code ec;
  const char* anywhere = std::getenv("PODSIM_INDEX_FILES_ANYWHERE");
  if (!(anywhere && std::string(anywhere) == "1")) {
    const fs::path root = fs::weakly_canonical(folder.empty() ? fs::path(".") : folder, ec);
    const fs::path target = fs::weakly_canonical(p, ec);
    const auto [r, t] = std::mismatch(root.begin(), root.end(), target.begin(), target.end());
    if (ec || r != root.end())
      throw ConfigError(where, key_path,
                        fmt::format("the index file '{}' is outside the workload's folder '{}'; move it there, or set "
                                    "PODSIM_INDEX_FILES_ANYWHERE=1",
                                    path, root.string()));
  }
  // A FIFO or a device would block or never end: only regular files are read.
  if (fs::exists(p, ec) && !fs::is_regular_file(p, ec))
    throw ConfigError(where, key_path, fmt::format("the index file '{}' is not a regular file", p.string()));
  std::ifstream in(p, std::ios::binary);
  if (!in) throw ConfigError(where, key_path, fmt::format("cannot open the index file '{}'", p.string()));
  std::ostringstream text;
  text << in.rdbuf();
  auto out = std::make_shared<std::vector<std::uint64_t>>(parse_index_text(text.str(), p.string(), table_rows, key_path));
  if (out->empty()) throw ConfigError(where, key_path, fmt::format("the index file '{}' holds no indices", p.string()));
  return out;
}

}  // namespace podsim::detail
