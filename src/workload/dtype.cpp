#include "podsim/workload/dtype.h"

#include <cmath>
#include <limits>

namespace podsim {
namespace {

struct DTypeInfo {
  DType type;
  const char* name;
  std::uint32_t bits;
  int mantissa_bits;  // explicit fraction bits (floats)
  int min_exponent;   // exponent of the smallest normal number, 2^min_exponent
  double max_finite;
  bool saturates;     // no infinity: overflow clamps to max_finite
};

constexpr DTypeInfo kTypes[] = {
    {DType::int8, "int8", 8, 0, 0, 127.0, true},
    {DType::fp8, "fp8", 8, 3, -6, 448.0, true},                              // e4m3fn
    {DType::bf16, "bf16", 16, 7, -126, 3.38953138925153547590470800371487866880e38, false},
    {DType::fp16, "fp16", 16, 10, -14, 65504.0, false},
    {DType::fp32, "fp32", 32, 23, -126, 3.40282346638528859811704183484516925440e38, false},
    {DType::int4, "int4", 4, 0, 0, 7.0, true},  // storage only (quantized weights, KV cache)
};

const DTypeInfo& info(DType t) {
  for (const auto& i : kTypes)
    if (i.type == t) return i;
  return kTypes[0];
}

}  // namespace

std::uint32_t dtype_bytes(DType t) { return (info(t).bits + 7) / 8; }
std::uint32_t dtype_bits(DType t) { return info(t).bits; }
std::uint64_t storage_bytes(std::uint64_t elements, DType t) { return (elements * info(t).bits + 7) / 8; }
const char* dtype_name(DType t) { return info(t).name; }
bool dtype_is_integer(DType t) { return t == DType::int8 || t == DType::int4; }
bool dtype_is_storage_only(DType t) { return t == DType::int4; }

std::optional<DType> parse_dtype(const std::string& name) {
  for (const auto& i : kTypes)
    if (name == i.name && !dtype_is_storage_only(i.type)) return i.type;
  return std::nullopt;
}

std::optional<DType> parse_storage_dtype(const std::string& name) {
  for (const auto& i : kTypes)
    if (name == i.name) return i.type;
  return std::nullopt;
}

std::vector<std::string> dtype_names() {
  std::vector<std::string> names;
  for (const auto& i : kTypes)
    if (!dtype_is_storage_only(i.type)) names.emplace_back(i.name);
  return names;
}

std::vector<std::string> storage_dtype_names() {
  std::vector<std::string> names;
  for (const auto& i : kTypes) names.emplace_back(i.name);
  return names;
}

double round_to_dtype(double x, DType t) {
  const DTypeInfo& d = info(t);
  if (std::isnan(x)) return x;
  if (t == DType::int8) return std::fmax(-128.0, std::fmin(127.0, std::nearbyint(x)));
  if (t == DType::int4) return std::fmax(-8.0, std::fmin(7.0, std::nearbyint(x)));
  if (x == 0 || std::isinf(x)) return d.saturates && std::isinf(x) ? std::copysign(d.max_finite, x) : x;
  // Quantum of x's binade: 2^(e - mantissa_bits), with e at least the normal minimum
  // (below it the quantum stays fixed: subnormals).
  int e = std::ilogb(x);
  if (e < d.min_exponent) e = d.min_exponent;
  const double quantum = std::ldexp(1.0, e - d.mantissa_bits);
  const double r = std::nearbyint(x / quantum) * quantum;  // ties to even (default mode)
  if (std::fabs(r) > d.max_finite) {
    if (d.saturates) return std::copysign(d.max_finite, x);
    // IEEE: overflow to infinity unless x rounds down to the largest finite value.
    return std::copysign(std::numeric_limits<double>::infinity(), x);
  }
  return r;
}

double dtype_unit_roundoff(DType t) {
  return dtype_is_integer(t) ? 0.0 : std::ldexp(1.0, -(info(t).mantissa_bits + 1));
}

}  // namespace podsim
