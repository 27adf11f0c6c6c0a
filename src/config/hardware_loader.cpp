#include "podsim/config/hardware_loader.h"

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "podsim/config/config_error.h"
#include "podsim/config/dram_device.h"
#include "podsim/config/hardware_params.h"
#include "podsim/energy/energy_table.h"
#include "presets_embedded.h"
#include "yaml_util.h"

namespace podsim {
namespace {

using detail::join_path;

const detail::EmbeddedPreset* find_preset(const std::string& name) {
  for (std::size_t i = 0; i < detail::kEmbeddedPresetsCount; ++i)
    if (name == detail::kEmbeddedPresets[i].name) return &detail::kEmbeddedPresets[i];
  return nullptr;
}

// Keys that may appear at `prefix` (the next path segment of some declared parameter).
std::vector<std::string> children_of(const std::string& prefix) {
  std::vector<std::string> keys;
  const std::string head = prefix.empty() ? "" : prefix + ".";
  for (const auto& p : hardware_params()) {
    if (p.path.compare(0, head.size(), head) != 0) continue;
    std::string rest = p.path.substr(head.size());
    std::string key = rest.substr(0, rest.find('.'));
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  }
  return keys;
}

void set_param(HardwareSpec& spec, const HardwareParam& param, const std::string& text,
               const SourceLocation& where) {
  std::string why;
  auto value = parse_param_value(param, text, &why);
  if (!value) throw ConfigError(where, param.path, why);
  param.set(spec, *value);
}

// Walks a mapping under `prefix` (e.g. "chip.hbm"), setting every leaf it names.
void apply_tree(HardwareSpec& spec, const YAML::Node& map, const std::string& prefix,
                const std::string& file) {
  detail::expect_map(map, prefix, file);
  detail::reject_unknown_keys(map, children_of(prefix), prefix, file);
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string path = join_path(prefix, it->first.Scalar());
    if (const HardwareParam* param = find_hardware_param(path)) {
      std::string text;
      if (param->type == ParamType::shape && it->second.IsSequence()) {
        // dims: [16, 16] -> "16x16"; each element a plain value.
        for (std::size_t i = 0; i < it->second.size(); ++i)
          text += (i ? "x" : "") + detail::scalar_text(it->second[i], fmt::format("{}[{}]", path, i), file);
      } else {
        text = detail::scalar_text(it->second, path, file);
      }
      set_param(spec, *param, text, detail::location_of(it->second, file));
    } else {
      apply_tree(spec, it->second, path, file);
    }
  }
}

// Where `key` (a full parameter path) is written under `map` (whose own path is `prefix`),
// for errors found after the file is read (checks across parameters); nullopt when this
// file does not set it (a base preset or a --set did).
std::optional<SourceLocation> locate_key(const YAML::Node& map, const std::string& prefix, const std::string& key,
                                         const std::string& file) {
  if (!map || !map.IsMap()) return std::nullopt;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string path = join_path(prefix, it->first.Scalar());
    if (path == key) return detail::location_of(it->second, file);
    if (key.compare(0, path.size() + 1, path + ".") == 0)
      if (auto found = locate_key(it->second, path, key, file)) return found;
  }
  return std::nullopt;
}

// A check across parameters names the first of `keys` the file sets, else the file alone.
struct KeyLocator {
  const YAML::Node& hw;  // the file's `hardware:` mapping (null for --set)
  const std::string& file;
  SourceLocation operator()(std::initializer_list<const char*> keys) const {
    for (const char* key : keys) {
      const std::string k = key;
      const std::string top = k.substr(0, k.find('.'));
      if (hw && hw.IsMap() && hw[top])
        if (auto found = locate_key(hw[top], top, k, file)) return *found;
    }
    return {file, 0, 0};
  }
};

void validate_pod(const PodSpec& pod, const KeyLocator& at) {
  const auto dims = pod.dim_sizes();
  if (pod.chips() > 65536)
    throw ConfigError(at({"pod.dims"}), "pod.dims",
                      fmt::format("{} is {} chips; at most 65536 are supported", pod.dims, pod.chips()));
  if (pod.topology == "ring" && dims.size() != 1)
    throw ConfigError(at({"pod.dims"}), "pod.dims",
                      fmt::format("a ring has one dimension, got '{}'; use pod.topology: torus", pod.dims));
  if (pod.topology != "switch") {
    const std::uint32_t per_chip = 2 * std::uint32_t(dims.size());
    if (pod.links_per_chip % per_chip != 0)
      throw ConfigError(at({"pod.links_per_chip"}), "pod.links_per_chip",
                        fmt::format("a {}-dimensional {} needs a multiple of {} links per chip (one per "
                                    "neighbour and direction), got {}",
                                    dims.size(), pod.topology, per_chip, pod.links_per_chip));
  }
}

