// `podsim map` through the command line: its simulated times are those of `podsim run`
// with the same tiling pinned, the best it reports is never slower than the heuristic,
// and its report does not depend on -j.
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "run_command.h"

namespace {

using nlohmann::json;
using podsim::test::Outcome;
using podsim::test::read_file;

std::string fmt_tile(const json& t) {
  return std::to_string(t[0].get<int>()) + "x" + std::to_string(t[1].get<int>()) + "x" + std::to_string(t[2].get<int>());
}

Outcome podsim_cli(const std::string& args) { return podsim::test::run_shell(std::string(PODSIM_BINARY) + " " + args); }

class Map : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/podsim-map-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    // Two distinct matmuls, one of them twice: a decode-like GEMV and a square one.
    std::ofstream(dir_ + "/w.yaml") << "workload:\n  name: w\n  ops:\n"
                                       "    - {op: matmul, name: gemv, m: 16, k: 2048, n: 4096, dtype: bf16}\n"
                                       "    - {op: matmul, name: sq, m: 512, k: 512, n: 512, dtype: bf16}\n"
                                       "    - {op: matmul, name: gemv2, m: 16, k: 2048, n: 4096, dtype: bf16}\n";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  double run_time(const std::string& op, const std::string& wset) {
    const std::string out = dir_ + "/run.json";
    std::ofstream(dir_ + "/one.yaml") << "workload:\n  name: one\n  ops:\n    - " << op << "\n";
    const Outcome o = podsim_cli("run " + dir_ + "/one.yaml --hw tpu-v4 -q --json " + out + wset);
    EXPECT_EQ(o.code, 0) << o.output;
    return json::parse(read_file(out))["summary"]["time_s"].get<double>();
  }
  std::string dir_;
};

TEST_F(Map, SimulatedCandidatesAreWhatRunGivesWithTheTilePinned) {
  const Outcome o = podsim_cli("map " + dir_ + "/w.yaml --hw tpu-v4 -k 4 -j 2 --json " + dir_ + "/m.json");
  ASSERT_EQ(o.code, 0) << o.output;
  const json m = json::parse(read_file(dir_ + "/m.json"));
  ASSERT_EQ(m["ops"].size(), 2u);  // gemv2 is gemv again
  EXPECT_EQ(m["ops"][0]["occurrences"].get<int>(), 2);
  const std::string gemv = "{op: matmul, name: g, m: 16, k: 2048, n: 4096, dtype: bf16}";
  const json& g = m["ops"][0];
  // The heuristic's candidate is the op run as it is.
  EXPECT_DOUBLE_EQ(g["heuristic_s"].get<double>(), run_time(gemv, ""));
  // The best candidate is the op run with its tile pinned, and never slower.
  const json& best = g["candidates"][g["best"].get<int>()];
  const std::string tile = fmt_tile(best["tile"]);
  EXPECT_DOUBLE_EQ(g["best_s"].get<double>(), run_time(gemv, " --wset workload.ops[0].tile=" + tile));
  EXPECT_LE(g["best_s"].get<double>(), g["heuristic_s"].get<double>());
  for (const auto& op : m["ops"]) {
    EXPECT_LE(op["candidates"].size(), 5u);
    for (const auto& c : op["candidates"]) EXPECT_GE(c["simulated_s"].get<double>(), op["best_s"].get<double>());
  }
  EXPECT_NE(o.output.find("best found"), std::string::npos) << o.output;
}

TEST_F(Map, ReportIsByteIdenticalWhateverTheJobs) {
  ASSERT_EQ(podsim_cli("map " + dir_ + "/w.yaml --hw tpu-v4 -k 3 -j 1 -q --json " + dir_ + "/a.json").code, 0);
  ASSERT_EQ(podsim_cli("map " + dir_ + "/w.yaml --hw tpu-v4 -k 3 -j 2 -q --json " + dir_ + "/b.json").code, 0);
  EXPECT_EQ(read_file(dir_ + "/a.json"), read_file(dir_ + "/b.json"));
}

}  // namespace
