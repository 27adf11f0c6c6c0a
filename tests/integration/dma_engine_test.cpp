// The DMA engine between its real neighbours (HBM model, crossbar port) in a small
// SystemC harness: strided tiles and gather lists. One simulation per test process.
#include <gtest/gtest.h>
#include <systemc>

#include "dma_harness.h"
#include "podsim/config/hardware_loader.h"

namespace podsim {
namespace {

using Harness = test::DmaHarness;

HbmSpec ideal(std::uint64_t bandwidth, std::uint32_t channels, std::uint64_t latency_ps) {
  HbmSpec s;
  s.device = "ideal";
  s.bandwidth_Bps = bandwidth;
  s.channels = channels;
  s.latency_ps = latency_ps;
  s.interleave_bytes = 256;
  return s;
}

TEST(DmaEngine, GatherOfSmallRowsMovesEveryByteAtTheBandwidth) {
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
  DmaSpec d;
  d.chunk_bytes = 4096;
  d.outstanding = 64;
  // 4 channels x 1 GB/s, 100 ns latency; 1024 rows of 256 B scattered over the table,
  // each its own gather entry (one region of one row).
  Harness h("h", ideal(4'000'000'000ull, 4, 100'000), d, 1'000'000'000'000ull);
  for (std::uint64_t i = 0; i < 1024; ++i) h.job.regions.push_back({(i * 7919 % 4096) * 256, 1, 256, 256});
  sc_core::sc_start();
  EXPECT_TRUE(h.job.finished);
  EXPECT_EQ(h.dma.bytes_completed(), 1024u * 256);
  EXPECT_EQ(h.hbm.bytes_served(), 1024u * 256);
  // 256 KiB over 4 GB/s = 65.5 us; the rows land evenly on the 4 channels (row i on
  // channel (i * 7919 mod 4096) mod 4, uniform over i), so the last one finishes at
  // 65.5 us + 100 ns latency, within the rounding of 1024 transfers.
  EXPECT_NEAR(double(h.done_ps), 262144.0 / 4e9 * 1e12 + 100'000, 2'000);
  // One chunk is up to 4 KiB: 16 gather rows each, 64 chunks.
  EXPECT_EQ(h.dma.chunks(), 64u);
  EXPECT_EQ(h.dma.in_flight(), 0u);
}

}  // namespace
}  // namespace podsim
