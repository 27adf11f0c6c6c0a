// Pod runs through the command line (one SystemC elaboration per process): folded against
// full simulation, data-parallel overlap and exposed communication, and the pod summary.
#include <cstdlib>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"
#include "test_paths.h"

namespace {

using podsim::test::Outcome;
using podsim::test::read_file;
using nlohmann::json;

Outcome podsim(const std::string& args) { return podsim::test::run_shell(std::string(PODSIM_BINARY) + " " + args); }

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

// A small training step: three layers, 1.6 M parameters, per-chip batch m.
std::string mlp_train(const std::string& bucket, const std::string& m = "256") {
  return write_temp("mlp-dp-" + bucket + "-" + m + ".yaml",
                    "workload:\n"
                    "  name: mlp-dp\n"
                    "  training: {optimizer: adam}\n"
                    "  parallelism: {gradient_bucket: " + bucket + "}\n"
                    "  ops:\n"
                    "    - {op: matmul, name: fc1, m: " + m + ", k: 512, n: 1024, dtype: bf16}\n"
                    "    - {op: matmul, name: fc2, m: " + m + ", k: 1024, n: 1024, dtype: bf16}\n"
                    "    - {op: matmul, name: fc3, m: " + m + ", k: 1024, n: 64, dtype: bf16}\n");
}

json run_json(const std::string& args, const std::string& name) {
  const std::string out = testing::TempDir() + name + ".json";
  const Outcome o = podsim("run -q " + args + " --json " + out);
  EXPECT_EQ(o.code, 0) << args << "\n" << o.output;
  return json::parse(read_file(out));
}

// Folding simulates one chip for a data-parallel pod; the full run simulates all of them.
// Identical chips with identical programs give identical op durations, so the two agree:
// within 1 % as asked, and in fact exactly (the time is compared to the last digit below).
void expect_folded_equals_full(const std::string& hw, const std::string& dims, const std::string& tag) {
  const std::string wl = mlp_train("2MiB");
  // --full-network: every chip's transfers in both, so only folding differs (the symmetric
  // network is compared with the full one below).
  const json folded = run_json(wl + " --hw " + hw + " --set pod.dims=" + dims + " --full-network", tag + "-folded");
  const json full = run_json(wl + " --hw " + hw + " --set pod.dims=" + dims + " --full-pod", tag + "-full");
  EXPECT_TRUE(folded["pod"]["folded"].get<bool>());
  EXPECT_FALSE(full["pod"]["folded"].get<bool>());
  EXPECT_EQ(full["pod"]["simulated_chips"], full["summary"]["chips"]);
  for (const char* key : {"time_s", "exposed_comm_s", "achieved_tflops"})
    EXPECT_NEAR(folded["summary"][key].get<double>(), full["summary"][key].get<double>(),
                0.01 * full["summary"][key].get<double>())
        << key;
  EXPECT_EQ(folded["summary"]["time_s"], full["summary"]["time_s"]);
  EXPECT_EQ(folded["summary"]["ici_bytes"], full["summary"]["ici_bytes"]);
  EXPECT_EQ(folded["summary"]["flops"], full["summary"]["flops"]);
  EXPECT_TRUE(full["summary"]["invariants_ok"].get<bool>());
}

// A symmetric pod (every chip the same schedule, whole-pod torus collectives, wraparound)
// puts chip 0's transfers alone in the network and scales the totals (sim/pod_simulate.h).
// Against every chip's transfers: ring segments differ by at most one byte between
// positions, so times agree to 1e-4 (measured: 1e-6) and bytes to 1e-6, far inside the 0.5 %
// the issue allows; the network handles one chip's events.
void expect_symmetric_equals_full_network(const std::string& wl, const std::string& hw, const std::string& dims,
                                          const std::string& tag) {
  const json sym = run_json(wl + " --hw " + hw + " --set pod.dims=" + dims, tag + "-sym");
  const json full = run_json(wl + " --hw " + hw + " --set pod.dims=" + dims + " --full-network", tag + "-net");
  ASSERT_TRUE(sym["pod"]["symmetric_network"].get<bool>());
  ASSERT_FALSE(full["pod"]["symmetric_network"].get<bool>());
  for (const char* key : {"step_s", "exposed_comm_s", "compute_s"})
    EXPECT_NEAR(sym["pod"][key].get<double>(), full["pod"][key].get<double>(), 1e-4 * full["pod"][key].get<double>()) << key;
  const double ici = double(full["pod"]["ici_bytes"].get<std::uint64_t>());
  EXPECT_GT(ici, 0);
  EXPECT_NEAR(double(sym["pod"]["ici_bytes"].get<std::uint64_t>()), ici, 1e-6 * ici);
  ASSERT_EQ(sym["pod"]["collectives"].size(), full["pod"]["collectives"].size());
  for (std::size_t i = 0; i < full["pod"]["collectives"].size(); ++i) {
    const json& a = sym["pod"]["collectives"][i];
    const json& b = full["pod"]["collectives"][i];
    EXPECT_NEAR(a["time_s"].get<double>(), b["time_s"].get<double>(), 1e-4 * b["time_s"].get<double>()) << i;
    EXPECT_NEAR(double(a["bytes_sent"].get<std::uint64_t>()), double(b["bytes_sent"].get<std::uint64_t>()),
                1e-6 * double(b["bytes_sent"].get<std::uint64_t>()));
  }
  ASSERT_EQ(sym["pod"]["links"].size(), full["pod"]["links"].size());
  for (std::size_t i = 0; i < full["pod"]["links"].size(); ++i) {
    EXPECT_EQ(sym["pod"]["links"][i]["link"], full["pod"]["links"][i]["link"]);
    EXPECT_NEAR(sym["pod"]["links"][i]["utilization"].get<double>(), full["pod"]["links"][i]["utilization"].get<double>(), 1e-4);
  }
  const auto chips = full["summary"]["chips"].get<std::uint64_t>();
  EXPECT_LE(sym["stats"]["pod"]["network_events"]["value"].get<std::uint64_t>() * chips / 2,
            full["stats"]["pod"]["network_events"]["value"].get<std::uint64_t>());
  EXPECT_TRUE(sym["summary"]["invariants_ok"].get<bool>());
}

TEST(PodRun, SymmetricNetworkEqualsFullNetworkOnRingsTwoAndThreeDimensions) {
  expect_symmetric_equals_full_network(mlp_train("2MiB"), "tpu-v3-pod", "4x4", "sym-2d");
  expect_symmetric_equals_full_network(mlp_train("1MiB"), "tpu-v4-pod", "4x4x4", "sym-3d");
  expect_symmetric_equals_full_network(mlp_train("2MiB") + " --set pod.topology=ring", "tpu-v3-pod", "8", "sym-ring");
  expect_symmetric_equals_full_network(std::string(PODSIM_SOURCE_DIR) + "/workloads/pod/resnet50-dp.yaml", "tpu-v3-pod",
                                       "8x8", "sym-resnet");
}

// Where symmetry breaks, the whole network runs: a mesh (no wraparound), tensor parallelism
// (collectives within groups), a switch.
TEST(PodRun, AsymmetricPodsRunTheFullNetwork) {
  for (const std::string set : {" --set pod.wraparound=false", " --set pod.topology=switch"}) {
    const json r = run_json(mlp_train("2MiB") + " --hw tpu-v3-pod --set pod.dims=4x4" + set, "asym" + std::to_string(set.size()));
    EXPECT_FALSE(r["pod"]["symmetric_network"].get<bool>()) << set;
  }
  const json tp = run_json(std::string(PODSIM_SOURCE_DIR) + "/workloads/pod/transformer-tp-pp16.yaml --hw tpu-v3-pod --set pod.dims=4x4",
                           "asym-tp");
  EXPECT_FALSE(tp["pod"]["symmetric_network"].get<bool>());
}

TEST(PodRun, FoldedEqualsFullOn16Chips2D) { expect_folded_equals_full("tpu-v3-pod", "4x4", "16"); }
TEST(PodRun, FoldedEqualsFullOn64Chips2D) { expect_folded_equals_full("tpu-v3-pod", "8x8", "64"); }
TEST(PodRun, FoldedEqualsFullOn64Chips3D) { expect_folded_equals_full("tpu-v4-pod", "4x4x4", "64-3d"); }

TEST(PodRun, OneBucketAfterTheBackwardPassIsFullyExposed) {
  // One bucket larger than all gradients: it is released by the last backward op (fc1.dW)
  // and the optimizer waits for it, so the exposed time is the whole all-reduce, which on an
  // idle network takes what `podsim collective` measures for the same bytes.
  const json r = run_json(mlp_train("1GiB") + " --hw tpu-v3-pod --set pod.dims=8x8", "one-bucket");
  ASSERT_EQ(r["pod"]["collectives"].size(), 1u);
  const json& c = r["pod"]["collectives"][0];
  const std::uint64_t params = 512 * 1024 + 1024 * 1024 + 1024 * 64;
  EXPECT_EQ(c["bytes"], params * 2);  // bf16 gradients (training.precision.compute)
  EXPECT_NEAR(r["summary"]["exposed_comm_s"].get<double>(), c["time_s"].get<double>(), 1e-12);
  const std::string coll = testing::TempDir() + "coll.json";
  ASSERT_EQ(podsim("collective all_reduce --hw tpu-v3-pod --set pod.dims=8x8 --bytes " +
                   std::to_string(params * 2) + "B --json " + coll).code, 0);
  const json alone = json::parse(read_file(coll))[0];
  EXPECT_NEAR(c["time_s"].get<double>(), alone["time_s"].get<double>(), 1e-12);
  // Each torus all-reduce transfer is one hop: the links carry exactly what was sent.
  EXPECT_EQ(r["summary"]["ici_bytes"], c["bytes_sent"]);
  EXPECT_EQ(c["bytes_sent"].get<std::uint64_t>(), 2ull * 63 * params * 2);  // 2 (P-1)/P S per chip x P
}

TEST(PodRun, SmallBucketsOverlapTheBackwardPass) {
  // Buckets of at least 256 KiB start while the backward pass still runs: less is exposed than with
  // one bucket at the end, and less than the buckets' summed network time. (Batch 4096 per chip,
  // so fc1's backward (~70 us) can hide the first bucket; at batch 256 it takes ~4 us and the
  // second bucket's own latency makes two buckets slower than one.)
  const json one = run_json(mlp_train("1GiB", "4096") + " --hw tpu-v3-pod --set pod.dims=8x8", "b-one");
  const json many = run_json(mlp_train("256KiB", "4096") + " --hw tpu-v3-pod --set pod.dims=8x8", "b-many");
  ASSERT_EQ(many["pod"]["collectives"].size(), 2u);  // {fc3, fc2}: 2.1 MB, {fc1}: 1 MB (a tensor is never split)
  double sum = 0;
  std::uint64_t bytes = 0;
  for (const auto& c : many["pod"]["collectives"]) {
    sum += c["time_s"].get<double>();
    bytes += c["bytes"].get<std::uint64_t>();
  }
  EXPECT_EQ(bytes, one["pod"]["collectives"][0]["bytes"].get<std::uint64_t>());
  EXPECT_LT(many["summary"]["exposed_comm_s"].get<double>(), one["summary"]["exposed_comm_s"].get<double>());
  EXPECT_LT(many["summary"]["exposed_comm_s"].get<double>(), sum);
  // The compute is the same either way.
  EXPECT_EQ(many["pod"]["compute_s"], one["pod"]["compute_s"]);
}

TEST(PodRun, SummaryCarriesChipsIciBytesExposedCommAndTheSystemPeak) {
  const json r = run_json(mlp_train("2MiB") + " --hw tpu-v3-pod --set pod.dims=4x4", "summary");
  EXPECT_EQ(r["summary"]["chips"], 16);
  EXPECT_DOUBLE_EQ(r["summary"]["peak_tflops"].get<double>(), 16 * 123.20768);
  EXPECT_GT(r["summary"]["ici_bytes"].get<std::uint64_t>(), 0u);
  EXPECT_GT(r["summary"]["exposed_comm_s"].get<double>(), 0.0);
  EXPECT_EQ(r["pod"]["links"].size(), 16u * 4);
  // A single chip has no network: nothing on links, nothing exposed, same time as tpu-v3.
  const json one = run_json(mlp_train("2MiB") + " --hw tpu-v3-pod --set pod.dims=1", "one-chip");
  const json plain = run_json(mlp_train("2MiB") + " --hw tpu-v3", "plain");
  EXPECT_EQ(one["summary"]["ici_bytes"], 0);
  EXPECT_EQ(one["summary"]["exposed_comm_s"], 0.0);
  EXPECT_EQ(plain["summary"]["chips"], 1);
  EXPECT_EQ(plain["summary"]["exposed_comm_s"], 0.0);
  EXPECT_EQ(one["summary"]["time_s"], plain["summary"]["time_s"]);
}

TEST(PodRun, ScalingTableComesFromOneCommand) {
  const std::string out = testing::TempDir() + "scaling.json";
  const Outcome o = podsim("run " + mlp_train("2MiB") + " --hw tpu-v3-pod --chips 1,8,64,256,1024 --json " + out);
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_NE(o.output.find("efficiency"), std::string::npos);
  const json j = json::parse(read_file(out));
  ASSERT_EQ(j["runs"].size(), 5u);
  const std::vector<std::string> dims = {"1x1", "4x2", "8x8", "16x16", "32x32"};
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(j["runs"][i]["dims"], dims[i]);
    EXPECT_TRUE(j["runs"][i]["invariants_ok"].get<bool>());
    // Same work per chip: the compute does not change with the pod size, the efficiency
    // is the 1-chip step over this step.
    EXPECT_EQ(j["runs"][i]["compute_s"], j["runs"][0]["compute_s"]);
    EXPECT_NEAR(j["runs"][i]["scaling_efficiency"].get<double>(),
                j["runs"][0]["time_s"].get<double>() / j["runs"][i]["time_s"].get<double>(), 1e-12);
  }
  EXPECT_EQ(j["runs"][0]["exposed_comm_s"], 0.0);
  EXPECT_LT(j["runs"][4]["scaling_efficiency"].get<double>(), 1.0);
  // Byte-identical on a second run.
  const std::string again = testing::TempDir() + "scaling2.json";
  ASSERT_EQ(podsim("run -q " + mlp_train("2MiB") + " --hw tpu-v3-pod --chips 1,8,64,256,1024 --json " + again).code, 0);
  EXPECT_EQ(read_file(out), read_file(again));
}

