// Vector-unit ops that change a tensor's shape (pooling, reductions, transpose, reshape),
// their backward passes, and fusion of elementwise chains: exact bytes and closed-form
// vector-unit cycles on tpu-v3 (2 TensorCores, vector units of 128 lanes x 8 sublanes =
// 1,024 element operations a cycle).
#include <gtest/gtest.h>

#include "podsim/config/hardware_loader.h"
#include "podsim/config/workload_loader.h"
#include "podsim/report/op_metrics.h"
#include "podsim/sim/simulate.h"

namespace podsim {
namespace {

RunResult run(const std::string& body, const std::vector<std::string>& sets = {}) {
  const RunResult r = simulate(load_hardware("tpu-v3", sets), load_workload_text("workload:\n" + body, "s.yaml"));
  EXPECT_TRUE(r.completed) << r.stall_report;
  for (const auto& i : r.invariants) EXPECT_TRUE(i.ok) << i.name << ": " << i.detail;
  return r;
}

TEST(ShapeOps, MaxPoolReadsItsInputOnceAndComparesEveryWindow) {
  // 8 x 112 x 112 x 128 bf16, 3x3 windows, stride 2, padding 1: 56 x 56 outputs.
  // Read: the input once, 8 x 112 x 112 x 128 x 2 B; write: 8 x 56 x 56 x 128 x 2 B.
  // Cycles: 9 compares per output element; an output row (56 x 128 elements) costs
  // 56 x 128 x 9 / 1024 = 63 cycles, and every tile holds whole output rows' worth:
  // 8 x 56 rows x 63 = 28,224 cycles.
  const RunResult r = run("  ops:\n    - {op: pool, name: p, n: 8, h: 112, w: 112, c: 128, window: 3, stride: 2, "
                          "padding: 1, dtype: bf16}\n");
  EXPECT_EQ(r.ops[0].kind, "pool");
  EXPECT_EQ(r.hbm_read_bytes, 8u * 112 * 112 * 128 * 2);
  EXPECT_EQ(r.hbm_write_bytes, 8u * 56 * 56 * 128 * 2);
  EXPECT_EQ(r.ops[0].vpu_busy_cycles, 8u * 56 * 63);
}

TEST(ShapeOps, GlobalAveragePoolSumsEachWindowAndScales) {
  // ResNet-50's last pool: 256 x 7 x 7 x 2048 -> 256 x 2048. Per output element 49 adds
  // and one scale: 2048 x 50 / 1024 = 100 cycles per image, 25,600 in all.
  const RunResult r = run("  ops:\n    - {op: pool, name: p, n: 256, h: 7, w: 7, c: 2048, window: 7, mode: avg, "
                          "dtype: bf16}\n");
  EXPECT_EQ(r.hbm_read_bytes, 256u * 7 * 7 * 2048 * 2);
  EXPECT_EQ(r.hbm_write_bytes, 256u * 2048 * 2);
  EXPECT_EQ(r.ops[0].vpu_busy_cycles, 25'600u);
}

TEST(ShapeOps, ReductionReadsTheTensorAndWritesOneElementPerRow) {
  // 4096 x 1024 fp32 summed along rows: 16 MiB in, 4096 x 4 B out; one add per element:
  // 4096 x 1024 / 1024 = 4096 cycles.
  const RunResult r = run("  ops:\n    - {op: reduce, name: s, fn: sum, rows: 4096, cols: 1024, dtype: fp32}\n");
  EXPECT_EQ(r.hbm_read_bytes, 4096u * 1024 * 4);
  EXPECT_EQ(r.hbm_write_bytes, 4096u * 4);
  EXPECT_EQ(r.ops[0].vpu_busy_cycles, 4096u);
}

TEST(ShapeOps, TransposeWritesColumnStripsAndCostsMoreThanACopy) {
  // Both move 2048 x 2048 bf16 (8 MiB) each way. The reshape writes whole rows; the
  // transpose writes each tile as a strip of tile_rows x 2 bytes in each of 2048 rows,
  // small scattered writes that keep fewer DRAM rows open per burst: slower.
  const RunResult r = run("  ops:\n"
                          "    - {op: reshape, name: copy, rows: 2048, cols: 2048, to_cols: 4096, dtype: bf16}\n"
                          "    - {op: transpose, name: t, rows: 2048, cols: 2048, dtype: bf16}\n");
  for (const auto& o : r.ops) {
    EXPECT_EQ(o.hbm_read_bytes, 2048u * 2048 * 2) << o.name;
    EXPECT_EQ(o.hbm_write_bytes, 2048u * 2048 * 2) << o.name;
  }
  EXPECT_EQ(r.ops[0].shape, "copy 2048x2048>1024x4096");
  EXPECT_GT(r.ops[1].end_ps - r.ops[1].start_ps, r.ops[0].end_ps - r.ops[0].start_ps);
}

TEST(ShapeOps, MaxPoolBackwardReadsTheInputAndTheGradientAndWritesTheInputGradient) {
  // dX (8 x 56 x 56 x 64) from X (same) and dY (8 x 28 x 28 x 64, 2x2 windows, stride 2).
  const RunResult r = run("  training: {optimizer: sgd}\n"
                          "  ops:\n    - {op: pool, name: p, n: 8, h: 56, w: 56, c: 64, window: 2, dtype: bf16}\n");
  ASSERT_EQ(r.ops.size(), 2u);
  const std::uint64_t x = 8u * 56 * 56 * 64 * 2, dy = 8u * 28 * 28 * 64 * 2;
  EXPECT_EQ(r.ops[1].name, "p.grad");
  EXPECT_EQ(r.ops[1].hbm_read_bytes, x + dy);
  EXPECT_EQ(r.ops[1].hbm_write_bytes, x);
  // Four compares per gradient element (its 2 x 2 window): 8 x 28 x 28 x 64 x 4 / 1024.
  EXPECT_EQ(r.ops[1].vpu_busy_cycles, 8u * 28 * 28 * 64 * 4 / 1024);
}

const std::string kResidualBlock =
    "  ops:\n"
    "    - {op: matmul, name: mm, m: 1024, k: 512, n: 2048, dtype: bf16}\n"
    "    - {op: elementwise, name: add, fn: add, rows: 1024, cols: 2048, dtype: bf16}\n"
    "    - {op: elementwise, name: relu, fn: relu, rows: 1024, cols: 2048, dtype: bf16}\n";

TEST(Fusion, AResidualAddReadsOnlyTheSkipInputAndTheChainStoresNothing) {
  // The add's first input is mm's output, in vector memory: it reads the skip tensor
  // (1024 x 2048 bf16 = 4 MiB) and stores nothing; the ReLU after it fuses too.
  const RunResult r = run(kResidualBlock);
  EXPECT_TRUE(r.ops[1].plan.vector.fused);
  EXPECT_TRUE(r.ops[2].plan.vector.fused);
  EXPECT_EQ(r.ops[1].hbm_read_bytes, 1024u * 2048 * 2);
  EXPECT_EQ(r.ops[1].hbm_write_bytes + r.ops[2].hbm_read_bytes + r.ops[2].hbm_write_bytes, 0u);
  EXPECT_EQ(r.ops[0].hbm_write_bytes, 1024u * 2048 * 2);  // the one store of the fused result
}

TEST(Fusion, WithoutFusionEveryOpRoundTripsThroughHbm) {
  const RunResult r = run(kResidualBlock, {"chip.vector.fusion=false"});
  EXPECT_EQ(r.ops[1].hbm_read_bytes, 2u * 1024 * 2048 * 2);
  EXPECT_EQ(r.ops[1].hbm_write_bytes, 1024u * 2048 * 2);
  EXPECT_EQ(r.ops[2].hbm_read_bytes, 1024u * 2048 * 2);
  EXPECT_EQ(r.ops[2].hbm_write_bytes, 1024u * 2048 * 2);
}

TEST(Fusion, AReluGradientFusesIntoTheInputGradientBeforeTheWeightGradient) {
  // Backward: fc2.dX (1024 x 2048 out), fc2.dW, relu.grad: the ReLU gradient's first
  // input is fc2.dX's result (dW between them produces a weight gradient), so it reads
  // only the ReLU's output (4 MiB) and stores nothing.
  const RunResult r = run("  training: {optimizer: sgd}\n"
                          "  ops:\n"
                          "    - {op: matmul, name: fc1, m: 1024, k: 512, n: 2048, dtype: bf16}\n"
                          "    - {op: elementwise, name: relu, fn: relu, rows: 1024, cols: 2048, dtype: bf16}\n"
                          "    - {op: matmul, name: fc2, m: 1024, k: 2048, n: 256, dtype: bf16}\n");
  const OpResult* grad = nullptr;
  for (const auto& o : r.ops)
    if (o.name == "relu.grad") grad = &o;
  ASSERT_NE(grad, nullptr);
  EXPECT_TRUE(grad->plan.vector.fused);
  EXPECT_EQ(grad->hbm_read_bytes, 1024u * 2048 * 2);
  EXPECT_EQ(grad->hbm_write_bytes, 0u);
}

TEST(Report, TotalsByKindAddUpToTheRun) {
  // Ops run back to back from time 0, so the kinds' times add up to the run's; FLOPs and
  // bytes likewise. Kinds come sorted by name.
  const RunResult r = run(kResidualBlock + "    - {op: pool, name: p, n: 1, h: 1024, w: 16, c: 128, window: 2, "
                                           "dtype: bf16}\n");
  const std::vector<KindTotals> kinds = totals_by_kind(r);
  ASSERT_EQ(kinds.size(), 3u);
  EXPECT_EQ(kinds[0].kind, "elementwise");
  EXPECT_EQ(kinds[0].ops, 2u);
  EXPECT_EQ(kinds[1].kind, "matmul");
  EXPECT_EQ(kinds[2].kind, "pool");
  double time = 0, share = 0;
  std::uint64_t flops = 0, read = 0, written = 0;
  for (const auto& k : kinds) {
    time += k.time_s;
    share += k.time_share;
    flops += k.flops;
    read += k.hbm_read_bytes;
    written += k.hbm_write_bytes;
  }
  EXPECT_NEAR(time, r.time_s(), 1e-12);
  EXPECT_NEAR(share, 1.0, 1e-9);
  EXPECT_EQ(flops, 2 * r.macs);
  EXPECT_EQ(kinds[1].flops, 2u * 1024 * 512 * 2048);
  EXPECT_EQ(read, r.hbm_read_bytes);
  EXPECT_EQ(written, r.hbm_write_bytes);
}

}  // namespace
}  // namespace podsim
