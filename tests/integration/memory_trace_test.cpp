// Memory traces (sim/memory_trace.h): the format and its errors, replay closed and open
// loop, built-in patterns as traces, and the DRAM bounds of docs/memory.md worked out from
// the device's timings (the closed forms are in the comments; none is copied from a run).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "podsim/arch/clock.h"
#include "podsim/config/config_error.h"
#include "podsim/config/dram_device.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/sim/memory_selftest.h"
#include "podsim/sim/memory_trace.h"

namespace podsim {
namespace {

ConfigError trace_error(const std::string& text) {
  try {
    parse_memory_trace(text, "t.trace");
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << text;
  return ConfigError({}, "", "");
}

TEST(MemoryTraceFormat, ReadsTheCommonTraceDialects) {
  const auto t = parse_memory_trace(
      "# DRAMsim3 style\n"
      "0x1f40 READ 12\n"
      "0x2000 WRITE 15   # comment\n"
      "\n"
      "8192, r, 20, 128\n"   // decimal, commas, lower case, a size
      "0X10 store 21\n",     // STORE, any case
      "t.trace");
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].addr, 0x1f40u);
  EXPECT_FALSE(t[0].write);
  EXPECT_EQ(t[0].cycle, 12);
  EXPECT_EQ(t[0].bytes, 64u);
  EXPECT_TRUE(t[1].write);
  EXPECT_EQ(t[2].addr, 8192u);
  EXPECT_EQ(t[2].bytes, 128u);
  EXPECT_TRUE(t[3].write);
  // Ramulator's memory traces: address and R/W only.
  const auto r = parse_memory_trace("0x40 R\n0x80 W\n", "t.trace");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].cycle, -1);
}

TEST(MemoryTraceFormat, BadLinesAreErrorsAtTheirLineAndColumn) {
  ConfigError e = trace_error("0x40 R 1\n0x80 X 2\n");
  EXPECT_EQ(e.where().line, 2);
  EXPECT_EQ(e.where().column, 6);
  EXPECT_NE(e.problem().find("expected R or W"), std::string::npos) << e.problem();
  e = trace_error("0x40 R 10\n0x80 R 9\n");  // cycles go backwards
  EXPECT_EQ(e.where().line, 2);
  EXPECT_NE(e.problem().find("must not decrease"), std::string::npos);
  EXPECT_EQ(trace_error("0x40 R 10\n0x80 R\n").where().line, 2);      // some with cycles, some without
  EXPECT_EQ(trace_error("0x40 R 1 0\n").where().column, 10);           // size 0
  EXPECT_EQ(trace_error("0x40 R 1 64 extra\n").where().line, 1);       // too many fields
  EXPECT_EQ(trace_error("0xfffffffffffffffff R\n").where().column, 1); // 17 hex digits
  EXPECT_EQ(trace_error("# nothing\n\n").where().line, 0);             // no requests
  // A long bad token is quoted short.
  e = trace_error(std::string(200, 'z') + " R\n");
  EXPECT_LT(e.problem().size(), 120u) << e.problem();
}

TEST(MemoryTraceFormat, OnlyRegularFilesAreRead) {
  const auto dir = std::filesystem::path(testing::TempDir()) / "podsim_trace_test";
  std::filesystem::create_directories(dir);
  const auto fifo = dir / "fifo";
  std::filesystem::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THROW(load_memory_trace(fifo.string()), ConfigError);  // would block forever if opened
  EXPECT_THROW(load_memory_trace(dir.string()), ConfigError);
  EXPECT_THROW(load_memory_trace((dir / "missing").string()), ConfigError);
  std::filesystem::remove_all(dir);
}

TEST(MemoryTraceReplay, APatternWrittenAsATraceReplaysToTheSameResult) {
  const HardwareSpec hw = load_hardware("tpu-v3");
  MemorySelftestOptions o;
  o.stream_bytes = 8 << 20;
  o.random_requests = 5000;
  for (const std::string name : {"gather_256B", "mix_2r1w", "stream_add"}) {
    MemoryReplayOptions replay;
    const auto generated = memory_pattern_trace(hw, name, o, &replay.outstanding);
    const auto parsed = parse_memory_trace(format_memory_trace(generated), "t.trace");
    ASSERT_EQ(parsed.size(), generated.size());
    const auto a = replay_memory_trace(hw, parsed, replay, name);
    o.only = {name};
    const auto b = run_memory_selftest(hw, o).at(0);
    EXPECT_EQ(a.bytes, b.bytes) << name;
    EXPECT_DOUBLE_EQ(a.achieved_gbps, b.achieved_gbps) << name;
    EXPECT_DOUBLE_EQ(a.p99_latency_ns, b.p99_latency_ns) << name;
    EXPECT_EQ(a.row_conflicts, b.row_conflicts) << name;
  }
}

