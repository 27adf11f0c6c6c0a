// Physical quantities with units, as they are written in hardware files:
// "940 MHz", "900 GB/s", "16 MiB", "1.5 ns". A bare number where a unit is needed is an
// error (SST's rule: a clock of "940" is ambiguous, a clock of "940 MHz" is not).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace podsim {

// What a parameter measures. Each kind has one canonical unit for storage:
//   frequency -> Hz, bandwidth -> bytes per second, size -> bytes, time -> picoseconds,
//   energy -> attojoules (energy per action: "0.0324 pJ" exactly), power -> microwatts ("28 W").
enum class UnitKind { none, frequency, bandwidth, size, time, energy, power };

const char* unit_kind_name(UnitKind kind);      // "frequency", ...
const char* canonical_unit(UnitKind kind);      // "Hz", "B/s", "B", "ps"
const char* unit_example(UnitKind kind);        // "940 MHz", used in error messages

// The result of parsing a quantity: its value in the canonical unit. Frequencies,
// bandwidths and sizes are whole numbers in their unit (940 MHz = 940'000'000 Hz);
// times are whole picoseconds (the simulator's time resolution); energies and powers round
// to the nearest attojoule and microwatt.
struct ParsedQuantity {
  std::uint64_t value = 0;
};

// Parses "<number> <unit>" for the given kind. On failure returns nullopt and sets
// `why` to a short reason ("missing unit", "unknown unit 'Mhz'", "not a whole number of
// bytes", ...). Negative values are rejected here: no physical quantity we model is.
std::optional<ParsedQuantity> parse_quantity(std::string_view text, UnitKind kind,
                                             std::string* why);

// Formats a canonical value with the largest unit that keeps it readable and exact when
// possible: 940000000 Hz -> "940 MHz", 900e9 B/s -> "900 GB/s", 16 MiB -> "16 MiB".
std::string format_quantity(std::uint64_t value, UnitKind kind);

}  // namespace podsim