void validate(const HardwareSpec& spec, const std::string& file, const YAML::Node& hw = YAML::Node()) {
  const KeyLocator at{hw, file};
  if (spec.chip.mxu.weight_fifo_depth > 0 && spec.chip.mxu.dataflow != Dataflow::ws)
    throw ConfigError(at({"chip.mxu.weight_fifo_depth"}), "chip.mxu.weight_fifo_depth",
                      "a weight FIFO feeds a weight-stationary array; set chip.mxu.dataflow to ws or the depth to 0");
  if (spec.chip.mxu.weight_fifo_depth > 0 && spec.chip.mxus_per_core != 1)
    throw ConfigError(at({"chip.mxu.weight_fifo_depth"}), "chip.mxu.weight_fifo_depth",
                      "a weight FIFO is modelled for one MXU per core (as in TPU v1); set chip.mxus_per_core to 1");
  if (spec.chip.mxu.accumulator_bits % 8 != 0)
    throw ConfigError(at({"chip.mxu.accumulator_bits"}), "chip.mxu.accumulator_bits", "must be a whole number of bytes (16, 24, 32, ...)");
  const auto& hbm = spec.chip.hbm;
  if (hbm.device != "ideal") {
    // The DRAM data rate follows from the bandwidth; it must be one a DRAM can run at.
    const std::uint64_t rate = hbm_data_rate(hbm);
    if (rate < 100'000'000 || rate > 20'000'000'000ULL)
      throw ConfigError(at({"chip.hbm.bandwidth"}), "chip.hbm.bandwidth",
                        fmt::format("{} over {} channels of {} means {:.3g} GT/s per pin; a DRAM runs at 0.1 to 20 "
                                    "GT/s: change the bandwidth, the channel count or chip.hbm.device",
                                    format_quantity(hbm.bandwidth_Bps, UnitKind::bandwidth), hbm.channels, hbm.device,
                                    double(rate) * 1e-9));
    try {
      resolve_dram_device(hbm);  // overrides applied and checked for consistency
    } catch (const ConfigError& e) {
      throw ConfigError(at({e.key_path().c_str()}), e.key_path(), e.problem());
    }
  }
  const auto& cmem = spec.chip.cmem;
  if (cmem.capacity_bytes > 0 && cmem.bandwidth_Bps == 0)
    throw ConfigError(at({"chip.cmem.bandwidth", "chip.cmem.capacity"}), "chip.cmem.bandwidth",
                      fmt::format("chip.cmem.capacity is {} but no bandwidth is given: set chip.cmem.bandwidth (e.g. "
                                  "'2 TB/s'), or the capacity to 0 for no on-chip memory",
                                  format_quantity(cmem.capacity_bytes, UnitKind::size)));
  if (cmem.capacity_bytes > 0 && cmem.bandwidth_Bps < 1'000'000)  // as chip.hbm.bandwidth: picoseconds stay in range
    throw ConfigError(at({"chip.cmem.bandwidth"}), "chip.cmem.bandwidth",
                      fmt::format("{} is below 1 MB/s, the least an on-chip memory is modelled with",
                                  format_quantity(cmem.bandwidth_Bps, UnitKind::bandwidth)));
  if (hbm.bandwidth_Bps < hbm.channels)
    throw ConfigError(at({"chip.hbm.bandwidth"}), "chip.hbm.bandwidth",
                      "must give each channel at least 1 B/s");
  try {
    resolve_energy_costs(spec.chip.energy);  // overrides name actions a table prices
  } catch (const ConfigError& e) {
    throw ConfigError(at({e.key_path().c_str()}), e.key_path(), e.problem());
  }
  validate_pod(spec.pod, at);
}

HardwareSpec load_document(const YAML::Node& root, const std::string& file,
                           std::set<std::string>& seen_presets);

HardwareSpec load_base(const std::string& name, const SourceLocation& where,
                       std::set<std::string>& seen_presets) {
  const detail::EmbeddedPreset* preset = find_preset(name);
  if (!preset) {
    std::string hint = suggest_nearest(name, preset_names());
    throw ConfigError(where, "hardware.base",
                      fmt::format("unknown preset '{}'{}", name, hint.empty() ? "" : "; " + hint));
  }
  if (!seen_presets.insert(name).second)
    throw ConfigError(where, "hardware.base", fmt::format("preset '{}' is its own base", name));
  return load_document(detail::parse_yaml_text(preset->text, preset->file), preset->file,
                       seen_presets);
}

HardwareSpec load_document(const YAML::Node& root, const std::string& file,
                           std::set<std::string>& seen_presets) {
  detail::reject_unknown_keys(root, {"hardware"}, "", file);
  const YAML::Node hw = root["hardware"];
  if (!hw) throw ConfigError({file, 1, 1}, "hardware", "missing; the file must start with 'hardware:'");
  detail::expect_map(hw, "hardware", file);
  detail::reject_unknown_keys(hw, {"name", "base", "description", "chip", "pod"}, "hardware", file);

  HardwareSpec spec = default_hardware();
  if (const YAML::Node base = hw["base"]) {
    spec = load_base(detail::scalar_text(base, "hardware.base", file),
                     detail::location_of(base, file), seen_presets);
  }
  spec.name = hw["name"] ? detail::scalar_text(hw["name"], "hardware.name", file)
                         : std::filesystem::path(file).stem().string();
  if (hw["description"])
    spec.description = detail::scalar_text(hw["description"], "hardware.description", file);
  if (const YAML::Node chip = hw["chip"]) apply_tree(spec, chip, "chip", file);
  if (const YAML::Node pod = hw["pod"]) apply_tree(spec, pod, "pod", file);
  validate(spec, file, hw);
  return spec;
}

HardwareSpec finish(HardwareSpec spec, const std::vector<std::string>& overrides) {
  for (const auto& o : overrides) apply_hardware_override(spec, o);
  validate(spec, "--set");
  return spec;
}

}  // namespace

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < detail::kEmbeddedPresetsCount; ++i)
    names.emplace_back(detail::kEmbeddedPresets[i].name);
  std::sort(names.begin(), names.end());
  return names;
}