TEST(MemoryPatterns, GeneratorParametersShapeTheTrace) {
  const HardwareSpec hw = load_hardware("tpu-v3");
  MemorySelftestOptions o;
  o.random_requests = 1000;
  o.request_bytes = 128;
  o.footprint = 1 << 20;
  o.write_fraction = 0.25;
  std::size_t window = 0;
  const auto random = memory_pattern_trace(hw, "random_read_64B", o, &window);
  ASSERT_EQ(random.size(), 1000u);
  for (std::size_t i = 0; i < random.size(); ++i) {
    EXPECT_EQ(random[i].bytes, 128u);
    EXPECT_EQ(random[i].addr % 128, 0u);
    EXPECT_LE(random[i].addr + 128, 1u << 20);
    EXPECT_EQ(random[i].write, i % 4 == 3) << i;  // a quarter, evenly spaced
  }
  o.stride = 3000;
  o.write_fraction = 0;
  const auto strided = memory_pattern_trace(hw, "strided", o, &window);
  for (std::size_t i = 0; i < strided.size(); ++i) {
    EXPECT_EQ(strided[i].addr, i * 3000 % (1 << 20));
    EXPECT_FALSE(strided[i].write);
  }
  // Unset, the patterns keep their own sizes and mix: 256 B gathers, a third written.
  const auto mix = memory_pattern_trace(hw, "mix_2r1w", MemorySelftestOptions{}, &window);
  for (std::size_t i = 0; i < 30; ++i) {
    EXPECT_EQ(mix[i].bytes, 256u);
    EXPECT_EQ(mix[i].write, i % 3 == 2);
  }
}

