// `podsim reproduce`: anchor files, the value expression, the judgement and exit codes,
// and docs/validation.md kept equal to what the anchors give.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "podsim/validation/anchor_expr_eval.h"
#include "podsim/validation/reproduce.h"
#include "run_command.h"
#include "test_paths.h"

namespace {

using podsim::test::Outcome;
namespace fs = std::filesystem;

Outcome podsim_cli(const std::string& args) { return podsim::test::run_shell(std::string(PODSIM_BINARY) + " " + args); }

// An anchor file's text: the fixed header, then `tolerance`, one run named `run` on
// `workload` (tpu-v1) and the `value` expression. `value` stands on line 11.
std::string anchor_yaml(const std::string& tolerance, const std::string& run, const std::string& workload,
                        const std::string& value) {
  return "anchor:\n  name: x\n  group: g\n  claim: c\n  source: s\n  published: 1\n  unit: u\n"
         "  tolerance: " + tolerance + "\n  runs:\n    " + run + ": {workload: " + workload +
         ", hardware: tpu-v1}\n  value: " + value + "\n  kind: spec\n";
}

// A folder of the test's own, removed at the end.
class ReproduceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = testing::TempDir() + "reproduce-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  // An anchor on a 256^3 int8 matmul on tpu-v1 whose value is the chip's peak, which is
  // 65,536 MACs x 2 x 700 MHz = 91.75 TOPS (Jouppi et al. 2017, Table 2).
  std::string peak_anchor(const std::string& name, double published, const std::string& extra = "") {
    // Workloads live in a subfolder: every *.yaml directly in an anchor folder is an anchor.
    write("workloads/w.yaml", "workload:\n  name: w\n  ops:\n    - {op: matmul, name: mm, m: 256, k: 256, n: 256, dtype: int8}\n");
    return write(name + ".yaml", "anchor:\n  name: " + name + "\n  group: g\n  kind: spec\n  claim: c\n  source: s\n  published: " +
                                     std::to_string(published) + "\n  unit: TOPS\n  tolerance: 1%\n" + extra +
                                     "  runs:\n    r: {workload: workloads/w.yaml, hardware: tpu-v1}\n"
                                     "  value: r.summary.peak_tflops\n");
  }
  fs::path dir_;
};

TEST_F(ReproduceTest, ExpressionFollowsArithmeticPrecedenceOverReports) {
  const auto e = podsim::parse_anchor_expr("1000 * (a.summary.x - 2) / b.list[1].y + 0.5", {"a", "b"}, {"f", 1, 1}, "v");
  std::map<std::string, nlohmann::json> reports;
  reports["a"] = nlohmann::json::parse(R"({"summary": {"x": 6}})");
  reports["b"] = nlohmann::json::parse(R"({"list": [{"y": 1}, {"y": 8}]})");
  // 1000 * (6 - 2) / 8 + 0.5 = 500.5
  EXPECT_DOUBLE_EQ(podsim::evaluate_anchor_expr(*e, reports), 500.5);
  // A key the report lacks is named.
  const auto missing = podsim::parse_anchor_expr("a.summary.nope", {"a"}, {"f", 1, 1}, "v");
  try {
    podsim::evaluate_anchor_expr(*missing, reports);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& err) {
    EXPECT_NE(std::string(err.what()).find("nope"), std::string::npos) << err.what();
  }
}

TEST_F(ReproduceTest, BadExpressionsAreInputErrorsWithTheirPlace) {
  EXPECT_THROW(podsim::parse_anchor_expr("c.summary.x", {"a"}, {"f", 3, 4}, "anchor.value"), podsim::ConfigError);
  EXPECT_THROW(podsim::parse_anchor_expr("a.summary.x /", {"a"}, {"f", 3, 4}, "anchor.value"), podsim::ConfigError);
  EXPECT_THROW(podsim::parse_anchor_expr("(1 + 2", {"a"}, {"f", 3, 4}, "anchor.value"), podsim::ConfigError);
  EXPECT_THROW(podsim::parse_anchor_expr("a", {"a"}, {"f", 3, 4}, "anchor.value"), podsim::ConfigError);
  const std::string bad = write("bad.yaml", anchor_yaml("5%", "r", "w.yaml", "r.summary.time_s * q.summary.time_s"));
  const Outcome o = podsim_cli("reproduce " + bad);
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("bad.yaml:11:"), std::string::npos) << o.output;  // file:line of `value`
  EXPECT_NE(o.output.find("'q' is not one of the anchor's runs"), std::string::npos) << o.output;
}

TEST_F(ReproduceTest, UnknownKeysAndToleranceOutOfRangeAreRejected) {
  peak_anchor("ok", 91.75);
  const std::string typo = write("typo.yaml", "anchor:\n  name: x\n  tolerence: 5%\n");
  Outcome o = podsim_cli("reproduce " + typo);
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("tolerance"), std::string::npos) << o.output;  // the nearest valid key
  const std::string nan = write("nan.yaml", anchor_yaml("nan", "r", "w.yaml", "1"));
  o = podsim_cli("reproduce " + nan);
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("anchor.tolerance"), std::string::npos) << o.output;
}

