// ZeRO sharding over the data group (workload.parallelism.zero): what each chip holds and
// updates, and the collectives that replace the gradient all-reduce, against closed forms
// from the parameter count.
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

// Two GPT layers (d_model 1024, 8 heads, FFN 4096) split over 2 tensor ranks, 4 data ranks
// on 8 chips: each chip holds P = 2 x 12 x 1024^2 / 2 weights.
constexpr std::uint64_t kP = 2ULL * 12 * 1024 * 1024 / 2;
constexpr std::uint64_t kData = 4;

std::string gpt(int zero, const std::string& master = "fp32") {
  return write_temp("gpt-zero" + std::to_string(zero) + master + ".yaml",
                    "workload:\n"
                    "  name: gpt-zero\n"
                    "  training: {optimizer: adam, precision: {compute: bf16, master: " + master + "}}\n"
                    "  parallelism: {tensor: 2, data: 4, zero: " + std::to_string(zero) + "}\n"
                    "  ops:\n"
                    "    - {op: template, template: transformer_decoder, name: gpt, batch: 2, seq: 512, d_model: 1024, "
                    "heads: 8, d_ff: 4096, layers: 2, dtype: bf16}\n");
}

json run(const std::string& wl, const std::string& tag) {
  const std::string out = testing::TempDir() + tag + ".json";
  const Outcome o = podsim("run -q " + wl + " --hw tpu-v3-pod --set pod.dims=4x2 --json " + out);
  EXPECT_EQ(o.code, 0) << o.output;
  return json::parse(read_file(out));
}

// Rows updated per chip: the optimizer ops' shapes are "adam Rx1".
std::uint64_t updated_rows(const json& r) {
  std::uint64_t rows = 0;
  for (const json& op : r["ops"])
    if (op["kind"] == "optimizer") {
      std::smatch m;
      const std::string shape = op["shape"];
      EXPECT_TRUE(std::regex_search(shape, m, std::regex("(\\d+)x1"))) << shape;
      rows += std::stoull(m[1]);
    }
  return rows;
}

TEST(ZeroSharding, EachChipHoldsAndUpdatesItsShare) {
  const json none = run(gpt(0), "zero0"), one = run(gpt(1), "zero1"), two = run(gpt(2), "zero2");
  // Unsharded: fp32 weights, two fp32 moments, fp32 gradients, all P.
  const json& f0 = none["memory_footprint"];
  EXPECT_EQ(f0["weights_bytes"].get<std::uint64_t>(), 4 * kP);
  EXPECT_EQ(f0["optimizer_state_bytes"].get<std::uint64_t>(), 8 * kP);
  EXPECT_EQ(f0["gradient_bytes"].get<std::uint64_t>(), 4 * kP);
  // ZeRO-1: a quarter of the fp32 masters and moments, plus every weight in bf16.
  const json& f1 = one["memory_footprint"];
  EXPECT_EQ(f1["state_shards"].get<std::uint64_t>(), kData);
  EXPECT_EQ(f1["gradient_shards"].get<std::uint64_t>(), 1u);
  EXPECT_EQ(f1["weights_bytes"].get<std::uint64_t>(), 4 * kP / kData + 2 * kP);
  EXPECT_EQ(f1["optimizer_state_bytes"].get<std::uint64_t>(), 8 * kP / kData);
  EXPECT_EQ(f1["gradient_bytes"].get<std::uint64_t>(), 4 * kP);
  // ZeRO-2: the gradients too.
  const json& f2 = two["memory_footprint"];
  EXPECT_EQ(f2["gradient_shards"].get<std::uint64_t>(), kData);
  EXPECT_EQ(f2["gradient_bytes"].get<std::uint64_t>(), 4 * kP / kData);
  EXPECT_EQ(f2["stashed_activation_bytes"], f0["stashed_activation_bytes"]);
  // The update covers the chip's share only: P rows unsharded, P / 4 with ZeRO; Adam reads
  // weight, gradient and two moments and writes three of them, fp32.
  EXPECT_EQ(updated_rows(none), kP);
  EXPECT_EQ(updated_rows(two), kP / kData);
  const json* upd = nullptr;
  for (const json& k : two["by_kind"])
    if (k["kind"] == "optimizer") upd = &k;
  ASSERT_NE(upd, nullptr);
  EXPECT_EQ((*upd)["hbm_read_bytes"].get<std::uint64_t>(), 16 * kP / kData);
  EXPECT_EQ((*upd)["hbm_write_bytes"].get<std::uint64_t>(), 12 * kP / kData);
  for (const json* r : {&none, &one, &two})
    for (const json& inv : (*r)["invariants"]) EXPECT_TRUE(inv["ok"].get<bool>()) << inv["name"];
}

