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

SweepPointStream::SweepPointStream(const SweepSpec& spec) : spec_(spec) {
  if (!spec.random.empty()) {
    size_ = spec.random_samples;
    random_ = true;
    rng_.seed(spec.random_seed);
    return;
  }
  for (const auto& a : spec.grid) digits_.push_back({&a});
  for (std::size_t g = 0; !spec.zip.empty() && g <= spec.zip.back().zip_group; ++g) {
    std::vector<const SweepAxis*> group;
    for (const auto& a : spec.zip)
      if (a.zip_group == g) group.push_back(&a);
    if (!group.empty()) digits_.push_back(std::move(group));
  }
  size_ = 1;  // the loader refuses more than 10,000,000 points: no overflow
  for (const auto& d : digits_) size_ *= d.front()->values.size();
}

bool SweepPointStream::next(SweepPoint* out) {
  if (next_id_ >= size_) return false;
  SweepPoint p;
  p.id = next_id_++;
  if (random_) {
    for (const auto& a : spec_.random) p.params.emplace_back(a.path, a.values[rng_() % a.values.size()]);
  } else {
    // The id's digits, the last digit fastest.
    std::vector<std::size_t> at(digits_.size());
    std::uint64_t rest = p.id;
    for (std::size_t d = digits_.size(); d-- > 0;) {
      const std::size_t n = digits_[d].front()->values.size();
      at[d] = std::size_t(rest % n);
      rest /= n;
    }
    for (std::size_t d = 0; d < digits_.size(); ++d)
      for (const SweepAxis* a : digits_[d]) p.params.emplace_back(a->path, a->values[at[d]]);
  }
  const std::string hw = point_hardware(spec_, p);
  auto base = bases_.find(hw);
  if (base == bases_.end()) base = bases_.emplace(hw, load_hardware(hw)).first;
  p.skip_reason = check_constraints(spec_, p, base->second);
  *out = std::move(p);
  return true;
}

std::vector<SweepPoint> expand_sweep(const SweepSpec& spec) {
  SweepPointStream stream(spec);
  std::vector<SweepPoint> points;
  SweepPoint p;
  while (stream.next(&p)) points.push_back(std::move(p));
  return points;
}

std::string point_hardware(const SweepSpec& spec, const SweepPoint& point) {
  for (const auto& [path, value] : point.params)
    if (path == "hardware") return value;
  return spec.hardware;
}

}  // namespace podsim
