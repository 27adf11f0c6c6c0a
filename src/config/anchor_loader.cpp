// Reads validation/*.yaml anchor files into AnchorSpec (include/podsim/validation/anchor.h).
// Paths in a run (the workload) are relative to the anchor file.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "podsim/validation/anchor.h"
#include "yaml_util.h"

namespace podsim {
namespace {

using detail::location_of;
using detail::scalar_text;
namespace fs = std::filesystem;

std::string text_field(const YAML::Node& map, const char* key, const std::string& prefix, const std::string& file,
                       bool required) {
  const YAML::Node node = map[key];
  const std::string path = detail::join_path(prefix, key);
  if (!node) {
    if (required) throw ConfigError(location_of(map, file), path, "missing; expected a value");
    return "";
  }
  std::string text = scalar_text(node, path, file);
  if (required && text.empty()) throw ConfigError(location_of(node, file), path, "expected a non-empty value");
  return text;
}

double number_field(const YAML::Node& map, const char* key, const std::string& prefix, const std::string& file) {
  const YAML::Node node = map[key];
  const std::string path = detail::join_path(prefix, key);
  const std::string text = text_field(map, key, prefix, file, true);
  std::string t = text;
  const bool percent = !t.empty() && t.back() == '%';
  if (percent) t.pop_back();
  double v = 0;
  std::size_t used = 0;
  try {
    v = std::stod(t, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != t.size() || !std::isfinite(v))
    throw ConfigError(location_of(node, file), path, fmt::format("expected a finite number, got '{}'", text.substr(0, 40)));
  return percent ? v / 100 : v;
}

std::vector<std::string> text_list(const YAML::Node& node, const std::string& path, const std::string& file) {
  std::vector<std::string> out;
  if (!node) return out;
  if (!node.IsSequence()) throw ConfigError(location_of(node, file), path, "expected a list");
  for (std::size_t i = 0; i < node.size(); ++i) out.push_back(scalar_text(node[i], fmt::format("{}[{}]", path, i), file));
  return out;
}

AnchorRun parse_run(const YAML::Node& node, const std::string& path, const std::string& file) {
  detail::expect_map(node, path, file);
  detail::reject_unknown_keys(node, {"command", "workload", "hardware", "set", "wset", "args"}, path, file);
  AnchorRun run;
  run.where = location_of(node, file);
  run.command = text_field(node, "command", path, file, false);
  if (run.command.empty()) run.command = "run";
  if (run.command != "run" && run.command != "collective")
    throw ConfigError(location_of(node["command"], file), path + ".command", "expected run or collective");
  const std::string workload = text_field(node, "workload", path, file, run.command == "run");
  if (!workload.empty()) {
    if (run.command != "run")
      throw ConfigError(location_of(node["workload"], file), path + ".workload", "only a run takes a workload");
    const fs::path p = fs::path(workload).is_absolute() ? fs::path(workload) : fs::path(file).parent_path() / workload;
    run.args.push_back(p.lexically_normal().string());
  }
  run.args.push_back("--hw");
  run.args.push_back(text_field(node, "hardware", path, file, true));
  for (const auto& s : text_list(node["set"], path + ".set", file)) {
    run.args.push_back("--set");
    run.args.push_back(s);
  }
  for (const auto& s : text_list(node["wset"], path + ".wset", file)) {
    if (run.command != "run") throw ConfigError(location_of(node["wset"], file), path + ".wset", "only a run takes wset");
    run.args.push_back("--wset");
    run.args.push_back(s);
  }
  // Collectives name their kind and sizes here: args: [all_reduce, --bytes, 1 GiB].
  const auto extra = text_list(node["args"], path + ".args", file);
  if (run.command == "collective") run.args.insert(run.args.begin(), extra.begin(), extra.end());
  else run.args.insert(run.args.end(), extra.begin(), extra.end());
  for (const auto& a : extra)
    if (a == "--json" || a == "--trace")
      throw ConfigError(location_of(node["args"], file), path + ".args", "reproduce chooses the output files itself");
  return run;
}

}  // namespace

const char* anchor_kind_name(AnchorKind k) {
  switch (k) {
    case AnchorKind::kMeasured: return "measured";
    case AnchorKind::kModel: return "model";
    case AnchorKind::kSpec: return "spec";
    case AnchorKind::kClosedForm: return "closed_form";
  }
  return "?";
}

const char* anchor_kind_meaning(AnchorKind k) {
  switch (k) {
    case AnchorKind::kMeasured: return "measured on the chip running work (benchmark logs, throughput, power)";
    case AnchorKind::kModel: return "the designers' own performance model or worked example";
    case AnchorKind::kSpec: return "a datasheet figure or what follows from it alone";
    case AnchorKind::kClosedForm: return "a textbook formula";
  }
  return "?";
}

AnchorSpec load_anchor_file(const std::string& path) {
  const YAML::Node root = detail::parse_yaml_file(path);
  detail::reject_unknown_keys(root, {"anchor"}, "", path);
  const YAML::Node a = root["anchor"];
  if (!a) throw ConfigError(location_of(root, path), "anchor", "missing; an anchor file holds one 'anchor:' mapping");
  detail::expect_map(a, "anchor", path);
  detail::reject_unknown_keys(a,
                              {"name", "group", "kind", "claim", "source", "published", "unit", "tolerance",
                               "assumptions", "known_failure", "runs", "value"},
                              "anchor", path);
  AnchorSpec spec;
  spec.file = path;
  spec.name = text_field(a, "name", "anchor", path, true);
  spec.group = text_field(a, "group", "anchor", path, true);
  {
    const std::string kind = text_field(a, "kind", "anchor", path, true);
    const auto it = std::find_if(std::begin(kAnchorKinds), std::end(kAnchorKinds),
                                 [&](AnchorKind k) { return kind == anchor_kind_name(k); });
    if (it == std::end(kAnchorKinds)) {
      std::string expected;
      for (AnchorKind k : kAnchorKinds) expected += fmt::format("{}{}", expected.empty() ? "" : ", ", anchor_kind_name(k));
      throw ConfigError(location_of(a["kind"], path), "anchor.kind",
                        fmt::format("unknown kind '{}'; expected one of {} (docs/validation.md says what each is)",
                                    kind.substr(0, 40), expected));
    }
    spec.kind = *it;
  }
  spec.claim = text_field(a, "claim", "anchor", path, true);
  spec.source = text_field(a, "source", "anchor", path, true);
  spec.published = number_field(a, "published", "anchor", path);
  if (spec.published == 0) throw ConfigError(location_of(a["published"], path), "anchor.published", "expected a non-zero value");
  spec.unit = text_field(a, "unit", "anchor", path, true);
  spec.tolerance = number_field(a, "tolerance", "anchor", path);
  if (spec.tolerance <= 0 || spec.tolerance >= 1)
    throw ConfigError(location_of(a["tolerance"], path), "anchor.tolerance", "expected a tolerance between 0 and 100%");
  spec.assumptions = text_field(a, "assumptions", "anchor", path, false);
  spec.known_failure = text_field(a, "known_failure", "anchor", path, false);
  const YAML::Node runs = a["runs"];
  if (!runs) throw ConfigError(location_of(a, path), "anchor.runs", "missing; expected a mapping of named runs");
  detail::expect_map(runs, "anchor.runs", path);
  std::vector<std::string> names;
  for (const auto& kv : runs) {
    const std::string name = kv.first.as<std::string>();
    const bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
    if (!ok || std::isdigit(static_cast<unsigned char>(name[0])))
      throw ConfigError(location_of(kv.first, path), "anchor.runs",
                        fmt::format("a run name is letters, digits and _ and starts with a letter, got '{}'", name.substr(0, 40)));
    if (spec.runs.count(name)) throw ConfigError(location_of(kv.first, path), "anchor.runs." + name, "defined twice");
    spec.runs[name] = parse_run(kv.second, "anchor.runs." + name, path);
    names.push_back(name);
  }
  if (names.empty()) throw ConfigError(location_of(runs, path), "anchor.runs", "expected at least one run");
  spec.value_text = text_field(a, "value", "anchor", path, true);
  spec.value = parse_anchor_expr(spec.value_text, names, location_of(a["value"], path), "anchor.value");
  return spec;
}

std::vector<std::string> anchor_files(const std::string& path) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) return {path};
  if (!fs::is_directory(path, ec)) throw ConfigError({path, 0, 0}, "", "no such anchor file or folder");
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(path))
    if (e.is_regular_file() && e.path().extension() == ".yaml") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  if (files.empty()) throw ConfigError({path, 0, 0}, "", "the folder holds no *.yaml anchor files");
  return files;
}

}  // namespace podsim
