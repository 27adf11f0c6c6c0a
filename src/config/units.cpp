#include "podsim/config/units.h"

#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace podsim {
namespace {

struct UnitDef {
  const char* symbol;
  long double scale;  // canonical units per one of this unit
};

// Decimal prefixes for rates (SI, as memory vendors quote bandwidth), binary prefixes
// for capacities (KiB, MiB, GiB) and also decimal ones (KB, MB, GB) when written so.
constexpr std::array<UnitDef, 4> kFrequency{{
    {"Hz", 1.0L}, {"kHz", 1e3L}, {"MHz", 1e6L}, {"GHz", 1e9L}}};

constexpr std::array<UnitDef, 10> kBandwidth{{
    {"B/s", 1.0L}, {"KB/s", 1e3L}, {"MB/s", 1e6L}, {"GB/s", 1e9L}, {"TB/s", 1e12L},
    // bits per second: link rates are quoted this way ("496 Gb/s")
    {"b/s", 1.0L / 8}, {"Kb/s", 1e3L / 8}, {"Mb/s", 1e6L / 8}, {"Gb/s", 1e9L / 8},
    {"Tb/s", 1e12L / 8}}};

constexpr std::array<UnitDef, 9> kSize{{
    {"B", 1.0L}, {"KiB", 1024.0L}, {"MiB", 1048576.0L}, {"GiB", 1073741824.0L},
    {"TiB", 1099511627776.0L}, {"KB", 1e3L}, {"MB", 1e6L}, {"GB", 1e9L}, {"TB", 1e12L}}};

constexpr std::array<UnitDef, 5> kTime{{
    {"ps", 1.0L}, {"ns", 1e3L}, {"us", 1e6L}, {"ms", 1e9L}, {"s", 1e12L}}};

template <std::size_t N>
const UnitDef* find_unit(const std::array<UnitDef, N>& table, std::string_view symbol) {
  for (const auto& u : table)
    if (symbol == u.symbol) return &u;
  return nullptr;
}

const UnitDef* lookup(UnitKind kind, std::string_view symbol) {
  switch (kind) {
    case UnitKind::frequency: return find_unit(kFrequency, symbol);
    case UnitKind::bandwidth: return find_unit(kBandwidth, symbol);
    case UnitKind::size: return find_unit(kSize, symbol);
    case UnitKind::time: return find_unit(kTime, symbol);
    case UnitKind::none: return nullptr;
  }
  return nullptr;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

const char* unit_kind_name(UnitKind kind) {
  switch (kind) {
    case UnitKind::none: return "number";
    case UnitKind::frequency: return "frequency";
    case UnitKind::bandwidth: return "bandwidth";
    case UnitKind::size: return "size";
    case UnitKind::time: return "time";
  }
  return "?";
}

const char* canonical_unit(UnitKind kind) {
  switch (kind) {
    case UnitKind::none: return "";
    case UnitKind::frequency: return "Hz";
    case UnitKind::bandwidth: return "B/s";
    case UnitKind::size: return "B";
    case UnitKind::time: return "ps";
  }
  return "";
}

const char* unit_example(UnitKind kind) {
  switch (kind) {
    case UnitKind::none: return "42";
    case UnitKind::frequency: return "940 MHz";
    case UnitKind::bandwidth: return "900 GB/s";
    case UnitKind::size: return "16 MiB";
    case UnitKind::time: return "1.5 ns";
  }
  return "";
}

std::optional<ParsedQuantity> parse_quantity(std::string_view text, UnitKind kind,
                                             std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<ParsedQuantity> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  text = trim(text);
  if (text.empty()) return fail("empty value");

  // Split the number from the unit: the number is the longest prefix strtold accepts.
  std::string owned(text);
  char* end = nullptr;
  errno = 0;
  long double number = std::strtold(owned.c_str(), &end);
  if (end == owned.c_str()) return fail("does not start with a number");
  if (errno == ERANGE || !std::isfinite(number)) return fail("number out of range");
  std::string_view symbol = trim(std::string_view(end));
  // strtold accepts "inf", "nan" and hex floats; none of them is a sensible quantity.
  std::string_view number_text(owned.c_str(), static_cast<std::size_t>(end - owned.c_str()));
  for (char c : number_text)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+' ||
          c == 'e' || c == 'E'))
      return fail("not a decimal number");

  if (kind == UnitKind::none) {
    if (!symbol.empty()) return fail(fmt::format("unexpected unit '{}'", symbol));
  } else if (symbol.empty()) {
    return fail(fmt::format("missing unit (a {} needs one, like '{}')", unit_kind_name(kind),
                            unit_example(kind)));
  }
  if (number < 0) return fail("must not be negative");

  long double scale = 1.0L;
  if (kind != UnitKind::none) {
    const UnitDef* unit = lookup(kind, symbol);
    if (!unit) return fail(fmt::format("unknown {} unit '{}'", unit_kind_name(kind), symbol));
    scale = unit->scale;
  }
  long double canonical = number * scale;
  if (canonical > 1.8e19L) return fail("value too large");
  long double rounded = std::round(canonical);
  // Sizes must be whole bytes, and rates whole Hz or B/s; times round to the picosecond
  // (the simulator's resolution), which is stated in the docs.
  if (kind != UnitKind::time && std::fabs(canonical - rounded) > 1e-6L * (1 + canonical))
    return fail(fmt::format("not a whole number of {}", kind == UnitKind::none ? "units"
                                                                              : canonical_unit(kind)));
  return ParsedQuantity{static_cast<std::uint64_t>(rounded)};
}

std::string format_quantity(std::uint64_t value, UnitKind kind) {
  auto pick = [&](auto const& table) {
    // The largest unit in which the value is a whole number (exact round trip),
    // falling back to the largest unit <= value with a decimal fraction.
    const UnitDef* best = &table[0];
    for (const auto& u : table) {
      if (u.scale > value || u.scale < 1) continue;
      long double q = value / u.scale;
      if (std::fabs(q - std::round(q)) < 1e-9L && u.scale > best->scale) best = &u;
    }
    const long double q = value / best->scale;
    const long double whole = std::round(q);
    if (std::fabs(q - whole) < 1e-9L)
      return fmt::format("{} {}", static_cast<std::uint64_t>(whole), best->symbol);
    return fmt::format("{:.15g} {}", static_cast<double>(q), best->symbol);
  };
  switch (kind) {
    case UnitKind::none: return std::to_string(value);
    case UnitKind::frequency: return pick(kFrequency);
    case UnitKind::bandwidth: return pick(kBandwidth);
    case UnitKind::size: return pick(kSize);
    case UnitKind::time: return pick(kTime);
  }
  return std::to_string(value);
}

}  // namespace podsim
