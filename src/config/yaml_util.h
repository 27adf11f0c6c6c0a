// Internal to the config layer: the only place besides the loaders that sees yaml-cpp.
// Turns YAML nodes into text with locations, and yaml-cpp's errors into ConfigError.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "podsim/config/config_error.h"

namespace podsim::detail {

SourceLocation location_of(const YAML::Node& node, const std::string& file);

// Parses a document; a syntax error, an empty document or a root that is not a mapping
// becomes a ConfigError naming the file, line and column.
YAML::Node parse_yaml_text(const std::string& text, const std::string& file);
YAML::Node parse_yaml_file(const std::string& path);

// The node's text when it is a scalar; a ConfigError ("expected a value, got a mapping")
// otherwise.
std::string scalar_text(const YAML::Node& node, const std::string& key_path,
                        const std::string& file);

// Fails on the first key of `map` that is not in `allowed`, suggesting the nearest one.
void reject_unknown_keys(const YAML::Node& map, const std::vector<std::string>& allowed,
                         const std::string& path_prefix, const std::string& file);

// Fails unless `node` is a mapping.
void expect_map(const YAML::Node& node, const std::string& key_path, const std::string& file);

std::string join_path(const std::string& prefix, const std::string& key);

}  // namespace podsim::detail
