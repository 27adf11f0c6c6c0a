// Element types of tensors. Bytes moved scale with the type; MXU passes per MAC come from
// the hardware spec (chip.mxu.passes.*).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace podsim {

enum class DType { int8, bf16, fp32 };

std::uint32_t dtype_bytes(DType t);
const char* dtype_name(DType t);
std::optional<DType> parse_dtype(const std::string& name);
std::vector<std::string> dtype_names();

// Bytes of an accumulator element: int8 accumulates in int32, floats in fp32.
inline std::uint32_t accumulator_bytes(DType) { return 4; }

}  // namespace podsim
