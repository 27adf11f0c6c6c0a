#include <gtest/gtest.h>

#include "podsim/stats/trace_recorder.h"

namespace podsim {
namespace {

TEST(TraceRecorder, KeepsSlicesApartUntilItMustMerge) {
  TraceRecorder t;
  const int a = t.track("core0.mxu0");
  EXPECT_EQ(t.track("core0.mxu0"), a);  // same name, same track
  t.slice(a, 0, 10, "g0");
  t.slice(a, 20, 30, "g0");  // a gap: kept apart while the gap is 0
  t.slice(a, 30, 40, "g0");  // touching: joined
  ASSERT_EQ(t.slices()[a].size(), 2u);
  EXPECT_EQ(t.slices()[a][1].count, 2u);
  EXPECT_EQ(t.slices()[a][1].end_ps, 40u);
}

TEST(TraceRecorder, StaysBoundedOnLongRuns) {
  TraceRecorder t;
  const int a = t.track("x");
  // 1,000,000 slices of 1 ns with 1 ns gaps: the recorder widens its merge gap.
  for (std::uint64_t i = 0; i < 1'000'000; ++i) t.slice(a, i * 2000, i * 2000 + 1000, "s", 64);
  EXPECT_LE(t.size(), TraceRecorder::kMaxSlices);
  EXPECT_GT(t.merge_gap_ps(), 0u);
  std::uint64_t merged = 0, bytes = 0;
  for (const auto& s : t.slices()[a]) {
    merged += s.count;
    bytes += s.bytes;
  }
  EXPECT_EQ(merged, 1'000'000u);  // nothing lost, only joined
  EXPECT_EQ(bytes, 64'000'000u);
}

}  // namespace
}  // namespace podsim

#include "podsim/stats/stats_registry.h"

namespace podsim {
namespace {

// Groups are found through a hash index now (1024 cores x 64 MXUs took 161 s by linear
// search); the order they were added in, which reports follow, must not change.
TEST(StatsRegistry, ManyGroupsKeepTheirOrderAndAreFound) {
  StatsRegistry r;
  for (int g = 0; g < 5000; ++g) r.add("chip.core" + std::to_string(g % 97) + ".mxu" + std::to_string(g), "x", "1", std::uint64_t(g));
  r.add("chip.core3.mxu3", "y", "1", 2.5);  // a second stat in an existing group
  ASSERT_EQ(r.groups().size(), 5000u);
  for (int g = 0; g < 5000; ++g) ASSERT_EQ(r.groups()[std::size_t(g)].name, "chip.core" + std::to_string(g % 97) + ".mxu" + std::to_string(g));
  const Stat* s = r.find("chip.core41.mxu4891", "x");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(std::get<std::uint64_t>(s->value), 4891u);
  ASSERT_NE(r.find("chip.core3.mxu3", "y"), nullptr);
  EXPECT_EQ(r.groups()[3].stats.size(), 2u);
  EXPECT_EQ(r.find("chip.core3.mxu3", "z"), nullptr);
  EXPECT_EQ(r.find("nope", "x"), nullptr);
}

}  // namespace
}  // namespace podsim
