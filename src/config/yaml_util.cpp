#include "yaml_util.h"

#include <algorithm>
#include <string_view>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "podsim/io/text_lines.h"

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
// What the walk over a document has seen: the nodes above the current one (an alias to
// one of them is a cycle) and how many nodes it has visited (aliases can make a small file
// expand to billions).
struct DocumentWalk {
  std::vector<YAML::Node> ancestors;
  std::uint64_t visited = 0;
};
constexpr std::uint64_t kMaxExpandedNodes = 4'000'000;

static void reject_duplicate_keys(const YAML::Node& node, const std::string& file, const std::string& path,
                                  DocumentWalk& walk) {
  if (++walk.visited > kMaxExpandedNodes)
    throw ConfigError(location_of(node, file), path,
                      fmt::format("the document expands to more than {} values (through YAML aliases); expected a "
                                  "podsim file, which needs far fewer",
                                  kMaxExpandedNodes));
  if (!node.IsSequence() && !node.IsMap()) return;
  // An alias (*a) inside the node its anchor (&a) names makes the document a cycle: walking
  // it, or reading it, would never end (it overflowed the stack: `sweep: &a [*a]`).
  for (const YAML::Node& above : walk.ancestors)
    if (above.is(node))
      throw ConfigError(location_of(node, file), path,
                        "a YAML alias refers to a node that contains it (a cycle); expected plain values");
  walk.ancestors.push_back(node);
  if (node.IsSequence()) {
    for (std::size_t i = 0; i < node.size(); ++i)
      reject_duplicate_keys(node[i], file, fmt::format("{}[{}]", path, i), walk);
  } else {
    std::vector<std::string> seen;
    for (const auto& kv : node) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : std::string();
      const std::string key_path = join_path(path, key);
      if (!key.empty() && std::find(seen.begin(), seen.end(), key) != seen.end())
        throw ConfigError(location_of(kv.first, file), key_path, "given twice in the same mapping; keep one");
      seen.push_back(key);
      reject_duplicate_keys(kv.first, file, key_path, walk);  // a key can be a collection too
      reject_duplicate_keys(kv.second, file, key_path, walk);
    }
  }
  walk.ancestors.pop_back();
}

// The first byte offset that is not valid UTF-8, or npos.
static std::size_t invalid_utf8_at(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size() || (n == 2 && c < 0xC2)) return i;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    i += n;
  }
  return std::string::npos;
}

YAML::Node parse_yaml_text(const std::string& text, const std::string& file) {
  // Checked before yaml-cpp sees the text: it reads NUL and control bytes as text, and
  // loops forever on some invalid UTF-8 (found by fuzzing, yaml-cpp 0.7).
  for (unsigned char c : text)
    if (c == 0 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t'))
      throw ConfigError({file, 0, 0}, "", "not a text file (it holds control bytes); expected YAML");
  if (const std::size_t bad = invalid_utf8_at(text); bad != std::string::npos) {
    const int line = 1 + int(std::count(text.begin(), text.begin() + std::ptrdiff_t(bad), '\n'));
    const std::size_t newline = bad == 0 ? std::string::npos : text.rfind('\n', bad - 1);
    const std::size_t line_start = newline == std::string::npos ? 0 : newline + 1;
    const int column = int(bad - line_start) + 1;
    throw ConfigError({file, line, column}, "", "not valid UTF-8; YAML files are UTF-8 text");
  }
  // A second document is found in the text, not with YAML::LoadAll: yaml-cpp 0.7's LoadAll
  // loops forever, allocating, on some malformed input (found by fuzzing; fixed upstream
  // in yaml-cpp PR #1319, 2024), while YAML::Load stops. Document markers ('---', '...')
  // stand at column 1 and cannot occur inside a scalar, so a line scan finds them.
  {
    bool started = false, content = false, ended = false;
    TextLines lines(text);
    std::string_view line;
    while (lines.next(&line)) {
      const int line_no = lines.number();
      auto marker = [&](std::string_view m) {
        return line.substr(0, 3) == m && (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r');
      };
      const std::size_t first = line.find_first_not_of(" \t\r");
      const bool blank = first == std::string_view::npos || line[first] == '#';
      if (marker("---")) {
        if (started || content || ended)
          throw ConfigError({file, line_no, 1}, "", "a second YAML document (after '---'); a file holds one document");
        started = true;
        content = line.find_first_not_of(" \t\r", 3) != std::string_view::npos && line[line.find_first_not_of(" \t\r", 3)] != '#';
      } else if (marker("...")) {
        ended = true;
      } else if (!blank && !(line[0] == '%' && !started && !content)) {
        if (ended)
          throw ConfigError({file, line_no, 1}, "", "a second YAML document (after '...'); a file holds one document");
        content = true;
      }
    }
  }
  YAML::Node root;
  try {
    root = YAML::Load(text);
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
  DocumentWalk walk;
  reject_duplicate_keys(root, file, "", walk);
  return root;
}

YAML::Node parse_yaml_file(const std::string& path) {
  // Only regular files of bounded size: /dev/zero or a FIFO would never end.
  constexpr std::uintmax_t kMaxBytes = 64ull << 20;
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
    throw ConfigError({path, 0, 0}, "", "not a regular file; expected a YAML file");
  if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) > kMaxBytes)
    throw ConfigError({path, 0, 0}, "", fmt::format("larger than {} MiB; expected a YAML file", kMaxBytes >> 20));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError({path, 0, 0}, "", "cannot open the file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_yaml_text(buffer.str(), path);
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
