#include "podsim/energy/chip_area.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "podsim/config/config_error.h"
#include "presets_embedded.h"
#include "yaml_util.h"

namespace podsim {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// The area_table of configs/energy/<node>.yaml, parsed once per process (compiled in).
AreaCosts costs_from(const std::string& node, std::map<std::string, double> v) {
  AreaCosts c;
  c.node = node;
  c.pe_int8_um2 = v["pe_int8_um2"];
  c.pe_bf16_um2 = v["pe_bf16_um2"];
  c.pe_fp32_um2 = v["pe_fp32_um2"];
  c.sram_mm2_per_mib = v["sram_mm2_per_mib"];
  c.vector_lane_um2 = v["vector_lane_um2"];
  c.hbm_phy_mm2 = v["hbm_phy_mm2"];
  c.ddr_phy_mm2 = v["ddr_phy_mm2"];
  c.pcie_lane_mm2 = v["pcie_lane_mm2"];
  c.ici_mm2_per_25GBps = v["ici_mm2_per_25GBps"];
  c.hbm_ctrl_mm2 = v["hbm_ctrl_mm2"];
  c.ddr_ctrl_mm2 = v["ddr_ctrl_mm2"];
  c.pcie_ctrl_lane_mm2 = v["pcie_ctrl_lane_mm2"];
  c.ici_ctrl_mm2_per_25GBps = v["ici_ctrl_mm2_per_25GBps"];
  c.uncore_percent = v["uncore_percent"];
  return c;
}

// The area_table of configs/energy/<node>.yaml, as key -> value.
std::map<std::string, double> parse_area_table(const detail::EmbeddedPreset& preset) {
  const YAML::Node root = detail::parse_yaml_text(preset.text, preset.file);
  const YAML::Node t = root["area_table"];
  detail::expect_map(t, "area_table", preset.file);
  detail::reject_unknown_keys(t, area_table_keys(), "area_table", preset.file);
  std::map<std::string, double> v;
  for (const std::string& k : area_table_keys()) {
    const std::string key = "area_table." + k;
    if (!t[k]) throw ConfigError({preset.file, 0, 0}, key, "missing: every area table gives every density");
    const std::string text = detail::scalar_text(t[k], key, preset.file);
    std::string why;
    const auto x = parse_area_density(k, text, &why);
    if (!x) throw ConfigError(detail::location_of(t[k], preset.file), key, why);
    v[k] = *x;
  }
  return v;
}

// The PEs are priced as the widest dtype the array runs at full rate: an array that
// multiplies bf16 in one pass has bf16 multipliers, whatever narrower types it also takes.
std::string pe_dtype(const MxuSpec& m) {
  if (m.passes_fp32 == 1) return "fp32";
  if (m.passes_bf16 == 1 || m.passes_fp16 == 1) return "bf16";
  return "int8";  // int8 (and fp8, whose 3-4 bit significands need no wider multiplier)
}

// HBM stacks behind the configured channels: 8 channels a stack for HBM2 and HBM2E
// (JESD235), 16 for HBM3 and HBM3E (JESD238); the ideal device is counted as HBM2.
std::uint32_t hbm_stacks(const HbmSpec& h) {
  const std::uint32_t per_stack = (h.device == "hbm3" || h.device == "hbm3e") ? 16 : 8;
  return (h.channels + per_stack - 1) / per_stack;
}

std::string num(double x, int digits = 4) { return fmt::format("{:.{}g}", x, digits); }

}  // namespace

const std::vector<std::string>& area_table_keys() {
  static const std::vector<std::string> keys = {
      "pe_int8_um2",  "pe_bf16_um2",  "pe_fp32_um2",        "sram_mm2_per_mib",        "vector_lane_um2",
      "hbm_phy_mm2",  "ddr_phy_mm2",  "pcie_lane_mm2",      "ici_mm2_per_25GBps",      "hbm_ctrl_mm2",
      "ddr_ctrl_mm2", "pcie_ctrl_lane_mm2", "ici_ctrl_mm2_per_25GBps", "uncore_percent"};
  return keys;
}

std::optional<double> parse_area_density(const std::string& key, const std::string& text, std::string* why) {
  std::size_t used = 0;
  double x = -1;
  try {
    x = std::stod(text, &used);
  } catch (...) {
    used = 0;
  }
  if (text.empty() || used != text.size() || !std::isfinite(x) || x < 0) {
    if (why) *why = fmt::format("expected a number >= 0 (in the unit '{}' ends with), got '{}'", key, text);
    return std::nullopt;
  }
  // Far above any real block (a square metre is 1e6 mm2): bounds keep every sum finite.
  if (x > 1e12) {
    if (why) *why = fmt::format("at most 1e12 (in the unit '{}' ends with), got '{}'", key, text);
    return std::nullopt;
  }
  if (key == "uncore_percent" && x >= 100) {
    if (why) *why = fmt::format("a share of the die under 100 percent, got '{}'", text);
    return std::nullopt;
  }
  return x;
}

namespace {
const std::map<std::string, std::map<std::string, double>>& area_tables() {
  static const std::map<std::string, std::map<std::string, double>> tables = [] {
    std::map<std::string, std::map<std::string, double>> m;
    for (std::size_t i = 0; i < detail::kEmbeddedEnergyTablesCount; ++i)
      m.emplace(detail::kEmbeddedEnergyTables[i].name, parse_area_table(detail::kEmbeddedEnergyTables[i]));
    return m;
  }();
  return tables;
}
}  // namespace