TEST_F(ReproduceTest, PassFailKnownAndUnexpectedPassGiveTheirExitCodes) {
  const std::string pass = peak_anchor("pass", 91.75);
  Outcome o = podsim_cli("reproduce " + pass);
  EXPECT_EQ(o.code, 0) << o.output;
  EXPECT_NE(o.output.find("1 anchors: 1 pass"), std::string::npos) << o.output;

  const std::string fail = peak_anchor("fail", 100);  // 91.75 is 8.25 % below: outside 1 %
  o = podsim_cli("reproduce " + fail);
  EXPECT_EQ(o.code, 1) << o.output;
  EXPECT_NE(o.output.find("-8.2%"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("FAIL"), std::string::npos) << o.output;

  const std::string known = peak_anchor("known", 100, "  known_failure: the reason\n");
  o = podsim_cli("reproduce " + known);
  EXPECT_EQ(o.code, 0) << o.output;
  EXPECT_NE(o.output.find("known"), std::string::npos) << o.output;

  const std::string xpass = peak_anchor("xpass", 91.75, "  known_failure: the reason\n");
  o = podsim_cli("reproduce " + xpass);
  EXPECT_EQ(o.code, 1) << o.output;
  EXPECT_NE(o.output.find("XPASS"), std::string::npos) << o.output;
}

TEST_F(ReproduceTest, AFailingRunIsAnErrorNamingTheRun) {
  write("w.yaml", "workload:\n  name: w\n  ops:\n    - {op: matmul, name: mm, m: 0, k: 256, n: 256, dtype: int8}\n");
  const std::string a = write("a.yaml", anchor_yaml("5%", "broken", "w.yaml", "broken.summary.time_s"));
  const Outcome o = podsim_cli("reproduce " + a);
  EXPECT_EQ(o.code, 1) << o.output;
  EXPECT_NE(o.output.find("ERROR"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("run 'broken'"), std::string::npos) << o.output;
}

TEST_F(ReproduceTest, JsonHoldsEveryAnchorWithItsStatus) {
  peak_anchor("p", 91.75);
  const std::string json = (dir_ / "out.json").string();
  const Outcome o = podsim_cli("reproduce " + dir_.string() + " -j 2 --json " + json);
  ASSERT_EQ(o.code, 0) << o.output;
  const auto j = nlohmann::json::parse(podsim::test::read_file(json));
  ASSERT_EQ(j["anchors"].size(), 1u);
  EXPECT_EQ(j["anchors"][0]["status"], "pass");
  EXPECT_NEAR(j["anchors"][0]["simulated"].get<double>(), 91.75, 0.01);
}

// The summary by kind of figure: three peak anchors on tpu-v1 (91.75 TOPS) against
// published 91.75, 100 and 80 are 0, 8.25 % and 14.69 % off: median 8.25 %, mean 7.65 %,
// one within its 1 % (the other two marked known so the run exits 0). The kind is required
// and checked.
TEST_F(ReproduceTest, ErrorsAreSummedUpByKindOfFigure) {
  peak_anchor("a", 91.75);
  peak_anchor("b", 100, "  known_failure: r\n");
  peak_anchor("c", 80, "  known_failure: r\n");
  const std::string json = (dir_ / "out.json").string();
  const Outcome o = podsim_cli("reproduce " + dir_.string() + " -j 2 --json " + json);
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_NE(o.output.find("by kind of figure: 3 spec: median |error| 8.2%, mean 7.6%, 1 within tolerance"),
            std::string::npos)
      << o.output;
  const auto k = nlohmann::json::parse(podsim::test::read_file(json))["by_kind"];
  ASSERT_TRUE(k.contains("spec")) << k.dump();
  EXPECT_FALSE(k.contains("measured")) << k.dump();  // no anchor of that kind: no row
  EXPECT_EQ(k["spec"]["anchors"], 3);
  EXPECT_EQ(k["spec"]["within_tolerance"], 1);
  const double b = 1 - 91.75 / 100, c = 91.75 / 80 - 1;
  EXPECT_NEAR(k["spec"]["median_abs_error"].get<double>(), b, 1e-3);
  EXPECT_NEAR(k["spec"]["mean_abs_error"].get<double>(), (b + c) / 3, 1e-3);

  // --kind picks anchors by kind: none of these is measured.
  Outcome only = podsim_cli("reproduce " + dir_.string() + " --kind measured");
  EXPECT_EQ(only.code, 2) << only.output;
  EXPECT_NE(only.output.find("no anchor matches --kind measured"), std::string::npos) << only.output;
  only = podsim_cli("reproduce " + dir_.string() + " --kind spec --filter a");
  EXPECT_EQ(only.code, 0) << only.output;
  EXPECT_NE(only.output.find("1 anchors: 1 pass"), std::string::npos) << only.output;

  const std::string bad = write("bad/x.yaml", "anchor:\n  name: x\n  group: g\n  kind: measurd\n");
  const Outcome e = podsim_cli("reproduce " + bad);
  EXPECT_EQ(e.code, 2) << e.output;
  EXPECT_NE(e.output.find("x.yaml:4:"), std::string::npos) << e.output;
  EXPECT_NE(e.output.find("anchor.kind"), std::string::npos) << e.output;
  EXPECT_NE(e.output.find("unknown kind 'measurd'"), std::string::npos) << e.output;
}

// docs/validation.md is generated from validation/; a change that moves an anchor's
// number must regenerate it (`podsim reproduce --markdown docs/validation.md`). The
// run also must exit 0: every anchor passes or is a known failure with its reason.
TEST_F(ReproduceTest, ValidationDocMatchesThePublishedAnchors) {
  const std::string md = (dir_ / "validation.md").string();
  const Outcome o =
      podsim_cli("reproduce " + podsim::test::source_path("validation") + " -j 2 --markdown " + md);
  EXPECT_EQ(o.code, 0) << o.output;
  // Paths in the doc are printed as given; make them relative to the source tree.
  std::string generated = podsim::test::read_file(md);
  const std::string prefix = podsim::test::source_path("");
  for (std::size_t at; (at = generated.find(prefix)) != std::string::npos;) generated.erase(at, prefix.size());
  EXPECT_EQ(generated, podsim::test::read_file(podsim::test::source_path("docs/validation.md")))
      << "docs/validation.md is stale: run `podsim reproduce --markdown docs/validation.md` from the source folder";
}

}  // namespace
