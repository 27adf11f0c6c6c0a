#include <array>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "podsim/compiler/matmul_tiling.h"
#include "podsim/compiler/workload_plan.h"
#include "podsim/config/config_error.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/config/workload_loader.h"

namespace podsim {
namespace {

MatmulOp mm(std::uint64_t m, std::uint64_t k, std::uint64_t n, DType t = DType::bf16) {
  MatmulOp op;
  op.m = m;
  op.k = k;
  op.n = n;
  op.dtype = t;
  return op;
}

TEST(MatmulTiling, BookkeepingOfAGivenTiling) {
  const HardwareSpec hw = load_hardware("tpu-v3", {"chip.vmem.operand_buffers=2"});
  const MatmulTiling t = make_matmul_tiling(mm(4096, 4096, 4096), hw, 512, 2048, 1024);
  EXPECT_EQ(t.blocks_m, 8u);
  EXPECT_EQ(t.blocks_k, 2u);
  EXPECT_EQ(t.blocks_n, 4u);
  // vmem = 2 (512*2048 + 2048*1024) * 2 B + 2 * 512*1024 * 4 B = 12 MiB + 4 MiB = 16 MiB
  EXPECT_EQ(t.vmem_bytes, 16u << 20);
  // A (32 MiB) read once per block column (4), B (32 MiB) once per block row (8): 384 MiB
  EXPECT_EQ(t.hbm_read_bytes, 384ull << 20);
  EXPECT_EQ(t.hbm_write_bytes, 32ull << 20);
  // Triple buffering: one more operand buffer of 512*2048 + 2048*1024 bf16 = 6 MiB.
  const HardwareSpec hw3 = load_hardware("tpu-v3", {"chip.vmem.operand_buffers=3"});
  EXPECT_EQ(make_matmul_tiling(mm(4096, 4096, 4096), hw3, 512, 2048, 1024).vmem_bytes, 22u << 20);
}

TEST(MatmulTiling, ChosenTilingFitsVectorMemoryOnEveryPreset) {
  for (const auto& name : preset_names()) {
    const HardwareSpec hw = load_hardware(name);
    for (const auto& op : {mm(4096, 4096, 4096), mm(8, 8192, 8192), mm(1, 1, 1), mm(1000, 3, 77, DType::fp32),
                           mm(3, 5000, 7, DType::int8)}) {
      const MatmulTiling t = choose_matmul_tiling(op, hw, {});
      EXPECT_LE(t.vmem_bytes, hw.chip.vmem_bytes) << name;
      EXPECT_GE(t.tm, 1u);
      EXPECT_LE(t.tm, op.m);
      EXPECT_LE(t.tk, op.k);
      EXPECT_LE(t.tn, op.n);
    }
  }
}

TEST(MatmulTiling, TooSmallVectorMemoryIsAConfigError) {
  const HardwareSpec hw = load_hardware("tpu-v3", {"chip.vmem.capacity=4 KiB"});
  try {
    choose_matmul_tiling(mm(4096, 4096, 4096), hw, {"wl.yaml", 3, 7});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "chip.vmem.capacity");
    EXPECT_EQ(e.where().line, 3);
  }
}

TEST(MatmulTiling, OperandsLargerThanHbmAreAConfigError) {
  const HardwareSpec hw = load_hardware("lab-8x8");  // 1 GiB of memory
  WorkloadSpec wl;
  Op op;
  op.name = "big";
  op.body = mm(32768, 32768, 32768);  // 2 GiB per operand in bf16
  wl.ops.push_back(op);
  EXPECT_THROW(plan_workload(wl, hw), ConfigError);
}

// Every MAC of the matmul is in exactly one tile of exactly one core, once per instance of
// a batched matmul, and every output block starts and ends its k loop once per instance.
TEST(MatmulTiling, TilesCoverTheMatmulExactlyOnce) {
  std::mt19937_64 rng(12345);
  for (int trial = 0; trial < 200; ++trial) {
    const MatmulOp op = mm(1 + rng() % 300, 1 + rng() % 300, 1 + rng() % 300);
    const std::uint64_t tm = 1 + rng() % 64, tk = 1 + rng() % 64, tn = 1 + rng() % 64;
    const std::uint32_t cores = 1 + rng() % 5;
    const std::uint64_t instances = 1 + rng() % 4;
    const MatmulTiling t = make_matmul_tiling(op, load_hardware("lab-8x8"), tm, tk, tn);
    std::vector<std::uint64_t> macs(instances, 0);
    std::uint64_t firsts = 0, lasts = 0, tiles = 0;
    for (std::uint32_t c = 0; c < cores; ++c) {
      MatmulTileSequence seq(op, t, c, cores, instances);
      std::uint64_t last_instance = 0;
      for (std::uint64_t i = 0; i < seq.size(); ++i) {
        const MatmulTile tile = seq.at(i);
        ASSERT_EQ((tile.instance * t.output_blocks() + tile.block) % cores, c);  // dealt round robin
        ASSERT_LT(tile.instance, instances);
        ASSERT_GE(tile.instance, last_instance);  // instance by instance
        last_instance = tile.instance;
        ASSERT_LE(tile.m0 + tile.tm, op.m);
        ASSERT_LE(tile.k0 + tile.tk, op.k);
        ASSERT_LE(tile.n0 + tile.tn, op.n);
        macs[tile.instance] += tile.tm * tile.tk * tile.tn;
        firsts += tile.first_k;
        lasts += tile.last_k;
        ++tiles;
      }
    }
    for (std::uint64_t macs_of_one : macs) EXPECT_EQ(macs_of_one, op.macs());
    EXPECT_EQ(firsts, t.output_blocks() * instances);
    EXPECT_EQ(lasts, t.output_blocks() * instances);
    EXPECT_EQ(tiles, t.output_blocks() * t.blocks_k * instances);
  }
}

TEST(MatmulTiling, ABatchedMatmulDealsItsInstancesAcrossTheCores) {
  // One output block per head (512 x 512 in one 512 x 512 block), 4 heads, 2 cores: run one
  // head at a time, core 1 would idle; batched, each core takes every other head.
  const MatmulOp op = mm(512, 64, 512);
  const MatmulTiling t = make_matmul_tiling(op, load_hardware("tpu-v3"), 512, 64, 512);
  ASSERT_EQ(t.output_blocks(), 1u);
  EXPECT_EQ(MatmulTileSequence(op, t, 1, 2).size(), 0u);
  for (std::uint32_t core : {0u, 1u}) {
    const MatmulTileSequence seq(op, t, core, 2, 4);
    ASSERT_EQ(seq.size(), 2u);
    EXPECT_EQ(seq.at(0).instance, core);
    EXPECT_EQ(seq.at(1).instance, core + 2);
  }
}

TEST(MatmulTiling, EstimateCountsTheWeightsEveryMxuShiftsInWhenColumnsAreFewerThanMxus) {
  // One core with four 128 x 128 MXUs at 2 GHz. A 16 x 11008 x 128 tile has a single
  // column fold: whichever way it is shared (split_over_mxus), the array that runs it shifts
  // in all 86 row folds, 128 cycles each. 32 such tiles: at least 32 x 86 x 128 cycles =
  // 176 us. Counting the folds as spread over the four MXUs (22 each, as the tiler did)
  // says 45 us, and made the tiler pick this tiling at 2 GHz: 180 us where 78 us was
  // possible (issue 15).
  const HardwareSpec hw = load_hardware("tpu-v4", {"chip.tensor_cores=1", "chip.clock=2GHz"});
  const MatmulOp op{16, 11008, 4096, DType::bf16};
  const MatmulTiling t = make_matmul_tiling(op, hw, 16, 11008, 128, false);
  EXPECT_GE(t.estimated_seconds, 32.0 * 86 * 128 / 2e9);
}

TEST(MatmulTiling, PassesFollowTheDtype) {
  const HardwareSpec hw = load_hardware("tpu-v3");
  EXPECT_EQ(mxu_passes(hw, DType::bf16), 1u);
  EXPECT_EQ(mxu_passes(hw, DType::fp32), 6u);
  EXPECT_EQ(mxu_passes(hw, DType::int8), 1u);
}

// An op's `tile:` pins the tiling: the plan has those sizes (clipped to the op) and the
// block counts they imply, whatever the mapper would have chosen.
TEST(MatmulTiling, APinnedTileIsTheOneThePlanUses) {
  const HardwareSpec hw = load_hardware("tpu-v3");
  const WorkloadSpec w = load_workload_text(
      "workload:\n  name: p\n  ops:\n"
      "    - {op: matmul, name: a, m: 1000, k: 1024, n: 3000, dtype: bf16, tile: [256, 384, 512]}\n"
      "    - {op: matmul, name: b, m: 100, k: 1024, n: 300, dtype: bf16, tile: 4096x128x128}\n",
      "pinned.yaml");
  const std::vector<OpPlan> plans = plan_workload(w, hw);
  const MatmulTiling& a = plans[0].tiling;
  EXPECT_EQ(a.tm, 256u);
  EXPECT_EQ(a.tk, 384u);
  EXPECT_EQ(a.tn, 512u);
  EXPECT_EQ(a.blocks_m, 4u);  // ceil(1000 / 256)
  EXPECT_EQ(a.blocks_k, 3u);  // ceil(1024 / 384)
  EXPECT_EQ(a.blocks_n, 6u);  // ceil(3000 / 512)
  const MatmulTiling& b = plans[1].tiling;
  EXPECT_EQ(b.tm, 100u);  // clipped to m
  EXPECT_EQ(b.blocks_m, 1u);
  EXPECT_EQ(b.blocks_k, 8u);
  EXPECT_EQ(b.blocks_n, 3u);  // ceil(300 / 128)
  // The same sizes through the bookkeeping function give the same traffic.
  const MatmulTiling direct = make_matmul_tiling(plans[0].matmul, hw, 256, 384, 512, a.a_resident);
  EXPECT_EQ(a.hbm_read_bytes, direct.hbm_read_bytes);
}

TEST(MatmulTiling, APinnedTileThatDoesNotFitOrIsMalformedIsAnInputError) {
  const HardwareSpec hw = load_hardware("tpu-v3", {"chip.vmem.capacity=1MiB"});
  const WorkloadSpec w = load_workload_text(
      "workload:\n  name: p\n  ops:\n    - {op: matmul, name: a, m: 4096, k: 4096, n: 4096, dtype: bf16, "
      "tile: [4096, 4096, 4096]}\n",
      "big.yaml");
  try {
    plan_workload(w, hw);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "workload.ops[0].tile");
    EXPECT_NE(std::string(e.what()).find("chip.vmem.capacity"), std::string::npos) << e.what();
  }
  for (const char* bad : {"tile: [128, 128]", "tile: [0, 128, 128]", "tile: 128xx", "tile: {a: 1}",
                          "tile: [128, 128, 128, 0]", "tile: [8, 8, 8, 1, 1]"}) {
    try {
      load_workload_text(std::string("workload:\n  name: p\n  ops:\n    - {op: matmul, name: a, m: 64, k: 64, n: 64, "
                                     "dtype: bf16, ") + bad + "}\n",
                         "bad.yaml");
      ADD_FAILURE() << bad;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key_path(), "workload.ops[0].tile") << bad;
      EXPECT_EQ(e.where().line, 4) << bad;
    }
  }
  try {
    load_workload_text("workload:\n  name: p\n  ops:\n    - {op: elementwise, name: r, fn: relu, rows: 8, cols: 8, "
                       "dtype: bf16, tile: [8, 8, 8]}\n",
                       "vec.yaml");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "workload.ops[0].tile");
  }
}

