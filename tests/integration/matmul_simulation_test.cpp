// End-to-end simulations of matmuls, each checked against a hand-derived expectation.
// One simulation per test: ctest runs each test in its own process.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "podsim/arch/clock.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/config/workload_loader.h"
#include "podsim/report/op_metrics.h"
#include "podsim/sim/memory_selftest.h"
#include "podsim/sim/simulate.h"
#include "test_paths.h"

namespace podsim {
namespace {

WorkloadSpec one_matmul(std::uint64_t m, std::uint64_t k, std::uint64_t n, const char* dtype,
                        int repeat = 1) {
  return load_workload_text(fmt::format("workload:\n  name: t\n  ops:\n    - {{op: matmul, name: mm, m: {}, "
                                        "k: {}, n: {}, dtype: {}, repeat: {}}}\n",
                                        m, k, n, dtype, repeat),
                            "test.yaml");
}

void expect_invariants(const RunResult& r) {
  EXPECT_TRUE(r.completed) << r.stall_report;
  for (const auto& i : r.invariants) EXPECT_TRUE(i.ok) << i.name << ": " << i.detail;
  // The MXU cycle breakdown never claims more cycles than the op lasted: the charged
  // parts (active, stalls, shifts) fit in cycles x MXUs, and non-matrix is the rest.
  for (const auto& o : r.ops) {
    const std::uint64_t span =
        (ClockDomain(r.hw.chip.clock_hz).cycle_at(o.end_ps) - ClockDomain(r.hw.chip.clock_hz).cycle_at(o.start_ps)) *
        r.hw.mxu_count();
    const std::uint64_t charged = o.mxu_active_cycles + o.mxu_input_stall_cycles + o.mxu_weight_load_stall_cycles +
                                  o.mxu_weight_shift_cycles;
    EXPECT_LE(charged, span) << o.name;
    EXPECT_EQ(charged + o.mxu_non_matrix_cycles, span) << o.name;
  }
}

TEST(MatmulSimulation, ComputeBound4096CubedReaches90PercentOfPeakOnTpuV3) {
  const RunResult r = simulate(load_hardware("tpu-v3"), one_matmul(4096, 4096, 4096, "bf16"));
  expect_invariants(r);
  // Ideal: 4096^3 MACs / (4 MXUs x 128^2 MACs/cycle) = 1,048,576 cycles = 1.1155 ms at
  // 940 MHz, i.e. the 123.2 TFLOPS peak. The issue asks for >= 90% of it.
  EXPECT_GE(r.achieved_flops(), 0.90 * r.hw.peak_flops()) << r.achieved_flops() * 1e-12 << " TFLOPS";
  EXPECT_LE(r.achieved_flops(), r.hw.peak_flops());
  EXPECT_GE(r.cycles, 1'048'576u);  // cannot beat the ideal
  EXPECT_EQ(r.macs, 4096ull * 4096 * 4096);
}

TEST(MatmulSimulation, MemoryBoundSkinnyMatmulRunsAtHbmBandwidth) {
  const HardwareSpec hw = load_hardware("tpu-v3");
  // The bound uses the *achievable* bandwidth: what the memory self-test's sequential
  // read reaches on this chip's DRAM model (about 99.5 % of the theoretical 900 GB/s).
  MemorySelftestOptions probe;
  probe.only = {"seq_read"};
  probe.stream_bytes = 64 << 20;
  const double achievable_Bps = run_memory_selftest(hw, probe).at(0).achieved_gbps * 1e9;
  ASSERT_GT(achievable_Bps, 0.9 * 900e9);
  const RunResult r = simulate(hw, one_matmul(8, 8192, 8192, "bf16"));
  expect_invariants(r);
  // Operand bytes (bf16): A = 8 x 8192 x 2 = 131,072; B = 8192 x 8192 x 2 = 134,217,728;
  // C = 8 x 8192 x 2 = 131,072. The MXUs need only 8 rows per 128-cycle weight load, and 4 MXUs shift weights in at 4 x 32 KiB per 128 cycles (940 GB/s), so
  // HBM sets the pace: time = operand bytes / achievable bandwidth (about 150 us).
  const double operand_bytes = 131072.0 + 134217728.0 + 131072.0;
  const double bound_s = operand_bytes / achievable_Bps;
  EXPECT_NEAR(r.time_s(), bound_s, 0.05 * bound_s) << r.time_s() * 1e6 << " us vs " << bound_s * 1e6;
  EXPECT_GE(r.time_s(), bound_s);  // nothing beats the bandwidth
  EXPECT_EQ(r.ops[0].plan.tiling.blocks_m, 1u);  // B is read once
}

// Issue 12, cause 3: a GEMV's weight tiles (2 KiB rows, 8 KiB apart) used half the
// pseudo-channels under plain modulo interleave and reached 441 of 900 GB/s. With the
// channel hash (the presets' default) the same op reaches at least 85 % of the peak.
TEST(MatmulSimulation, GemvReachesEightyFivePercentOfHbmPeakWithChannelHash) {
  const RunResult r = simulate(load_hardware("tpu-v3"), one_matmul(8, 4096, 4096, "bf16"));
  expect_invariants(r);
  EXPECT_GE(r.hbm_bandwidth_Bps(), 0.85 * 900e9) << r.hbm_bandwidth_Bps() / 1e9 << " GB/s";
}

TEST(MatmulSimulation, GemvWithoutChannelHashUsesHalfTheChannels) {
  // Plain modulo interleave: no hash of any kind.
  const RunResult r = simulate(load_hardware("tpu-v3", {"chip.hbm.channel_hash=false", "chip.hbm.xor_channel=false",
                                                        "chip.hbm.xor_bank=false"}),
                               one_matmul(8, 4096, 4096, "bf16"));
  expect_invariants(r);
  EXPECT_LT(r.hbm_bandwidth_Bps(), 0.6 * 900e9) << r.hbm_bandwidth_Bps() / 1e9 << " GB/s";
}

// A wide weight matrix (Llama-3-70B-sized FFN, k = 4096, n = 28672, bf16) at m = 128 on
// tpu-v4 is memory-bound: 235 MB of weights + 1 MB of A + 7.3 MB of C over 1200 GB/s is
// 203 us, its 30.1 GFLOP take 109 us at 275 TFLOPS. Its weight tile rows (1,024 columns,
// 2 KiB) lie 56 KiB apart; the presets' XOR address hash spreads them over the
// pseudo-channels, so the op must stream at >= 80 % of the peak (the digit-sum rotation
// hash used before reached 299 GB/s, 25 %: docs/memory.md).
TEST(MatmulSimulation, WideWeightMatrixStreamsAtEightyPercentOfHbmPeak) {
  const RunResult r = simulate(load_hardware("tpu-v4"), one_matmul(128, 4096, 28672, "bf16"));
  expect_invariants(r);
  const double bytes = 4096.0 * 28672 * 2 + 128.0 * 4096 * 2 + 128.0 * 28672 * 2;
  EXPECT_LE(r.time_s(), bytes / (0.8 * 1200e9)) << r.hbm_bandwidth_Bps() / 1e9 << " GB/s";
}

// Issue 12, cause 7: on tpu-v2 (one MXU per core) a GEMV is bound by shifting weights
// into the arrays, not by HBM: 4096 x 4096 / 128^2 = 1,024 weight tiles, 128 cycles each
// to shift in, over 2 MXUs = 65,536 cycles, while its 32 MiB take 48 us = 33,554 cycles
// at 700 GB/s. The report must name the weight shift, not memory.
TEST(MatmulSimulation, GemvOnTpuV2IsBoundByWeightShiftIn) {
  const RunResult r = simulate(load_hardware("tpu-v2"), one_matmul(8, 4096, 4096, "bf16"));
  expect_invariants(r);
  const OpMetrics m = op_metrics(r, r.ops.at(0));
  EXPECT_EQ(m.bound, "weight_shift");
  EXPECT_GE(m.cycles, 65536u);
  EXPECT_LE(m.cycles, 65536u * 105 / 100);
  EXPECT_GT(m.weight_shift_busy, 0.8);
  EXPECT_LT(m.memory_busy, 0.6);
}

TEST(MatmulSimulation, HbmBytesAreOperandsPlusTilingReReads) {
  const RunResult r = simulate(load_hardware("tpu-v3"), one_matmul(2048, 3000, 1000, "bf16"));
  expect_invariants(r);
  const MatmulTiling& t = r.ops[0].plan.tiling;
  // B (3000 x 1000 x 2 B) is read once for every block row; C (2048 x 1000 x 2 B) is
  // written once. A (2048 x 3000 x 2 B) is read once for every block column, or, when
  // the tiling keeps A resident, once by each of the 2 cores that has blocks in its rows:
  // both cores when a block row has 2 or more blocks (blocks are dealt round robin).
  const std::uint64_t a = 2048ull * 3000 * 2, b = 3000ull * 1000 * 2, c = 2048ull * 1000 * 2;
  EXPECT_EQ(t.blocks_n, (1000 + t.tn - 1) / t.tn);
  EXPECT_EQ(t.blocks_m, (2048 + t.tm - 1) / t.tm);
  const std::uint64_t a_reads = t.a_resident ? std::min<std::uint64_t>(2, t.blocks_n) : t.blocks_n;
  EXPECT_EQ(r.hbm_read_bytes, a * a_reads + b * t.blocks_m);
  EXPECT_EQ(r.hbm_write_bytes, c);
  std::uint64_t channel_total = 0;
  for (const auto& ch : r.channels) channel_total += ch.read_bytes + ch.write_bytes;
  EXPECT_EQ(channel_total, r.hbm_read_bytes + r.hbm_write_bytes);
}

TEST(MatmulSimulation, TinyMatmulOnLabChipTakesExactlyTheDerivedTime) {
  // lab-8x8: one core, one 8x8 array at 200 MHz (5 ns cycles), two channels of
  // 1.6 GB/s / 2 = 800 MB/s, 256 B stripes, 80 ns latency, a 1.6 GB/s crossbar port.
  // int8 8x8x8: A = 64 B at address 0 (channel 0), B = 64 B at 256 (channel 1),
  // C = 64 B at 512 (channel 0).
  //   load:  both 64 B pieces in parallel, 64 B / 800 MB/s = 80 ns; the port moves
  //          128 B at 1.6 GB/s = 80 ns; + 80 ns latency -> data at 160 ns (cycle 32).
  //   MXU:   weight load 8 cycles -> inject at 40, 8 rows -> 48, drain R + C - 2 = 14
  //          -> done at cycle 62 = 310 ns.
  //   store: 64 B, 80 ns on channel 0 and on the port, + 80 ns latency -> 470 ns.
  const RunResult r = simulate(load_hardware("lab-8x8"), one_matmul(8, 8, 8, "int8"));
  expect_invariants(r);
  EXPECT_EQ(r.end_ps, 470'000u);
  EXPECT_EQ(r.cycles, 94u);
  EXPECT_EQ(r.macs, 512u);
}

TEST(MatmulSimulation, RepeatRunsTheOpThatManyTimes) {
  const RunResult once = simulate(load_hardware("lab-8x8"), one_matmul(64, 64, 64, "bf16", 3));
  expect_invariants(once);
  EXPECT_EQ(once.macs, 3u * 64 * 64 * 64);
  EXPECT_EQ(once.ops[0].repeat, 3u);
  EXPECT_EQ(once.hbm_write_bytes, 3u * 64 * 64 * 2);
}

TEST(MatmulSimulation, Fp32RunsSixPassesSlowerWhenComputeBound) {
  // fp32 runs as 6 bf16 passes on TPU v3: with the arrays the bottleneck, the MXU stream
  // cycles are exactly 6x those of bf16 for the same shape.
  const RunResult r = simulate(load_hardware("tpu-v3"), one_matmul(2048, 2048, 2048, "fp32"));
  expect_invariants(r);
  // Active (streaming) cycles summed over MXUs = rows x folds x passes
  // = 2048 x (2048/128)^2 x 6 = 3,145,728.
  EXPECT_EQ(r.mxu_active_cycles, 2048ull * 16 * 16 * 6);
  EXPECT_LE(r.achieved_flops(), r.hw.peak_flops() / 6);
}

TEST(MatmulSimulation, PackedInt8RunsAtTwiceTheBf16Rate) {
  // TPU v5e: 394 TOPS int8, twice its 197 TFLOPS bf16 (Cloud TPU docs); the preset packs
  // two int8 rows per array cycle (chip.mxu.rate.int8 = 2). Streaming cycles summed over
  // MXUs = M / 2 x (K / 128) x (N / 128) = 2048 x 32 x 32.
  const RunResult r = simulate(load_hardware("tpu-v5e"), one_matmul(4096, 4096, 4096, "int8"));
  expect_invariants(r);
  EXPECT_EQ(r.mxu_active_cycles, 2048ull * 32 * 32);
  EXPECT_DOUBLE_EQ(r.peak_flops(), 2 * r.hw.peak_flops());  // the report's peak is the int8 one
  EXPECT_GE(r.achieved_flops(), 0.95 * 394e12);
  EXPECT_LE(r.achieved_flops(), r.peak_flops());
  EXPECT_LE(r.mxu_utilization(), 1.0);
}

TEST(MatmulSimulation, TpuV1FullyConnectedLayerWaitsOnWeights) {
  // Batch 8 through a 4096 x 4096 int8 layer on TPU v1: 16 MiB of weights stream from
  // DDR3 at 34 GB/s through the 4-deep weight FIFO, 493.4 us; each 64 KiB weight tile
  // serves only 8 rows, so the array waits on weight loads most of the time.
  const RunResult r = simulate(load_hardware("tpu-v1"), one_matmul(8, 4096, 4096, "int8"));
  expect_invariants(r);
  const double weights_s = 4096.0 * 4096.0 / 34e9;
  EXPECT_NEAR(r.time_s(), weights_s, 0.05 * weights_s) << r.time_s() * 1e6 << " us";
  const OpResult& o = r.ops[0];
  EXPECT_GT(double(o.mxu_weight_load_stall_cycles), 0.75 * double(r.cycles));
  // 16 x 16 = 256 folds x 8 rows streamed.
  EXPECT_EQ(o.mxu_active_cycles, 256u * 8);
}

TEST(MatmulSimulation, TpuV1LargeBatchKeepsActivationsResidentAndComputes) {
  // Batch 4096: A (16 MiB int8) fits the 24 MiB unified buffer beside the accumulators,
  // so it is read once and each weight tile serves 4096 rows: 4096 >= 1350 ops per
  // weight byte (the v1 roofline ridge), so the array, not DDR3, sets the pace once A
  // is in.
  const RunResult r = simulate(load_hardware("tpu-v1"), one_matmul(4096, 4096, 4096, "int8"));
  expect_invariants(r);
  EXPECT_TRUE(r.ops[0].plan.tiling.a_resident);
  EXPECT_EQ(r.hbm_read_bytes, 2 * 4096ull * 4096);  // A once, B once
  // Ideal 4096^3 / 256^2 = 1,048,576 cycles of streaming; loading A first (16 MiB at
  // 34 GB/s = 493 us = 345k cycles) is the only large cost left.
  EXPECT_EQ(r.ops[0].mxu_active_cycles, 1'048'576u);
  EXPECT_LT(r.cycles, 1'048'576u + 345'000u + 100'000u);
}

TEST(MatmulSimulation, ShallowFirstConvLayerUnderusesTheArray) {
  // ResNet-50 conv1: 7x7x3 -> 64 at stride 2 is a matmul with K = 147, N = 64. On a
  // 128x128 array K takes 2 row folds (128 + 19) and N half the columns: at most
  // 147 x 64 / (256 x 128) = 28.7 % of the PE slots hold data.
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  ops:\n    - {op: conv2d, name: conv1, n: 8, h: 224, w: 224, c_in: 3, c_out: 64, kernel: 7,"
      " stride: 2, padding: 3, dtype: bf16}\n",
      "conv.yaml");
  const RunResult r = simulate(load_hardware("tpu-v3"), wl);
  expect_invariants(r);
  // 8 x 112 x 112 x 64 x 3 x 49 MACs (h_out = (224 + 6 - 6 - 1) / 2 + 1 = 112)
  EXPECT_EQ(r.macs, 8ull * 112 * 112 * 64 * 3 * 49);
  EXPECT_LE(r.mxu_utilization(), 147.0 * 64 / (256 * 128));
  EXPECT_GT(r.mxu_utilization(), 0.10);
  // Implicit GEMM: the DMA reads the image rows under each tile's windows (every input
  // byte at least once), not the 147-column im2col matrix (49 x 3 / (2 x 2) ~ 37 x larger).
  const std::uint64_t input = 8ull * 224 * 224 * 3 * 2, im2col = 8ull * 112 * 112 * 147 * 2;
  EXPECT_GE(r.hbm_read_bytes, input);
  EXPECT_LT(r.hbm_read_bytes, im2col / 4);
}

TEST(MatmulSimulation, DepthwiseConvRunsOneMatmulPerGroup) {
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  ops:\n    - {op: conv2d, name: dw, n: 2, h: 16, w: 16, c_in: 8, c_out: 8, kernel: 3,"
      " padding: 1, groups: 8, dtype: bf16}\n",
      "dw.yaml");
  const RunResult r = simulate(load_hardware("tpu-v3"), wl);
  expect_invariants(r);
  EXPECT_EQ(r.macs, 2ull * 16 * 16 * 8 * 9);  // n h_out w_out c_out (c_in/groups) k^2
  EXPECT_EQ(r.ops[0].plan.instances, 8u);
  EXPECT_EQ(r.ops[0].plan.matmul.n, 1u);
}

TEST(MatmulSimulation, EveryDtypeRunsAndMovesItsBytes) {
  // One op per dtype; C is written in the op's dtype: 64 x 64 x bytes per element.
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  ops:\n"
      "    - {op: matmul, name: i8, m: 64, k: 64, n: 64, dtype: int8}\n"
      "    - {op: matmul, name: f8, m: 64, k: 64, n: 64, dtype: fp8}\n"
      "    - {op: matmul, name: b16, m: 64, k: 64, n: 64, dtype: bf16}\n"
      "    - {op: matmul, name: f16, m: 64, k: 64, n: 64, dtype: fp16}\n"
      "    - {op: matmul, name: f32, m: 64, k: 64, n: 64, dtype: fp32}\n",
      "dtypes.yaml");
  const RunResult r = simulate(load_hardware("tpu-v3"), wl);
  expect_invariants(r);
  const std::uint64_t bytes[] = {1, 1, 2, 2, 4};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.ops[i].hbm_write_bytes, 64u * 64 * bytes[i]) << r.ops[i].name;
}

TEST(MatmulSimulation, OnChipBytesFollowTheFolds) {
  // 128^3 bf16 on tpu-v3 is one tile on core 0 with one 128x128 weight block; the two MXUs
  // each hold it and stream 64 of the 128 rows. Per MXU: the block (128 x 128 x 2 B),
  // 64 rows in (64 x 128 x 2 B), 64 rows of fp32 partial sums out (64 x 128 x 4 B) =
  // 32768 + 16384 + 32768 = 81,920 B; two MXUs: 163,840 B.
  const RunResult r = simulate(load_hardware("tpu-v3"), one_matmul(128, 128, 128, "bf16"));
  expect_invariants(r);
  ASSERT_EQ(r.ops[0].plan.tiling.output_blocks() * r.ops[0].plan.tiling.blocks_k, 1u);
  EXPECT_EQ(r.ops[0].onchip_bytes, 163'840u);
}

class DataflowOnTheChip : public testing::TestWithParam<std::string> {};

TEST_P(DataflowOnTheChip, RunsAMatmulWithInvariantsHolding) {
  const RunResult r = simulate(load_hardware("tpu-v3", {"chip.mxu.dataflow=" + GetParam()}),
                               one_matmul(1000, 700, 300, "bf16"));
  expect_invariants(r);
  EXPECT_EQ(r.macs, 1000ull * 700 * 300);
  EXPECT_LE(r.achieved_flops(), r.hw.peak_flops());
}

INSTANTIATE_TEST_SUITE_P(Dataflows, DataflowOnTheChip, testing::Values("ws", "os", "is"));

class ExampleOnEveryPreset : public testing::TestWithParam<std::string> {};

TEST_P(ExampleOnEveryPreset, RunsWithInvariantsHolding) {
  // bf16 on every preset (tpu-v1 runs 16-bit operands at quarter speed).
  const WorkloadSpec wl = load_workload(test::source_path("workloads/gemm-example.yaml"));
  const RunResult r = simulate(load_hardware(GetParam()), wl);
  expect_invariants(r);
  EXPECT_EQ(r.macs, 4096ull * 4096 * 4096);
  EXPECT_GT(r.end_ps, 0u);
  EXPECT_LE(r.achieved_flops(), r.hw.peak_flops());
  EXPECT_LE(r.hbm_bandwidth_Bps(), double(r.hw.chip.hbm.bandwidth_Bps) * 1.0001);
}

INSTANTIATE_TEST_SUITE_P(Presets, ExampleOnEveryPreset,
                         testing::Values("lab-8x8", "tpu-v1", "tpu-v2", "tpu-v3", "tpu-v4"));

}  // namespace
}  // namespace podsim
