// `podsim plan`: the ranking it composes agrees with the full pod model, it rejects what
// does not fit HBM and says why, and it refuses workloads it cannot plan.
#include <fstream>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"
#include "test_paths.h"

namespace {

using nlohmann::json;
using podsim::test::Outcome;
using podsim::test::read_file;

Outcome podsim(const std::string& args) { return podsim::test::run_shell(std::string(PODSIM_BINARY) + " " + args); }

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

// Four GPT-style layers (d_model 1024, 8 heads), 16 sequences of 512 per step.
const char* kSmall =
    "workload:\n"
    "  name: small-gpt\n"
    "  training: {optimizer: adam, precision: {compute: bf16, master: fp32}}\n"
    "  parallelism: {tensor: 2, pipeline: 2, microbatches: 4, schedule: 1f1b}\n"
    "  ops:\n"
    "    - {op: template, template: transformer_decoder, name: gpt, batch: 2, seq: 512, d_model: 1024, heads: 8, "
    "d_ff: 4096, layers: 4, dtype: bf16}\n";

json plan_json(const std::string& args, const std::string& tag) {
  const std::string out = testing::TempDir() + tag + "-plan.json";
  const Outcome o = podsim("plan -q " + args + " --json " + out);
  EXPECT_EQ(o.code, 0) << o.output;
  return json::parse(read_file(out));
}

// The same workload with one candidate's parallelism written out, as a user would run it.
std::string candidate_yaml(const json& c, const std::string& tag) {
  std::string s = kSmall;
  const std::string par = "parallelism: {tensor: " + std::to_string(c["tensor"].get<int>()) +
                          ", pipeline: " + std::to_string(c["pipeline"].get<int>()) +
                          ", data: " + std::to_string(c["data"].get<int>()) +
                          ", microbatches: " + std::to_string(c["microbatches"].get<int>()) +
                          ", schedule: " + (c["schedule"] == "1f1b" ? "1f1b" : "gpipe") +
                          ", zero: " + std::to_string(c["zero"].get<int>()) +
                          ", gradient_bucket: " + std::to_string(c["gradient_bucket_bytes"].get<std::uint64_t>()) + " B}";
  s = std::regex_replace(s, std::regex("parallelism: \\{[^}]*\\}"), par);
  s = std::regex_replace(s, std::regex("batch: 2,"), "batch: " + std::to_string(c["micro_batch"].get<int>()) + ",");
  if (c["recompute"].get<bool>()) s = std::regex_replace(s, std::regex("training: \\{"), "training: {recompute: full, ");
  return write_temp(tag + ".yaml", s);
}

// The planner's composition (stage programs simulated alone, collectives one at a time on
// the network, the schedule in closed form) against the full pod model running the same
// configuration: measured from -11.6 % to +1.1 % (median -1.2 %, the best three within
// 3 %) on this workload's 40 best configurations with ZeRO layouts among them
// (docs/planner.md; the composition leaves out links shared by concurrent collectives);
// 5 % is the bound stated for the best three (all 40 were within 12 %, docs/planner.md).
TEST(Plan, StepTimesAgreeWithTheFullPodModel) {
  const std::string wl = write_temp("small.yaml", kSmall);
  const json plan = plan_json(wl + " --hw tpu-v3-pod --chips 8 --top 3", "agree");
  ASSERT_EQ(plan["best"].size(), 3u);
  EXPECT_EQ(plan["dims"], "4x2");
  EXPECT_EQ(plan["global_batch"], 16);  // 2 sequences x 4 microbatches x 2 replicas, as written
  for (std::size_t i = 0; i < plan["best"].size(); ++i) {
    const json& c = plan["best"][i];
    EXPECT_EQ(c["tensor"].get<int>() * c["pipeline"].get<int>() * c["data"].get<int>(), 8);
    EXPECT_EQ(c["data"].get<int>() * c["microbatches"].get<int>() * c["micro_batch"].get<int>(), 16);
    if (i) {
      EXPECT_LE(plan["best"][i - 1]["step_s"].get<double>(), c["step_s"].get<double>());
    }
    const std::string out = testing::TempDir() + "agree" + std::to_string(i) + ".json";
    const Outcome o = podsim("run -q " + candidate_yaml(c, "agree" + std::to_string(i)) +
                             " --hw tpu-v3-pod --set pod.dims=4x2 --json " + out);
    ASSERT_EQ(o.code, 0) << o.output;
    const double full = json::parse(read_file(out))["summary"]["time_s"].get<double>();
    EXPECT_NEAR(c["step_s"].get<double>() / full, 1.0, 0.05) << c["label"];
  }
}

// Branch and bound keeps the best: ranking every configuration exactly finds the same one.
TEST(Plan, PruningByTheLowerBoundKeepsTheBest) {
  const std::string wl = write_temp("small.yaml", kSmall);
  const json one = plan_json(wl + " --hw tpu-v3-pod --chips 8 --top 1", "bb1");
  const json all = plan_json(wl + " --hw tpu-v3-pod --chips 8 --top 1000", "bball");
  EXPECT_GT(one["pruned"].get<int>(), 0);
  EXPECT_EQ(all["pruned"].get<int>(), 0);
  ASSERT_FALSE(all["best"].empty());
  EXPECT_EQ(one["best"][0]["label"], all["best"][0]["label"]);
  for (const json& c : all["best"]) EXPECT_GE(c["step_s"].get<double>(), c["lower_bound_s"].get<double>()) << c["label"];
}

// The same plan whatever -j: the programs simulated, the estimates and the ranking. Until
// 2026-12-06 the programs were simulated in rounds of `jobs`, and more jobs simulated more
// programs before the lower bound pruned them (GPT-3 on 256 chips: 56 with -j 1, 59 with -j 2).
TEST(Plan, ReportIsByteIdenticalWhateverTheJobs) {
  const std::string wl = write_temp("small.yaml", kSmall);
  const std::string args = wl + " --hw tpu-v3-pod --chips 8 --top 3";
  for (const char* j : {"1", "3"}) {
    const Outcome o = podsim("plan -q " + args + " -j " + j + " --json " + testing::TempDir() + "jobs" + j + ".json");
    ASSERT_EQ(o.code, 0) << o.output;
  }
  const std::string a = read_file(testing::TempDir() + "jobs1.json"), b = read_file(testing::TempDir() + "jobs3.json");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
}

// With 768 MiB of HBM per chip, only layouts that spread the weights and optimizer state
// fit: every configuration shown fits, every rejection over capacity says so.
TEST(Plan, RejectsWhatDoesNotFitAndSaysWhy) {
  const std::string wl = write_temp("small.yaml", kSmall);
  const std::uint64_t cap = 768ULL << 20;
  const json plan = plan_json(wl + " --hw tpu-v3-pod --chips 8 --set chip.hbm.capacity='768 MiB'", "fit");
  EXPECT_EQ(plan["hbm_capacity_bytes"].get<std::uint64_t>(), cap);
  ASSERT_FALSE(plan["best"].empty());
  ASSERT_FALSE(plan["rejected"].empty());
  for (const json& c : plan["best"]) EXPECT_LE(c["hbm_per_chip_bytes"].get<std::uint64_t>(), cap) << c["label"];
  // 4 layers x 12 x 1024^2 parameters x 16 B (fp32 weights, two Adam moments, gradients)
  // = 768 MiB before any activation: unsplit (t1 p1) nothing else fits, so every t1 p1
  // layout without ZeRO is rejected. ZeRO-2 over 8 data ranks keeps P / 8 of the fp32
  // master weights, moments and gradients and every weight in bf16: P (4 + 8 + 4) / 8 + 2 P
  // = 4 P = 192 MiB, and those layouts fit.
  const std::uint64_t P = 4ULL * 12 * 1024 * 1024;
  int zero_unsplit = 0;
  for (const json& c : plan["best"]) {
    const bool unsplit = c["tensor"].get<int>() * c["pipeline"].get<int>() == 1;
    if (c["zero"].get<int>() == 0) {
      EXPECT_FALSE(unsplit) << c["label"];
    }
    if (!unsplit || c["zero"].get<int>() != 2) continue;
    ++zero_unsplit;
    EXPECT_EQ(c["hbm_per_chip_bytes"].get<std::uint64_t>() - c["stashed_activation_bytes"].get<std::uint64_t>(), 4 * P)
        << c["label"];
  }
  EXPECT_GT(zero_unsplit, 0);
  for (const json& c : plan["rejected"]) {
    const std::string why = c["rejected"];
    if (why.rfind("does not fit", 0) == 0) {
      EXPECT_GT(c["hbm_per_chip_bytes"].get<std::uint64_t>(), cap) << c["label"];
    }
  }
}

TEST(Plan, RefusesWhatItCannotPlan) {
  const std::string infer = write_temp("infer.yaml", std::regex_replace(std::string(kSmall), std::regex("  training: .*\\n"), ""));
  Outcome o = podsim("plan " + infer + " --hw tpu-v3-pod --chips 8");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("workload.training"), std::string::npos) << o.output;
  const std::string plain = write_temp("plain.yaml",
                                       "workload:\n  name: m\n  training: {optimizer: adam}\n  ops:\n"
                                       "    - {op: matmul, name: fc, m: 256, k: 512, n: 512, dtype: bf16}\n");
  o = podsim("plan " + plain + " --hw tpu-v3-pod --chips 8");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("plain.yaml:5"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("not a template"), std::string::npos) << o.output;
}

}  // namespace
