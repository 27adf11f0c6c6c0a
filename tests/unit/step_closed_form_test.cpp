// The planner's closed forms (planner/step_closed_form.h) on cases worked out by hand.
#include <gtest/gtest.h>

#include "podsim/planner/step_closed_form.h"

namespace {

using podsim::GatherPrefetch;
using podsim::GradientBucket;
using podsim::OpWindow;

OpWindow op(double start_s, double end_s, std::uint64_t hbm_bytes) {
  OpWindow w;
  w.start_ps = std::uint64_t(start_s * 1e12);
  w.end_ps = std::uint64_t(end_s * 1e12);
  w.alone_ps = w.end_ps - w.start_ps;
  w.hbm_bytes = hbm_bytes;
  return w;
}

// Two buckets released at 1 s and 2 s of a 2 s pass, 0.5 s each, moving no HBM: the
// second runs from 2 s to 2.5 s; nothing is stretched.
TEST(GradientBucketStream, BucketsRunOneAfterAnotherOnceReleased) {
  const auto b = podsim::gradient_bucket_stream(2.0, {{1.0, 0.5, 0, 0}, {2.0, 0.5, 0, 0}},
                                                {op(0, 1, 0), op(1, 2, 0)}, 1000);
  EXPECT_DOUBLE_EQ(b.stretch_s, 0);
  EXPECT_NEAR(b.end_s, 2.5, 1e-9);
}

// An op of 1 s moving 1,000 B at 1,000 B/s (exactly at its bound) beside a bucket that
// moves 500 B inside its window needs 1.5 s: stretched by 0.5 s, and the bucket released
// at the pass's end (1 s) starts 0.5 s later.
TEST(GradientBucketStream, ContentionStretchesTheOpsAndDelaysLaterReleases) {
  const auto b = podsim::gradient_bucket_stream(2.0, {{0.0, 1.0, 500, 0}, {2.0, 0.25, 0, 0}},
                                                {op(0, 1, 1000), op(1, 2, 0)}, 1000);
  EXPECT_NEAR(b.stretch_s, 0.5, 1e-9);
  EXPECT_NEAR(b.end_s, 2.0 + 0.5 + 0.25, 1e-9);
}

// Gathers of 1 s before ops 0 and 2 of a pass, ops of 0.5 s: op 0 waits 1 s for its gather
// (issued at the pass's start); op 2's gather starts as op 0 does (at 1 s) and is done at
// 2 s, so op 2 waits from 1.5 s (after ops 0 and 1) to 2 s.
TEST(GatherPrefetch, EachGatherStartsAsTheOpBeforeItsOwnStarts) {
  GatherPrefetch p({{0, 0, 1.0, 0}, {2, 0, 1.0, 0}}, 1000);
  p.begin_pass(0);
  double clock = p.before_op(0, 0, 0);
  EXPECT_DOUBLE_EQ(clock, 1.0);
  clock += 0.5;
  clock = p.before_op(1, 0, clock);  // no gather of its own
  EXPECT_DOUBLE_EQ(clock, 1.5);
  clock += 0.5;
  clock = p.before_op(2, 0, clock);
  EXPECT_DOUBLE_EQ(clock, 2.0);
}

// An op of 0.5 s moving 500 B at 1,000 B/s beside a gather moving 1,000 B over its 1 s,
// all of the op inside it: 500 + 500 B need 1 s.
TEST(GatherPrefetch, AnOpBesideAGatherTakesItsShareOfTheBytes) {
  GatherPrefetch p({{0, 0, 1.0, 0}, {1, 0, 1.0, 1000}}, 1000);
  p.begin_pass(0);
  const double clock = p.before_op(0, 0, 0);  // waits for gather 0, starts gather 1 at 1 s
  EXPECT_DOUBLE_EQ(p.stretched(clock, 0.5, 500), 1.0);
  EXPECT_DOUBLE_EQ(p.stretched(clock + 2, 0.5, 500), 0.5);  // after the gather: alone
}

}  // namespace
