// Reading workload YAML, shared by the workload loader's files: the checked field reader
// of one mapping (OpFields) and the parser of one op. Private to src/config.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "podsim/config/config_error.h"
#include "podsim/config/param.h"
#include "podsim/config/workload_loader.h"
#include "podsim/workload/workload_spec.h"
#include "index_file.h"
#include "yaml_util.h"

namespace podsim::detail {

// Reads the fields of one op mapping, checking each against its declaration.
class OpFields {
 public:
  OpFields(const YAML::Node& node, std::string path, std::string file)
      : node_(node), path_(std::move(path)), file_(std::move(file)) {}

  std::uint64_t integer(const std::string& key, std::uint64_t min, std::uint64_t max,
                        std::optional<std::uint64_t> fallback = std::nullopt) {
    const YAML::Node v = node_[key];
    if (!v) return required(key, fallback);
    const std::string text = detail::scalar_text(v, full(key), file_);
    std::string why;
    auto parsed = parse_param_text(ParamType::integer, UnitKind::none, min, max, {}, text, &why);
    if (!parsed) throw ConfigError(location_of(v, file_), full(key), why);
    return parsed->number;
  }

  std::string text(const std::string& key, const std::string& fallback) {
    const YAML::Node v = node_[key];
    return v ? detail::scalar_text(v, full(key), file_) : fallback;
  }

  DType dtype(const std::string& key) {
    const YAML::Node v = node_[key];
    if (!v)
      throw ConfigError(location_of(node_, file_), full(key),
                        fmt::format("missing; expected one of {}", fmt::join(dtype_names(), ", ")));
    const std::string name = detail::scalar_text(v, full(key), file_);
    auto t = parse_dtype(name);
    if (!t && parse_storage_dtype(name))
      throw ConfigError(location_of(v, file_), full(key),
                        fmt::format("{} is a storage type only (quantized weights or KV cache): give it as a matmul's "
                                    "weight_dtype or an attention's kv_dtype, and compute in one of {}",
                                    name, fmt::join(dtype_names(), ", ")));
    if (!t) {
      std::string hint = suggest_nearest(name, dtype_names());
      throw ConfigError(location_of(v, file_), full(key),
                        fmt::format("unknown dtype '{}'; expected one of {}{}", name,
                                    fmt::join(dtype_names(), ", "), hint.empty() ? "" : "; " + hint));
    }
    return *t;
  }

  // A quantized storage type (weight_dtype, kv_dtype): no wider than `compute`, the op's
  // dtype that it is dequantized to. Unset when the key is absent.
  std::optional<DType> storage_dtype(const std::string& key, DType compute) {
    const YAML::Node v = node_[key];
    if (!v) return std::nullopt;
    const std::string name = detail::scalar_text(v, full(key), file_);
    auto t = parse_storage_dtype(name);
    if (!t) {
      std::string hint = suggest_nearest(name, storage_dtype_names());
      throw ConfigError(location_of(v, file_), full(key),
                        fmt::format("unknown dtype '{}'; expected one of {}{}", name,
                                    fmt::join(storage_dtype_names(), ", "), hint.empty() ? "" : "; " + hint));
    }
    if (dtype_bits(*t) > dtype_bits(compute))
      throw ConfigError(location_of(v, file_), full(key),
                        fmt::format("{} is wider than the op's dtype {}: a stored type is dequantized to the dtype the "
                                    "MXUs compute in, so it must be no wider",
                                    name, dtype_name(compute)));
    return t;
  }

  std::string full(const std::string& key) const { return path_ + "." + key; }
  const std::string& file() const { return file_; }
  SourceLocation location(const std::string& key) const {
    const YAML::Node v = node_[key];
    return location_of(v ? v : node_, file_);
  }

