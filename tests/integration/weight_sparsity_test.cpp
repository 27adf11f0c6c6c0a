// Fine-grained weight sparsity: no speedup on an array that multiplies zeros (TPU), fewer
// row folds on one that packs nonzero weights along k. Expected numbers come from the
// pattern's definition (z of every 8 weights along k are zero) and the reported tiling.
#include <gtest/gtest.h>

#include "podsim/config/config_error.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/config/workload_loader.h"
#include "podsim/sim/simulate.h"

namespace podsim {
namespace {

const std::string kHalf =
    "workload:\n  ops:\n    - {op: matmul, name: mm, m: 2048, k: 2048, n: 4096, dtype: bf16, weight_sparsity: 0.5}\n";

TEST(WeightSparsity, PatternCountsEighthsAlongK) {
  MatmulOp op{2048, 2048, 4096, DType::bf16};
  op.weight_sparsity = 0.375;  // 3 of every 8 rows of B zero: rows 5, 6, 7 of each group
  EXPECT_EQ(op.nonzero_k(0, 8), 5u);
  EXPECT_EQ(op.nonzero_k(3, 7), 2u);   // rows 3 and 4
  EXPECT_EQ(op.nonzero_k(0, 2048), 2048u / 8 * 5);
  EXPECT_EQ(op.macs(), 2048ull * 1280 * 4096);
}

TEST(WeightSparsity, NoSpeedupWhenTheArrayMultipliesZeros) {
  // tpu-v3 (128 x 128, ws): every fold still runs, active m = 2048 cycles per 128 x 128
  // block of B: 2048 x (2048/128) x (4096/128), as dense; useful MACs are half.
  const RunResult r = simulate(load_hardware("tpu-v3"), load_workload_text(kHalf, "s.yaml"));
  ASSERT_TRUE(r.completed) << r.stall_report;
  for (const auto& i : r.invariants) EXPECT_TRUE(i.ok) << i.name << ": " << i.detail;
  EXPECT_EQ(r.ops[0].mxu_active_cycles, 2048u * 16 * 32);
  EXPECT_EQ(r.macs, 2048ull * 1024 * 4096);
}

TEST(WeightSparsity, ZeroSkippingPacksNonzeroWeightsIntoFewerFolds) {
  // Packed along k, a tile of depth tk needs ceil(tk / 2 / 128) row folds instead of
  // ceil(tk / 128): over all tiles, active cycles = m x blocks_k x that x (n / 128).
  const RunResult r = simulate(load_hardware("tpu-v3", {"chip.mxu.skip_zero_weights=true"}),
                               load_workload_text(kHalf, "s.yaml"));
  ASSERT_TRUE(r.completed) << r.stall_report;
  for (const auto& i : r.invariants) EXPECT_TRUE(i.ok) << i.name << ": " << i.detail;
  const MatmulTiling& t = r.ops[0].plan.tiling;
  ASSERT_EQ(2048 % t.tk, 0u);
  const std::uint64_t folds_per_tile_k = (t.tk / 2 + 127) / 128;
  EXPECT_EQ(r.ops[0].mxu_active_cycles, 2048u * t.blocks_k * folds_per_tile_k * 32);
  EXPECT_LT(folds_per_tile_k * 128, t.tk);  // there is something to gain at this tiling
  EXPECT_EQ(r.macs, 2048ull * 1024 * 4096);
}

TEST(WeightSparsity, BadValuesAreInputErrors) {
  EXPECT_THROW(load_workload_text("workload:\n  ops:\n    - {op: matmul, m: 8, k: 8, n: 8, dtype: bf16, weight_sparsity: 0.3}\n",
                                  "s.yaml"),
               ConfigError);
  EXPECT_THROW(load_workload_text("workload:\n  ops:\n    - {op: matmul, m: 8, k: 8, n: 8, dtype: bf16, weight_sparsity: 0.5, "
                                  "block_sparsity: 0.5}\n",
                                  "s.yaml"),
               ConfigError);
}

}  // namespace
}  // namespace podsim
