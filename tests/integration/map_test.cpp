// `podsim map` through the command line: its simulated times are those of `podsim run`
// with the same tiling pinned, the best it reports is never slower than the heuristic,
// and its report does not depend on -j. `chip.mapper=search` runs an op with the tiling
// `podsim map` finds fastest.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "run_command.h"
#include "temp_dir_test.h"

namespace {

using nlohmann::json;
using podsim::test::Outcome;
using podsim::test::read_file;

std::string fmt_tile(const json& t) {
  return std::to_string(t[0].get<int>()) + "x" + std::to_string(t[1].get<int>()) + "x" + std::to_string(t[2].get<int>());
}

Outcome podsim_cli(const std::string& args) { return podsim::test::run_shell(std::string(PODSIM_BINARY) + " " + args); }

class Map : public podsim::test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (HasFatalFailure()) return;
    // Two distinct matmuls, one of them twice: a decode-like GEMV and a square one.
    write("w.yaml",
          "workload:\n  name: w\n  ops:\n"
          "    - {op: matmul, name: gemv, m: 16, k: 2048, n: 4096, dtype: bf16}\n"
          "    - {op: matmul, name: sq, m: 512, k: 512, n: 512, dtype: bf16}\n"
          "    - {op: matmul, name: gemv2, m: 16, k: 2048, n: 4096, dtype: bf16}\n");
  }
  double run_time(const std::string& op, const std::string& wset) {
    const std::string out = dir_ + "/run.json";
    std::ofstream(dir_ + "/one.yaml") << "workload:\n  name: one\n  ops:\n    - " << op << "\n";
    const Outcome o = podsim_cli("run " + dir_ + "/one.yaml --hw tpu-v4 -q --json " + out + wset);
    EXPECT_EQ(o.code, 0) << o.output;
    return json::parse(read_file(out))["summary"]["time_s"].get<double>();
  }
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
  // Its cores too: a two-core tpu-v4 also simulates the one-core chip's tiling on one core.
  const std::string tile = fmt_tile(best["tile"]) + "x" + std::to_string(best["cores"].get<int>());
  EXPECT_DOUBLE_EQ(g["best_s"].get<double>(), run_time(gemv, " --wset workload.ops[0].tile=" + tile));
  EXPECT_LE(g["best_s"].get<double>(), g["heuristic_s"].get<double>());
  for (const auto& op : m["ops"]) {
    // The heuristic's and k = 4 by estimate, and as many as the one-core chip would simulate,
    // on one of the two cores (less those already there).
    EXPECT_LE(op["candidates"].size(), 10u);
    bool one_core = false;
    for (const auto& c : op["candidates"]) one_core = one_core || c["cores"].get<int>() == 1;
    EXPECT_TRUE(one_core);
    for (const auto& c : op["candidates"]) EXPECT_GE(c["simulated_s"].get<double>(), op["best_s"].get<double>());
  }
  EXPECT_NE(o.output.find("best found"), std::string::npos) << o.output;
}

// The CSV: a row per candidate in the order simulated, the heuristic's first; its search
// curve never rises and ends at the best the JSON reports.
TEST_F(Map, CsvListsEveryCandidateWithTheSearchCurve) {
  ASSERT_EQ(podsim_cli("map " + dir_ + "/w.yaml --hw tpu-v4 -k 3 -q --json " + dir_ + "/m.json --csv " + dir_ + "/m.csv").code, 0);
  const json m = json::parse(read_file(dir_ + "/m.json"));
  std::istringstream csv(read_file(dir_ + "/m.csv"));
  std::string line;
  std::getline(csv, line);
  EXPECT_EQ(line, "op,shape,dtype,occurrences,candidate,tm,tk,tn,a_resident,heuristic,predicted_s,simulated_s,best_so_far_s,"
                  "learned_s,hardware,m,k,n,dtype_bytes,blocks,hbm_bytes,peak_flops,hbm_Bps,cores");
  for (const auto& op : m["ops"]) {
    double last = 1e30;
    for (std::size_t i = 0; i < op["candidates"].size(); ++i) {
      ASSERT_TRUE(std::getline(csv, line));
      std::vector<std::string> f;
      std::istringstream row(line);
      for (std::string cell; std::getline(row, cell, ',');) f.push_back(cell);
      ASSERT_EQ(f.size(), 24u) << line;
      EXPECT_EQ(std::stoi(f[23]), op["candidates"][i]["cores"].get<int>());
      EXPECT_EQ(f[0], op["name"].get<std::string>());
      EXPECT_EQ(std::stoul(f[4]), i);
      EXPECT_EQ(f[9], i == 0 ? "1" : "0");  // the heuristic's tiling first
      const double best_so_far = std::stod(f[12]);
      EXPECT_LE(best_so_far, last);
      EXPECT_NEAR(best_so_far, op["search_curve"][i].get<double>(), 1e-9 * best_so_far);
      last = best_so_far;
    }
    EXPECT_NEAR(last, op["best_s"].get<double>(), 1e-9 * last);
  }
  EXPECT_FALSE(std::getline(csv, line));
}