  // One of `options`; `fallback` when the key is absent ("" = required).
  std::string choice(const std::string& key, const std::vector<std::string>& options, const std::string& fallback) {
    const YAML::Node v = node_[key];
    if (!v) {
      if (!fallback.empty()) return fallback;
      throw ConfigError(location_of(node_, file_), full(key),
                        fmt::format("missing; expected one of {}", fmt::join(options, ", ")));
    }
    const std::string t = detail::scalar_text(v, full(key), file_);
    if (std::find(options.begin(), options.end(), t) != options.end()) return t;
    const std::string hint = suggest_nearest(t, options);
    throw ConfigError(location_of(v, file_), full(key),
                      fmt::format("unknown value '{}'; expected one of {}{}", t, fmt::join(options, ", "),
                                  hint.empty() ? "" : "; " + hint));
  }

  // A list of whole numbers, or empty when the key is absent.
  std::vector<std::uint64_t> integer_list(const std::string& key, std::uint64_t max) {
    std::vector<std::uint64_t> out;
    const YAML::Node v = node_[key];
    if (!v) return out;
    if (!v.IsSequence()) throw ConfigError(location_of(v, file_), full(key), "expected a list of whole numbers");
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string path = fmt::format("{}[{}]", full(key), i);
      std::string why;
      auto q = parse_param_text(ParamType::integer, UnitKind::none, 0, max, {}, detail::scalar_text(v[i], path, file_), &why);
      if (!q) throw ConfigError(location_of(v[i], file_), path, why);
      out.push_back(q->number);
    }
    return out;
  }

  // A list of whole numbers, or the same as text (a --wset value): "[128, 256, 512]" or
  // "128x256x512". A word that is not a number up to `max` empties the result.
  std::vector<std::uint64_t> whole_numbers(const std::string& key, std::uint64_t max) {
    if (is_list(key)) return integer_list(key, max);
    std::string t = text(key, "");
    for (char& c : t)
      if (c == '[' || c == ']' || c == ',' || c == 'x') c = ' ';
    std::istringstream in(t);
    std::vector<std::uint64_t> out;
    for (std::string word; in >> word;) {
      std::uint64_t v = 0;
      const auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
      if (ec != std::errc() || end != word.data() + word.size() || v > max) return {};
      out.push_back(v);
    }
    return out;
  }

  double real(const std::string& key, double min, double max, double fallback) {
    const YAML::Node v = node_[key];
    if (!v) return fallback;
    const std::string t = detail::scalar_text(v, full(key), file_);
    std::size_t used = 0;
    double x = 0;
    try {
      x = std::stod(t, &used);
    } catch (...) {
      used = 0;
    }
    if (used != t.size() || used == 0 || !(x >= min && x <= max))
      throw ConfigError(location_of(v, file_), full(key), fmt::format("expected a number in [{}, {}], got '{}'", min, max, t));
    return x;
  }

  bool has(const std::string& key) const { return bool(node_[key]); }
  bool is_list(const std::string& key) const { return node_[key] && node_[key].IsSequence(); }

  // A size with its unit ("64 MiB").
  std::uint64_t size(const std::string& key) {
    const YAML::Node v = node_[key];
    if (!v) return required(key, std::nullopt);
    std::string why;
    auto q = parse_param_text(ParamType::quantity, UnitKind::size, 0, 1ULL << 50, {},
                              detail::scalar_text(v, full(key), file_), &why);
    if (!q) throw ConfigError(location_of(v, file_), full(key), why);
    return q->number;
  }

  // The indices of a file named by this key (index_file.h).
  std::shared_ptr<const std::vector<std::uint64_t>> index_file(const std::string& key, const std::string& path,
                                                               std::uint64_t table_rows) const {
    return read_index_file(path, file_, table_rows, location_of(node_[key], file_), full(key));
  }

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    const YAML::Node v = node_[key];
    throw ConfigError(location_of(v ? v : node_, file_), full(key), problem);
  }

 private:
  std::uint64_t required(const std::string& key, std::optional<std::uint64_t> fallback) {
    if (fallback) return *fallback;
    throw ConfigError(location_of(node_, file_), full(key), "missing; this field is required");
  }

  YAML::Node node_;
  std::string path_;
  std::string file_;
};

// One op of workload.ops (index for its key path), with every field checked.
Op parse_op(const YAML::Node& node, std::size_t index, const std::string& file);

}  // namespace podsim::detail
