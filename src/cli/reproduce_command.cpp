// `podsim reproduce`: run the published anchors and judge them (src/validation/).
#include <unistd.h>

#include <climits>

#include <fmt/format.h>

#include "commands.h"
#include "podsim/validation/reproduce.h"

namespace podsim::cli {

int reproduce_command(const ReproduceOptions& o) {
  std::vector<AnchorSpec> anchors;
  try {
    std::vector<std::string> files;
    for (const auto& p : o.paths.empty() ? std::vector<std::string>{"validation"} : o.paths)
      for (auto& f : anchor_files(p)) files.push_back(std::move(f));
    for (const auto& f : files) {
      AnchorSpec a = load_anchor_file(f);
      if (!o.filter.empty() && a.name.find(o.filter) == std::string::npos) continue;
      if (!o.kind.empty() && o.kind != anchor_kind_name(a.kind)) continue;
      for (const auto& b : anchors)
        if (b.name == a.name)
          throw ConfigError({f, 0, 0}, "anchor.name", fmt::format("'{}' is also the name of {}", a.name, b.file));
      anchors.push_back(std::move(a));
    }
  } catch (const ConfigError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return kInputError;
  }
  if (anchors.empty()) {
    fmt::print(stderr, "error: no anchor matches{}{}\n", o.filter.empty() ? "" : fmt::format(" --filter '{}'", o.filter),
               o.kind.empty() ? "" : fmt::format(" --kind {}", o.kind));
    return kInputError;
  }
  podsim::ReproduceOptions r;
  r.jobs = o.jobs;
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  r.podsim_binary = n > 0 ? std::string(buf, std::size_t(n)) : std::string("podsim");
  std::vector<AnchorResult> results;
  try {
    results = reproduce(anchors, r);
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return kSimulationError;
  }
  fmt::print("{}", reproduce_text(results));
  if (!o.json_path.empty() && !write_file(o.json_path, reproduce_json(results), "the JSON report")) return kInputError;
  if (!o.markdown_path.empty() && !write_file(o.markdown_path, reproduce_markdown(results), "the Markdown report"))
    return kInputError;
  return reproduce_exit_code(results);
}

}  // namespace podsim::cli
