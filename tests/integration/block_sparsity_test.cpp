// Block (coarse-grained) weight sparsity: the MXUs skip folds whose weights are all zero.
// Expected numbers are counted from the block pattern's definition (MatmulOp::zero_block),
// independently of the tiling and the fold scheduler that the simulator uses.
#include <gtest/gtest.h>

#include "podsim/config/config_error.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/config/workload_loader.h"
#include "podsim/sim/simulate.h"

namespace podsim {
namespace {

const char* kOp = "workload:\n  ops:\n    - {op: matmul, name: mm, m: 2048, k: 2048, n: 4096, dtype: bf16, block_sparsity: %s}\n";

std::string op_text(const char* sparsity) {
  char buf[256];
  std::snprintf(buf, sizeof buf, kOp, sparsity);
  return buf;
}

std::uint64_t nonzero_blocks(const MatmulOp& op) {
  std::uint64_t n = 0;
  for (std::uint64_t kb = 0; kb < op.k / MatmulOp::kSparsityBlock; ++kb)
    for (std::uint64_t nb = 0; nb < op.n / MatmulOp::kSparsityBlock; ++nb) n += !op.zero_block(kb, nb);
  return n;
}

TEST(BlockSparsity, PatternHasTheRequestedDensity) {
  // 2048 x 4096 weights: 16 x 32 = 512 blocks. At 50 % the zero count is Binomial(512, 0.5):
  // sd = 11.3, so 256 +- 45 (4 sd) holds unless the hash is biased.
  MatmulOp op{2048, 2048, 4096, DType::bf16, 0.5, 1};
  const std::uint64_t nz = nonzero_blocks(op);
  EXPECT_NEAR(double(nz), 256.0, 45.0);
  // Another seed gives another pattern; sparsity 0 has no zero blocks.
  MatmulOp other = op;
  other.sparsity_seed = 2;
  bool differs = false;
  for (std::uint64_t b = 0; b < 512 && !differs; ++b) differs = op.zero_block(b / 32, b % 32) != other.zero_block(b / 32, b % 32);
  EXPECT_TRUE(differs);
  MatmulOp dense = op;
  dense.block_sparsity = 0;
  EXPECT_EQ(nonzero_blocks(dense), 512u);
  EXPECT_EQ(dense.macs(), 2048ull * 2048 * 4096);
  // Useful MACs: m x the nonzero weights = 2048 x nz x 128 x 128.
  EXPECT_EQ(op.macs(), 2048ull * nz * 128 * 128);
}

TEST(BlockSparsity, MxusSkipExactlyTheZeroFolds) {
  // tpu-v3: 128 x 128 arrays, so one ws fold is one 128 x 128 block of B. A fold streams
  // its tile's rows of A once (bf16: one pass), so over all m-tiles the MXUs are active
  // for m = 2048 cycles per nonzero block: active cycles = 2048 x nonzero blocks.
  // (Dense, that is 2048 x 512 blocks; SystemC runs one simulation per process, so the
  // dense run is the matmul simulation tests' business.)
  const RunResult sparse = simulate(load_hardware("tpu-v3", {}), load_workload_text(op_text("0.5"), "s.yaml"));
  ASSERT_TRUE(sparse.completed) << sparse.stall_report;
  for (const auto& i : sparse.invariants) EXPECT_TRUE(i.ok) << i.name << ": " << i.detail;
  MatmulOp op{2048, 2048, 4096, DType::bf16, 0.5, 1};
  const std::uint64_t nz = nonzero_blocks(op);
  ASSERT_LT(nz, 512u);
  EXPECT_EQ(sparse.ops[0].mxu_active_cycles, 2048u * nz);
  EXPECT_EQ(sparse.macs, op.macs());
}

TEST(BlockSparsity, OnlyModelledForWeightStationaryArrays) {
  const HardwareSpec hw = load_hardware("tpu-v3", {"chip.mxu.dataflow=os"});
  try {
    simulate(hw, load_workload_text(op_text("0.5"), "s.yaml"));
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("block_sparsity"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace podsim