TEST(ZeroSharding, GradientsAreReduceScatteredAndWeightsAllGathered) {
  const json none = run(gpt(0), "c0"), two = run(gpt(2), "c2");
  // Tensor rank 0's data group (chips 0, 2, 4, 6); rank 1's has the same.
  auto bytes_of = [](const json& r, const std::string& kind, const std::string& prefix) {
    std::uint64_t b = 0, n = 0;
    for (const json& c : r["pod"]["collectives"])
      if (const std::string name = c["name"];
          c["kind"] == kind && name.rfind(prefix, 0) == 0 && name.find("tensor rank 0") != std::string::npos) {
        b += c["bytes"].get<std::uint64_t>();
        ++n;
      }
    return std::make_pair(b, n);
  };
  // Chip 0's bf16 gradients: all-reduced without ZeRO, reduce-scattered with it; none of the other kind.
  EXPECT_EQ(bytes_of(none, "all_reduce", "grad_bucket").first, 2 * kP);
  EXPECT_EQ(bytes_of(none, "reduce_scatter", "grad_bucket").second, 0u);
  EXPECT_EQ(bytes_of(none, "all_gather", "weight_all_gather").second, 0u);
  EXPECT_EQ(bytes_of(two, "reduce_scatter", "grad_bucket").first, 2 * kP);
  EXPECT_EQ(bytes_of(two, "all_reduce", "grad_bucket").second, 0u);
  // After the update, one all-gather of every weight in bf16 per data group.
  const auto gathered = bytes_of(two, "all_gather", "weight_all_gather");
  EXPECT_EQ(gathered.first, 2 * kP);
  EXPECT_EQ(gathered.second, 1u);
}

// ZeRO-3: the weights shard too; each pass gathers every weight once before the op that
// reads it (a layer's recompute and dX share the backward one), in bf16; no all-gather
// after the update. The chip holds its fp32 share and, gathered, the largest op's weights
// twice over (the running op's and the next one's): FFN1 and FFN2, 1024 x 4096 / 2 each.
TEST(ZeroSharding, StageThreeGathersTheWeightsBeforeEachOpThatReadsThem) {
  for (const bool recompute : {false, true}) {
    std::string text = read_file(gpt(0));
    text = std::regex_replace(text, std::regex("zero: 0"), "zero: 3");
    if (recompute) text = std::regex_replace(text, std::regex("training: \\{"), "training: {recompute: full, ");
    const json r = run(write_temp(recompute ? "z3r.yaml" : "z3.yaml", text), recompute ? "z3r" : "z3");
    const json& f = r["memory_footprint"];
    EXPECT_TRUE(f["weights_sharded"].get<bool>());
    const std::uint64_t largest = 1024ULL * 4096 / 2;
    EXPECT_EQ(f["weights_bytes"].get<std::uint64_t>(), 4 * kP / kData + 2 * largest * 2);
    EXPECT_EQ(f["optimizer_state_bytes"].get<std::uint64_t>(), 8 * kP / kData);
    EXPECT_EQ(f["gradient_bytes"].get<std::uint64_t>(), 4 * kP / kData);
    bool recomputed = false;
    for (const json& op : r["ops"]) recomputed = recomputed || op["name"].get<std::string>().find(".recompute") != std::string::npos;
    EXPECT_EQ(recomputed, recompute);
    std::uint64_t gathered = 0, gathers = 0, after_update = 0;
    for (const json& c : r["pod"]["collectives"]) {
      const std::string name = c["name"];
      if (name.rfind("weight_gather ", 0) == 0) {
        EXPECT_EQ(c["chips"].get<int>(), int(kData)) << name;
        EXPECT_EQ(c["kind"], "all_gather") << name;
        gathered += c["bytes"].get<std::uint64_t>();
        ++gathers;
      }
      if (name.rfind("weight_all_gather", 0) == 0) ++after_update;
    }
    // Both tensor ranks' groups: 2 layers x 4 weight matmuls x 2 passes each.
    EXPECT_EQ(gathers, 2u * 2 * 4 * 2) << recompute;
    EXPECT_EQ(gathered, 2 * 2 * kP * 2) << recompute;
    EXPECT_EQ(after_update, 0u);
    for (const json& inv : r["invariants"]) EXPECT_TRUE(inv["ok"].get<bool>()) << inv["name"];
  }
}

// With master weights in the compute type there is no separate working copy: the weights
// stay whole, only the moments (and gradients) shard.
TEST(ZeroSharding, EqualMasterAndComputeTypesKeepTheWeightsWhole) {
  const json r = run(gpt(2, "bf16"), "bf16");
  const json& f = r["memory_footprint"];
  EXPECT_EQ(f["weights_bytes"].get<std::uint64_t>(), 2 * kP);
  EXPECT_EQ(f["optimizer_state_bytes"].get<std::uint64_t>(), 4 * kP / kData);
  EXPECT_EQ(f["gradient_bytes"].get<std::uint64_t>(), 2 * kP / kData);
}

TEST(ZeroSharding, BadStagesAreInputErrors) {
  std::string text = read_file(gpt(0));
  Outcome o = podsim("run " + write_temp("z4.yaml", std::regex_replace(text, std::regex("zero: 0"), "zero: 4")) +
                     " --hw tpu-v3-pod --set pod.dims=4x2");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("z4.yaml:4"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("workload.parallelism.zero"), std::string::npos) << o.output;
  const std::string infer = std::regex_replace(std::regex_replace(text, std::regex("  training: .*\\n"), ""),
                                               std::regex("zero: 0"), "zero: 1");
  o = podsim("run " + write_temp("zinf.yaml", infer) + " --hw tpu-v3-pod --set pod.dims=4x2");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("zinf.yaml:3"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("no 'training:' section"), std::string::npos) << o.output;
}

}  // namespace