TEST_F(Map, ReportIsByteIdenticalWhateverTheJobs) {
  ASSERT_EQ(podsim_cli("map " + dir_ + "/w.yaml --hw tpu-v4 -k 3 -j 1 -q --json " + dir_ + "/a.json").code, 0);
  ASSERT_EQ(podsim_cli("map " + dir_ + "/w.yaml --hw tpu-v4 -k 3 -j 2 -q --json " + dir_ + "/b.json").code, 0);
  EXPECT_EQ(read_file(dir_ + "/a.json"), read_file(dir_ + "/b.json"));
}

// chip.mapper=search: a one-op run takes exactly the time of the best candidate `podsim
// map` simulates (the same tiling pinned by another path), never more than the heuristic's.
TEST_F(Map, SearchMapperRunsAnOpWithTheFastestTilingFound) {
  // qkv of a Llama-3-8B decode step: `podsim map` found a tiling 13 % faster (docs/mapping.md).
  const std::string qkv = "{op: matmul, name: qkv, m: 16, k: 4096, n: 6144, dtype: bf16}";
  std::ofstream(dir_ + "/qkv.yaml") << "workload:\n  name: qkv\n  ops:\n    - " << qkv << "\n";
  ASSERT_EQ(podsim_cli("map " + dir_ + "/qkv.yaml --hw tpu-v4 -k 4 -q --json " + dir_ + "/m.json").code, 0);
  const json m = json::parse(read_file(dir_ + "/m.json"));
  const Outcome o = podsim_cli("run " + dir_ + "/qkv.yaml --hw tpu-v4 --set chip.mapper=search --set chip.mapper_candidates=4 "
                               "--json " + dir_ + "/s.json");
  ASSERT_EQ(o.code, 0) << o.output;
  const json s = json::parse(read_file(dir_ + "/s.json"));
  const json& op = m["ops"][0];
  EXPECT_DOUBLE_EQ(s["summary"]["time_s"].get<double>(), op["best_s"].get<double>());
  EXPECT_LT(s["summary"]["time_s"].get<double>(), run_time(qkv, ""));  // the heuristic's, unpinned
  EXPECT_EQ(s["mapper_search"]["simulations"].get<int>(), m["simulations"].get<int>());
  EXPECT_EQ(s["mapper_search"]["retiled_ops"].get<int>(), op["best"].get<int>() == 0 ? 0 : 1);
  EXPECT_NE(o.output.find("mapper           search"), std::string::npos) << o.output;
}

// On a workload of several ops (one of them twice), the searched run is never slower than
// the heuristic's: both whole runs are simulated and the faster kept (ops searched alone
// miss their neighbours). The report does not depend on -j.
TEST_F(Map, SearchMapperIsNeverSlowerOnAWholeWorkloadAndIgnoresTheJobs) {
  const std::string run = "run " + dir_ + "/w.yaml --hw tpu-v4 -q --json ";
  ASSERT_EQ(podsim_cli(run + dir_ + "/h.json").code, 0);
  ASSERT_EQ(podsim_cli(run + dir_ + "/a.json --set chip.mapper=search -j 1").code, 0);
  ASSERT_EQ(podsim_cli(run + dir_ + "/b.json --set chip.mapper=search -j 2").code, 0);
  EXPECT_EQ(read_file(dir_ + "/a.json"), read_file(dir_ + "/b.json"));
  const json h = json::parse(read_file(dir_ + "/h.json")), a = json::parse(read_file(dir_ + "/a.json"));
  const json& ms = a["mapper_search"];
  EXPECT_LE(a["summary"]["time_s"].get<double>(), h["summary"]["time_s"].get<double>());
  EXPECT_DOUBLE_EQ(ms["whole_heuristic_s"].get<double>(), h["summary"]["time_s"].get<double>());
  EXPECT_DOUBLE_EQ(a["summary"]["time_s"].get<double>(),
                   ms["kept"] == "search" ? ms["whole_searched_s"].get<double>() : ms["whole_heuristic_s"].get<double>());
  EXPECT_EQ(ms["distinct_ops"].get<int>(), 2);  // gemv2 is gemv again
  EXPECT_FALSE(h.contains("mapper_search"));
}

