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
  std::uint64_t num, den;  // canonical units per one of this unit: num / den (exact)
};

// Decimal prefixes for rates (SI, as memory vendors quote bandwidth), binary prefixes
// for capacities (KiB, MiB, GiB) and also decimal ones (KB, MB, GB) when written so.
constexpr std::array<UnitDef, 4> kFrequency{{
    {"Hz", 1, 1}, {"kHz", 1'000, 1}, {"MHz", 1'000'000, 1}, {"GHz", 1'000'000'000, 1}}};

constexpr std::array<UnitDef, 10> kBandwidth{{
    {"B/s", 1, 1}, {"KB/s", 1'000, 1}, {"MB/s", 1'000'000, 1}, {"GB/s", 1'000'000'000, 1},
    {"TB/s", 1'000'000'000'000, 1},
    // bits per second: link rates are quoted this way ("496 Gb/s")
    {"b/s", 1, 8}, {"Kb/s", 1'000, 8}, {"Mb/s", 1'000'000, 8}, {"Gb/s", 1'000'000'000, 8},
    {"Tb/s", 1'000'000'000'000, 8}}};

constexpr std::array<UnitDef, 9> kSize{{
    {"B", 1, 1}, {"KiB", 1ull << 10, 1}, {"MiB", 1ull << 20, 1}, {"GiB", 1ull << 30, 1},
    {"TiB", 1ull << 40, 1}, {"KB", 1'000, 1}, {"MB", 1'000'000, 1}, {"GB", 1'000'000'000, 1},
    {"TB", 1'000'000'000'000, 1}}};

constexpr std::array<UnitDef, 5> kTime{{
    {"ps", 1, 1}, {"ns", 1'000, 1}, {"us", 1'000'000, 1}, {"ms", 1'000'000'000, 1}, {"s", 1'000'000'000'000, 1}}};

// Energy per action (pJ as Horowitz quotes it) and power (W as datasheets quote it).
constexpr std::array<UnitDef, 7> kEnergy{{
    {"aJ", 1, 1}, {"fJ", 1'000, 1}, {"pJ", 1'000'000, 1}, {"nJ", 1'000'000'000, 1},
    {"uJ", 1'000'000'000'000, 1}, {"mJ", 1'000'000'000'000'000, 1}, {"J", 1'000'000'000'000'000'000, 1}}};

constexpr std::array<UnitDef, 4> kPower{{
    {"uW", 1, 1}, {"mW", 1'000, 1}, {"W", 1'000'000, 1}, {"kW", 1'000'000'000, 1}}};

__extension__ using U128 = unsigned __int128;
constexpr U128 kTooLarge = U128(1) << 100;  // far above any 64-bit value, far below overflow

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
    case UnitKind::energy: return find_unit(kEnergy, symbol);
    case UnitKind::power: return find_unit(kPower, symbol);
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
    case UnitKind::energy: return "energy";
    case UnitKind::power: return "power";
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
    case UnitKind::energy: return "aJ";
    case UnitKind::power: return "uW";
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
    case UnitKind::energy: return "0.2 pJ";
    case UnitKind::power: return "40 W";
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

  // The number, read exactly as decimal digits (no floating point: "9009005.1 s" is
  // 9,009,005,100,000,000,000 ps, not one off): [+-]digits[.digits][(e|E)[+-]digits].
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  U128 mantissa = 0;
  int exponent = 0, digits = 0;
  bool any_digit = false, too_many = false;
  auto take_digits = [&](bool fraction) {
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      any_digit = true;
      const unsigned d = unsigned(text[i++] - '0');
      if (mantissa == 0 && d == 0) {  // leading zeros carry no digit
        if (fraction) --exponent;
        continue;
      }
      if (digits >= 36) {  // beyond 36 significant digits: drop, keeping the magnitude
        too_many = too_many || d != 0;
        if (!fraction) ++exponent;
        continue;
      }
      mantissa = mantissa * 10 + d;
      ++digits;
      if (fraction) --exponent;
    }
  };
  take_digits(false);
  if (i < text.size() && text[i] == '.') {
    ++i;
    take_digits(true);
  }
  if (!any_digit) return fail("does not start with a number");
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    std::size_t j = i + 1;
    bool exp_negative = false;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) exp_negative = text[j++] == '-';
    if (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) {
      int e = 0;
      while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) {
        e = std::min(e * 10 + (text[j] - '0'), 100000);
        ++j;
      }
      exponent += exp_negative ? -e : e;
      i = j;
    }
  }
  if (too_many) return fail("more than 36 significant digits");
  std::string_view symbol = trim(text.substr(i));
  if (!symbol.empty() && (symbol.front() == '.' || std::isdigit(static_cast<unsigned char>(symbol.front()))))
    return fail("not a decimal number");

  if (kind == UnitKind::none) {
    if (!symbol.empty()) return fail(fmt::format("unexpected unit '{}'", symbol));
  } else if (symbol.empty()) {
    return fail(fmt::format("missing unit (a {} needs one, like '{}')", unit_kind_name(kind),
                            unit_example(kind)));
  }
  if (negative && mantissa != 0) return fail("must not be negative");

  std::uint64_t num = 1, den = 1;
  if (kind != UnitKind::none) {
    const UnitDef* unit = lookup(kind, symbol);
    if (!unit) return fail(fmt::format("unknown {} unit '{}'", unit_kind_name(kind), symbol));
    num = unit->num;
    den = unit->den;
  }
  // value = mantissa x 10^exponent x num / den, in 128-bit integers.
  U128 top = mantissa * num, bottom = den;
  if (mantissa != 0) {
    for (; exponent > 0; --exponent) {
      if (top > kTooLarge) return fail("value too large");
      top *= 10;
    }
    for (; exponent < 0; ++exponent) {
      if (bottom > kTooLarge) {  // smaller than any canonical unit: 0 after rounding
        top = 0;
        break;
      }
      bottom *= 10;
    }
  }
  U128 whole = top / bottom;
  const U128 rest = top % bottom;
  // Sizes must be whole bytes, and rates whole Hz or B/s; times round to the nearest
  // picosecond (the simulator's resolution), energies to the attojoule and powers to the
  // microwatt (finer than any published figure), which is stated in the docs.
  if (rest != 0) {
    if (kind != UnitKind::time && kind != UnitKind::energy && kind != UnitKind::power)
      return fail(fmt::format("not a whole number of {}", kind == UnitKind::none ? "units" : canonical_unit(kind)));
    if (rest * 2 >= bottom) ++whole;
  }
  if (whole > U128(UINT64_MAX)) return fail("value too large");
  return ParsedQuantity{static_cast<std::uint64_t>(whole)};
}

std::string format_quantity(std::uint64_t value, UnitKind kind) {
  // The largest unit in which the value is a whole number (every table has the canonical
  // unit, which always is): exact, so it parses back to the same value.
  auto pick = [&](auto const& table) {
    const UnitDef* best = &table[0];
    for (const auto& u : table)
      if (u.den == 1 && u.num <= value && value % u.num == 0 && u.num > best->num) best = &u;
    return fmt::format("{} {}", value / best->num, best->symbol);
  };
  switch (kind) {
    case UnitKind::none: return std::to_string(value);
    case UnitKind::frequency: return pick(kFrequency);
    case UnitKind::bandwidth: return pick(kBandwidth);
    case UnitKind::size: return pick(kSize);
    case UnitKind::time: return pick(kTime);
    case UnitKind::energy: return pick(kEnergy);
    case UnitKind::power: return pick(kPower);
  }
  return std::to_string(value);
}

}  // namespace podsim