AreaCosts area_costs(const std::string& node) { return area_costs(node, AreaSpec{}); }

AreaCosts area_costs(const std::string& node, const AreaSpec& spec) {
  const auto& tables = area_tables();
  const auto it = tables.find(node);
  if (it == tables.end()) {
    std::vector<std::string> nodes;
    for (const auto& [name, table] : tables) nodes.push_back(name);
    throw ConfigError({"", 0, 0}, "chip.energy.node",
                      fmt::format("no technology table for '{}'; tables: {}", node, fmt::join(nodes, ", ")));
  }
  std::map<std::string, double> v = it->second;
  for (const auto& [key, text] : spec.overrides) {
    if (!v.count(key)) throw ConfigError({"", 0, 0}, "chip.area." + key, "not a density an area table gives");
    std::string why;
    const auto x = parse_area_density(key, text, &why);
    if (!x) throw ConfigError({"", 0, 0}, "chip.area." + key, why);
    v[key] = *x;
  }
  return costs_from(node, std::move(v));
}

ChipArea chip_area(const HardwareSpec& hw) {
  const ChipSpec& chip = hw.chip;
  const AreaCosts c = area_costs(chip.energy.node, chip.area);
  ChipArea a;
  a.node = c.node;
  a.pe_dtype = pe_dtype(chip.mxu);
  auto add = [&](const char* name, double mm2, std::string what) {
    if (mm2 > 0) a.blocks.push_back({name, mm2, std::move(what)});
  };

  const double pe_um2 = a.pe_dtype == "fp32" ? c.pe_fp32_um2 : a.pe_dtype == "bf16" ? c.pe_bf16_um2 : c.pe_int8_um2;
  const double pes = double(hw.mxu_count()) * chip.mxu.rows * chip.mxu.cols;
  add("mxu", pes * pe_um2 * 1e-6,
      fmt::format("{} MXUs x {}x{} {} PEs x {} um2", hw.mxu_count(), chip.mxu.rows, chip.mxu.cols, a.pe_dtype, num(pe_um2)));

  const double vmem_mib = double(chip.tensor_cores) * double(chip.vmem_bytes) / kMiB;
  add("vmem", vmem_mib * c.sram_mm2_per_mib,
      fmt::format("{} MiB x {} mm2/MiB", num(vmem_mib), num(c.sram_mm2_per_mib)));
  const double cmem_mib = double(chip.cmem.capacity_bytes) / kMiB;
  add("cmem", cmem_mib * c.sram_mm2_per_mib,
      fmt::format("{} MiB x {} mm2/MiB", num(cmem_mib), num(c.sram_mm2_per_mib)));

  const double lanes = double(chip.tensor_cores) * chip.vector.lanes * chip.vector.sublanes;
  add("vector", lanes * c.vector_lane_um2 * 1e-6,
      fmt::format("{} cores x {} lanes x {} sublanes x {} um2", chip.tensor_cores, chip.vector.lanes,
                  chip.vector.sublanes, num(c.vector_lane_um2)));

  if (chip.hbm.device == "ddr3") {
    add("memory_io", chip.hbm.channels * (c.ddr_phy_mm2 + c.ddr_ctrl_mm2),
        fmt::format("{} DDR channels x ({} PHY + {} controller) mm2", chip.hbm.channels, num(c.ddr_phy_mm2),
                    num(c.ddr_ctrl_mm2)));
  } else {
    const std::uint32_t stacks = hbm_stacks(chip.hbm);
    add("memory_io", stacks * (c.hbm_phy_mm2 + c.hbm_ctrl_mm2),
        fmt::format("{} HBM stacks x ({} PHY + {} controller) mm2", stacks, num(c.hbm_phy_mm2), num(c.hbm_ctrl_mm2)));
  }
  if (chip.host.link_Bps > 0)
    add("pcie", 16 * (c.pcie_lane_mm2 + c.pcie_ctrl_lane_mm2),
        fmt::format("16 lanes x ({} PHY + {} controller) mm2", num(c.pcie_lane_mm2), num(c.pcie_ctrl_lane_mm2)));
  if (hw.pod.chips() > 1) {
    const double units = double(hw.pod.links_per_chip) * double(hw.pod.link_bandwidth_Bps) / 25e9;
    add("ici", units * (c.ici_mm2_per_25GBps + c.ici_ctrl_mm2_per_25GBps),
        fmt::format("{} links x {} GB/s: {} x 25 GB/s x ({} PHY + {} controller) mm2", hw.pod.links_per_chip,
                    num(double(hw.pod.link_bandwidth_Bps) * 1e-9), num(units), num(c.ici_mm2_per_25GBps),
                    num(c.ici_ctrl_mm2_per_25GBps)));
  }

  double blocks = 0;
  for (const AreaBlock& b : a.blocks) blocks += b.mm2;
  add("uncore", blocks * c.uncore_percent / (100 - c.uncore_percent),
      fmt::format("{} % of the die: control, scalar unit, DMA, wiring, white space", num(c.uncore_percent)));
  a.total_mm2 = 0;
  for (const AreaBlock& b : a.blocks) a.total_mm2 += b.mm2;
  return a;
}

}  // namespace podsim