// A tiling that deals its output blocks over fewer cores than the chip has (a 4th element
// of `tile:`) is costed as a chip with that many cores would cost it, and the cores past
// them get no tiles. Reference: the same tile sizes on a chip built with one core.
TEST(MatmulTiling, ATilingOnOneOfTwoCoresIsCostedAsAOneCoreChip) {
  const HardwareSpec two = load_hardware("tpu-v3");
  const HardwareSpec one = load_hardware("tpu-v3", {"chip.tensor_cores=1"});
  ASSERT_EQ(two.chip.tensor_cores, 2u);
  const MatmulOp op = mm(256, 11008, 256);
  for (bool resident : {false, true}) {
    const MatmulTiling a = make_matmul_tiling(op, two, 128, 512, 128, resident, true, {}, 1);
    const MatmulTiling b = make_matmul_tiling(op, one, 128, 512, 128, resident, true);
    EXPECT_EQ(a.cores, 1u);
    EXPECT_EQ(b.cores, 1u);
    EXPECT_EQ(a.hbm_read_bytes, b.hbm_read_bytes) << resident;
    EXPECT_DOUBLE_EQ(a.estimated_seconds, b.estimated_seconds) << resident;
  }
  // The A-resident variant reads the A rows of each core's blocks once per core.
  const MatmulTiling both = make_matmul_tiling(op, two, 128, 512, 128, true, true);
  const MatmulTiling alone = make_matmul_tiling(op, two, 128, 512, 128, true, true, {}, 1);
  EXPECT_EQ(both.cores, 2u);
  // 2 x 2 output blocks: core 0 gets blocks 0 and 2 (rows 0 and 1), core 1 blocks 1 and 3:
  // each core reads all of A; on one core A is read once.
  EXPECT_EQ(both.hbm_read_bytes - alone.hbm_read_bytes, 256u * 11008u * 2u);
  // Dealt over one core: core 1 has nothing to do; core 0 has all four blocks.
  EXPECT_EQ(MatmulTileSequence(op, alone, 1, 1).size(), 0u);
  EXPECT_EQ(MatmulTileSequence(op, alone, 0, 1).size(), 4u * alone.blocks_k);
  // More cores than the chip has are clipped by the bookkeeping and refused in a workload.
  EXPECT_EQ(make_matmul_tiling(op, two, 128, 512, 128, false, true, {}, 8).cores, 2u);
  const WorkloadSpec w = load_workload_text(
      "workload:\n  name: p\n  ops:\n    - {op: matmul, name: a, m: 64, k: 64, n: 64, dtype: bf16, tile: [64, 128, 128, 3]}\n",
      "cores.yaml");
  try {
    plan_workload(w, two);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "workload.ops[0].tile");
    EXPECT_NE(std::string(e.what()).find("chip.tensor_cores"), std::string::npos) << e.what();
  }
}

