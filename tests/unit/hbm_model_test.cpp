#include <gtest/gtest.h>

#include "podsim/arch/hbm_model.h"
#include "podsim/config/hardware_loader.h"

namespace podsim {
namespace {

// The ideal device (bandwidth + latency per channel) with TPU v3's figures: 32 channels,
// 900 GB/s, 100 ns, 4 KiB stripes.
HbmSpec v3_hbm() {
  HbmSpec spec = load_hardware("tpu-v3").chip.hbm;
  spec.device = "ideal";
  spec.latency_ps = 100'000;
  spec.interleave_bytes = 4096;
  return spec;
}

TEST(HbmModel, SingleRequestTakesTransferPlusLatency) {
  HbmModel hbm(v3_hbm());
  // 900 GB/s over 32 channels = 28.125 GB/s each. 4 KiB at 28.125 GB/s =
  // 4096e12 / 28.125e9 = 145635.56 ps -> 145636 ps; plus 100 ns latency.
  EXPECT_EQ(hbm.serve(0, 0, 4096, false), 145'636u + 100'000u);
  EXPECT_EQ(hbm.channel_stats()[0].read_bytes, 4096u);
}

TEST(HbmModel, SameChannelRequestsQueue) {
  HbmModel hbm(v3_hbm());
  hbm.serve(0, 0, 4096, false);
  // Stripe 32 maps to channel 32 mod 32 = 0 again: it waits for the first transfer.
  EXPECT_EQ(hbm.channel_of(32 * 4096), 0u);
  EXPECT_EQ(hbm.serve(0, 32 * 4096, 4096, true), 2 * 145'636u + 100'000u);
  EXPECT_EQ(hbm.channel_stats()[0].write_bytes, 4096u);
}

TEST(HbmModel, DifferentChannelsWorkInParallel) {
  HbmModel hbm(v3_hbm());
  hbm.serve(0, 0, 4096, false);
  EXPECT_EQ(hbm.serve(0, 4096, 4096, false), 145'636u + 100'000u);  // channel 1
}

TEST(HbmModel, RequestsSplitAtStripeBoundaries) {
  HbmModel hbm(v3_hbm());
  // 8 KiB starting mid-stripe: 2 KiB on ch0, 4 KiB on ch1, 2 KiB on ch2.
  hbm.serve(0, 2048, 8192, false);
  EXPECT_EQ(hbm.channel_stats()[0].read_bytes, 2048u);
  EXPECT_EQ(hbm.channel_stats()[1].read_bytes, 4096u);
  EXPECT_EQ(hbm.channel_stats()[2].read_bytes, 2048u);
  EXPECT_EQ(hbm.bytes_served(), 8192u);
}

TEST(HbmModel, StreamingAllChannelsReachesChipBandwidth) {
  HbmModel hbm(v3_hbm());
  // 1 GiB in 4 KiB requests round-robin over every channel, all issued at t = 0:
  // the last completes at 1 GiB / 900 GB/s (+ latency), to within a picosecond per
  // request of rounding.
  const std::uint64_t total = 1ull << 30;
  std::uint64_t last = 0;
  for (std::uint64_t a = 0; a < total; a += 4096) last = std::max(last, hbm.serve(0, a, 4096, false));
  const double ideal_ps = double(total) / 900e9 * 1e12 + 100'000;
  EXPECT_NEAR(double(last), ideal_ps, 8192.0 + 1.0);  // 8192 requests per channel, <= 1 ps each
}

}  // namespace
}  // namespace podsim
