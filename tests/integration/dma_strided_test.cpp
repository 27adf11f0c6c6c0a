// A strided 2D tile through the DMA engine, limited by the crossbar port. Own binary: one
// SystemC simulation per process.
#include <gtest/gtest.h>
#include <systemc>

#include "dma_harness.h"

namespace podsim {
namespace {

using Harness = test::DmaHarness;

TEST(DmaEngine, StridedTileIsLimitedByTheCrossbarPort) {
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
  HbmSpec s;
  s.device = "ideal";
  s.bandwidth_Bps = 100'000'000'000ull;  // HBM far faster than the port
  s.channels = 8;
  s.latency_ps = 50'000;
  s.interleave_bytes = 4096;
  DmaSpec d;
  d.chunk_bytes = 64 << 10;
  d.outstanding = 8;
  // A 256 x 1 KiB tile of a row-major matrix with 8 KiB rows, through a 10 GB/s port:
  // 256 KiB / 10 GB/s = 26.2144 us, plus the last chunk's 50 ns latency at most.
  Harness h("h", s, d, 10'000'000'000ull);
  h.job.regions.push_back({12345 * 8192ull, 256, 1024, 8192});
  sc_core::sc_start();
  EXPECT_EQ(h.dma.bytes_completed(), 256u * 1024);
  EXPECT_GE(h.done_ps, 26'214'400u);
  EXPECT_LE(h.done_ps, 26'214'400u + 50'000u + 100u);
  EXPECT_EQ(h.port.bytes(), 256u * 1024);
}

}  // namespace
}  // namespace podsim
