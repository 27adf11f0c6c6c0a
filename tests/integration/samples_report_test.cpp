// Samples a step (workload.samples, docs/workloads.md): the report's throughput in samples
// and joules per sample follow the declared count, read from the ops as written, times the
// replicas and microbatches of a pod; bad declarations are input errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "run_json.h"

namespace podsim::test {
namespace {

using nlohmann::json;

std::string matmuls(const std::string& name, const std::string& samples, const std::string& parallelism = "") {
  return write_temp(name + ".yaml", "workload:\n"
                                    "  name: " + name + "\n" + samples + parallelism +
                                    "  ops:\n"
                                    "    - {op: matmul, name: fc1, m: 96, k: 512, n: 512, dtype: bf16}\n"
                                    "    - {op: matmul, name: fc2, m: 96, k: 512, n: 256, dtype: bf16}\n");
}

TEST(SamplesReport, ThroughputAndJoulesPerSampleFollowTheDeclaredCount) {
  const std::string wl = matmuls("samples-fc", "  samples: {count: fc1.m, unit: sequences}\n");
  const json r = run_json(wl + " --hw tpu-v3", "samples-fc");
  const json& s = r["summary"];
  ASSERT_TRUE(s.contains("samples_per_step")) << s.dump();
  EXPECT_EQ(s["samples_per_step"].get<std::uint64_t>(), 96u);  // fc1's m as written
  EXPECT_EQ(s["sample_unit"].get<std::string>(), "sequences");
  const double t = s["time_s"].get<double>(), e = s["energy_j"].get<double>();
  EXPECT_NEAR(s["samples_per_s"].get<double>(), 96 / t, 1e-12 * 96 / t);
  EXPECT_NEAR(s["joules_per_sample"].get<double>(), e / 96, 1e-12 * e);
  // A workload override of the op's field moves the count with it.
  const json bigger = run_json(wl + " --hw tpu-v3 --wset workload.ops.fc1.m=192", "samples-fc-192");
  EXPECT_EQ(bigger["summary"]["samples_per_step"].get<std::uint64_t>(), 192u);
  // A product of fields, and the text report's line.
  const std::string product = matmuls("samples-product", "  samples: {count: fc1.m * fc2.n, unit: tokens}\n");
  EXPECT_EQ(run_json(product + " --hw tpu-v3", "samples-product")["summary"]["samples_per_step"].get<std::uint64_t>(),
            96u * 256u);
  const Outcome text = run_shell(std::string(PODSIM_BINARY) + " run " + wl + " --hw tpu-v3");
  EXPECT_EQ(text.code, 0) << text.output;
  EXPECT_NE(text.output.find("samples          96 sequences a step: "), std::string::npos) << text.output;
  EXPECT_NE(text.output.find(" J per sequence"), std::string::npos) << text.output;
}

TEST(SamplesReport, WithoutADeclarationThereAreNoPerSampleFigures) {
  const json r = run_json(matmuls("samples-none", "") + " --hw tpu-v3", "samples-none");
  EXPECT_FALSE(r["summary"].contains("samples_per_s"));
  EXPECT_FALSE(r["summary"].contains("joules_per_sample"));
}

// The ops are one replica's microbatch: 8 chips as 2 pipeline stages leave 4 replicas, each
// running 3 microbatches a step.
TEST(SamplesReport, APodCountsEveryReplicaAndMicrobatch) {
  const std::string wl = matmuls("samples-pod", "  samples: {count: 32, unit: samples}\n",
                                 "  parallelism: {pipeline: 2, microbatches: 3}\n");
  const json r = run_json(wl + " --hw tpu-v3-pod --set pod.dims=2x4", "samples-pod");
  ASSERT_EQ(r["pod"]["data_parallel"].get<std::uint64_t>(), 4u) << r["pod"].dump();
  EXPECT_EQ(r["summary"]["samples_per_step"].get<std::uint64_t>(), 32u * 4u * 3u);
  EXPECT_NEAR(r["summary"]["samples_per_s"].get<double>(), 384 / r["summary"]["time_s"].get<double>(),
              1e-9 * r["summary"]["samples_per_s"].get<double>());
  // Joules per sample over every chip's energy.
  EXPECT_NEAR(r["summary"]["joules_per_sample"].get<double>(), r["summary"]["energy_j"].get<double>() / 384,
              1e-12 * r["summary"]["energy_j"].get<double>());
}

TEST(SamplesReport, ABadDeclarationIsAnInputErrorNamingItsKey) {
  struct Case {
    std::string samples, expect;
    std::string line = ":3:";  // the samples line, or the op field read
  };
  const std::vector<Case> cases = {
      {"  samples: {count: 256, unit: pictures}\n", "workload.samples.unit"},
      {"  samples: {count: 256}\n", "workload.samples.unit"},
      {"  samples: {unit: images}\n", "workload.samples.count"},
      {"  samples: {count: 0, unit: images}\n", "workload.samples.count"},
      {"  samples: {count: r50.batch, unit: images}\n", "no op is named 'r50'"},
      {"  samples: {count: fc1.batch, unit: images}\n", "op 'fc1' has no 'batch' written"},
      {"  samples: {count: fc1.dtype, unit: images}\n", "not a whole number of samples", ":5:"},
      {"  samples: {count: fc1, unit: images}\n", "expected a whole number or op fields"},
      {"  samples: {count: fc1.m * , unit: images}\n", "expected a whole number or op fields"},
      {"  samples: 256\n", "workload.samples"},
      {"  samples: {count: 256, unit: images, per: chip}\n", "workload.samples"},
      {"  samples: {count: 99999999999999999999, unit: images}\n", "workload.samples.count"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string wl = matmuls("samples-bad-" + std::to_string(i), cases[i].samples);
    const Outcome o = run_shell(std::string(PODSIM_BINARY) + " run -q " + wl + " --hw tpu-v3");
    EXPECT_EQ(o.code, 2) << cases[i].samples << o.output;
    EXPECT_NE(o.output.find(cases[i].expect), std::string::npos) << cases[i].samples << o.output;
    EXPECT_NE(o.output.find(wl + cases[i].line), std::string::npos) << cases[i].samples << o.output;  // file and line
  }
}

}  // namespace
}  // namespace podsim::test
