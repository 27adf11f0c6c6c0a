#include "podsim/workload/dtype.h"

namespace podsim {
namespace {
struct DTypeInfo {
  DType type;
  const char* name;
  std::uint32_t bytes;
};
constexpr DTypeInfo kTypes[] = {{DType::int8, "int8", 1}, {DType::bf16, "bf16", 2}, {DType::fp32, "fp32", 4}};
}  // namespace

std::uint32_t dtype_bytes(DType t) {
  for (const auto& i : kTypes)
    if (i.type == t) return i.bytes;
  return 0;
}

const char* dtype_name(DType t) {
  for (const auto& i : kTypes)
    if (i.type == t) return i.name;
  return "?";
}

std::optional<DType> parse_dtype(const std::string& name) {
  for (const auto& i : kTypes)
    if (name == i.name) return i.type;
  return std::nullopt;
}

std::vector<std::string> dtype_names() {
  std::vector<std::string> names;
  for (const auto& i : kTypes) names.emplace_back(i.name);
  return names;
}

}  // namespace podsim
