// Sweeps under power budgets and the Pareto front (`podsim sweep --pareto`), issue 19.
// The front is checked against a brute-force reading of the sweep's own results.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "podsim/sweep/pareto.h"
#include "run_command.h"
#include "test_paths.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using podsim::ParetoObjective;

using podsim::test::fresh_dir;

fs::path write_power_sweep(const fs::path& dir, const std::string& budget) {
  const fs::path f = dir / "power.yaml";
  std::ofstream(f) << "sweep:\n"
                      "  hardware: tpu-v3\n"
                      "  workload: " << podsim::test::source_path("workloads/gemm-example.yaml") << "\n"
                      "  grid:\n"
                      "    chip.clock: [500 MHz, 940 MHz, 1500 MHz]\n"
                      "    chip.energy.node: [16nm, 7nm]\n"
                      "    chip.energy.static_power: [20 W, 60 W]\n"
                      "  budgets: [\"" << budget << "\"]\n"
                      "  metrics: [time_s, energy_j, average_power_w]\n";
  return f;
}

std::vector<json> records(const fs::path& dir) {
  std::vector<json> out;
  std::stringstream in(podsim::test::read_file((dir / "results.jsonl").string()));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

TEST(ParetoFront, KeepsExactlyThePointsNoOtherBeatsOnEveryObjective) {
  const std::vector<ParetoObjective> min2 = {{"t", false}, {"e", false}};
  // (1,5) (2,2) (5,1) trade off; (3,3) is beaten by (2,2); (2,2) twice: both kept.
  const std::vector<std::vector<double>> v = {{1, 5}, {3, 3}, {2, 2}, {5, 1}, {2, 2}, {6, 6}};
  EXPECT_EQ(podsim::pareto_front(v, min2), (std::vector<std::size_t>{0, 2, 3, 4}));
  // Maximizing e instead: (1,5) has the least t and (6,6) the most e; (1,5) beats the rest
  // on both.
  const std::vector<ParetoObjective> mixed = {{"t", false}, {"e", true}};
  EXPECT_EQ(podsim::pareto_front(v, mixed), (std::vector<std::size_t>{0, 5}));
  std::vector<ParetoObjective> objs;
  std::string why;
  EXPECT_TRUE(podsim::parse_pareto_objectives("time_s,tops_per_w:max", &objs, &why));
  ASSERT_EQ(objs.size(), 2u);
  EXPECT_TRUE(objs[1].maximize);
  EXPECT_FALSE(podsim::parse_pareto_objectives("time_s", &objs, &why));
  EXPECT_FALSE(podsim::parse_pareto_objectives("time_s,energy_j:most", &objs, &why));
  EXPECT_NE(why.find("min or max"), std::string::npos);
}

TEST(SweepBudget, PointsPastAPowerBudgetAreMarkedAndLeftOffTheFront) {
  const fs::path dir = fresh_dir("budget");
  const fs::path out = dir / "out";
  const auto o = podsim::test::run_shell(std::string(PODSIM_BINARY) + " sweep " + write_power_sweep(dir, "average_power_w <= 100").string() +
                                         " -j2 --out " + out.string() + " --pareto time_s,energy_j");
  ASSERT_EQ(o.code, 0) << o.output;
  const std::vector<json> rs = records(out);
  ASSERT_EQ(rs.size(), 12u);
  std::vector<std::vector<double>> ok_values;
  std::vector<std::uint64_t> ok_points;
  int over = 0;
  for (const json& r : rs) {
    const double w = r["metrics"]["average_power_w"].get<double>();
    if (w > 100) {
      ++over;
      EXPECT_EQ(r["status"], "over_budget") << r.dump();
      EXPECT_NE(r["error"].get<std::string>().find("average_power_w <= 100"), std::string::npos);
    } else {
      EXPECT_EQ(r["status"], "ok") << r.dump();
      ok_values.push_back({r["metrics"]["time_s"].get<double>(), r["metrics"]["energy_j"].get<double>()});
      ok_points.push_back(r["point"].get<std::uint64_t>());
    }
  }
  EXPECT_GT(over, 0);  // the sweep reaches past 100 W: a budget that binds
  EXPECT_NE(o.output.find("over budget"), std::string::npos) << o.output;
  // Brute force: a point is on the front unless another ok point is no worse on both and
  // better on one.
  std::vector<std::uint64_t> expected;
  for (std::size_t i = 0; i < ok_values.size(); ++i) {
    bool beaten = false;
    for (std::size_t j = 0; j < ok_values.size(); ++j)
      beaten = beaten || (ok_values[j][0] <= ok_values[i][0] && ok_values[j][1] <= ok_values[i][1] &&
                          (ok_values[j][0] < ok_values[i][0] || ok_values[j][1] < ok_values[i][1]));
    if (!beaten) expected.push_back(ok_points[i]);
  }
  std::vector<std::uint64_t> front;
  std::stringstream in(podsim::test::read_file((out / "pareto.jsonl").string()));
  std::string line;
  while (std::getline(in, line)) front.push_back(json::parse(line)["point"].get<std::uint64_t>());
  EXPECT_EQ(front, expected);
  EXPECT_FALSE(front.empty());
  const std::string csv = podsim::test::read_file((out / "pareto.csv").string());
  EXPECT_EQ(csv.rfind("point,chip.clock [Hz],chip.energy.node,chip.energy.static_power [W],time_s,energy_j,average_power_w\n", 0), 0u)
      << csv;
}

TEST(SweepBudget, BadBudgetsAndObjectivesAreInputErrors) {
  const fs::path dir = fresh_dir("budget-bad");
  auto run = [&](const std::string& budget, const std::string& extra) {
    return podsim::test::run_shell(std::string(PODSIM_BINARY) + " sweep " + write_power_sweep(dir, budget).string() +
                                   " --out " + (dir / "out").string() + extra);
  };
  auto o = run("average_pwr_w <= 100", "");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("sweep.budgets[0]"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("average_power_w"), std::string::npos) << o.output;  // the nearest name
  o = run("average_power_w <= lots", "");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("not a number"), std::string::npos) << o.output;
  o = run("average_power_w <= 100", " --pareto time_s,tops_per_w:max");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("not among the sweep's metrics"), std::string::npos) << o.output;
  EXPECT_FALSE(fs::exists(dir / "out" / "results.csv"));  // refused before any point ran
}

}  // namespace
