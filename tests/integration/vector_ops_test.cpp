// The vector unit and the gather path end to end: exact bytes, closed-form vector-unit
// cycles, fusion, and embedding indices against their distribution.
#include <cmath>
#include <fstream>
#include <unordered_set>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "podsim/compiler/vector_plan.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/config/workload_loader.h"
#include "podsim/sim/simulate.h"

namespace podsim {
namespace {

RunResult run(const std::string& ops, const std::vector<std::string>& sets = {}) {
  const RunResult r = simulate(load_hardware("tpu-v3", sets), load_workload_text("workload:\n  ops:\n" + ops, testing::TempDir() + "v.yaml"));
  EXPECT_TRUE(r.completed) << r.stall_report;
  for (const auto& i : r.invariants) EXPECT_TRUE(i.ok) << i.name << ": " << i.detail;
  return r;
}

TEST(VectorOps, ElementwiseMovesExactlyItsTensorsAndCostsElementsOverLanes) {
  // relu over 1024 x 1024 bf16: read 2 MiB, write 2 MiB. The vector units do
  // 128 x 8 = 1024 elements per cycle, so 1024 x 1024 elements take 1024 cycles in all,
  // whatever the tiling (tiles of whole rows: rows x 1024 / 1024 cycles each).
  const RunResult r = run("    - {op: elementwise, name: r, fn: relu, rows: 1024, cols: 1024, dtype: bf16}\n");
  EXPECT_EQ(r.hbm_read_bytes, 1024u * 1024 * 2);
  EXPECT_EQ(r.hbm_write_bytes, 1024u * 1024 * 2);
  EXPECT_EQ(r.ops[0].vpu_busy_cycles, 1024u);
  EXPECT_EQ(r.macs, 0u);
  // On chip: the vector unit reads the tile and writes the result: 2 x 2 MiB.
  EXPECT_EQ(r.ops[0].onchip_bytes, 2u * 1024 * 1024 * 2);
  EXPECT_EQ(r.ops[0].plan.engine, Engine::vector);
}

TEST(VectorOps, TwoInputOpsReadBoth) {
  const RunResult r = run("    - {op: elementwise, name: a, fn: add, rows: 512, cols: 256, dtype: fp32}\n");
  EXPECT_EQ(r.hbm_read_bytes, 2u * 512 * 256 * 4);
  EXPECT_EQ(r.hbm_write_bytes, 512u * 256 * 4);
}

TEST(VectorOps, SoftmaxCostsItsAddsAndTranscendentals) {
  // 8192 x 512: 8 tiles of 1024 rows (2 cores, at least 4 tiles each). Per tile:
  // ceil(1024 x 512 x 4 / 1024) = 2048 cycles of adds, multiplies and compares, plus
  // ceil((1024 x 512 exp + 1024 reciprocals) / 128) = 4104 cycles of transcendentals:
  // 6152 cycles; 8 tiles: 49,216.
  const RunResult r = run("    - {op: softmax, name: s, rows: 8192, cols: 512, dtype: bf16}\n");
  EXPECT_EQ(r.ops[0].plan.vector.tile_rows, 1024u);
  EXPECT_EQ(r.ops[0].vpu_busy_cycles, 8u * 6152);
}

TEST(VectorOps, SwigluReadsGateAndUpAndWritesHalf) {
  // 1024 x (2 x 1024) bf16 in (gate and up side by side), 1024 x 1024 out: read 4 MiB,
  // write 2 MiB. Per output element SiLU(gate) x up: 4 element ops and 1 transcendental.
  // 8 tiles of 128 rows: ceil(128 x 1024 x 4 / 1024) + ceil(128 x 1024 / 128) = 512 +
  // 1024 cycles each, 12,288 in all.
  const RunResult r = run("    - {op: elementwise, name: g, fn: swiglu, rows: 1024, cols: 2048, dtype: bf16}\n");
  EXPECT_EQ(r.hbm_read_bytes, 1024u * 2048 * 2);
  EXPECT_EQ(r.hbm_write_bytes, 1024u * 1024 * 2);
  EXPECT_EQ(r.ops[0].plan.vector.tile_rows, 128u);
  EXPECT_EQ(r.ops[0].vpu_busy_cycles, 8u * (512 + 1024));
}

const std::string kMatmulThenGelu =
    "    - {op: matmul, name: mm, m: 1024, k: 512, n: 2048, dtype: bf16}\n"
    "    - {op: elementwise, name: act, fn: gelu, rows: 1024, cols: 2048, dtype: bf16}\n";

// gelu is 8 element ops + 1 tanh per element. 1024 rows make 8 tiles of 128 rows (at
// least 4 tiles per core, 2 cores): ceil(128 x 2048 x 8 / 1024) + ceil(128 x 2048 / 128)
// = 2048 + 2048 cycles per tile, 8 tiles: 32,768 cycles with or without fusion.
constexpr std::uint64_t kGeluCycles = 8 * (2048 + 2048);

TEST(VectorOps, FusedElementwiseStaysInVectorMemory) {
  const RunResult r = run(kMatmulThenGelu, {"chip.vector.overlap_fused=false"});
  EXPECT_TRUE(r.ops[1].plan.vector.fused);
  EXPECT_FALSE(r.ops[1].plan.in_epilogue);
  EXPECT_EQ(r.ops[1].hbm_read_bytes + r.ops[1].hbm_write_bytes, 0u);
  EXPECT_EQ(r.ops[1].vpu_busy_cycles, kGeluCycles);
}

TEST(VectorOps, AFusedActivationRunsOnEachBlockWhileTheArraysGoOn) {
  // chip.vector.overlap_fused (the default): the gelu runs on each output block of the
  // matmul as it leaves the arrays. Its work is the same, 1024 x 2048 x (8 / 1024 + 1 /
  // 128) = 32,768 vector cycles over the blocks (they divide the matrix evenly), now in the
  // matmul's op; the gelu takes no time of its own. The arrays stream 1024 x 512 x 2048
  // MACs / (4 MXUs x 128 x 128) = 16,384 cycles, and each core's vector unit works 16,384:
  // run one after the other they would take at least 32,768 cycles; overlapped, less.
  const RunResult r = run(kMatmulThenGelu);
  ASSERT_TRUE(r.ops[1].plan.in_epilogue);
  EXPECT_TRUE(r.ops[0].plan.epilogue.has_value());
  EXPECT_EQ(r.ops[0].vpu_busy_cycles, kGeluCycles);
  EXPECT_EQ(r.ops[1].vpu_busy_cycles, 0u);
  EXPECT_EQ(r.ops[1].end_ps, r.ops[1].start_ps);
  EXPECT_EQ(r.ops[1].hbm_read_bytes + r.ops[1].hbm_write_bytes, 0u);
  EXPECT_EQ(r.mxu_active_cycles, 4u * 16'384);
  EXPECT_GE(r.cycles, 16'384u);
  EXPECT_LT(r.cycles, 32'768u);
}

TEST(VectorOps, UnfusedElementwiseRoundTripsThroughHbm) {
  const RunResult r = run(kMatmulThenGelu, {"chip.vector.fusion=false"});
  // The 1024 x 2048 bf16 activation goes out to HBM and back: 4 MiB each way.
  EXPECT_FALSE(r.ops[1].plan.vector.fused);
  EXPECT_EQ(r.ops[1].hbm_read_bytes, 1024u * 2048 * 2);
  EXPECT_EQ(r.ops[1].hbm_write_bytes, 1024u * 2048 * 2);
  EXPECT_EQ(r.ops[1].vpu_busy_cycles, kGeluCycles);
}

TEST(Training, AStepRunsWithItsUpdatesAndFootprint) {
  const RunResult r = simulate(load_hardware("tpu-v3"),
                               load_workload_text("workload:\n  training: {optimizer: adam}\n  ops:\n"
                                                  "    - {op: matmul, name: fc, m: 512, k: 1024, n: 1024, dtype: bf16}\n",
                                                  "t.yaml"));
  EXPECT_TRUE(r.completed);
  for (const auto& i : r.invariants) EXPECT_TRUE(i.ok) << i.name << ": " << i.detail;
  ASSERT_EQ(r.ops.size(), 4u);  // fc, fc.dX, fc.dW, fc.update
  EXPECT_EQ(r.macs, 3ull * 512 * 1024 * 1024);
  // Adam on 1024 x 1024 fp32 weights reads weight, gradient and two moments and writes
  // three of them back: 4 x 4 MiB in, 3 x 4 MiB out.
  EXPECT_EQ(r.ops[3].name, "fc.update");
  EXPECT_EQ(r.ops[3].hbm_read_bytes, 4u * 1024 * 1024 * 4);
  EXPECT_EQ(r.ops[3].hbm_write_bytes, 3u * 1024 * 1024 * 4);
  ASSERT_TRUE(r.training.has_value());
  EXPECT_EQ(r.training->optimizer_state_bytes, 2u * 1024 * 1024 * 4);
}

std::string write_index_file(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(Embedding, AnIndexFileIsReadInOrderAndRepeated) {
  const std::string path = write_index_file("idx.txt", "# a recorded trace\n5, 9 2\n\n7 # last\n");
  const RunResult r = run("    - {op: embedding_lookup, name: e, table_rows: 10, dim: 64, batch: 3, lookups: 2, "
                          "distribution: file, indices: " + path + ", dtype: fp32}\n");
  const EmbeddingOp& e = std::get<EmbeddingOp>(r.workload.ops[0].body);
  ASSERT_TRUE(e.indices);
  // Lookup j of sample s takes entry (2 s + j) mod 4 of 5, 9, 2, 7.
  const std::uint64_t expected[3][2] = {{5, 9}, {2, 7}, {5, 9}};
  for (std::uint64_t s = 0; s < 3; ++s)
    for (std::uint64_t j = 0; j < 2; ++j) EXPECT_EQ(embedding_row(e, s, j), expected[s][j]) << s << " " << j;
  EXPECT_EQ(r.hbm_read_bytes, 3u * 2 * 256);
  EXPECT_NE(r.ops[0].shape.find("file"), std::string::npos);
}

TEST(Embedding, TheIndicesDecideTheCost) {
  // 4096 x 32 lookups of 64 B rows from a 2^24-row table: all of one row against a trace
  // scattered over the table. The same bytes; but one row lives in one pseudo-channel, so
  // the hot trace gets 1/64 of tpu-v3's HBM (64 pseudo-channels) while the scattered one
  // spreads over all of them (paying an activation per lookup, which bank parallelism
  // hides): more than 8x slower, with room for the activations.
  std::string scattered;
  for (std::uint64_t i = 0; i < 4096; ++i) scattered += std::to_string((i * 2654435761ULL) % (1ULL << 24)) + "\n";
  const std::string hot = write_index_file("hot.txt", "12345\n"), cold = write_index_file("cold.txt", scattered);
  const std::string op = "{op: embedding_lookup, table_rows: 16777216, dim: 16, batch: 4096, lookups: 32, "
                         "distribution: file, dtype: fp32, ";
  const RunResult r = run("    - " + op + "name: hot, indices: " + hot + "}\n    - " + op + "name: cold, indices: " + cold + "}\n");
  EXPECT_EQ(r.ops[0].hbm_read_bytes, r.ops[1].hbm_read_bytes);
  EXPECT_GT(r.ops[0].end_ps - r.ops[0].start_ps, 8 * (r.ops[1].end_ps - r.ops[1].start_ps));
}

TEST(Embedding, GatherBytesAreLookupsTimesRowBytes) {
  // 512 samples x 20 lookups of 64 fp32 (256 B rows) from a 1,000,000-row table.
  const RunResult r = run(
      "    - {op: embedding_lookup, name: e, table_rows: 1000000, dim: 64, batch: 512, lookups: 20, dtype: fp32}\n");
  EXPECT_EQ(r.hbm_read_bytes, 512u * 20 * 256);
  EXPECT_EQ(r.hbm_write_bytes, 512u * 64 * 4);  // one pooled row per sample
  // Pooling adds every gathered element once: 512 x 20 x 64 / 1024 per cycle = 640.
  EXPECT_EQ(r.ops[0].vpu_busy_cycles, 640u);
}

// Distinct rows among L lookups: E = sum_k 1 - (1 - p_k)^L over the law's probabilities.
double expected_distinct(const EmbeddingOp& e, std::uint64_t draws) {
  double sum = 0;
  for (std::uint64_t k = 1; k <= e.table_rows; ++k) sum += 1.0 - std::pow(1.0 - embedding_rank_probability(e, k), double(draws));
  return sum;
}

std::uint64_t distinct_rows(const EmbeddingOp& e) {
  std::unordered_set<std::uint64_t> seen;
  for (std::uint64_t s = 0; s < e.batch; ++s)
    for (std::uint64_t j = 0; j < e.lookups; ++j) {
      const std::uint64_t row = embedding_row(e, s, j);
      EXPECT_LT(row, e.table_rows);
      seen.insert(row);
    }
  return seen.size();
}

TEST(Embedding, DistinctRowsMatchTheDistribution) {
  EmbeddingOp e;
  e.table_rows = 1'000'000;
  e.dim = 64;
  e.batch = 2048;
  e.lookups = 40;  // 81,920 draws
  e.seed = 7;
  // Uniform: E = N (1 - (1 - 1/N)^L) = 78,706 for N = 10^6, L = 81,920 (sd ~ 70).
  const double uniform = expected_distinct(e, e.batch * e.lookups);
  EXPECT_NEAR(double(distinct_rows(e)), uniform, 0.005 * uniform);
  // Zipf(1.0): far fewer distinct rows: the head repeats.
  e.zipf = true;
  e.zipf_s = 1.0;
  const double zipf = expected_distinct(e, e.batch * e.lookups);
  EXPECT_LT(zipf, 0.5 * uniform);
  EXPECT_NEAR(double(distinct_rows(e)), zipf, 0.01 * zipf);
  // The law sums to 1.
  double total = 0;
  for (std::uint64_t k = 1; k <= e.table_rows; ++k) total += embedding_rank_probability(e, k);
  EXPECT_NEAR(total, 1.0, 1e-9);
}


TEST(VectorOps, EmbeddingTrainingScatterAddsEveryLookedUpRow) {
  // Training with momentum: the lookup gathers B x L rows; its backward reads the pooled
  // gradient (B x dim) and every looked-up row with its momentum row, and writes both back.
  // B = 256, L = 8, dim 64 fp32 (256 B rows).
  const RunResult r = simulate(load_hardware("tpu-v3"),
                               load_workload_text("workload:\n  training: {optimizer: momentum}\n  ops:\n"
                                                  "    - {op: embedding_lookup, name: e, table_rows: 100000, dim: 64, "
                                                  "batch: 256, lookups: 8, dtype: fp32}\n",
                                                  "e.yaml"));
  ASSERT_TRUE(r.completed) << r.stall_report;
  for (const auto& i : r.invariants) EXPECT_TRUE(i.ok) << i.name << ": " << i.detail;
  ASSERT_EQ(r.ops.size(), 2u);
  const std::uint64_t rows = 256 * 8, row = 64 * 4;
  EXPECT_EQ(r.ops[0].hbm_read_bytes, rows * row);
  EXPECT_EQ(r.ops[0].hbm_write_bytes, 256u * row);
  EXPECT_EQ(r.ops[1].kind, "embedding_update");
  EXPECT_EQ(r.ops[1].hbm_read_bytes, 256u * row + 2 * rows * row);
  EXPECT_EQ(r.ops[1].hbm_write_bytes, 2 * rows * row);
}

}  // namespace
}  // namespace podsim
