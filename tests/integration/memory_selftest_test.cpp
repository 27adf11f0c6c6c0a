// The memory self-test on every HBM preset and DRAM device: sequential reads reach 90 % of
// the theoretical peak; random patterns fall below it; the timing checker finds nothing.
#include <gtest/gtest.h>

#include "podsim/config/hardware_loader.h"
#include "podsim/sim/memory_selftest.h"

namespace podsim {
namespace {

MemorySelftestOptions quick() {
  MemorySelftestOptions o;
  o.stream_bytes = 32 << 20;
  o.random_requests = 20'000;
  return o;
}

const MemoryPatternResult& find(const std::vector<MemoryPatternResult>& rs, const std::string& name) {
  for (const auto& r : rs)
    if (r.name == name) return r;
  throw std::runtime_error("no pattern " + name);
}

class SelftestOnHbm : public testing::TestWithParam<std::vector<std::string>> {};

TEST_P(SelftestOnHbm, SequentialReadsReachNinetyPercentAndRandomOnesFallBelow) {
  const auto& p = GetParam();
  const HardwareSpec hw = load_hardware(p[0], {p.begin() + 1, p.end()});
  MemorySelftestOptions o = quick();
  o.check_timing = true;
  const auto results = run_memory_selftest(hw, o);
  ASSERT_EQ(results.size(), memory_pattern_names().size());
  const auto& seq = find(results, "seq_read");
  // Peak = pseudo-channels x bus bytes x data rate, which the presets set to the chip's
  // published bandwidth.
  EXPECT_NEAR(seq.peak_gbps, double(hw.chip.hbm.bandwidth_Bps) * 1e-9, 0.01 * seq.peak_gbps);
  EXPECT_GE(seq.achieved_gbps, 0.90 * seq.peak_gbps);
  EXPECT_LE(seq.achieved_gbps, seq.peak_gbps * 1.0001);
  EXPECT_GT(seq.row_hit_rate, 0.9);  // 4 activations per 128 bursts of a 4 KiB block
  // Every random 64 B read opens a row: tRRD/tFAW and bank conflicts cap it well below.
  const auto& random = find(results, "random_read_64B");
  EXPECT_LT(random.achieved_gbps, 0.6 * seq.achieved_gbps);
  EXPECT_LT(find(results, "row_miss").row_hit_rate, 0.01);
  EXPECT_GT(random.mean_latency_ns, 0.0);
  EXPECT_GE(random.p99_latency_ns, random.mean_latency_ns);
  for (const auto& r : results) {
    EXPECT_GT(r.commands_checked, 0u) << r.name;
    EXPECT_EQ(r.timing_violations, 0u) << r.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Presets, SelftestOnHbm,
    testing::Values(std::vector<std::string>{"tpu-v2"}, std::vector<std::string>{"tpu-v3"},
                    std::vector<std::string>{"tpu-v4"},
                    // HBM2E and HBM3E at 2.8 and 7.4 TB/s: the streams' window must follow the
                    // chip's DMA engines (16 chunks reached 52 % of tpu-v7's peak).
                    std::vector<std::string>{"tpu-v5p"}, std::vector<std::string>{"tpu-v7"},
                    std::vector<std::string>{"tpu-v4", "chip.hbm.device=hbm2e"},
                    std::vector<std::string>{"tpu-v4", "chip.hbm.device=hbm3"},
                    std::vector<std::string>{"tpu-v3", "chip.hbm.page_policy=closed", "chip.hbm.refresh=all_bank"},
                    std::vector<std::string>{"tpu-v3", "chip.hbm.page_policy=adaptive", "chip.hbm.page_timeout=20",
                                             "chip.hbm.refresh=all_bank", "chip.hbm.refresh_stagger=false"}),
    [](const auto& info) {
      std::string n;
      for (const auto& s : info.param) n += (n.empty() ? "" : "_") + s;
      for (char& c : n)
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      return n;
    });

TEST(Selftest, ZipfSkewRaisesRowHitsButHotSpotsCapBandwidth) {
  // Zipf(1.0) over 2^20 rows: the hottest rows recur, so more requests find their row
  // open than with uniform gathers; but hot rows pile onto few pseudo-channels.
  const auto results = run_memory_selftest(load_hardware("tpu-v3"), quick());
  EXPECT_GT(find(results, "zipf_gather_256B").row_hit_rate, find(results, "gather_256B").row_hit_rate);
}

TEST(Selftest, IsDeterministic) {
  MemorySelftestOptions o = quick();
  o.only = {"mix_2r1w"};
  const auto a = run_memory_selftest(load_hardware("tpu-v3"), o);
  const auto b = run_memory_selftest(load_hardware("tpu-v3"), o);
  EXPECT_EQ(a[0].achieved_gbps, b[0].achieved_gbps);
  EXPECT_EQ(a[0].p99_latency_ns, b[0].p99_latency_ns);
}

}  // namespace
}  // namespace podsim

namespace podsim {
namespace {

// Regression (2026-12-06): the refresh loop pruned the row timeline up to the next refresh
// due, which can lie past the request being placed; an ACT still within tRRD of where that
// request's ACT went was forgotten. Every 1,024th refresh prunes, so only a long stream
// showed it: one tRRD_S violation in 9 M commands of the full-size stream_add on tpu-v3,
// with the command model (the streaming fast path off) and with the fast path on.
TEST(Selftest, AFullSizeStreamAddKeepsEveryTimingRule) {
  for (const char* fast : {"chip.hbm.stream_fast_path=false", "chip.hbm.stream_fast_path=true"}) {
    const HardwareSpec hw = load_hardware("tpu-v3", {fast});
    MemorySelftestOptions o;  // the full 1 GiB stream
    o.only = {"stream_add"};
    o.check_timing = true;
    const auto r = run_memory_selftest(hw, o).at(0);
    EXPECT_GT(r.commands_checked, 8'000'000u) << fast;
    EXPECT_EQ(r.timing_violations, 0u) << fast;
  }
}

}  // namespace
}  // namespace podsim
