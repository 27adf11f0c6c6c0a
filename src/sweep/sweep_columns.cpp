#include "podsim/sweep/sweep_columns.h"

#include <fmt/format.h>

#include "podsim/config/hardware_params.h"

namespace podsim {
namespace {

// The SI unit of a quantity and the factor from podsim's canonical unit (units.h) to it.
struct SiUnit {
  const char* symbol;
  double per_canonical;
};

const HardwareParam* quantity_param(const std::string& path) {
  const HardwareParam* p = find_hardware_param(path);
  return p && p->type == ParamType::quantity && p->unit != UnitKind::none ? p : nullptr;
}

SiUnit si_unit(UnitKind kind) {
  switch (kind) {
    case UnitKind::frequency: return {"Hz", 1};
    case UnitKind::bandwidth: return {"B/s", 1};
    case UnitKind::size: return {"B", 1};
    case UnitKind::time: return {"s", 1e-12};      // picoseconds
    case UnitKind::energy: return {"J", 1e-18};    // attojoules
    case UnitKind::power: return {"W", 1e-6};      // microwatts
    case UnitKind::none: break;
  }
  return {"", 1};
}

}  // namespace

std::string sweep_param_header(const std::string& path) {
  const HardwareParam* p = quantity_param(path);
  return p ? fmt::format("{} [{}]", path, si_unit(p->unit).symbol) : path;
}

std::string sweep_param_cell(const std::string& path, const std::string& value) {
  const HardwareParam* p = quantity_param(path);
  if (!p) return value;
  std::string why;
  const auto v = parse_param_value(*p, value, &why);
  if (!v) return value;  // checked when the sweep loaded; never here
  const SiUnit u = si_unit(p->unit);
  if (u.per_canonical == 1) return fmt::format("{}", v->number);  // whole Hz, B/s, B
  return fmt::format("{:.15g}", double(v->number) * u.per_canonical);
}

}  // namespace podsim
