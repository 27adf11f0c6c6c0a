// The mapper's learned cost model (mapper/learned_cost.h): the boosted trees fit what they
// are shown, survive their JSON, refuse broken files, and beat an analytical estimate whose
// error follows a feature it does not use.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "podsim/mapper/learned_cost.h"

namespace {

using podsim::BoostedTrees;
using podsim::CostSample;
using podsim::kCostFeatures;
using Features = std::array<double, kCostFeatures>;

// Deterministic pseudo-random numbers in [0, 1) (a 64-bit LCG).
struct Lcg {
  std::uint64_t s = 12345;
  double next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return double(s >> 11) / double(1ULL << 53);
  }
};

TEST(BoostedTrees, FitAStepAndARampOfTwoFeatures) {
  Lcg rng;
  std::vector<Features> x;
  std::vector<double> y;
  for (int i = 0; i < 600; ++i) {
    Features f{};
    for (double& v : f) v = rng.next() * 4 - 2;
    x.push_back(f);
    y.push_back((f[5] > 0.5 ? 1.0 : -1.0) + 0.25 * f[2]);
  }
  BoostedTrees m;
  m.fit(x, y, {});
  double err = 0;
  for (int i = 0; i < 200; ++i) {
    Features f{};
    for (double& v : f) v = rng.next() * 4 - 2;
    const double truth = (f[5] > 0.5 ? 1.0 : -1.0) + 0.25 * f[2];
    err += std::abs(m.predict(f) - truth);
  }
  // Depth-3 trees approximate the ramp in steps: mean error well under the step's 2.
  EXPECT_LT(err / 200, 0.1);
}

TEST(BoostedTrees, JsonRoundTripPredictsTheSame) {
  Lcg rng;
  std::vector<Features> x;
  std::vector<double> y;
  for (int i = 0; i < 100; ++i) {
    Features f{};
    for (double& v : f) v = rng.next();
    x.push_back(f);
    y.push_back(f[0] * f[1] - f[7]);
  }
  BoostedTrees m;
  m.fit(x, y, {50, 3, 4, 0.2});
  const BoostedTrees back = BoostedTrees::from_json(m.to_json());
  EXPECT_EQ(back.trees(), 50u);
  for (const Features& f : x) EXPECT_EQ(back.predict(f), m.predict(f));
}

