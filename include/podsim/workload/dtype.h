// Element types of tensors. Bytes moved scale with the type; MXU passes per MAC come from
// the hardware spec (chip.mxu.passes.*); round_to_dtype() gives a value as the type holds
// it, for the PE-level array and the quantization study.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace podsim {

// fp8 is OCP e4m3 (e4m3fn). int4 is a storage type only: quantized weights and KV caches
// (a matmul's weight_dtype, an attention's kv_dtype), dequantized on the vector unit to
// the op's dtype before the MXUs use them; no op computes in it.
enum class DType { int8, fp8, bf16, fp16, fp32, int4 };

std::uint32_t dtype_bytes(DType t);  // whole bytes per element (int4: 1; use storage_bytes)
std::uint32_t dtype_bits(DType t);
std::uint64_t storage_bytes(std::uint64_t elements, DType t);  // packed: int4 two per byte
const char* dtype_name(DType t);
bool dtype_is_storage_only(DType t);
// The compute types (what `dtype` accepts); the storage forms add int4.
std::optional<DType> parse_dtype(const std::string& name);
std::vector<std::string> dtype_names();
std::optional<DType> parse_storage_dtype(const std::string& name);
std::vector<std::string> storage_dtype_names();
bool dtype_is_integer(DType t);

// The nearest value the type can hold (round to nearest, ties to even). int8 saturates to
// [-128, 127]; fp8 e4m3 saturates to +-448 (it has no infinity); bf16 and fp16 overflow
// to infinity like IEEE types; subnormals are kept.
double round_to_dtype(double x, DType t);

// Unit roundoff u = 2^-(mantissa bits + 1) of a float type (0 for int8): the relative
// error bound of one rounding.
double dtype_unit_roundoff(DType t);

}  // namespace podsim
