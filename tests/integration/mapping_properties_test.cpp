// Properties every mapping must keep (issue 15): more of a resource never makes an op
// slower. Each test runs the podsim binary over a sweep of one parameter and checks that
// the simulated op time never rises by more than 1 % from one point to the next.
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"
#include "test_paths.h"

namespace {

using podsim::test::Outcome;

// This test's own folder: ctest runs tests in parallel, and two tests writing one report
// path read each other's numbers.
std::string own_dir() {
  const std::string dir =
      testing::TempDir() + "podsim_mapping_" + testing::UnitTest::GetInstance()->current_test_info()->name() + "/";
  std::filesystem::create_directories(dir);
  return dir;
}

std::string matmul_workload(const std::string& name, int m, int k, int n) {
  const std::string path = own_dir() + name + ".yaml";
  std::ofstream(path) << "workload:\n  name: " << name << "\n  ops:\n    - {op: matmul, name: x, m: " << m
                      << ", k: " << k << ", n: " << n << ", dtype: bf16}\n";
  return path;
}

double simulated_seconds(const std::string& workload, const std::string& hw, const std::vector<std::string>& sets) {
  const std::string json = own_dir() + "report.json";
  std::string cmd = std::string(PODSIM_BINARY) + " run -q " + workload + " --hw " + hw + " --json " + json;
  for (const auto& s : sets) cmd += " --set " + s;
  const Outcome o = podsim::test::run_shell(cmd);
  EXPECT_EQ(o.code, 0) << o.output;
  return nlohmann::json::parse(podsim::test::read_file(json))["summary"]["time_s"].get<double>();
}

// The times of a sweep, each no more than 1 % above the one before.
void expect_never_slower(const std::vector<double>& times, const std::vector<std::string>& points) {
  for (std::size_t i = 1; i < times.size(); ++i)
    EXPECT_LE(times[i], times[i - 1] * 1.01)
        << points[i] << ": " << times[i] * 1e6 << " us after " << points[i - 1] << ": " << times[i - 1] * 1e6 << " us";
}

TEST(MappingProperties, AFasterClockNeverSlowsLlamasFfnDownProjection) {
  // Issue 15's example: m=16, k=11008, n=4096 on one core with four 128 x 128 MXUs. The
  // tiler used to pick a 128-wide tiling at 2 GHz, every MXU shifting in the same
  // weights for 4 rows each: 180 us, against 78 us at 1.5 GHz.
  const std::string w = matmul_workload("ffn_down", 16, 11008, 4096);
  std::vector<double> times;
  const std::vector<std::string> clocks = {"1.1GHz", "1.3GHz", "1.5GHz", "2GHz"};
  for (const auto& c : clocks) times.push_back(simulated_seconds(w, "tpu-v4", {"chip.tensor_cores=1", "chip.clock=" + c}));
  expect_never_slower(times, clocks);
}

TEST(MappingProperties, MoreMxusNeverSlowATinyMatmul) {
  // 8 x 256 x 256: two column folds. Four MXUs each holding every fold and streaming 2
  // of the 8 rows shift in twice the weights of two MXUs taking a column fold each
  // (1.00 -> 1.36 us before split_over_mxus chose between the two).
  const std::string w = matmul_workload("tiny", 8, 256, 256);
  std::vector<double> times;
  const std::vector<std::string> mxus = {"1", "2", "4"};
  for (const auto& n : mxus) times.push_back(simulated_seconds(w, "tpu-v3", {"chip.tensor_cores=1", "chip.mxus_per_core=" + n}));
  expect_never_slower(times, mxus);
}

// Issue 15's properties for chip.mapper=search, on random (shape, chip, change) pairs as in
// scripts/mapping_properties.py (which measures 1,000; docs/mapping.md): with more clock,
// HBM bandwidth or MXUs no op gets more than 1 % slower, and no point is more than 1 %
// slower than the heuristic mapper. The heuristic alone fails the first on about 4 % of
// pairs (12 of 300 for the script's seed 3).
TEST(MappingProperties, SearchMapperNeverSlowsAnOpWithMoreOfAResource) {
  std::mt19937 rng(2026);
  auto pick = [&rng](const std::vector<int>& v) { return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)]; };
  const std::vector<std::pair<std::string, std::string>> changes = {
      {"chip.clock=1.0GHz", "chip.clock=1.5GHz"},
      {"chip.hbm.bandwidth=600GB/s", "chip.hbm.bandwidth=900GB/s"},
      {"chip.mxus_per_core=2", "chip.mxus_per_core=4"}};
  for (int pair = 0; pair < 40; ++pair) {
    const int m = pick({8, 16, 32, 64, 128, 256, 512, 1024, 2048, 3000, 4096});
    const int k = pick({128, 256, 512, 768, 1024, 2048, 4096, 11008});
    const int n = pick({128, 256, 512, 1024, 2048, 4096, 5120});
    const std::string hw = pick({3, 4}) == 3 ? "tpu-v3" : "tpu-v4";
    const std::string cores = "chip.tensor_cores=" + std::to_string(pick({1, 2}));
    const auto& change = changes[std::size_t(pick({0, 1, 2}))];
    const std::string w = matmul_workload("pair", m, k, n);
    const std::string what = std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n) + " on " + hw + ", " + cores;
    double times[2];
    for (int i = 0; i < 2; ++i) {
      const std::string point = i == 0 ? change.first : change.second;
      times[i] = simulated_seconds(w, hw, {cores, point, "chip.mapper=search"});
      const double heuristic = simulated_seconds(w, hw, {cores, point});
      EXPECT_LE(times[i], heuristic * 1.01) << what << ", " << point << ": search slower than the heuristic";
    }
    EXPECT_LE(times[1], times[0] * 1.01) << what << ": " << change.first << " " << times[0] * 1e6 << " us, "
                                         << change.second << " " << times[1] * 1e6 << " us";
  }
}

// A second core never slows an op under the search mapper: a two-core chip also simulates
// the one-core chip's tiling on one of its cores (MatmulTiling::cores). The first shape was
// 10.4 % slower on two cores before (256 x 11008 x 256 on tpu-v3, docs/mapping.md); the rest
// are drawn at random. Reference: the same op on the chip built with one core.
TEST(MappingProperties, SearchMapperNeverSlowsAnOpWithASecondCore) {
  std::mt19937 rng(7);
  auto pick = [&rng](const std::vector<int>& v) { return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)]; };
  for (int pair = 0; pair < 8; ++pair) {
    const int m = pair == 0 ? 256 : pick({8, 16, 64, 256, 1024, 4096});
    const int k = pair == 0 ? 11008 : pick({256, 1024, 4096, 11008});
    const int n = pair == 0 ? 256 : pick({128, 256, 1024, 4096});
    const std::string hw = pair == 0 || pick({3, 4}) == 3 ? "tpu-v3" : "tpu-v4";
    const std::string w = matmul_workload("cores", m, k, n);
    const double one = simulated_seconds(w, hw, {"chip.tensor_cores=1", "chip.mapper=search"});
    const double two = simulated_seconds(w, hw, {"chip.tensor_cores=2", "chip.mapper=search"});
    EXPECT_LE(two, one * 1.01) << m << "x" << k << "x" << n << " on " << hw << ": one core " << one * 1e6
                               << " us, two " << two * 1e6 << " us";
  }
}

}  // namespace
