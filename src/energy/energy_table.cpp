#include "podsim/energy/energy_table.h"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "podsim/config/config_error.h"
#include "podsim/config/units.h"
#include "presets_embedded.h"
#include "yaml_util.h"

namespace podsim {
namespace {

// One parsed table: action -> attojoules, as written in configs/energy/<node>.yaml.
struct EnergyTable {
  std::string node;
  std::map<std::string, std::uint64_t> aJ;
  std::map<std::string, std::string> text;
};

const detail::EmbeddedPreset* find_table(const std::string& node) {
  for (std::size_t i = 0; i < detail::kEmbeddedEnergyTablesCount; ++i)
    if (node == detail::kEmbeddedEnergyTables[i].name) return &detail::kEmbeddedEnergyTables[i];
  return nullptr;
}

std::uint64_t parse_energy(const std::string& text, const SourceLocation& where, const std::string& key) {
  std::string why;
  const auto q = parse_quantity(text, UnitKind::energy, &why);
  if (!q) throw ConfigError(where, key, fmt::format("expected an energy like '0.2 pJ': {}", why));
  return q->value;
}

EnergyTable parse_table(const detail::EmbeddedPreset& preset) {
  const YAML::Node root = detail::parse_yaml_text(preset.text, preset.file);
  detail::reject_unknown_keys(root, {"energy_table", "area_table"}, "", preset.file);  // area_table: energy/chip_area.cpp
  const YAML::Node t = root["energy_table"];
  detail::expect_map(t, "energy_table", preset.file);
  detail::reject_unknown_keys(t, {"node", "description", "actions"}, "energy_table", preset.file);
  EnergyTable table;
  table.node = detail::scalar_text(t["node"], "energy_table.node", preset.file);
  if (table.node != preset.name)
    throw ConfigError(detail::location_of(t["node"], preset.file), "energy_table.node",
                      fmt::format("the table in {}.yaml must say node: {}", preset.name, preset.name));
  const YAML::Node actions = t["actions"];
  detail::expect_map(actions, "energy_table.actions", preset.file);
  detail::reject_unknown_keys(actions, energy_table_actions(), "energy_table.actions", preset.file);
  for (const std::string& a : energy_table_actions()) {
    const std::string key = "energy_table.actions." + a;
    if (!actions[a])
      throw ConfigError({preset.file, 0, 0}, key, "missing: every table prices every action");
    const std::string text = detail::scalar_text(actions[a], key, preset.file);
    table.aJ[a] = parse_energy(text, detail::location_of(actions[a], preset.file), key);
    table.text[a] = text;
  }
  return table;
}

// Tables are parsed once per process (they are compiled in and never change).
const EnergyTable& table_for(const std::string& node) {
  static const std::map<std::string, EnergyTable> tables = [] {
    std::map<std::string, EnergyTable> m;
    for (std::size_t i = 0; i < detail::kEmbeddedEnergyTablesCount; ++i)
      m.emplace(detail::kEmbeddedEnergyTables[i].name, parse_table(detail::kEmbeddedEnergyTables[i]));
    return m;
  }();
  const auto it = tables.find(node);
  if (it == tables.end()) {
    const auto nodes = energy_table_nodes();
    throw ConfigError({"", 0, 0}, "chip.energy.node",
                      fmt::format("no energy table for '{}'; tables: {}{}", node, fmt::join(nodes, ", "),
                                  suggest_nearest(node, nodes).empty() ? "" : "; " + suggest_nearest(node, nodes)));
  }
  return it->second;
}

}  // namespace

const std::vector<std::string>& energy_table_actions() {
  static const std::vector<std::string> actions = {"mac_int8", "mac_fp8",   "mac_bf16", "mac_fp16",
                                                   "mac_fp32", "vector_op", "sram_byte"};
  return actions;
}

std::vector<std::string> energy_table_nodes() {
  std::vector<std::string> nodes;
  for (std::size_t i = 0; i < detail::kEmbeddedEnergyTablesCount; ++i) nodes.push_back(detail::kEmbeddedEnergyTables[i].name);
  std::sort(nodes.begin(), nodes.end());
  return nodes;
}

std::string energy_table_value(const std::string& node, const std::string& action) {
  const EnergyTable& t = table_for(node);
  const auto it = t.text.find(action);
  return it == t.text.end() ? "" : it->second;
}

double EnergyCosts::mac_j(const std::string& dtype) const {
  if (dtype == "int8" || dtype == "int4") return mac_int8_j;
  if (dtype == "fp8") return mac_fp8_j;
  if (dtype == "bf16") return mac_bf16_j;
  if (dtype == "fp16") return mac_fp16_j;
  if (dtype == "fp32") return mac_fp32_j;
  // Every op carries its compute dtype (workload/dtype.h); anything else is a bug upstream
  // (an op result that lost its dtype), not a value to price as some default.
  throw std::logic_error("energy: an op with MACs has no known dtype: '" + dtype + "'");
}

EnergyCosts resolve_energy_costs(const EnergySpec& spec) {
  if (!find_table(spec.node)) table_for(spec.node);  // throws, naming the tables there are
  const EnergyTable& table = table_for(spec.node);
  auto joules = [&](const std::string& action) {
    const auto o = spec.overrides.find(action);
    const std::uint64_t aJ = o == spec.overrides.end()
                                 ? table.aJ.at(action)
                                 : parse_energy(o->second, {"", 0, 0}, "chip.energy." + action);
    return double(aJ) * 1e-18;
  };
  for (const auto& [action, text] : spec.overrides) {
    const auto& known = energy_table_actions();
    if (std::find(known.begin(), known.end(), action) == known.end())
      throw ConfigError({"", 0, 0}, "chip.energy." + action, "not an action an energy table prices");
  }
  EnergyCosts c;
  c.node = spec.node;
  c.mac_int8_j = joules("mac_int8");
  c.mac_fp8_j = joules("mac_fp8");
  c.mac_bf16_j = joules("mac_bf16");
  c.mac_fp16_j = joules("mac_fp16");
  c.mac_fp32_j = joules("mac_fp32");
  c.vector_op_j = joules("vector_op");
  c.sram_byte_j = joules("sram_byte");
  c.dram_bit_j = double(spec.dram_bit_aJ) * 1e-18;
  c.ici_bit_j = double(spec.ici_bit_aJ) * 1e-18;
  c.static_power_w = double(spec.static_power_uW) * 1e-6;
  return c;
}

}  // namespace podsim