TEST(PodRun, ParallelismThatDoesNotFitThePodIsAnInputError) {
  const std::string wl = write_temp("bad-dp.yaml",
                                    "workload:\n"
                                    "  parallelism: {data: 100}\n"
                                    "  ops:\n"
                                    "    - {op: matmul, m: 64, k: 64, n: 64, dtype: bf16}\n");
  const Outcome o = podsim("run " + wl + " --hw tpu-v3-pod --set pod.dims=8x8");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("bad-dp.yaml:2:"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("workload.parallelism.data"), std::string::npos) << o.output;
}

}  // namespace

namespace {

// Four equal layers on four pipeline stages, eight microbatches, SGD.
std::string pipeline_workload(const std::string& schedule) {
  std::string text = "workload:\n  name: pp\n  training: {optimizer: sgd}\n"
                     "  parallelism: {pipeline: 4, microbatches: 8, schedule: " + schedule + "}\n  ops:\n";
  for (int i = 0; i < 4; ++i)
    text += "    - {op: matmul, name: fc" + std::to_string(i) + ", m: 1024, k: 2048, n: 2048, dtype: bf16}\n";
  return write_temp("pp-" + schedule + ".yaml", text);
}

const std::string kRing4 = " --hw tpu-v3-pod --set pod.dims=4 --set pod.topology=ring --set pod.links_per_chip=2";

// GPipe with S equal stages and M microbatches (forward f, backward b per stage and
// microbatch): the step is (M + S - 1)(f + b) plus the optimizer update u, plus, on the
// critical path, one activation message per stage while the pipe fills and one gradient
// message per stage while it drains: 2 (S - 1) t_x, t_x = 4 MiB / 80 GB/s + 500 ns.
TEST(PodRun, GPipeStepAndBubbleMatchTheClosedForm) {
  const json r = run_json(pipeline_workload("gpipe") + kRing4, "gpipe");
  std::map<std::string, double> t;
  for (const auto& op : r["ops"]) t[op["name"]] = op["time_s"];
  const double f = t["fc0"], b = t["fc0.dX"] + t["fc0.dW"], u = t["fc0.update"];
  const double S = 4, M = 8, tx = 4.0 * (1 << 20) / 80e9 + 500e-9;
  EXPECT_NEAR(r["summary"]["time_s"].get<double>(), (M + S - 1) * (f + b) + u + 2 * (S - 1) * tx, 0.01 * (M + S - 1) * (f + b));
  // What the chips wait for: the pipeline fill and drain, and the messages; the part that is
  // other stages computing is the bubble.
  const double waiting = r["summary"]["time_s"].get<double>() - r["pod"]["compute_s"].get<double>();
  EXPECT_NEAR(waiting, (S - 1) * (f + b) + 2 * (S - 1) * tx, 0.02 * (S - 1) * (f + b));
  EXPECT_GE(r["pod"]["idle_s"].get<double>(), 0.98 * (S - 1) * (f + b));
  EXPECT_LE(r["pod"]["idle_s"].get<double>(), (S - 1) * (f + b) + 2 * (S - 1) * tx);
  EXPECT_EQ(r["pod"]["simulated_chips"], 1);  // four identical stages: one program
  EXPECT_EQ(r["pod"]["collectives"].size(), 2u * 3 * 8);  // activations and gradients, 3 boundaries, 8 microbatches
}

// A stage holds the stashed inputs of every microbatch whose forward ran and whose backward
// has not: stage 0 all 8 under GPipe, S = 4 under 1F1B (its 3 warm-up forwards and the one in
// progress). Each stage's one matmul stashes its 1024 x 2048 bf16 input, 4 MiB.
TEST(PodRun, TrainingFootprintCountsTheMicrobatchesAStageHoldsInFlight) {
  const double input = 1024.0 * 2048 * 2;
  for (const auto& [schedule, in_flight] : std::map<std::string, int>{{"gpipe", 8}, {"1f1b", 4}}) {
    const json r = run_json(pipeline_workload(schedule) + kRing4, "pp-mem-" + schedule);
    const json& m = r["memory_footprint"];
    EXPECT_EQ(m["microbatches_in_flight"], in_flight) << schedule;
    EXPECT_DOUBLE_EQ(m["stashed_activation_bytes"].get<double>(), in_flight * input) << schedule;
    EXPECT_DOUBLE_EQ(m["weights_bytes"].get<double>(), 2048.0 * 2048 * 4) << schedule;  // one fp32 master
  }
}

// Pipeline stages are asymmetric work (each stage its own program): folded simulates the
// distinct ones, full every chip; they agree.
TEST(PodRun, PipelineFoldedAgreesWithFull) {
  const json folded = run_json(pipeline_workload("1f1b") + kRing4, "pp-folded");
  const json full = run_json(pipeline_workload("1f1b") + kRing4 + " --full-pod", "pp-full");
  EXPECT_EQ(full["pod"]["simulated_chips"], 4);
  EXPECT_EQ(folded["summary"]["time_s"], full["summary"]["time_s"]);
  EXPECT_EQ(folded["summary"]["ici_bytes"], full["summary"]["ici_bytes"]);
}

// With a free network both schedules take exactly (M + S - 1)(f + b) + u: the bubble is
// (S - 1)(f + b) of the step for equal stages, 1F1B or not (1F1B saves memory, not time).
TEST(PodRun, BothSchedulesHaveTheTextbookBubbleOnAFreeNetwork) {
  for (const char* schedule : {"gpipe", "1f1b"}) {
    const json r = run_json(pipeline_workload(schedule) + kRing4 +
                                " --set 'pod.link.bandwidth=1000000 GB/s' --set 'pod.link.latency=0 ns'",
                            std::string("free-") + schedule);
    std::map<std::string, double> t;
    for (const auto& op : r["ops"]) t[op["name"]] = op["time_s"];
    const double f = t["fc0"], b = t["fc0.dX"] + t["fc0.dW"], u = t["fc0.update"];
    const double S = 4, M = 8;
    EXPECT_NEAR(r["summary"]["time_s"].get<double>(), (M + S - 1) * (f + b) + u, 1e-3 * (f + b)) << schedule;
    EXPECT_NEAR(r["pod"]["idle_s"].get<double>() / (r["summary"]["time_s"].get<double>() - u), (S - 1) / (M + S - 1), 1e-3)
        << schedule;
  }
}

// Tensor parallelism over 4 chips: each blocking all-reduce takes what the same all-reduce
// takes alone on the idle pod (nothing else is on the network at the time).
TEST(PodRun, TensorParallelAllReducesTakeTheirStandaloneTime) {
  const std::string wl = write_temp("tp.yaml",
                                    "workload:\n  name: tp\n  parallelism: {tensor: 4}\n  ops:\n"
                                    "    - {op: template, template: transformer_encoder, name: l, batch: 4, seq: 512, "
                                    "d_model: 1024, heads: 16, d_ff: 4096, dtype: bf16}\n");
  const json r = run_json(wl + " --hw tpu-v3-pod --set pod.dims=4x1", "tp");
  ASSERT_EQ(r["pod"]["collectives"].size(), 2u);  // out_proj and ffn2 (inference: no f)
  const std::uint64_t bytes = 4ull * 512 * 1024 * 2;
  const std::string coll = testing::TempDir() + "tp-coll.json";
  ASSERT_EQ(podsim("collective --hw tpu-v3-pod --set pod.dims=4x1 --bytes " + std::to_string(bytes) + "B --json " + coll).code, 0);
  const double alone = json::parse(read_file(coll))[0]["time_s"];
  for (const auto& c : r["pod"]["collectives"]) {
    EXPECT_EQ(c["bytes"], bytes);
    EXPECT_NEAR(c["time_s"].get<double>(), alone, 1e-12) << c["name"];
  }
  // The chips wait for them: exposed = their sum.
  EXPECT_NEAR(r["summary"]["exposed_comm_s"].get<double>(), 2 * alone, 1e-12);
  // The pod does the whole layer's work once: 4 chips x a quarter of the sharded ops.
  EXPECT_EQ(r["pod"]["tensor_parallel"], 4);
}

// Skewed routing gives each chip a different share of the experts' tokens: the chips'
// programs differ, and the folded run simulates each distinct one; on 64 chips it equals
// the full simulation of every chip (each chip program is simulated alone, in its own
// process, so nothing but its program decides its op times).
TEST(PodRun, SkewedExpertParallelMoeFoldedAgreesWithFullOn64Chips) {
  const std::string wl = write_temp("ep.yaml",
                                    "workload:\n  name: ep\n  parallelism: {expert: true}\n  ops:\n"
                                    "    - {op: template, template: moe_layer, name: sw, batch: 2, seq: 256, d_model: 512, "
                                    "heads: 8, d_ff: 1024, experts: 64, top_k: 1, capacity_factor: 1.25, skew: 0.6, "
                                    "dtype: bf16}\n");
  const json folded = run_json(wl + " --hw tpu-v3-pod --set pod.dims=8x8", "ep-folded");
  const json full = run_json(wl + " --hw tpu-v3-pod --set pod.dims=8x8 --full-pod", "ep-full");
  EXPECT_GT(folded["pod"]["simulated_chips"].get<int>(), 1);
  EXPECT_EQ(full["pod"]["simulated_chips"], 64);
  EXPECT_EQ(folded["summary"]["time_s"], full["summary"]["time_s"]);
  EXPECT_EQ(folded["summary"]["flops"], full["summary"]["flops"]);
  EXPECT_EQ(folded["summary"]["ici_bytes"], full["summary"]["ici_bytes"]);
  // Dispatch: every chip sends its kept tokens to the chips of their experts.
  ASSERT_EQ(folded["pod"]["collectives"].size(), 2u);
  EXPECT_EQ(folded["pod"]["collectives"][0]["kind"], "all_to_all");
  EXPECT_GT(folded["moe"][0]["dropped_tokens"].get<std::uint64_t>(), 0u);  // skew overflows the busy experts
}

}  // namespace

