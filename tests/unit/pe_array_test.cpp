// The PE-level reference array against the closed-form tile timing (exact cycles) and
// against fp64 (exact for int8, within the fp32 accumulation bound for floats).
#include <random>

#include <gtest/gtest.h>

#include "podsim/arch/pe_array.h"
#include "podsim/compiler/systolic_timing.h"
#include "podsim/sim/mxu_experiment.h"

namespace podsim {
namespace {

std::uint64_t tile_cycles(const SystolicArrayShape& shape, std::uint64_t m, std::uint64_t k, std::uint64_t n) {
  const FoldGrid g = fold_grid(shape, m, k, n);
  SystolicPipeline p(shape);
  return p.run(0, g.folds(), g.stream).done;
}

MxuExperimentResult pe_run(const SystolicArrayShape& shape, std::uint64_t m, std::uint64_t k, std::uint64_t n,
                           DType t, std::uint64_t seed = 7) {
  MxuExperimentOptions o;
  o.shape = shape;
  o.m = m;
  o.k = k;
  o.n = n;
  o.dtype = t;
  o.pe_model = true;
  o.seed = seed;
  return run_mxu_experiment(o);
}

struct Case {
  SystolicArrayShape shape;
  std::uint64_t m, k, n;
};

// At least 500 random shapes per dataflow, with overlap on and off, non-square arrays,
// non-multiples of the array, and the degenerate M=1, K=1, N=1, skinny and wide shapes.
std::vector<Case> random_cases(Dataflow d, int count, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Case> cases;
  const std::uint64_t special[][3] = {{1, 1, 1},  {1, 17, 9},  {13, 1, 7}, {9, 11, 1}, {1, 40, 1},
                                      {60, 1, 1}, {1, 1, 50},  {2, 64, 3}, {64, 2, 2}, {3, 3, 64}};
  for (int i = 0; i < count; ++i) {
    Case c;
    c.shape.rows = 1 + rng() % 8;
    c.shape.cols = 1 + rng() % 8;
    c.shape.dataflow = d;
    c.shape.weight_overlap = rng() % 2 == 0;
    if (i < 10) {
      c.m = special[i][0];
      c.k = special[i][1];
      c.n = special[i][2];
    } else {
      c.m = 1 + rng() % 24;
      c.k = 1 + rng() % 24;
      c.n = 1 + rng() % 24;
    }
    cases.push_back(c);
  }
  return cases;
}

class PeMatchesTile : public testing::TestWithParam<Dataflow> {};

TEST_P(PeMatchesTile, OnFiveHundredRandomShapes) {
  int checked = 0;
  for (const Case& c : random_cases(GetParam(), 520, 99 + int(GetParam()))) {
    const MxuExperimentResult r = pe_run(c.shape, c.m, c.k, c.n, DType::int8, checked);
    ASSERT_EQ(r.cycles, tile_cycles(c.shape, c.m, c.k, c.n))
        << dataflow_name(c.shape.dataflow) << " " << c.shape.rows << "x" << c.shape.cols
        << (c.shape.weight_overlap ? " overlap" : " no-overlap") << " m=" << c.m << " k=" << c.k << " n=" << c.n;
    // int8 with int32 accumulation is exact.
    ASSERT_EQ(r.max_abs_error, 0.0) << "m=" << c.m << " k=" << c.k << " n=" << c.n;
    ++checked;
  }
  EXPECT_GE(checked, 500);
}

INSTANTIATE_TEST_SUITE_P(Dataflows, PeMatchesTile, testing::Values(Dataflow::ws, Dataflow::os, Dataflow::is),
                         [](const auto& info) { return std::string(dataflow_name(info.param)); });

TEST(PeArray, NoOverlapReproducesScaleSimForEveryDataflow) {
  for (Dataflow d : {Dataflow::ws, Dataflow::os, Dataflow::is}) {
    const SystolicArrayShape shape{8, 4, d, false};
    // 19 x 21 x 10 on 8 rows x 4 cols:
    //   ws: ceil(21/8)=3 x ceil(10/4)=3 = 9 folds, T = 19: 9 x (16 + 4 + 19 - 2) = 333
    //   is: ceil(21/8)=3 x ceil(19/4)=5 = 15 folds, T = 10: 15 x (16 + 4 + 10 - 2) = 420
    //   os: ceil(19/8)=3 x ceil(10/4)=3 = 9 folds, T = 21: 9 x (16 + 4 + 21 - 2) = 351
    const std::uint64_t expected = d == Dataflow::ws ? 333 : d == Dataflow::is ? 420 : 351;
    EXPECT_EQ(scalesim_cycles(shape, 19, 21, 10), expected) << dataflow_name(d);
    EXPECT_EQ(pe_run(shape, 19, 21, 10, DType::int8).cycles, expected) << dataflow_name(d);
  }
}

TEST(PeArray, WeightOverlapHidesTheLoadWhenRowsOutnumberArrayRows) {
  // ws 4x4, 16^3: 4 x 4 = 16 folds of T = 16 >= W = 4: R + 16 x 16 + R + C - 2 = 4 + 256 + 6 = 266
  const SystolicArrayShape shape{4, 4, Dataflow::ws, true};
  EXPECT_EQ(pe_run(shape, 16, 16, 16, DType::int8).cycles, 266u);
}

TEST(PeArray, FloatTypesStayWithinTheFp32AccumulationBound) {
  for (DType t : {DType::fp8, DType::bf16, DType::fp16, DType::fp32})
    for (Dataflow d : {Dataflow::ws, Dataflow::os, Dataflow::is}) {
      const MxuExperimentResult r = pe_run({8, 8, d, true}, 33, 70, 19, t);
      EXPECT_GT(r.error_bound, 0.0);
      EXPECT_LE(r.max_abs_error, r.error_bound) << dtype_name(t) << " " << dataflow_name(d);
    }
}

TEST(PeArray, QuantizationErrorGrowsAsPrecisionShrinks) {
  // Relative error of the product against fp32 data: about the unit roundoff times a
  // small factor. Expected order: fp32 < fp16 < bf16 < fp8, and int8 (per-tensor scale)
  // below bf16's 2^-8 but well above fp32's.
  const SystolicArrayShape shape{16, 16, Dataflow::ws, true};
  const double fp32 = pe_run(shape, 64, 64, 64, DType::fp32).quantization_rel_error;
  const double fp16 = pe_run(shape, 64, 64, 64, DType::fp16).quantization_rel_error;
  const double bf16 = pe_run(shape, 64, 64, 64, DType::bf16).quantization_rel_error;
  const double fp8 = pe_run(shape, 64, 64, 64, DType::fp8).quantization_rel_error;
  const double int8 = pe_run(shape, 64, 64, 64, DType::int8).quantization_rel_error;
  EXPECT_LT(fp32, 1e-6);
  EXPECT_LT(fp32, fp16);
  EXPECT_LT(fp16, bf16);
  EXPECT_LT(bf16, fp8);
  EXPECT_LT(fp8, 0.1);
  EXPECT_GT(int8, fp32);
  EXPECT_LT(int8, 0.05);
  // bf16 has 8 significant bits: u = 2^-8; random-sign errors partly cancel in the sum,
  // so the relative error sits between u/10 and 2u.
  EXPECT_GT(bf16, std::ldexp(1.0, -8) / 10);
  EXPECT_LT(bf16, 2 * std::ldexp(1.0, -8));
}

TEST(PeArray, FramesShowTheWavefront) {
  // ws 2x2, m=2, k=2, n=2: the first activation reaches PE(0,0) at cycle R = 2 (after
  // the weight load) and PE(1,1) at 2 + 1 + 1 = 4.
  const std::vector<double> a = {1, 2, 3, 4}, b = {5, 6, 7, 8};
  const PeArrayResult r = run_pe_array({2, 2, Dataflow::ws, true}, DType::int8, 2, 2, 2, a, b, 10);
  ASSERT_GE(r.frames.size(), 5u);
  EXPECT_FALSE(r.frames[1].pes[0].has_input);
  EXPECT_TRUE(r.frames[2].pes[0].has_input);
  EXPECT_EQ(r.frames[2].pes[0].input, 1.0);
  EXPECT_EQ(r.frames[2].pes[0].stationary, 5.0);  // B[0][0]
  EXPECT_FALSE(r.frames[3].pes[3].has_input);
  EXPECT_TRUE(r.frames[4].pes[3].has_input);
  // C = [[1*5+2*7, 1*6+2*8], [3*5+4*7, 3*6+4*8]] = [[19, 22], [43, 50]]
  EXPECT_EQ(r.c, (std::vector<double>{19, 22, 43, 50}));
}

TEST(Dtype, RoundingMatchesTheFormats) {
  EXPECT_EQ(round_to_dtype(1.0 + 1.0 / 256, DType::bf16), 1.0);          // tie to even
  EXPECT_EQ(round_to_dtype(1.0 + 3.0 / 256, DType::bf16), 1.0 + 4.0 / 256);
  EXPECT_EQ(round_to_dtype(65520.0, DType::fp16), INFINITY);              // past fp16's max
  EXPECT_EQ(round_to_dtype(1000.0, DType::fp8), 448.0);                   // e4m3 saturates
  EXPECT_EQ(round_to_dtype(0.3, DType::fp8), 0.3125);                     // 1.25 x 2^-2
  EXPECT_EQ(round_to_dtype(-200.7, DType::int8), -128.0);
  EXPECT_EQ(round_to_dtype(std::ldexp(1.0, -9), DType::fp8), std::ldexp(1.0, -9));  // smallest subnormal
}

}  // namespace
}  // namespace podsim
