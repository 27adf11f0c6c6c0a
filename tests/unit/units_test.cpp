#include <gtest/gtest.h>

#include <vector>

#include "podsim/config/units.h"

namespace podsim {
namespace {

std::uint64_t parse_ok(const std::string& text, UnitKind kind) {
  std::string why;
  auto q = parse_quantity(text, kind, &why);
  EXPECT_TRUE(q.has_value()) << text << ": " << why;
  return q ? q->value : 0;
}

std::string parse_error(const std::string& text, UnitKind kind) {
  std::string why;
  auto q = parse_quantity(text, kind, &why);
  EXPECT_FALSE(q.has_value()) << text << " parsed as " << (q ? q->value : 0);
  return why;
}

TEST(Units, FrequenciesInHz) {
  EXPECT_EQ(parse_ok("940 MHz", UnitKind::frequency), 940'000'000u);
  EXPECT_EQ(parse_ok("1.05 GHz", UnitKind::frequency), 1'050'000'000u);
  EXPECT_EQ(parse_ok("700MHz", UnitKind::frequency), 700'000'000u);  // no space is fine
}

TEST(Units, BandwidthsInBytesPerSecond) {
  EXPECT_EQ(parse_ok("900 GB/s", UnitKind::bandwidth), 900'000'000'000u);
  // Link rates are quoted in bits: 496 Gb/s / 8 = 62 GB/s.
  EXPECT_EQ(parse_ok("496 Gb/s", UnitKind::bandwidth), 62'000'000'000u);
  EXPECT_EQ(parse_ok("1.6 GB/s", UnitKind::bandwidth), 1'600'000'000u);
}

TEST(Units, SizesBinaryAndDecimal) {
  EXPECT_EQ(parse_ok("16 MiB", UnitKind::size), 16u * 1024 * 1024);
  EXPECT_EQ(parse_ok("4 KiB", UnitKind::size), 4096u);
  EXPECT_EQ(parse_ok("32 GiB", UnitKind::size), 32ull << 30);
  EXPECT_EQ(parse_ok("1 GB", UnitKind::size), 1'000'000'000u);
  EXPECT_EQ(parse_ok("64 B", UnitKind::size), 64u);
}

TEST(Units, TimesInPicoseconds) {
  EXPECT_EQ(parse_ok("1.5 ns", UnitKind::time), 1500u);
  EXPECT_EQ(parse_ok("100 ns", UnitKind::time), 100'000u);
  EXPECT_EQ(parse_ok("2 us", UnitKind::time), 2'000'000u);
  EXPECT_EQ(parse_ok("7 ps", UnitKind::time), 7u);
}

TEST(Units, EnergiesInFemtojoulesAndPowersInMicrowatts) {
  EXPECT_EQ(parse_ok("0.2 pJ", UnitKind::energy), 200'000u);
  EXPECT_EQ(parse_ok("1.3 nJ", UnitKind::energy), 1'300'000'000u);
  EXPECT_EQ(parse_ok("0.0843 pJ", UnitKind::energy), 84'300u);
  EXPECT_EQ(parse_ok("0.0000004 pJ", UnitKind::energy), 0u);  // rounds to the nearest aJ
  EXPECT_EQ(parse_ok("40 W", UnitKind::power), 40'000'000u);
  EXPECT_EQ(parse_ok("500 mW", UnitKind::power), 500'000u);
  EXPECT_EQ(format_quantity(3'900'000, UnitKind::energy), "3900 fJ");
  EXPECT_EQ(format_quantity(28'000'000, UnitKind::power), "28 W");
  EXPECT_NE(parse_error("0.2 pj", UnitKind::energy).find("unknown energy unit"), std::string::npos);
  EXPECT_NE(parse_error("40", UnitKind::power).find("missing unit"), std::string::npos);
  EXPECT_NE(parse_error("-1 W", UnitKind::power).find("negative"), std::string::npos);
}

TEST(Units, BareNumberNeedsAUnit) {
  EXPECT_NE(parse_error("940", UnitKind::frequency).find("missing unit"), std::string::npos);
  EXPECT_NE(parse_error("900", UnitKind::bandwidth).find("missing unit"), std::string::npos);
}

TEST(Units, WrongOrUnknownUnit) {
  EXPECT_NE(parse_error("940 Mhz", UnitKind::frequency).find("unknown frequency unit 'Mhz'"), std::string::npos);
  // A size is not a bandwidth.
  EXPECT_NE(parse_error("900 GB", UnitKind::bandwidth).find("unknown bandwidth unit"), std::string::npos);
}

TEST(Units, RejectsNegativeFractionalBytesAndGarbage) {
  EXPECT_NE(parse_error("-5 MHz", UnitKind::frequency).find("negative"), std::string::npos);
  EXPECT_NE(parse_error("1.5 B", UnitKind::size).find("whole"), std::string::npos);
  EXPECT_NE(parse_error("", UnitKind::size).find("empty"), std::string::npos);
  EXPECT_NE(parse_error("fast", UnitKind::frequency).find("number"), std::string::npos);
  parse_error("inf GHz", UnitKind::frequency);
  parse_error("0x10 MHz", UnitKind::frequency);
  parse_error("1e30 TB", UnitKind::size);  // does not fit 64 bits
}

TEST(Units, PlainIntegersTakeNoUnit) {
  EXPECT_EQ(parse_ok("128", UnitKind::none), 128u);
  EXPECT_NE(parse_error("128 MHz", UnitKind::none).find("unexpected unit"), std::string::npos);
  EXPECT_NE(parse_error("1.5", UnitKind::none).find("whole"), std::string::npos);
}

TEST(Units, FormatPicksTheLargestExactUnit) {
  EXPECT_EQ(format_quantity(940'000'000, UnitKind::frequency), "940 MHz");
  EXPECT_EQ(format_quantity(900'000'000'000, UnitKind::bandwidth), "900 GB/s");
  EXPECT_EQ(format_quantity(16u << 20, UnitKind::size), "16 MiB");
  EXPECT_EQ(format_quantity(100'000, UnitKind::time), "100 ns");
}

TEST(Units, FormatThenParseRoundTrips) {
  for (std::uint64_t v : {1ull, 999ull, 1024ull, 1'000'000ull, 123'456'789ull, 32ull << 30}) {
    for (UnitKind k : {UnitKind::frequency, UnitKind::bandwidth, UnitKind::size, UnitKind::time}) {
      EXPECT_EQ(parse_ok(format_quantity(v, k), k), v) << format_quantity(v, k);
    }
  }
}

// Found by fuzzing (tests/fuzz/fuzz_units.cpp): numbers were read as long doubles, so
// "9009005.1 s" became 9,009,005,100,000,000,001 ps and formatting did not round-trip.
TEST(Units, NumbersAreReadExactly) {
  EXPECT_EQ(parse_ok("9009005.1 s", UnitKind::time), 9'009'005'100'000'000'000u);
  EXPECT_EQ(parse_ok("18446744073709551615 B", UnitKind::size), UINT64_MAX);
  EXPECT_NE(parse_error("18446744073709551616 B", UnitKind::size).find("too large"), std::string::npos);
  EXPECT_EQ(parse_ok("0.1e1 GHz", UnitKind::frequency), 1'000'000'000u);
  EXPECT_EQ(parse_ok("2.5e-3 ns", UnitKind::time), 3u);  // 2.5 ps rounds to the nearest: 3
  EXPECT_EQ(parse_ok("1e-40 s", UnitKind::time), 0u);
  EXPECT_EQ(parse_ok("-0 B", UnitKind::size), 0u);
  for (std::uint64_t v : std::vector<std::uint64_t>{UINT64_MAX, UINT64_MAX - 1, 9'009'005'100'000'000'001ull, (1ull << 63) + 12345}) {
    for (UnitKind k : {UnitKind::frequency, UnitKind::bandwidth, UnitKind::size, UnitKind::time}) {
      EXPECT_EQ(parse_ok(format_quantity(v, k), k), v) << format_quantity(v, k);
    }
  }
  EXPECT_EQ(format_quantity(1536, UnitKind::size), "1536 B");  // the largest unit it is whole in
}

}  // namespace
}  // namespace podsim