namespace {

// The ready-to-run pod workloads, with the commands their headers give.
TEST(PodRun, ReadyToRunResnet50ScalingTable) {
  const std::string out = testing::TempDir() + "r50-scaling.json";
  const Outcome o = podsim("run " + podsim::test::source_path("workloads/pod/resnet50-dp.yaml") +
                           " --hw tpu-v3-pod --chips 1,8,64,256,1024 --json " + out);
  ASSERT_EQ(o.code, 0) << o.output;
  const json j = json::parse(read_file(out));
  ASSERT_EQ(j["runs"].size(), 5u);
  EXPECT_EQ(j["runs"][4]["chips"], 1024);
  EXPECT_DOUBLE_EQ(j["runs"][4]["peak_tflops"].get<double>(), 1024 * 123.20768);  // 126 PFLOPS
  for (const auto& run : j["runs"]) {
    EXPECT_TRUE(run["invariants_ok"].get<bool>());
    // Per chip: 32 images x 3 x 4.09 GMACs x 2 FLOPs = 0.79 TFLOP in the matmuls and convs.
    EXPECT_NEAR(run["flops"].get<double>() / run["chips"].get<double>(), 32 * 3 * 4.09e9 * 2, 0.03 * 32 * 3 * 4.09e9 * 2);
  }
  // Larger pods never step faster than one chip, and weak scaling stays above 90 % here:
  // 51 MB of gradients per ~18 ms step, mostly hidden behind the backward pass.
  for (std::size_t i = 1; i < 5; ++i) {
    EXPECT_LE(j["runs"][i]["scaling_efficiency"].get<double>(), 1.0);
    EXPECT_GT(j["runs"][i]["scaling_efficiency"].get<double>(), 0.9);
  }
}

TEST(PodRun, ReadyToRunSwitchMoeAndTransformer) {
  const json moe = run_json(podsim::test::source_path("workloads/pod/switch-moe-ep64.yaml") +
                                " --hw tpu-v3-pod --set pod.dims=8x8", "ready-moe");
  EXPECT_EQ(moe["summary"]["chips"], 64);
  EXPECT_TRUE(moe["pod"]["expert_parallel"].get<bool>());
  EXPECT_EQ(moe["moe"][0]["dropped_tokens"], 0);  // balanced routing, capacity factor 1.25
  EXPECT_TRUE(moe["summary"]["invariants_ok"].get<bool>());
  const json tf = run_json(podsim::test::source_path("workloads/pod/transformer-tp-pp16.yaml") +
                               " --hw tpu-v3-pod --set pod.dims=4x4", "ready-tf");
  EXPECT_EQ(tf["summary"]["chips"], 16);
  EXPECT_EQ(tf["pod"]["tensor_parallel"], 4);
  EXPECT_EQ(tf["pod"]["pipeline_stages"], 4);
  EXPECT_GT(tf["pod"]["idle_s"].get<double>(), 0.0);  // the pipeline's bubble
  EXPECT_TRUE(tf["summary"]["invariants_ok"].get<bool>());
}

}  // namespace