// A training step's gradient matmuls are searched too (other shapes than the forward ops),
// while a tiling the workload pins on a forward op does not reach its gradients.
TEST_F(Map, SearchCoversATrainingStepsGradients) {
  std::ofstream(dir_ + "/t.yaml") << "workload:\n  name: t\n  training: {optimizer: sgd}\n  ops:\n"
                                     "    - {op: matmul, name: fc, m: 512, k: 1024, n: 256, dtype: bf16, tile: [128, 128, 128]}\n";
  ASSERT_EQ(podsim_cli("map " + dir_ + "/t.yaml --hw tpu-v4 -k 2 -q --json " + dir_ + "/m.json").code, 0);
  const json m = json::parse(read_file(dir_ + "/m.json"));
  bool gradient = false;
  for (const auto& op : m["ops"]) {
    const std::string name = op["name"].get<std::string>();
    gradient = gradient || name.find(".d") != std::string::npos;
  }
  EXPECT_TRUE(gradient) << m.dump(1);
  // The pin still holds on the forward op (validate prints each op's tiling).
  const Outcome v = podsim_cli("validate " + dir_ + "/t.yaml --hw tpu-v4");
  ASSERT_EQ(v.code, 0) << v.output;
  EXPECT_NE(v.output.find("fc               tiles 128x128x128"), std::string::npos) << v.output;
}

// A tiling the workload pins is kept: the search changes only what the heuristic chose.
TEST_F(Map, SearchMapperKeepsATilingTheWorkloadPins) {
  const std::string pinned = "{op: matmul, name: g, m: 16, k: 2048, n: 4096, dtype: bf16, tile: [16, 128, 128]}";
  const double heuristic = run_time(pinned, "");
  EXPECT_DOUBLE_EQ(run_time(pinned, " --set chip.mapper=search"), heuristic);
}

// The search runs one chip's ops; over a pod it is refused with the key named (exit 2).
TEST_F(Map, SearchMapperRefusesAPod) {
  const Outcome o = podsim_cli("run " + dir_ + "/w.yaml --hw tpu-v4-pod --set pod.dims=2x2x1 --set chip.mapper=search -q");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("chip.mapper=search"), std::string::npos) << o.output;
}

// The learned cost model end to end: samples from `map --csv`, a model from `--learn`, and
// a search ranked by it; the learned estimates are in the JSON, every candidate simulated
// is still what the search ran, and bad uses are input errors.
TEST_F(Map, LearnsFromItsOwnSamplesAndRanksByTheModel) {
  ASSERT_EQ(podsim_cli("map " + dir_ + "/w.yaml --hw tpu-v4 -k 8 -q --csv " + dir_ + "/v4.csv").code, 0);
  ASSERT_EQ(podsim_cli("map " + dir_ + "/w.yaml --hw tpu-v3 -k 8 -q --csv " + dir_ + "/v3.csv").code, 0);
  const Outcome learn = podsim_cli("map --learn " + dir_ + "/v4.csv," + dir_ + "/v3.csv --model " + dir_ + "/m.json");
  ASSERT_EQ(learn.code, 0) << learn.output;
  EXPECT_NE(learn.output.find("learned cost model: "), std::string::npos) << learn.output;
  EXPECT_NE(learn.output.find("tpu-v3 held out"), std::string::npos) << learn.output;
  const Outcome ranked = podsim_cli("map " + dir_ + "/w.yaml --hw tpu-v4 -k 2 --model " + dir_ + "/m.json --json " + dir_ +
                                    "/r.json");
  ASSERT_EQ(ranked.code, 0) << ranked.output;
  EXPECT_NE(ranked.output.find("ranked by the learned cost model"), std::string::npos) << ranked.output;
  const json r = json::parse(read_file(dir_ + "/r.json"));
  EXPECT_TRUE(r["learned"].get<bool>());
  for (const auto& op : r["ops"]) {
    // The heuristic's and the model's two best, and as many as the one-core chip would
    // simulate, on one core (less those already there).
    ASSERT_GE(op["candidates"].size(), 3u);
    ASSERT_LE(op["candidates"].size(), 6u);
    for (const auto& c : op["candidates"]) {
      EXPECT_GT(c["learned_s"].get<double>(), 0);
      EXPECT_GT(c["simulated_s"].get<double>(), 0);
    }
    // Beside the heuristic's, the model's two best, in its order.
    EXPECT_LE(op["candidates"][1]["learned_s"].get<double>(), op["candidates"][2]["learned_s"].get<double>());
  }
  Outcome o = podsim_cli("map --learn " + dir_ + "/v4.csv");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("--model"), std::string::npos) << o.output;
  std::ofstream(dir_ + "/bad.json") << "{\"format\": \"x\"}";
  o = podsim_cli("map " + dir_ + "/w.yaml --hw tpu-v4 --model " + dir_ + "/bad.json");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("bad.json: expected a model"), std::string::npos) << o.output;
  o = podsim_cli("map --learn /dev/zero --model " + dir_ + "/z.json");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("/dev/zero: not a regular file"), std::string::npos) << o.output;
  o = podsim_cli("map " + dir_ + "/w.yaml --hw tpu-v4 --model /dev/zero");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("/dev/zero: not a regular file"), std::string::npos) << o.output;
  // The model file never replaces a sample it learns from.
  const std::string before = read_file(dir_ + "/v4.csv");
  o = podsim_cli("map --learn " + dir_ + "/v4.csv --model " + dir_ + "/v4.csv");
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(read_file(dir_ + "/v4.csv"), before);
}

}  // namespace
