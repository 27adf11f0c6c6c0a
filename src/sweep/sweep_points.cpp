#include "podsim/sweep/sweep_points.h"

#include <map>
#include <random>

#include <fmt/format.h>

#include "podsim/config/hardware_loader.h"
#include "podsim/config/hardware_params.h"

namespace podsim {
namespace {

// An operand's numeric value for a constraint: a parameter of the point (or of the base
// hardware), or a literal, read in the unit of the other side's parameter if it has one.
bool operand_value(const std::string& text, const SweepPoint& p, const HardwareSpec& base, const HardwareParam* unit_of,
                   double* out) {
  const HardwareParam* param = find_hardware_param(text);
  std::string value = text;
  if (param) {
    value.clear();
    for (const auto& [path, v] : p.params)
      if (path == text) value = v;
    if (value.empty()) value = format_param_value(*param, param->get(base));
    unit_of = param;
  } else {
    for (const auto& [path, v] : p.params)
      if (path == text) {  // a workload axis
        value = v;
        break;
      }
  }
  std::string why;
  if (unit_of && (unit_of->type == ParamType::integer || unit_of->type == ParamType::quantity)) {
    if (auto q = parse_param_value(*unit_of, value, &why)) {
      *out = double(q->number);
      return true;
    }
  }
  try {
    std::size_t used = 0;
    *out = std::stod(value, &used);
    return used == value.size();
  } catch (...) {
    return false;
  }
}

std::string check_constraints(const SweepSpec& spec, const SweepPoint& p, const HardwareSpec& base) {
  for (const auto& c : spec.constraints) {
    double l = 0, r = 0;
    const HardwareParam* lp = find_hardware_param(c.lhs);
    const HardwareParam* rp = find_hardware_param(c.rhs);
    if (!operand_value(c.lhs, p, base, rp, &l) || !operand_value(c.rhs, p, base, lp, &r))
      return fmt::format("constraint '{}': cannot compare its operands as numbers", c.text);
    const bool ok = c.op == "<=" ? l <= r : c.op == "<" ? l < r : c.op == ">=" ? l >= r : c.op == ">" ? l > r
                  : c.op == "==" ? l == r : l != r;
    if (!ok) return fmt::format("constraint '{}' does not hold", c.text);
  }
  return "";
}

}  // namespace

std::vector<SweepPoint> expand_sweep(const SweepSpec& spec) {
  std::vector<std::vector<std::pair<std::string, std::string>>> combos{{}};
  if (!spec.random.empty()) {
    combos.clear();
    std::mt19937_64 rng(spec.random_seed);
    for (std::uint64_t i = 0; i < spec.random_samples; ++i) {
      std::vector<std::pair<std::string, std::string>> params;
      for (const auto& a : spec.random) params.emplace_back(a.path, a.values[rng() % a.values.size()]);
      combos.push_back(std::move(params));
    }
  } else {
    for (const auto& a : spec.grid) {  // the last axis varies fastest
      std::vector<std::vector<std::pair<std::string, std::string>>> next;
      for (const auto& c : combos)
        for (const auto& v : a.values) {
          auto params = c;
          params.emplace_back(a.path, v);
          next.push_back(std::move(params));
        }
      combos = std::move(next);
    }
    // Each zip group in turn: its rows times everything before (the last group fastest).
    for (std::size_t g = 0; !spec.zip.empty() && g <= spec.zip.back().zip_group; ++g) {
      std::vector<const SweepAxis*> group;
      for (const auto& a : spec.zip)
        if (a.zip_group == g) group.push_back(&a);
      if (group.empty()) continue;
      std::vector<std::vector<std::pair<std::string, std::string>>> next;
      for (const auto& c : combos)
        for (std::size_t row = 0; row < group.front()->values.size(); ++row) {
          auto params = c;
          for (const SweepAxis* a : group) params.emplace_back(a->path, a->values[row]);
          next.push_back(std::move(params));
        }
      combos = std::move(next);
    }
  }
  std::map<std::string, HardwareSpec> bases;  // each chip a constraint reads, loaded once
  std::vector<SweepPoint> points;
  for (std::size_t i = 0; i < combos.size(); ++i) {
    SweepPoint p;
    p.id = i;
    p.params = std::move(combos[i]);
    const std::string hw = point_hardware(spec, p);
    auto base = bases.find(hw);
    if (base == bases.end()) base = bases.emplace(hw, load_hardware(hw)).first;
    p.skip_reason = check_constraints(spec, p, base->second);
    points.push_back(std::move(p));
  }
  return points;
}

std::string point_hardware(const SweepSpec& spec, const SweepPoint& point) {
  for (const auto& [path, value] : point.params)
    if (path == "hardware") return value;
  return spec.hardware;
}

}  // namespace podsim