namespace {

TEST(PodRun, SweepsOverPodSizeReportThePodMetrics) {
  const std::string wl = mlp_train("2MiB");
  const std::string sweep = write_temp("pod-sweep.yaml",
                                       "sweep:\n  hardware: tpu-v3-pod\n  workload: " + wl +
                                           "\n  grid:\n    pod.dims: [\"2x2\", \"4x4\"]\n"
                                           "  metrics: [time_s, chips, ici_bytes, exposed_comm_s, peak_tflops]\n");
  const std::string out = testing::TempDir() + "pod-sweep-out";
  std::system(("rm -rf " + out).c_str());
  const Outcome o = podsim("sweep " + sweep + " -j 2 --out " + out);
  ASSERT_EQ(o.code, 0) << o.output;
  const std::string csv = read_file(out + "/results.csv");
  EXPECT_NE(csv.find("point,pod.dims,time_s,chips,ici_bytes,exposed_comm_s,peak_tflops,status"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",2x2,"), std::string::npos);
  EXPECT_NE(csv.find(",16,"), std::string::npos);  // chips of the 4x4 point
}

}  // namespace

namespace {

TEST(PodRun, TraceShowsThePodTimelineOfChipZero) {
  const std::string trace = testing::TempDir() + "pod-trace.json", out = testing::TempDir() + "pod-trace-report.json";
  const Outcome o = podsim("run -q " + pipeline_workload("gpipe") + kRing4 + " --trace " + trace + " --json " + out);
  ASSERT_EQ(o.code, 0) << o.output;
  const json t = json::parse(read_file(trace));
  const json& events = t.is_object() ? t["traceEvents"] : t;
  std::map<long, std::string> tracks;
  for (const auto& e : events)
    if (e["ph"] == "M" && e["name"] == "thread_name" && e["pid"] == 1)
      tracks[e["tid"].get<long>()] = e["args"]["name"].get<std::string>();
  std::map<std::string, int> slices;
  for (const auto& e : events)
    if (e["ph"] == "X" && e["pid"] == 1 && tracks.count(e["tid"].get<long>()))  // touching equal slices are merged
      slices[tracks[e["tid"].get<long>()]] += e["args"].value("merged_slices", 1);
  // Chip 0 is stage 0: 8 microbatches x (fc0, fc0.dX, fc0.dW) and one update; it takes part
  // in 8 activation sends and 8 gradient receives.
  EXPECT_EQ(slices["pod: chip 0 ops"], 8 * 3 + 1);
  EXPECT_EQ(slices["pod: chip 0 collectives"], 16);
}

}  // namespace

