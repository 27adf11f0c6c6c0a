// Fused attention (FlashAttention-style, AttentionOp::fused): each head's scores stay in
// vector memory from Q K^T through the softmax to the product with V. Bytes are checked
// against closed forms; one simulation per test.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "podsim/compiler/vector_plan.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/config/workload_loader.h"
#include "podsim/sim/simulate.h"

namespace podsim {
namespace {

// 2 sequences x 4 heads of 512 queries and keys, head_dim 64, bf16.
constexpr std::uint64_t kHeads = 2 * 4, kSeq = 512, kDim = 64, kB = 2;
constexpr std::uint64_t kScores = kHeads * kSeq * kSeq * kB;  // one copy of every head's scores: 4 MiB

RunResult run_attention(const std::string& extra, std::uint64_t seq = kSeq, const std::string& training = "") {
  const WorkloadSpec wl = load_workload_text(
      fmt::format("workload:\n  name: t\n{}  ops:\n    - {{op: attention, name: a, batch: 2, heads: 4, seq: {}, "
                  "head_dim: 64, dtype: bf16{}}}\n",
                  training, seq, extra),
      "test.yaml");
  return simulate(load_hardware("tpu-v3"), wl);
}

void expect_invariants(const RunResult& r) {
  EXPECT_TRUE(r.completed) << r.stall_report;
  for (const auto& i : r.invariants) EXPECT_TRUE(i.ok) << i.name << ": " << i.detail;
}

TEST(FusedAttention, ScoresNeverTouchHbm) {
  const RunResult r = run_attention("");
  expect_invariants(r);
  ASSERT_EQ(r.ops.size(), 3u);  // qk, softmax, av
  const OpResult &qk = r.ops[0], &sm = r.ops[1], &av = r.ops[2];
  EXPECT_EQ(qk.hbm_write_bytes, 0u);  // the scores stay on chip
  EXPECT_EQ(sm.hbm_read_bytes + sm.hbm_write_bytes, 0u);
  EXPECT_TRUE(qk.plan.tiling.c_onchip);
  EXPECT_TRUE(av.plan.tiling.a_onchip);
  // av reads only V: 512 x 64 bf16 per head, once per block row of its tiling; and
  // writes the context, 512 x 64 per head.
  EXPECT_EQ(av.hbm_read_bytes, kHeads * kSeq * kDim * kB * av.plan.tiling.blocks_m);
  EXPECT_EQ(av.hbm_write_bytes, kHeads * kSeq * kDim * kB);
}

TEST(FusedAttention, TheSoftmaxRunsOnTheVectorUnitWhileTheArraysWork) {
  // Inside the kernel the softmax works on each block of scores as it leaves the arrays
  // (the product's epilogue): no time of its own, its vector cycles counted in Q K^T's,
  // which cannot end before the vector unit has done them all (both cores sharing them).
  const RunResult r = run_attention("");
  expect_invariants(r);
  const HardwareSpec hw = load_hardware("tpu-v3");
  const OpResult &qk = r.ops[0], &sm = r.ops[1];
  EXPECT_TRUE(sm.plan.in_epilogue);
  EXPECT_EQ(sm.end_ps - sm.start_ps, 0u);
  // At least the whole op's cycles at once (each tile's count is rounded up).
  const std::uint64_t softmax_cycles = vector_tile_cycles(hw, vector_cost(VectorFn::softmax), kHeads * kSeq, kSeq);
  EXPECT_GE(qk.vpu_busy_cycles, softmax_cycles);
  const double cycle_ps = 1e12 / double(hw.chip.clock_hz);
  EXPECT_GE(double(qk.end_ps - qk.start_ps), double(softmax_cycles) / hw.chip.tensor_cores * cycle_ps);
}

TEST(FusedAttention, GroupedQueryDecodeReadsEachKeyValueHeadOnce) {
  // Decode, 2 sequences x 8 query heads over 2 K/V heads, a 2,048-token cache of head_dim
  // 128, bf16. The product with V reads V once per (sequence, K/V head): 2 x 2 x 2048 x
  // 128 x 2 B = 2 MiB per block row of its tiling; multi-head attention would read 4x.
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  name: t\n  ops:\n    - {op: attention, name: a, batch: 2, heads: 8, kv_heads: 2, seq: 1, "
      "head_dim: 128, kv_len: 2048, decode: true, causal: true, dtype: bf16}\n",
      "test.yaml");
  const RunResult r = simulate(load_hardware("tpu-v3"), wl);
  expect_invariants(r);
  ASSERT_EQ(r.ops.size(), 3u);
  const OpResult& av = r.ops[2];
  EXPECT_EQ(av.plan.matmul.m, 4u);  // the group's 4 queries stacked
  EXPECT_TRUE(av.plan.tiling.a_onchip);
  EXPECT_EQ(av.hbm_read_bytes, 2ull * 2 * 2048 * 128 * 2 * av.plan.tiling.blocks_m);
}

TEST(FusedAttention, UnfusedScoresRoundTripThroughHbm) {
  const RunResult r = run_attention(", fused: false");
  expect_invariants(r);
  ASSERT_EQ(r.ops.size(), 3u);
  // Q K^T writes the scores, the softmax reads and writes them, the product with V reads them.
  EXPECT_EQ(r.ops[0].hbm_write_bytes, kScores);
  EXPECT_EQ(r.ops[1].hbm_read_bytes, kScores);
  EXPECT_EQ(r.ops[1].hbm_write_bytes, kScores);
  EXPECT_GE(r.ops[2].hbm_read_bytes, kScores);
}

TEST(FusedAttention, AnUnfusedSoftmaxReadsItsScoresBackWhenTheirRowsSpanTiles) {
  // One head of 16,384 queries and keys, unfused: Q K^T's output tiles are narrower than a
  // row, so the softmax cannot be its fused consumer (it needs whole rows): it reads the
  // scores from HBM and writes its probabilities (16,384^2 bf16 = 512 MiB each way).
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  name: t\n  ops:\n    - {op: attention, name: a, batch: 1, heads: 1, seq: 16384, "
      "head_dim: 64, fused: false, dtype: bf16}\n",
      "test.yaml");
  const RunResult r = simulate(load_hardware("tpu-v3"), wl);
  expect_invariants(r);
  ASSERT_GT(r.ops[0].plan.tiling.blocks_n, 1u);
  EXPECT_FALSE(r.ops[1].plan.vector.fused);
  EXPECT_EQ(r.ops[1].hbm_read_bytes, 16384ull * 16384 * kB);
  EXPECT_EQ(r.ops[1].hbm_write_bytes, 16384ull * 16384 * kB);
}

TEST(FusedAttention, LongSequencesStayFusedOneBlockOfQueriesAtATime) {
  // seq 4096: one head's scores are 4096 x 4096 x 2 = 32 MiB, more than tpu-v3's 16 MiB
  // of vector memory; the kernel holds one block of queries' scores at a time.
  const RunResult r = run_attention("", 4096);
  expect_invariants(r);
  const MatmulTiling& t = r.ops[0].plan.tiling;
  EXPECT_TRUE(t.c_onchip);
  EXPECT_EQ(r.ops[0].hbm_write_bytes, 0u);
  EXPECT_LE(t.vmem_bytes, load_hardware("tpu-v3").chip.vmem_bytes);
  EXPECT_GE(t.vmem_bytes, t.tm * 4096 * kB);  // a block of rows of scores, whole rows
}

TEST(FusedAttention, ScoresWhoseRowBlockDoesNotFitAreNotFused) {
  // 384 KiB of vector memory, 8 queries against 32,768 keys: the 8 queries' scores (512
  // KiB) do not fit beside the tiles, so the kernel is planned unfused and the scores go
  // through HBM (2 heads x 8 x 32,768 bf16 = 1 MiB).
  HardwareSpec hw = load_hardware("tpu-v3");
  hw.chip.vmem_bytes = 384 << 10;
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  name: t\n  ops:\n    - {op: attention, name: a, batch: 1, heads: 2, seq: 8, kv_len: 32768, "
      "head_dim: 64, dtype: bf16}\n",
      "test.yaml");
  const RunResult r = simulate(hw, wl);
  expect_invariants(r);
  const std::uint64_t scores = 2ull * 8 * 32768 * kB;
  EXPECT_FALSE(r.ops[0].plan.tiling.c_onchip);
  EXPECT_FALSE(r.ops[2].plan.tiling.a_onchip);
  EXPECT_EQ(r.ops[0].hbm_write_bytes, scores);
  EXPECT_EQ(r.ops[1].hbm_read_bytes, scores);  // the softmax reads them back
}

TEST(FusedAttention, TrainingRecomputesTheScoresInsteadOfKeepingThem) {
  // FlashAttention's backward (two kernels that recompute S): no S-sized tensor ever goes
  // to HBM. The whole step writes the output, dV, dK and dQ: four Q-sized tensors.
  const RunResult r = run_attention("", kSeq, "  training: {optimizer: sgd}\n");
  expect_invariants(r);
  EXPECT_EQ(r.ops[0].name, "a.qk");
  std::uint64_t written = 0;
  for (const OpResult& o : r.ops) written += o.hbm_write_bytes;
  EXPECT_EQ(written, 4 * kHeads * kSeq * kDim * kB);
}

TEST(FusedAttention, UnfusedTrainingKeepsTheScoresForTheBackwardPass) {
  const RunResult u = run_attention(", fused: false", kSeq, "  training: {optimizer: sgd}\n");
  expect_invariants(u);
  EXPECT_EQ(u.ops[0].hbm_write_bytes, kScores);
}

}  // namespace
TEST(AttentionHeads, RunAsOneBatchedMatmulWithoutDrainingBetweenHeads) {
  // One head alone, then 16 heads, unfused (so the scores' bytes are plain to count). The
  // heads are independent, so they run as one batched matmul: a head's operand loads
  // overlap the previous head's streaming, and the DMA latency, the array's fill and drain
  // and the final store are paid once, not per head. Each extra head then costs less than
  // a head alone, but no less than its roofline: it reads Q and K^T (2 x 512 x 128 bf16)
  // and writes 512 x 512 scores, 768 KiB at 900 GB/s = 0.87 us, against 512 x 128 x 512
  // MACs / (4 MXUs x 128 x 128 x 940 MHz) = 0.54 us of compute.
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  name: t\n  ops:\n"
      "    - {op: attention, name: one, batch: 1, heads: 1, seq: 512, head_dim: 128, dtype: bf16, fused: false}\n"
      "    - {op: attention, name: many, batch: 1, heads: 16, seq: 512, head_dim: 128, dtype: bf16, fused: false}\n",
      "test.yaml");
  const RunResult r = simulate(load_hardware("tpu-v3"), wl);
  expect_invariants(r);
  ASSERT_EQ(r.ops.size(), 6u);
  const OpResult &one = r.ops[0], &many = r.ops[3];
  ASSERT_EQ(many.name, "many.qk");
  const auto seconds = [](const OpResult& o) { return double(o.end_ps - o.start_ps) * 1e-12; };
  const double alone_s = seconds(one), per_extra_head_s = (seconds(many) - alone_s) / 15;
  // The per-head overhead hidden: at least the first load's latency and one fill and drain
  // (about 0.5 us of the 2.3 us a head takes alone).
  EXPECT_LT(per_extra_head_s, 0.85 * alone_s) << alone_s * 1e6 << " us alone";
  // The mapper tiles the 16 heads as one op (their blocks share the cores), so its tiling
  // may differ from the lone head's: the roofline bounds the whole op, 16 x 768 KiB.
  EXPECT_GE(seconds(many), 16 * 768.0 * 1024 / 900e9) << seconds(many) * 1e6 << " us";
  EXPECT_GE(seconds(many), double(many.hbm_read_bytes + many.hbm_write_bytes) / 900e9);
}

}  // namespace podsim