HardwareSpec load_hardware_text(const std::string& text, const std::string& source,
                                const std::vector<std::string>& overrides) {
  std::set<std::string> seen;
  return finish(load_document(detail::parse_yaml_text(text, source), source, seen), overrides);
}

HardwareSpec load_hardware(const std::string& name_or_path,
                           const std::vector<std::string>& overrides) {
  std::set<std::string> seen;
  if (const detail::EmbeddedPreset* preset = find_preset(name_or_path)) {
    seen.insert(preset->name);
    return finish(load_document(detail::parse_yaml_text(preset->text, preset->file), preset->file,
                                seen),
                  overrides);
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(name_or_path, ec)) {
    std::string hint = suggest_nearest(name_or_path, preset_names());
    throw ConfigError({"--hw", 0, 0}, "",
                      fmt::format("'{}' is neither a preset nor a file{}; presets: {}", name_or_path,
                                  hint.empty() ? "" : " (" + hint + ")",
                                  fmt::join(preset_names(), ", ")));
  }
  return finish(load_document(detail::parse_yaml_file(name_or_path), name_or_path, seen), overrides);
}

void apply_hardware_override(HardwareSpec& spec, const std::string& assignment) {
  const SourceLocation where{"--set", 0, 0};
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(where, "", fmt::format("expected path=value, got '{}'", assignment));
  const std::string path = assignment.substr(0, eq);
  const HardwareParam* param = find_hardware_param(path);
  if (!param) {
    std::vector<std::string> all;
    for (const auto& p : hardware_params()) all.push_back(p.path);
    std::string hint = suggest_nearest(path, all);
    throw ConfigError(where, path,
                      "unknown parameter" + (hint.empty() ? "; see 'podsim params'" : "; " + hint));
  }
  set_param(spec, *param, assignment.substr(eq + 1), where);
}

std::vector<std::pair<std::string, std::string>> resolved_hardware(const HardwareSpec& spec) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& p : hardware_params()) out.emplace_back(p.path, format_param_value(p, p.get(spec)));
  return out;
}

}  // namespace podsim