namespace {

// Chip programs run in parallel processes; the report does not depend on how many at once.
TEST(PodRun, ReportsAreByteIdenticalWhateverTheJobCount) {
  const std::string a = testing::TempDir() + "j1.json", b = testing::TempDir() + "j2.json";
  ASSERT_EQ(podsim("run -q " + pipeline_workload("1f1b") + kRing4 + " --full-pod -j 1 --json " + a).code, 0);
  ASSERT_EQ(podsim("run -q " + pipeline_workload("1f1b") + kRing4 + " --full-pod -j 3 --json " + b).code, 0);
  EXPECT_EQ(read_file(a), read_file(b));
  EXPECT_FALSE(read_file(a).empty());
}

}  // namespace

namespace {

// Energy over a pod counts every chip, not only chip 0 whose ops the report lists: a
// data-parallel pod of 16 does 16 times one chip's MACs (the same per-chip program), and
// its links' energy is the bits they carried (each link crossed counted) x the energy per bit.
TEST(PodRun, GradientAllReducesSlowTheBackwardOpsTheyOverlapByAtMostTheirOwnMemoryTime) {
  // ResNet-50's gradient buckets run under its memory-heavy backward pass: with the
  // collectives' HBM traffic charged (the default) the step is longer, by no more than the
  // time the HBM needs for that traffic plus the reductions' vector time (everything
  // serialised after the step), and the ops alone (compute_s) are unchanged.
  const std::string wl = podsim::test::source_path("workloads/pod/resnet50-dp.yaml") + " --hw tpu-v3-pod --set pod.dims=2x2";
  const json on = run_json(wl, "contention-on");
  const json off = run_json(wl + " --set pod.collective_memory_traffic=false", "contention-off");
  EXPECT_EQ(off["pod"]["contention_s"], 0.0);
  EXPECT_EQ(off["pod"]["collective_hbm_bytes"], 0);
  EXPECT_EQ(on["pod"]["compute_s"], off["pod"]["compute_s"]);
  EXPECT_GT(on["pod"]["contention_s"].get<double>(), 0.0);
  const double step_on = on["pod"]["step_s"].get<double>(), step_off = off["pod"]["step_s"].get<double>();
  EXPECT_GT(step_on, step_off);
  std::uint64_t reduced = 0;
  for (const json& c : on["pod"]["collectives"]) reduced += c["bytes"].get<std::uint64_t>() * 3 / 4;  // (P-1)/P
  const double peak = on["summary"]["hbm_peak_gbps"].get<double>() * 1e9 / 4;  // one chip's
  // v3: 2 cores x 128 lanes x 8 sublanes x 940 MHz adds, bf16 gradients.
  const double reduce_Bps = 2.0 * 128 * 8 * 940e6 * 2;
  const double bound = on["pod"]["collective_hbm_bytes"].get<double>() / 4 / peak + double(reduced) / reduce_Bps;
  EXPECT_LE(step_on - step_off, bound);
  EXPECT_LE(on["pod"]["contention_s"].get<double>(), bound);
}

TEST(PodRun, EnergyCountsEveryChipAndEveryLinkCrossed) {
  const std::string set = " --set 'chip.energy.ici_bit=10 pJ' --set 'chip.energy.static_power=100 W'";
  const json pod = run_json(mlp_train("2MiB") + " --hw tpu-v3-pod --set pod.dims=4x4" + set, "energy-pod");
  const json one = run_json(mlp_train("2MiB") + " --hw tpu-v3-pod --set pod.dims=1" + set, "energy-one");
  const json& jp = pod["energy"]["joules"];
  const json& j1 = one["energy"]["joules"];
  EXPECT_NEAR(jp["mac"].get<double>(), 16 * j1["mac"].get<double>(), 1e-9 * jp["mac"].get<double>());
  EXPECT_NEAR(jp["sram"].get<double>(), 16 * j1["sram"].get<double>(), 1e-9 * jp["sram"].get<double>());
  // The gradient all-reduce adds HBM traffic on a pod: what 16 chips' ops move, plus the
  // collective's sent + received + 3 x reduced bytes (4x4 torus, 16 chips: 2 x 15/16 S sent
  // and received, 15/16 S reduced per chip; dram_bit 1.8 pJ at the v3 preset's default is
  // read from the one-chip run, not assumed). The buckets' bytes summed.
  std::uint64_t grads = 0;
  for (const json& c : pod["pod"]["collectives"]) {
    ASSERT_EQ(c["kind"], "all_reduce");
    grads += c["bytes"].get<std::uint64_t>();
  }
  const double per_chip = 2.0 * 15 / 16 * grads * 2 + 3.0 * 15 / 16 * grads;
  EXPECT_NEAR(pod["pod"]["collective_hbm_bytes"].get<double>(), 16 * per_chip, 16 * 16.0);  // ring segments round
  const double bit_j = j1["dram"].get<double>() /
                       (8.0 * double(one["summary"]["hbm_read_bytes"].get<std::uint64_t>() +
                                     one["summary"]["hbm_write_bytes"].get<std::uint64_t>()));
  EXPECT_NEAR(jp["dram"].get<double>(), 16 * j1["dram"].get<double>() + 16 * per_chip * 8 * bit_j,
              1e-6 * jp["dram"].get<double>());
  const double ici = double(pod["summary"]["ici_bytes"].get<std::uint64_t>()) * 8 * 10e-12;
  EXPECT_GT(ici, 0.0);
  EXPECT_NEAR(jp["ici"].get<double>(), ici, 1e-9 * ici);
  EXPECT_EQ(j1["ici"].get<double>(), 0.0);
  // Static: 100 W x 16 chips x the step time.
  const double stat = 100.0 * 16 * pod["summary"]["time_s"].get<double>();
  EXPECT_NEAR(jp["static"].get<double>(), stat, 1e-9 * stat);
}

}  // namespace
