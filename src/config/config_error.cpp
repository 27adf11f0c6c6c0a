#include "podsim/config/config_error.h"

#include <algorithm>

#include <fmt/format.h>

namespace podsim {
namespace {

std::string render(const SourceLocation& where, const std::string& key_path,
                   const std::string& problem) {
  std::string out = where.file;
  if (where.line > 0) out += fmt::format(":{}:{}", where.line, where.column);
  if (!out.empty()) out += ": ";  // no file: a limit of the run, not of an input line
  if (!key_path.empty()) out += key_path + ": ";
  out += problem;
  return out;
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

ConfigError::ConfigError(SourceLocation where, std::string key_path, std::string problem)
    : std::runtime_error(render(where, key_path, problem)),
      where_(std::move(where)),
      key_path_(std::move(key_path)),
      problem_(std::move(problem)) {}

std::string suggest_nearest(const std::string& unknown, const std::vector<std::string>& known) {
  // A typo is at most a third of the word (at least 2 edits): "bandwdith" -> "bandwidth".
  const std::size_t limit = std::max<std::size_t>(2, unknown.size() / 3);
  const std::string* best = nullptr;
  std::size_t best_distance = limit + 1;
  for (const auto& candidate : known) {
    std::size_t d = edit_distance(unknown, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = &candidate;
    }
  }
  return best ? fmt::format("did you mean '{}'?", *best) : std::string();
}

}  // namespace podsim