TEST(BoostedTrees, BrokenModelsAreRefusedWithTheReason) {
  auto why = [](const std::string& text) {
    try {
      BoostedTrees::from_json(text);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(why("{").find("not JSON"), std::string::npos);
  EXPECT_NE(why("{\"format\": \"other\"}").find("podsim-boosted-trees-1"), std::string::npos);
  BoostedTrees m;
  m.fit({Features{}, Features{}}, {0.0, 1.0}, {2, 1, 1, 0.1});
  std::string text = m.to_json();
  const std::string features = "\"log_predicted_s\"";
  std::string renamed = text;
  renamed.replace(renamed.find(features), features.size(), "\"something_else\"");
  EXPECT_NE(why(renamed).find("other features"), std::string::npos);
  // A split whose child points back at itself would never reach a leaf.
  nlohmann::json looped = nlohmann::json::parse(text);
  looped["trees"] = nlohmann::json::parse("[[[0, 0.5, 0, 1], [1.0]]]");
  EXPECT_NE(why(looped.dump()).find("out of range"), std::string::npos);
  looped["trees"] = nlohmann::json::parse("[[[0, 0.5, 1]]]");
  EXPECT_NE(why(looped.dump()).find("neither"), std::string::npos);
}

// An analytical estimate that misses by a factor depending on the B tile's width (as the
// real cost model does for narrow tiles, docs/mapping.md), on samples grouped as searches:
// the learned model, scored on shapes it did not see, is closer and orders each search's
// candidates so the best comes sooner.
TEST(LearnedCostModel, LearnsAMissTheAnalyticalModelMakes) {
  std::vector<CostSample> samples;
  Lcg rng;
  const std::uint64_t widths[] = {128, 256, 512, 1024, 2048};
  for (int shape = 0; shape < 40; ++shape) {
    const std::uint64_t m = 64ULL << (shape % 5), k = 1024ULL << (shape % 3), n = 2048ULL << (shape % 4);
    for (std::uint64_t tn : widths) {
      CostSample s;
      s.group = "chip|" + std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n) + "|op" + std::to_string(shape);
      s.m = m;
      s.k = k;
      s.n = n;
      s.tm = m;
      s.tk = 512;
      s.tn = tn;
      s.blocks = n / tn;
      s.hbm_bytes = 2 * (m * k + k * n);
      s.peak_flops = 1e14;
      s.hbm_Bps = 1e12;
      const double truth = 1e-4 * (1 + 0.1 * rng.next());
      // Narrow tiles run slower than estimated: 1.6x at 128 wide, none at 1024 and up.
      const double miss = tn >= 1024 ? 1.0 : 1.0 + 0.15 * std::log2(1024.0 / double(tn));
      s.simulated_s = truth * miss;
      s.predicted_s = truth * (1 + 0.02 * rng.next());
      samples.push_back(s);
    }
  }
  const podsim::LearnReport r = podsim::learn_cost_model(samples);
  EXPECT_EQ(r.samples, 200u);
  EXPECT_EQ(r.groups, 40u);
  // The analytical error in closed form: |p - s| / s = |1 - (1 + 0.02 u) / miss| with u
  // uniform (mean 0.5): 1 - 1.01 / miss for the three narrow widths, 0.01 for the others.
  double expected = 0;
  for (std::uint64_t tn : widths) {
    const double miss = tn >= 1024 ? 1.0 : 1.0 + 0.15 * std::log2(1024.0 / double(tn));
    expected += (tn >= 1024 ? 0.01 : 1 - 1.01 / miss) / 5;
  }
  EXPECT_NEAR(r.analytical_mape, expected, 0.005);
  EXPECT_LT(r.learned_mape, r.analytical_mape / 3);
  EXPECT_LE(r.learned_sims_to_best, r.analytical_sims_to_best);
  EXPECT_TRUE(r.chips.empty());  // one chip: nothing to hold out
}

TEST(LearnedCostModel, SampleFilesNameTheBadField) {
  const std::string dir = testing::TempDir();
  const std::string header =
      "op,shape,dtype,occurrences,candidate,tm,tk,tn,a_resident,heuristic,predicted_s,simulated_s,best_so_far_s,"
      "learned_s,hardware,m,k,n,dtype_bytes,blocks,hbm_bytes,peak_flops,hbm_Bps\n";
  const std::string row = "\"a,b\",8x8x8,bf16,1,0,8,8,8,0,1,1e-6,2e-6,2e-6,0,tpu-v4,8,8,8,2,1,256,2.75e14,1.2e12\n";
  std::ofstream(dir + "good.csv") << header << row;
  const std::vector<CostSample> s = podsim::read_cost_samples(dir + "good.csv");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].group, "tpu-v4|8x8x8|a,b");  // the quoted op name keeps its comma
  EXPECT_DOUBLE_EQ(s[0].simulated_s, 2e-6);
  std::ofstream(dir + "bad.csv") << header << row
                                 << "x,8x8x8,bf16,1,0,8,8,eight,0,1,1e-6,2e-6,2e-6,0,tpu-v4,8,8,8,2,1,256,2.75e14,1.2e12\n";
  try {
    podsim::read_cost_samples(dir + "bad.csv");
    FAIL() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:3:8: tn"), std::string::npos) << e.what();
  }
  std::ofstream(dir + "old.csv") << "op,shape,dtype\n";
  try {
    podsim::read_cost_samples(dir + "old.csv");
    FAIL() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("old.csv:1: no column 'hardware'"), std::string::npos) << e.what();
  }
}

}  // namespace
