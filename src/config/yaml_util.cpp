#include "yaml_util.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace podsim::detail {
namespace {

const char* node_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a value";
    case YAML::NodeType::Null: return "nothing";
    case YAML::NodeType::Undefined: return "nothing";
  }
  return "?";
}

}  // namespace

SourceLocation location_of(const YAML::Node& node, const std::string& file) {
  YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

// A key given twice in one mapping: yaml-cpp keeps both, and a reader would silently take
// one of them (the first or the last, depending on how it looks the key up).
static void reject_duplicate_keys(const YAML::Node& node, const std::string& file, const std::string& path) {
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i) reject_duplicate_keys(node[i], file, fmt::format("{}[{}]", path, i));
    return;
  }
  if (!node.IsMap()) return;
  std::vector<std::string> seen;
  for (const auto& kv : node) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
    const std::string key_path = join_path(path, key);
    if (!key.empty() && std::find(seen.begin(), seen.end(), key) != seen.end())
      throw ConfigError(location_of(kv.first, file), key_path, "given twice in the same mapping; keep one");
    seen.push_back(key);
    reject_duplicate_keys(kv.second, file, key_path);
  }
}

YAML::Node parse_yaml_text(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    std::vector<YAML::Node> documents = YAML::LoadAll(text);
    if (documents.size() > 1)
      throw ConfigError(location_of(documents[1], file), "",
                        "a second YAML document (after '---'); a file holds one document");
    if (!documents.empty()) root = documents.front();
  } catch (const YAML::Exception& e) {
    SourceLocation where{file, e.mark.is_null() ? 0 : e.mark.line + 1,
                         e.mark.is_null() ? 0 : e.mark.column + 1};
    throw ConfigError(where, "", fmt::format("not valid YAML: {}", e.msg));
  }
  if (!root.IsDefined() || root.IsNull())
    throw ConfigError({file, 0, 0}, "", "the file is empty; expected a YAML mapping");
  if (!root.IsMap())
    throw ConfigError(location_of(root, file), "",
                      fmt::format("expected a YAML mapping at the top, got {}", node_kind(root)));
  reject_duplicate_keys(root, file, "");
  return root;
}

YAML::Node parse_yaml_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({path, 0, 0}, "", "cannot open the file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  // yaml-cpp reads NUL and other control bytes as text; say what the file is instead.
  for (unsigned char c : text)
    if (c == 0 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t'))
      throw ConfigError({path, 0, 0}, "", "not a text file (it holds control bytes); expected YAML");
  return parse_yaml_text(text, path);
}

std::string scalar_text(const YAML::Node& node, const std::string& key_path,
                        const std::string& file) {
  if (!node.IsScalar())
    throw ConfigError(location_of(node, file), key_path,
                      fmt::format("expected a value, got {}", node_kind(node)));
  return node.Scalar();
}

void expect_map(const YAML::Node& node, const std::string& key_path, const std::string& file) {
  if (!node.IsMap())
    throw ConfigError(location_of(node, file), key_path,
                      fmt::format("expected a mapping of keys, got {}", node_kind(node)));
}

void reject_unknown_keys(const YAML::Node& map, const std::vector<std::string>& allowed,
                         const std::string& path_prefix, const std::string& file) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string key = it->first.Scalar();
    bool known = false;
    for (const auto& a : allowed) known = known || a == key;
    if (known) continue;
    std::string problem = "unknown key";
    std::string hint = suggest_nearest(key, allowed);
    problem += hint.empty() ? fmt::format("; expected one of: {}", fmt::join(allowed, ", "))
                            : "; " + hint;
    throw ConfigError(location_of(it->first, file), join_path(path_prefix, key), problem);
  }
}

std::string join_path(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

}  // namespace podsim::detail
