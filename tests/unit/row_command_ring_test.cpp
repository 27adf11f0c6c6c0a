// RowCommandRing (the row timeline's storage) against an independent model: a std::map of
// cycle -> (ACT?, bank group) that forgets by erasing. Random commands over a moving
// window that outgrows the ring's first size, with every query compared.
#include <cstdint>
#include <map>
#include <random>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "podsim/arch/dram/row_command_ring.h"

namespace podsim {
namespace {

struct Cmd {
  bool act;
  std::uint32_t bg;
};

std::int64_t first_in(const std::map<std::int64_t, Cmd>& m, std::int64_t from, std::int64_t to, bool acts) {
  for (auto it = m.lower_bound(from); it != m.end() && it->first <= to; ++it)
    if (!acts || it->second.act) return it->first;
  return RowCommandRing::kNone;
}

TEST(RowCommandRing, AnswersAsASortedMapOfTheSameCommands) {
  std::mt19937_64 rng(7);
  RowCommandRing ring;
  std::map<std::int64_t, Cmd> ref;
  std::int64_t present = 0;
  int far_ones = 0;  // commands placed past the window
  for (int step = 0; step < 20000; ++step) {
    // The present moves on; commands land a little ahead of it, now and then far past the
    // bitmap's window (the far list), a few just behind it, and now and then before what
    // was last forgotten (the window then reaches back).
    present += std::int64_t(rng() % 40);
    std::int64_t c = present - 20 + std::int64_t(rng() % 300);
    if (step % 101 == 0) c = present + RowCommandRing::kWindow - 2000 + std::int64_t(rng() % 60000);
    if (step % 53 == 0) c = present - 60 - std::int64_t(rng() % 30);
    if (step % 1999 == 0) c = present - RowCommandRing::kWindow - std::int64_t(rng() % 30000);  // a window and more back
    c = std::max<std::int64_t>(0, c);
    if (c >= present - 50 + RowCommandRing::kWindow) ++far_ones;
    if (!ref.count(c)) {
      const bool act = rng() % 2;
      const std::uint32_t bg = act ? std::uint32_t(rng() % 8) : 0;
      ring.insert(c, act, bg);
      ref[c] = {act, bg};
    }
    if (step % 7 == 0) {  // forget the past
      const std::int64_t before = present - 50;
      ring.forget_before(before);
      ref.erase(ref.begin(), ref.lower_bound(before));
    }
    // Queries around the present, and now and then over the far commands.
    const std::int64_t from = present - 100 + std::int64_t(rng() % (step % 5 == 0 ? 70000 : 400));
    const std::int64_t to = from + std::int64_t(rng() % (step % 3 == 0 ? 30000 : 300));
    ASSERT_EQ(ring.next_command(from, to), first_in(ref, from, to, false)) << step;
    ASSERT_EQ(ring.next_act(from, to), first_in(ref, from, to, true)) << step;
    ASSERT_EQ(ring.occupied(from), ref.count(from) == 1) << step;
    for (std::int64_t x : {from, to, c}) {
      const auto it = ref.find(x);
      ASSERT_EQ(ring.act_at(x), it != ref.end() && it->second.act) << step;
      if (it != ref.end() && it->second.act) {
        ASSERT_EQ(ring.bg_at(x), it->second.bg) << step;
      }
    }
    ASSERT_EQ(ring.last(), ref.empty() ? RowCommandRing::kNone : ref.rbegin()->first) << step;
    std::int64_t prev = RowCommandRing::kNone;
    for (auto it = ref.upper_bound(to); it != ref.begin();) {
      --it;
      if (it->second.act) {
        prev = it->first;
        break;
      }
    }
    ASSERT_EQ(ring.prev_act(to), prev) << step;
    // A visit sees the map's commands in [from, to], in order, with their kind and group.
    auto it = ref.lower_bound(from);
    ring.visit(from, to, [&](std::int64_t x, bool act, std::uint32_t bg) {
      EXPECT_TRUE(it != ref.end() && it->first == x) << step << " at " << x;
      if (it != ref.end()) {
        EXPECT_EQ(act, it->second.act) << x;
        if (act) {
          EXPECT_EQ(bg, it->second.bg) << x;
        }
        ++it;
      }
      return to;
    });
    EXPECT_TRUE(it == ref.end() || it->first > to) << step;
  }
  EXPECT_GT(ref.size(), 10u);
  EXPECT_GT(far_ones, 50);
}

TEST(RowCommandRing, AVisitorCanWidenAndEndItsScan) {
  RowCommandRing ring;
  for (std::int64_t c : {10, 20, 30, 40, 200}) ring.insert(c, true, 3);
  std::vector<std::int64_t> seen;
  // Start with [0, 15]; each command seen widens the scan by 15 cycles past it.
  ring.visit(0, 15, [&](std::int64_t x, bool, std::uint32_t) {
    seen.push_back(x);
    return x + 15;
  });
  EXPECT_EQ(seen, (std::vector<std::int64_t>{10, 20, 30, 40}));  // 200 is out of reach
  seen.clear();
  ring.visit<true>(0, 1000, [&](std::int64_t x, bool, std::uint32_t) {
    seen.push_back(x);
    return seen.size() < 2 ? std::int64_t(1000) : RowCommandRing::kNone;
  });
  EXPECT_EQ(seen, (std::vector<std::int64_t>{10, 20}));
}

TEST(RowCommandRing, AScanAcrossTheWindowsTopReachesTheFarCommands) {
  // The window starts at 5 (not a word boundary), so the word holding its first cycles also
  // holds its last ones. A command at 40, early in the window, sits in that word past the
  // scan's end as seen from the top; the scan must still go on to the far command at the
  // top (5 + kWindow). It stopped at the first bit past its end, and a controller
  // placing 16,384 cycles ahead put an ACT on a far command's cycle (found 2026-12-07).
  RowCommandRing ring;
  ring.insert(3, false, 0);
  ring.insert(40, true, 1);
  ring.forget_before(5);  // the window now starts at 5, with 40 in it
  const std::int64_t top = 5 + RowCommandRing::kWindow;
  ring.insert(top, true, 2);
  ASSERT_TRUE(ring.occupied(top));
  std::vector<std::int64_t> seen;
  ring.visit(top - 4, top + 6, [&](std::int64_t x, bool, std::uint32_t) {
    seen.push_back(x);
    return top + 6;
  });
  EXPECT_EQ(seen, (std::vector<std::int64_t>{top}));
  seen.clear();
  ring.visit<true>(top - 4, top + 6, [&](std::int64_t x, bool, std::uint32_t) {
    seen.push_back(x);
    return top + 6;
  });
  EXPECT_EQ(seen, (std::vector<std::int64_t>{top}));
  EXPECT_EQ(ring.next_command(top - 4, top + 6), top);
}

TEST(RowCommandRing, TwoCommandsOnOneCycleAreABug) {
  RowCommandRing ring;
  ring.insert(5, false, 0);
  EXPECT_THROW(ring.insert(5, true, 1), std::logic_error);
  // A forgotten cycle is free again, and reads as empty.
  ring.forget_before(6);
  EXPECT_FALSE(ring.occupied(5));
  ring.insert(5, true, 2);
  EXPECT_TRUE(ring.act_at(5));
  EXPECT_EQ(ring.bg_at(5), 2u);
}

}  // namespace
}  // namespace podsim