TEST(MemoryPatterns, ZipfGathersFollowTheExponent) {
  // A table of 1024 rows of 256 B. With s = 1 the hottest row draws 1 / H(1024) of the
  // requests, H(1024) = sum 1/k = 7.509: 2,663 of 20,000 (binomial sd 48, 5 sd allowed).
  // With s = 0 every row is as likely: about 19.5 each, none near 100.
  const HardwareSpec hw = load_hardware("tpu-v3");
  MemorySelftestOptions o;
  o.random_requests = 20'000;
  o.footprint = 1024 * 256;
  const auto hottest = [&](double s) {
    o.zipf_s = s;
    std::size_t window = 0;
    std::map<std::uint64_t, std::uint64_t> count;
    for (const auto& r : memory_pattern_trace(hw, "zipf_gather_256B", o, &window)) {
      EXPECT_LT(r.addr, 1024u * 256);
      ++count[r.addr];
    }
    std::uint64_t most = 0;
    for (const auto& [addr, n] : count) most = std::max(most, n);
    return most;
  };
  double harmonic = 0;
  for (int k = 1; k <= 1024; ++k) harmonic += 1.0 / k;
  EXPECT_NEAR(double(hottest(1.0)), 20'000 / harmonic, 5 * 48);
  EXPECT_LT(hottest(0.0), 100u);
}

TEST(MemoryTraceReplay, OpenLoopIdleRequestsSeeTheClosedFormLatencies) {
  // One 32 B burst at a time, 100 cycles apart: nothing queues, and the bank is not the
  // one refreshed in between (per-bank refresh takes the least recently used). tpu-v3 (hbm2 at
  // 1.758 GT/s, tCK = 1.138 ns): a closed row costs tRCD + tCL + BL/2 cycles, the same row
  // again tCL + BL/2; plus the fixed 60 ns outside the DRAM (chip.hbm.latency).
  const HardwareSpec hw = load_hardware("tpu-v3");
  const DramDevice d = resolve_dram_device(hw.chip.hbm);
  const ClockDomain ck(d.clock_hz());
  std::vector<MemoryRequest> t(2);
  t[0].addr = t[1].addr = 1 << 20;
  t[0].bytes = t[1].bytes = 32;
  t[0].cycle = 10'000;
  t[1].cycle = 10'100;
  MemoryReplayOptions o;
  o.open_loop = true;
  o.check_timing = true;
  const auto r = replay_memory_trace(hw, t, o);
  const double fixed_ns = double(hw.chip.hbm.latency_ps) * 1e-3;
  const double closed_ns = double(ck.ps_of(10'000 + d.t.tRCD + d.t.tCL + d.burst_cycles()) - ck.ps_of(10'000)) * 1e-3;
  const double hit_ns = double(ck.ps_of(10'100 + d.t.tCL + d.burst_cycles()) - ck.ps_of(10'100)) * 1e-3;
  EXPECT_NEAR(r.max_latency_ns, closed_ns + fixed_ns, 0.01);
  EXPECT_NEAR(r.p50_latency_ns, hit_ns + fixed_ns, 0.01);
  EXPECT_EQ(r.row_misses, 1u);
  EXPECT_EQ(r.row_hits, 1u);
  EXPECT_EQ(r.timing_violations, 0u);
  // Commands by kind: one ACT, two RDs, no PRE or WR (refreshes, per bank, also happen).
  for (const auto& [kind, n] : r.commands) {
    if (kind == "ACT") {
      EXPECT_EQ(n, 1u);
    } else if (kind == "RD") {
      EXPECT_EQ(n, 2u);
    } else if (kind == "PRE" || kind == "WR") {
      EXPECT_EQ(n, 0u);
    }
  }
  // The latency histogram holds both, in the power-of-two bucket of each.
  std::uint64_t total = 0;
  for (auto c : r.latency_histogram) total += c;
  EXPECT_EQ(total, 2u);
}

// Sequential streams reach at least 95 % of peak x (1 - tRFC / tREFI), the refresh
// overhead of all-bank refresh (the upper bound of what refresh can cost).
class StreamBound : public testing::TestWithParam<std::vector<std::string>> {};

TEST_P(StreamBound, ReadsAndWritesReachPeakLessRefresh) {
  const auto& p = GetParam();
  const HardwareSpec hw = load_hardware(p[0], {p.begin() + 1, p.end()});
  const DramDevice d = resolve_dram_device(hw.chip.hbm);
  const double refresh = double(d.t.tRFC) / double(d.t.tREFI);
  MemorySelftestOptions o;
  o.stream_bytes = 32 << 20;
  o.only = {"seq_read", "seq_write"};
  o.check_timing = true;
  for (const auto& r : run_memory_selftest(hw, o)) {
    EXPECT_GE(r.achieved_gbps, 0.95 * r.peak_gbps * (1.0 - refresh)) << r.name;
    EXPECT_LE(r.achieved_gbps, r.peak_gbps * 1.0001) << r.name;
    EXPECT_EQ(r.timing_violations, 0u) << r.name;
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, StreamBound,
                         testing::Values(std::vector<std::string>{"tpu-v3"},
                                         std::vector<std::string>{"tpu-v3", "chip.hbm.refresh=all_bank"},
                                         std::vector<std::string>{"tpu-v4"},
                                         std::vector<std::string>{"tpu-v4", "chip.hbm.device=hbm3"},
                                         std::vector<std::string>{"tpu-v4", "chip.hbm.device=hbm3e"},
                                         std::vector<std::string>{"tpu-v1"}),
                         [](const auto& info) {
                           std::string n;
                           for (const auto& s : info.param)
                             for (char c : s) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

TEST(DramBounds, RandomSixtyFourByteReadsApproachTheActivationRate) {
  // tpu-v3, default mapping: a 64 B read is 2 bursts in 2 bank groups = 2 ACTs of 32 B.
  // The row bus allows one ACT per tRRD_S and four per tFAW: per pseudo-channel at most
  // min(1 / tRRD_S, 4 / tFAW) ACTs per cycle, x 32 B x the DRAM clock, x 64 pseudo-channels.
  const HardwareSpec hw = load_hardware("tpu-v3");
  const DramDevice d = resolve_dram_device(hw.chip.hbm);
  const double acts_per_cycle = std::min(1.0 / d.t.tRRD_S, 4.0 / d.t.tFAW);
  const double bound_gbps = acts_per_cycle * 32.0 * double(d.clock_hz()) * 64 * 1e-9;
  MemorySelftestOptions o;
  // 200,000 reads (3,125 per pseudo-channel): with 20,000 the run's end is set by the
  // pseudo-channel that drew the most reads (about 14 % above the mean), which moves by
  // +-5 % with any change of the address hash; this measures the controller, not the draw.
  o.random_requests = 200'000;
  MemoryReplayOptions replay;
  const auto trace = memory_pattern_trace(hw, "random_read_64B", o, &replay.outstanding);
  replay.outstanding = 64 * 64;  // deep enough that the requests in flight do not limit
  const auto r = replay_memory_trace(hw, trace, replay);
  EXPECT_LE(r.achieved_gbps, bound_gbps * 1.0001);
  // Issue 13 asks for 5 % of the bound; the controller reaches about 84 % (docs/memory.md:
  // bank conflicts against tRC and tRRD_L between same-group ACTs, placed in arrival order).
  EXPECT_GE(r.achieved_gbps, 0.80 * bound_gbps) << "bound " << bound_gbps;
}

TEST(DramBounds, AGatherInsideOneBankGroupRowCostsOneActivation) {
  // With columns fastest (ro_ba_ch_bg_co) a 256 B gather aligned to 256 B is 8 bursts of
  // one bank group's row: one ACT per gather under a closed page, 8 RDs.
  const HardwareSpec hw = load_hardware("tpu-v3", {"chip.hbm.mapping=ro_ba_ch_bg_co", "chip.hbm.page_policy=closed"});
  MemorySelftestOptions o;
  o.random_requests = 2000;
  MemoryReplayOptions replay;
  const auto trace = memory_pattern_trace(hw, "gather_256B", o, &replay.outstanding);
  replay.check_timing = true;
  const auto r = replay_memory_trace(hw, trace, replay);
  for (const auto& [kind, n] : r.commands) {
    if (kind == "ACT") {
      EXPECT_EQ(n, 2000u);
    } else if (kind == "RD") {
      EXPECT_EQ(n, 8u * 2000u);
    }
  }
  EXPECT_EQ(r.timing_violations, 0u);
  // The default mapping spreads the same gather over 4 bank groups: 4 ACTs each.
  const auto spread = replay_memory_trace(load_hardware("tpu-v3", {"chip.hbm.page_policy=closed"}), trace, replay);
  for (const auto& [kind, n] : spread.commands) {
    if (kind == "ACT") {
      EXPECT_EQ(n, 4u * 2000u);
    }
  }
}

TEST(DramBounds, TwoReadsOneWriteStreamWithinFifteenPercentOfTheTurnaroundBound) {
  // STREAM add on tpu-v3: per pseudo-channel, writes are drained in batches of half the
  // write buffer (queue_depth x 2 bursts / 2 = 32 bursts) between 64 read bursts. Each
  // batch costs two turnarounds on top of 96 bursts at tCCD_S: read to write tRTW instead
  // of tCCD_S, write to read tCWL + BL/2 + tWTR_S instead of tCCD_S.
  const HardwareSpec hw = load_hardware("tpu-v3");
  const DramDevice d = resolve_dram_device(hw.chip.hbm);
  const double batch = 32, reads = 64;
  const double data = (batch + reads) * d.t.tCCD_S;
  const double turn = (double(d.t.tRTW) - d.t.tCCD_S) + (double(d.t.tCWL + d.burst_cycles() + d.t.tWTR_S) - d.t.tCCD_S);
  const double refresh = double(d.t.tRFCpb) / (double(d.t.tREFI) / 16.0) / 16.0;  // one bank of 16 at a time
  const double bound = data / (data + turn) * (1.0 - refresh);
  MemorySelftestOptions o;
  o.stream_bytes = 48 << 20;
  o.only = {"stream_add"};
  o.check_timing = true;
  const auto r = run_memory_selftest(hw, o).at(0);
  const double fraction = r.achieved_gbps / r.peak_gbps;
  EXPECT_NEAR(fraction, bound, 0.15 * bound) << "bound " << bound;
  EXPECT_EQ(r.timing_violations, 0u);
}

}  // namespace
}  // namespace podsim
