// The energy a report gives (docs/energy.md): its parts add up, each part is the run's
// counted actions times the energy per action the report states, and a value set with
// --set reaches the numbers.
#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "run_json.h"

namespace podsim::test {
namespace {

using nlohmann::json;

TEST(EnergyReport, PartsAddUpAndEachIsActionsTimesEnergyPerAction) {
  const json r = run_json(std::string(PODSIM_SOURCE_DIR) + "/workloads/mlp-block.yaml --hw tpu-v3 --set 'chip.energy.static_power=100 W'",
                          "energy-mlp");
  const json& e = r["energy"];
  const json& j = e["joules"];
  const double parts = j["mac"].get<double>() + j["vector"].get<double>() + j["sram"].get<double>() +
                       j["dram"].get<double>() + j["ici"].get<double>() + j["static"].get<double>();
  EXPECT_NEAR(j["total"].get<double>(), parts, 1e-12 * parts);
  EXPECT_DOUBLE_EQ(r["summary"]["energy_j"].get<double>(), j["total"].get<double>());
  // DRAM: every byte the summary moved, 8 bits each, at the preset's 3.9 pJ per bit.
  const double bytes = double(r["summary"]["hbm_read_bytes"].get<std::uint64_t>() +
                              r["summary"]["hbm_write_bytes"].get<std::uint64_t>());
  EXPECT_DOUBLE_EQ(e["pj_per_action"]["dram_bit"].get<double>(), 3.9);
  EXPECT_NEAR(j["dram"].get<double>(), bytes * 8 * 3.9e-12, 1e-9 * j["dram"].get<double>());
  // MACs: each op's MACs at its dtype's energy (every op of this workload is bf16).
  double macs = 0, op_energy = 0, op_static = 0;
  for (const json& op : r["ops"]) {
    macs += double(op["flops"].get<std::uint64_t>()) / 2;
    op_energy += op["energy_j"].get<double>();
    op_static += 100.0 * (op["end_s"].get<double>() - op["start_s"].get<double>());
  }
  EXPECT_GT(macs, 0);
  EXPECT_NEAR(j["mac"].get<double>(), macs * e["pj_per_action"]["mac_bf16"].get<double>() * 1e-12,
              1e-9 * j["mac"].get<double>());
  // Static: 100 W over the simulated time; the ops' shares over their spans.
  const double time = r["summary"]["time_s"].get<double>();
  EXPECT_NEAR(j["static"].get<double>(), 100.0 * time, 1e-9 * 100.0 * time);
  EXPECT_NEAR(op_energy, j["dynamic"].get<double>() + op_static, 1e-9 * op_energy);
  EXPECT_NEAR(r["summary"]["average_power_w"].get<double>(), j["total"].get<double>() / time, 1e-9 * 100);
  EXPECT_NEAR(r["summary"]["tops_per_w"].get<double>(), 2 * macs / j["total"].get<double>() * 1e-12,
              1e-9 * r["summary"]["tops_per_w"].get<double>());
}

TEST(EnergyReport, AnOverrideChangesOnlyItsPart) {
  const std::string wl = std::string(PODSIM_SOURCE_DIR) + "/workloads/mlp-block.yaml --hw tpu-v2";
  const json base = run_json(wl, "energy-base");
  const json twice = run_json(wl + " --set 'chip.energy.sram_byte=1.404 pJ'", "energy-sram");  // 16 nm: 0.702 pJ (tpu-v2: no static power)
  EXPECT_NEAR(twice["energy"]["joules"]["sram"].get<double>(), 2 * base["energy"]["joules"]["sram"].get<double>(),
              1e-9 * twice["energy"]["joules"]["sram"].get<double>());
  EXPECT_DOUBLE_EQ(twice["energy"]["joules"]["mac"].get<double>(), base["energy"]["joules"]["mac"].get<double>());
  EXPECT_EQ(twice["summary"]["time_s"], base["summary"]["time_s"]);  // energy never changes timing
  // Without a static power the report says the totals are dynamic only.
  EXPECT_FALSE(base["energy"]["static_power_known"].get<bool>());
  const Outcome text = run_shell(std::string(PODSIM_BINARY) + " run " + wl);
  EXPECT_NE(text.output.find("dynamic only: chip.energy.static_power not set"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("TOPS/W"), std::string::npos);
}

// Power over time (the trace's `power` counter): integrated over the run it gives the
// report's joules, and its highest step is the summary's peak power.
TEST(EnergyReport, PowerOverTimeIntegratesToTheEnergyAndPeaksAtThePeak) {
  const std::string trace = testing::TempDir() + "energy-power-trace.json";
  const json r = run_json(std::string(PODSIM_SOURCE_DIR) + "/workloads/mlp-block.yaml --hw tpu-v1 --trace " + trace,
                          "energy-trace");
  const json t = json::parse(read_file(trace));
  std::vector<std::pair<double, double>> steps;  // (us, W)
  for (const json& e : t["traceEvents"])
    if (e["ph"] == "C" && e["name"] == "power") steps.push_back({e["ts"].get<double>(), e["args"]["W"].get<double>()});
  ASSERT_GE(steps.size(), 3u);
  double joules = 0, peak = 0;
  for (std::size_t i = 0; i + 1 < steps.size(); ++i) {
    joules += steps[i].second * (steps[i + 1].first - steps[i].first) * 1e-6;
    peak = std::max(peak, steps[i].second);
  }
  const double time_us = r["summary"]["time_s"].get<double>() * 1e6;
  EXPECT_NEAR(steps.back().first, time_us, 1e-6 * time_us);
  const double total = r["summary"]["energy_j"].get<double>();
  EXPECT_NEAR(joules, total, 1e-6 * total);
  EXPECT_NEAR(peak, r["summary"]["peak_power_w"].get<double>(), 1e-9 * peak);
  EXPECT_GE(peak, r["summary"]["average_power_w"].get<double>());
  // Never below the static power (28 W on TPU v1).
  for (const auto& s : steps) EXPECT_GE(s.second, 28.0 - 1e-9);
}

// docs/labs.md, Lab 9: what it says about where the joules go, from closed forms.
TEST(EnergyReport, LabNineClaimsHold) {
  const std::string wl = write_temp("lab9.yaml",
                                    "workload:\n  ops:\n"
                                    "    - {op: matmul, name: gemv, m: 8, k: 4096, n: 4096, dtype: bf16}\n"
                                    "    - {op: matmul, name: gemm, m: 4096, k: 4096, n: 4096, dtype: bf16}\n"
                                    "    - {op: matmul, name: gemm8, m: 4096, k: 4096, n: 4096, dtype: int8}\n"
                                    "    - {op: matmul, name: gemv32, m: 32, k: 4096, n: 4096, dtype: bf16}\n"
                                    "    - {op: matmul, name: gemv128, m: 128, k: 4096, n: 4096, dtype: bf16}\n");
  // The lab looks at dynamic energy: the preset's static floor (123 W) is its last question.
  const json r = run_json(wl + " --hw tpu-v3 --set 'chip.energy.static_power=0 W'", "lab9");
  std::map<std::string, double> e;
  for (const json& op : r["ops"]) e[op["name"].get<std::string>()] = op["energy_j"].get<double>();
  // GEMV: reading the 4096 x 4096 bf16 weights once at 3.9 pJ per bit is at least 85 % of it.
  const double weights = 4096.0 * 4096 * 2 * 8 * 3.9e-12;
  EXPECT_GE(e["gemv"], weights);
  EXPECT_LE(e["gemv"], weights / 0.85);
  // GEMM: 4096^3 MACs at 0.562 pJ are most of it (more than two thirds).
  const double macs = 4096.0 * 4096 * 4096 * 0.562e-12;
  EXPECT_GE(e["gemm"], macs);
  EXPECT_LE(e["gemm"], macs / (2.0 / 3));
  // int8: at most 0.3 of the bf16 GEMM's energy (MAC 0.0843 / 0.562 = 0.15; half the bytes).
  EXPECT_LE(e["gemm8"], 0.3 * e["gemm"]);
  EXPECT_GE(e["gemm8"], 0.15 * e["gemm"]);
  // The lab's question: the GEMV's joules per FLOP come within 2x of the GEMM's between
  // m = 32 and m = 128 (closed form: (1.05 mJ + m x 9.4 uJ) / (2 m 4096^2) reaches 2 x 0.38
  // pJ near m = 64: 3.3x at 32, 1.4x at 128).
  const auto per_flop = [&](const char* op, double m) { return e[op] / (2.0 * m * 4096 * 4096); };
  const double gemm = per_flop("gemm", 4096);
  EXPECT_GT(per_flop("gemv32", 32), 2 * gemm);
  EXPECT_LT(per_flop("gemv128", 128), 2 * gemm);
}

// Energy by block (energy/block_energy.h): each dynamic part in its block, the static power
// over the die's blocks in proportion to their area, and the blocks add up to the total.
void expect_blocks_add_up(const json& r) {
  const json& j = r["energy"]["joules"];
  const json& b = r["energy"]["by_block"];
  const json& area = r["area"];
  double sum = 0;
  for (const auto& [name, e] : b.items()) {
    sum += e["total_j"].get<double>();
    EXPECT_NEAR(e["total_j"].get<double>(), e["dynamic_j"].get<double>() + e["static_j"].get<double>(), 1e-12);
    if (name == "dram") continue;
    ASSERT_TRUE(area["blocks"].contains(name)) << name;
    const double share = area["blocks"][name]["mm2"].get<double>() / area["chip_mm2"].get<double>();
    EXPECT_NEAR(e["static_j"].get<double>(), j["static"].get<double>() * share, 1e-9 * j["static"].get<double>()) << name;
  }
  EXPECT_NEAR(sum, j["total"].get<double>(), 1e-9 * j["total"].get<double>());
  EXPECT_DOUBLE_EQ(b["mxu"]["dynamic_j"].get<double>(), j["mac"].get<double>());
  EXPECT_DOUBLE_EQ(b["vector"]["dynamic_j"].get<double>(), j["vector"].get<double>());
  EXPECT_DOUBLE_EQ(b["dram"]["dynamic_j"].get<double>(), j["dram"].get<double>());
  const double cmem = b.contains("cmem") ? b["cmem"]["dynamic_j"].get<double>() : 0.0;
  EXPECT_NEAR(b["vmem"]["dynamic_j"].get<double>() + cmem, j["sram"].get<double>(), 1e-12 * j["sram"].get<double>());
}

TEST(EnergyReport, BlocksAddUpAndStaticPowerFollowsArea) {
  // One chip with an on-chip memory: its bytes are its own block's.
  const json one = run_json(std::string(PODSIM_SOURCE_DIR) +
                                "/workloads/mlp-block.yaml --hw tpu-v4 --set chip.cmem.capacity=128MiB "
                                "--set 'chip.cmem.bandwidth=1.2 TB/s'",
                            "energy-blocks");
  expect_blocks_add_up(one);
  ASSERT_TRUE(one["energy"]["by_block"].contains("cmem"));
  const double cmem_bytes = double(one["summary"]["cmem_read_bytes"].get<std::uint64_t>() +
                                   one["summary"]["cmem_write_bytes"].get<std::uint64_t>());
  EXPECT_GT(cmem_bytes, 0);
  EXPECT_NEAR(one["energy"]["by_block"]["cmem"]["dynamic_j"].get<double>(),
              cmem_bytes * one["energy"]["pj_per_action"]["sram_byte"].get<double>() * 1e-12, 1e-15 + 1e-9 * cmem_bytes);
  // A pod: every chip's actions, and the links' bits in the ICI block.
  const std::string wl = write_temp("blocks-dp.yaml",
                                    "workload:\n  training: {optimizer: sgd}\n  ops:\n"
                                    "    - {op: matmul, name: fc1, m: 256, k: 1024, n: 1024, dtype: bf16}\n");
  const json pod = run_json(wl + " --hw tpu-v3-pod --set pod.dims=2x2 --set 'chip.energy.ici_bit=5 pJ'", "energy-blocks-pod");
  expect_blocks_add_up(pod);
  EXPECT_GT(pod["energy"]["by_block"]["ici"]["dynamic_j"].get<double>(), 0);
  EXPECT_DOUBLE_EQ(pod["energy"]["by_block"]["ici"]["dynamic_j"].get<double>(), pod["energy"]["joules"]["ici"].get<double>());
}

// Lab 9's second part: joules per image at batch 1 and 256 (docs/labs.md).
TEST(EnergyReport, LabNinePerImageClaimsHold) {
  const std::string wl = std::string(PODSIM_SOURCE_DIR) + "/workloads/resnet50-infer.yaml --hw tpu-v3";
  const json one = run_json(wl + " --wset workload.ops.r50.batch=1", "lab9-b1");
  const json many = run_json(wl, "lab9-b256");
  ASSERT_EQ(one["summary"]["samples_per_step"].get<std::uint64_t>(), 1u);
  ASSERT_EQ(many["summary"]["samples_per_step"].get<std::uint64_t>(), 256u);
  const double j1 = one["summary"]["joules_per_sample"].get<double>();
  const double j256 = many["summary"]["joules_per_sample"].get<double>();
  // More than twice the joules an image at batch 1 (the lab: 2.4x).
  EXPECT_GT(j1, 2 * j256);
  // The static floor: 123 W (Cloud TPU docs' minimum) over the time an image takes.
  for (const json* r : {&one, &many}) {
    const double per_image_s = 1 / (*r)["summary"]["samples_per_s"].get<double>();
    const double per_image_static = (*r)["energy"]["joules"]["static"].get<double>() /
                                    double((*r)["summary"]["samples_per_step"].get<std::uint64_t>());
    EXPECT_NEAR(per_image_static, 123.0 * per_image_s, 1e-9 * per_image_static);
  }
  // The MACs an image cost the same at both batches: about 4.1 G MACs (He et al.'s figure)
  // at 16 nm's 0.562 pJ, within the template's 2 %.
  const double mac1 = one["energy"]["joules"]["mac"].get<double>();
  const double mac256 = many["energy"]["joules"]["mac"].get<double>() / 256;
  EXPECT_NEAR(mac1, mac256, 1e-9 * mac1);
  EXPECT_NEAR(mac1, 4.1e9 * 0.562e-12, 0.02 * mac1);
  // At batch 1 each image reads every weight from HBM: 25.6 M bf16 weights, 3.9 pJ a bit.
  const double weights_j = 25.6e6 * 2 * 8 * 3.9e-12;
  EXPECT_GE(one["energy"]["joules"]["dram"].get<double>(), weights_j);
  // Most of the drop is the static floor's (the lab's second claim).
  const double static1 = one["energy"]["joules"]["static"].get<double>();
  const double static256 = many["energy"]["joules"]["static"].get<double>() / 256;
  EXPECT_GT(static1 - static256, 0.75 * (j1 - j256));
}

}  // namespace
}  // namespace podsim::test

namespace podsim::test {
namespace {

TEST(AreaReport, BlocksAddUpToTheChipAndPerformancePerMm2IsAchievedOverAllChips) {
  const nlohmann::json r =
      run_json(std::string(PODSIM_SOURCE_DIR) + "/workloads/gemm-example.yaml --hw tpu-v3-pod --set pod.dims=2x2",
               "area-pod");
  const nlohmann::json& a = r["area"];
  double blocks = 0;
  for (const auto& [name, b] : a["blocks"].items()) blocks += b["mm2"].get<double>();
  EXPECT_NEAR(a["chip_mm2"].get<double>(), blocks, 1e-9 * blocks);
  EXPECT_DOUBLE_EQ(r["summary"]["area_mm2"].get<double>(), a["chip_mm2"].get<double>());
  EXPECT_TRUE(a["blocks"].contains("ici"));  // a pod: the chip's links count
  EXPECT_EQ(a["node"], "16nm");
  // Uncore is 23 % of the die: the other blocks are the remaining 77 %.
  EXPECT_NEAR(a["blocks"]["uncore"]["mm2"].get<double>(), 0.23 * blocks, 1e-9 * blocks);
  const double chips = double(r["summary"]["chips"].get<std::uint64_t>());
  EXPECT_EQ(chips, 4);
  EXPECT_NEAR(r["summary"]["tflops_per_mm2"].get<double>(),
              r["summary"]["achieved_tflops"].get<double>() / (chips * blocks), 1e-9);
}

}  // namespace
}  // namespace podsim::test

namespace podsim::test {
namespace {

TEST(EnergyReport, OffChipMemoryByCommandIsItsCountsTimesItsEnergies) {
  const std::string wl = std::string(PODSIM_SOURCE_DIR) + "/workloads/embedding-example.yaml --hw tpu-v3";
  const nlohmann::json bit = run_json(wl, "dram-per-bit");
  const nlohmann::json cmd = run_json(wl + " --set chip.energy.dram_model=per_command", "dram-per-command");
  EXPECT_EQ(bit["summary"]["time_s"], cmd["summary"]["time_s"]);  // energy never changes timing
  EXPECT_EQ(bit["energy"]["dram_model"], "per_bit");
  const nlohmann::json& e = cmd["energy"];
  ASSERT_EQ(e["dram_model"], "per_command");
  const nlohmann::json& j = e["dram_joules"];
  const nlohmann::json& pj = e["dram_pj"];
  const nlohmann::json& n = e["dram_commands"];
  const double read = double(cmd["summary"]["hbm_read_bytes"].get<std::uint64_t>()) * 8;
  const double written = double(cmd["summary"]["hbm_write_bytes"].get<std::uint64_t>()) * 8;
  EXPECT_GT(n["acts"].get<std::uint64_t>(), 0u);
  EXPECT_NEAR(j["act"].get<double>(), double(n["acts"].get<std::uint64_t>()) * pj["act"].get<double>() * 1e-12, 1e-15);
  EXPECT_NEAR(j["read"].get<double>(), read * pj["read_bit"].get<double>() * 1e-12, 1e-15);
  EXPECT_NEAR(j["write"].get<double>(), written * pj["write_bit"].get<double>() * 1e-12, 1e-15);
  EXPECT_NEAR(j["io"].get<double>(), (read + written) * pj["io_bit"].get<double>() * 1e-12, 1e-15);
  EXPECT_NEAR(j["refresh"].get<double>(),
              double(n["refreshes"].get<std::uint64_t>()) * pj["refresh"].get<double>() * 1e-12 +
                  double(n["bank_refreshes"].get<std::uint64_t>()) * pj["bank_refresh"].get<double>() * 1e-12,
              1e-15);
  const double parts = j["act"].get<double>() + j["read"].get<double>() + j["write"].get<double>() +
                       j["refresh"].get<double>() + j["io"].get<double>();
  EXPECT_NEAR(e["joules"]["dram"].get<double>(), parts, 1e-12 * parts);
  // Lookups of scattered rows pay their ACTs: more than the per-bit figure, which prices a stream.
  EXPECT_GT(e["joules"]["dram"].get<double>(), bit["energy"]["joules"]["dram"].get<double>());
}

}  // namespace
}  // namespace podsim::test

namespace podsim::test {
namespace {

// docs/labs.md, Lab 10. Shares and ratios follow from the area tables' closed forms
// (docs/energy.md) and from the ops' bounds: the 4096^3 GEMM is compute-bound (twice the
// MXUs, twice the TFLOPS), the batch-8 GEMV bound by HBM.
TEST(AreaReport, LabTenClaimsHold) {
  const std::string gemm = write_temp("lab10-gemm.yaml",
                                      "workload:\n  ops:\n    - {op: matmul, name: gemm, m: 4096, k: 4096, n: 4096, dtype: bf16}\n");
  const std::string gemv = write_temp("lab10-gemv.yaml",
                                      "workload:\n  ops:\n    - {op: matmul, name: gemv, m: 8, k: 4096, n: 4096, dtype: bf16}\n");
  const nlohmann::json a = run_json(gemm + " --hw tpu-v3", "lab10-a");
  const nlohmann::json b = run_json(gemm + " --hw tpu-v3 --set chip.mxus_per_core=4", "lab10-b");
  const nlohmann::json c = run_json(gemm + " --hw tpu-v3 --set chip.energy.node=7nm", "lab10-c");
  const nlohmann::json va = run_json(gemv + " --hw tpu-v3", "lab10-va");
  const nlohmann::json vb = run_json(gemv + " --hw tpu-v3 --set chip.mxus_per_core=4", "lab10-vb");
  auto share = [](const nlohmann::json& r, const char* block) {
    return r["area"]["blocks"][block]["mm2"].get<double>() / r["area"]["chip_mm2"].get<double>();
  };
  auto num = [](const nlohmann::json& r, const char* key) { return r["summary"][key].get<double>(); };
  // A quarter of the die is MXUs: 4 x 128^2 x 2,054 um2 = 134.6 mm2 of 538 (the lab's 25 %).
  EXPECT_NEAR(share(a, "mxu"), 0.25, 0.01);
  EXPECT_NEAR(share(a, "memory_io"), 0.22, 0.01);
  // Twice the MXUs: the MXU block doubles and the die grows by it over the 77 % that is not uncore.
  const double mxu = a["area"]["blocks"]["mxu"]["mm2"].get<double>();
  EXPECT_NEAR(b["area"]["blocks"]["mxu"]["mm2"].get<double>(), 2 * mxu, 1e-9 * mxu);
  EXPECT_NEAR(num(b, "area_mm2") - num(a, "area_mm2"), mxu / 0.77, 1e-6);
  EXPECT_NEAR(num(b, "area_mm2") / num(a, "area_mm2"), 1.32, 0.01);
  // The GEMM's TFLOPS double, so per mm2 it gains 2 / 1.32 = 1.5x; the GEMV's barely move.
  EXPECT_GT(num(b, "achieved_tflops"), 1.95 * num(a, "achieved_tflops"));
  EXPECT_NEAR(num(b, "tflops_per_mm2") / num(a, "tflops_per_mm2"), 2 / 1.32, 0.05);
  EXPECT_LT(num(vb, "achieved_tflops"), 1.10 * num(va, "achieved_tflops"));
  EXPECT_LT(num(vb, "tflops_per_mm2"), 0.85 * num(va, "tflops_per_mm2"));
  // 7 nm: logic to 0.40x and SRAM to 0.36x of 16 nm, the PHYs unchanged: under half the
  // area, and memory I/O a larger share.
  EXPECT_LT(num(c, "area_mm2"), 0.5 * num(a, "area_mm2"));
  EXPECT_GT(share(c, "memory_io"), share(a, "memory_io") + 0.05);
  EXPECT_EQ(c["summary"]["time_s"], a["summary"]["time_s"]);  // the node changes no timing
}

}  // namespace
}  // namespace podsim::test
