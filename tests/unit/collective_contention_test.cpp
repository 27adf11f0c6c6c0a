// Collectives' HBM and vector traffic against the ops beside them (sim/collective_contention.h):
// the byte accounting and the stretch, against hand arithmetic.
#include <gtest/gtest.h>

#include "podsim/sim/collective_contention.h"

namespace podsim {
namespace {

constexpr std::uint64_t kGBps = 1'000'000'000ULL;

TEST(CollectiveContention, ReducedBytesArePMinusOneOverPForReductionsOnly) {
  EXPECT_EQ(collective_reduced_bytes(CollectiveKind::all_reduce, 800, 8), 700u);
  EXPECT_EQ(collective_reduced_bytes(CollectiveKind::reduce_scatter, 800, 8), 700u);
  EXPECT_EQ(collective_reduced_bytes(CollectiveKind::all_gather, 800, 8), 0u);
  EXPECT_EQ(collective_reduced_bytes(CollectiveKind::all_to_all, 800, 8), 0u);
  EXPECT_EQ(collective_reduced_bytes(CollectiveKind::all_reduce, 800, 1), 0u);
  // No overflow near 2^64 bytes: floor(S x 2/3).
  const std::uint64_t big = (1ULL << 63) + 3;
  EXPECT_EQ(collective_reduced_bytes(CollectiveKind::all_reduce, big, 3), (big / 3) * 2 + (big % 3) * 2 / 3);
}

TEST(CollectiveContention, HbmBytesAreSentReceivedAndThreeTimesReduced) {
  // A ring all-reduce of S over P chips: 2(P-1)/P S out and in, (P-1)/P S reduced: 7 (P-1)/P S.
  const std::uint64_t S = 8000, P = 8;
  EXPECT_EQ(collective_hbm_bytes(2 * (P - 1) * S / P, 2 * (P - 1) * S / P, (P - 1) * S / P), 7 * (P - 1) * S / P);
}

TEST(CollectiveContention, AnOpWithSpareBandwidthAbsorbsTheCollective) {
  // 10 us at 1 TB/s: 1 MB of 10 MB possible; a collective adding 5 MB fits.
  OpWindow op{0, 10'000'000, 10'000'000, 1'000'000, 0};
  EXPECT_EQ(contention_extra_ps(op, {{0, 10'000'000, 5'000'000, 0}}, 1000 * kGBps), 0u);
  // At 500 GB/s it does not: 6 MB need 12 us.
  EXPECT_EQ(contention_extra_ps(op, {{0, 10'000'000, 5'000'000, 0}}, 500 * kGBps), 2'000'000u);
}

TEST(CollectiveContention, AMemoryBoundOpIsStretchedByTheBytesInItsWindow) {
  // The op moves 8 MB in 10 us at 1 TB/s (80 %). The collective moves 6 MB over 20 us, half
  // of it inside the op's window: (8 + 3) MB / 1 TB/s = 11 us, 1 us more.
  OpWindow op{10'000'000, 20'000'000, 10'000'000, 8'000'000, 0};
  const std::vector<CollectiveLoad> load = {{0, 20'000'000, 6'000'000, 0}};
  EXPECT_EQ(contention_extra_ps(op, load, 1000 * kGBps), 1'000'000u);
  // Outside the window: nothing.
  EXPECT_EQ(contention_extra_ps(op, {{20'000'000, 30'000'000, 6'000'000, 0}}, 1000 * kGBps), 0u);
  // Two collectives add up: 3 + 2 MB inside -> 13 us.
  const std::vector<CollectiveLoad> two = {{0, 20'000'000, 6'000'000, 0}, {12'000'000, 14'000'000, 2'000'000, 0}};
  EXPECT_EQ(contention_extra_ps(op, two, 1000 * kGBps), 3'000'000u);
}

TEST(CollectiveContention, TheVectorUnitsAreSharedToo) {
  // An op busy on the vector units for 9 of its 10 us; a reduction of 3 us inside its
  // window: 12 us of vector work, 2 us more. HBM idle.
  OpWindow op{0, 10'000'000, 10'000'000, 0, 9'000'000};
  EXPECT_EQ(contention_extra_ps(op, {{2'000'000, 5'000'000, 0, 3'000'000}}, 1000 * kGBps), 2'000'000u);
  // The larger of the two limits, not their sum: HBM needs 10.5 us, vector 12 us.
  op.hbm_bytes = 10'500'000;
  EXPECT_EQ(contention_extra_ps(op, {{2'000'000, 5'000'000, 0, 3'000'000}}, 1000 * kGBps), 2'000'000u);
}

TEST(CollectiveContention, AnInstantLoadCountsWholeInsideTheWindowOnly) {
  OpWindow op{100, 200, 100, 0, 0};
  // 1 KB at 1 GB/s = 1 us inside a 100 ps op: stretched by 1 us - 100 ps.
  EXPECT_EQ(contention_extra_ps(op, {{150, 150, 1000, 0}}, kGBps), 1'000'000u - 100u);
  EXPECT_EQ(contention_extra_ps(op, {{200, 200, 1000, 0}}, kGBps), 0u);
}

}  // namespace
}  // namespace podsim