// The A-resident cost counts each core's A reads in closed form: min(cores, blocks_n) reads
// of A. Checked against what the simulation does: the tiles each core runs
// (MatmulTileSequence), the distinct block rows among them, each row's A bytes once.
TEST(MatmulTiling, AResidentAReadsMatchTheBlockRowsEachCoreRuns) {
  for (std::uint32_t cores : {1u, 2u, 3u, 4u}) {
    const HardwareSpec hw = load_hardware("tpu-v3", {"chip.tensor_cores=" + std::to_string(cores)});
    for (const auto& [m, k, n, tm, tn] : std::vector<std::array<std::uint64_t, 5>>{
             {256, 512, 128, 64, 128},   // blocks_n = 1: each block row on one core
             {300, 256, 384, 64, 128},   // blocks_n = 3, a short last block row
             {64, 1024, 1024, 64, 128},  // one block row, 8 blocks
             {1000, 128, 200, 8, 128},   // 125 block rows of 2 blocks
             {24, 256, 640, 8, 256}}) {  // 3 rows of 3 blocks (the last clipped)
      const MatmulOp op = mm(m, k, n);
      const MatmulTiling t = make_matmul_tiling(op, hw, tm, 128, tn, true, true);
      ASSERT_EQ(t.cores, cores);
      std::uint64_t walked = 0;
      for (std::uint32_t c = 0; c < cores; ++c) {
        const MatmulTileSequence seq(op, t, c, cores);
        std::set<std::uint64_t> rows;
        for (std::uint64_t i = 0; i < seq.size(); ++i) rows.insert(seq.at(i).m0);
        for (std::uint64_t m0 : rows) walked += std::min(tm, m - m0) * k * 2;  // bf16
      }
      const std::uint64_t weights = op.weight_bytes(padded_weight_k(op, hw) * padded_weight_n(op, hw)) * t.blocks_m;
      EXPECT_EQ(t.hbm_read_bytes - weights, walked) << m << "x" << k << "x" << n << " tm " << tm << " tn " << tn
                                                    << " on " << cores << " cores";
    }
  }
}

}  // namespace
}  // namespace podsim
