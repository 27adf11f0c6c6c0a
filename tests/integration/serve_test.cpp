// `podsim serve` end to end through the command line (each podsim process elaborates
// SystemC once): the report against full simulations of the same steps, determinism, the
// interpolation's error bound, and input errors.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "podsim/config/sweep_spec.h"
#include "podsim/serving/step_cost.h"
#include "run_command.h"
#include "temp_dir_test.h"

namespace {

using nlohmann::json;
using podsim::test::Outcome;
using podsim::test::read_file;

Outcome podsim_cli(const std::string& args) { return podsim::test::run_shell(std::string(PODSIM_BINARY) + " " + args); }

class Serve : public podsim::test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (HasFatalFailure()) return;
    // A small grouped-query decoder: 2 layers of d_model 512, 8 query and 2 K/V heads.
    write("model.yaml",
          "workload:\n  name: tiny-decoder\n  ops:\n"
          "    - {op: template, template: transformer_decoder, name: m, batch: 1, seq: 1, decode: true, kv_len: 16,\n"
          "       d_model: 512, heads: 8, kv_heads: 2, d_ff: 1024, layers: 2, ffn: swiglu, norm: rmsnorm, dtype: bf16}\n");
  }
  std::string serve_file(const std::string& requests, const std::string& scheduler = "{max_batch: 8, max_tokens_per_step: 256}") {
    return write("serve.yaml", "serve:\n  name: t\n  workload: model.yaml\n  requests: " + requests +
                                   "\n  scheduler: " + scheduler + "\n  slo: {ttft: 50 ms, tpot: 5 ms}\n");
  }
  // The model simulated alone at one step, as `podsim run` does it.
  double run_step(bool decode, std::uint64_t n, std::uint64_t kv_len) {
    return run_step_json(decode, n, kv_len)["summary"]["time_s"].get<double>();
  }
  json run_step_json(bool decode, std::uint64_t n, std::uint64_t kv_len) {
    const std::string out = dir_ + "/step.json";
    std::string w = " --wset workload.ops[0].decode=" + std::string(decode ? "true" : "false") +
                    " --wset workload.ops[0].kv_len=" + std::to_string(kv_len);
    w += decode ? " --wset workload.ops[0].batch=" + std::to_string(n) + " --wset workload.ops[0].seq=1"
                : " --wset workload.ops[0].batch=1 --wset workload.ops[0].seq=" + std::to_string(n);
    const Outcome o = podsim_cli("run " + dir_ + "/model.yaml --hw tpu-v4 -q --json " + out + w);
    EXPECT_EQ(o.code, 0) << o.output;
    return json::parse(read_file(out));
  }
};

std::vector<podsim::CostRow> rows_of(const json& j, const char* key) {
  std::vector<podsim::CostRow> rows;
  for (const auto& p : j) {
    const std::uint64_t at = p[key].get<std::uint64_t>();
    if (rows.empty() || rows.back().at != at) rows.push_back({at, {}, {}, {}});
    rows.back().kv_len.push_back(p["kv_len"].get<std::uint64_t>());
    rows.back().seconds.push_back(p["time_s"].get<double>());
  }
  return rows;
}

TEST_F(Serve, OneRequestsLatencyIsItsStepsSimulatedAlone) {
  // One request: prompt 64 tokens (one prefill step, a grid point), 3 output tokens (two
  // decode steps at caches of 65 and 66 tokens).
  write("r.csv", "arrival_s,prompt_tokens,output_tokens\n0.001,64,3\n");
  const Outcome o = podsim_cli("serve " + serve_file("{trace: r.csv}") + " --hw tpu-v4 -q --json " + dir_ + "/s.json");
  ASSERT_EQ(o.code, 0) << o.output;
  const json s = json::parse(read_file(dir_ + "/s.json"));
  const double prefill = run_step(false, 64, 64);
  EXPECT_NEAR(s["summary"]["ttft_s"]["p50"].get<double>(), prefill, prefill * 1e-9);
  // The decode steps come from the grid (batch 1 is a row; 65 and 66 lie between lengths):
  // within the interpolation bound of the full simulations.
  const double decode = run_step(true, 1, 65) + run_step(true, 1, 66);
  const double e2e = s["summary"]["e2e_s"]["p50"].get<double>();
  EXPECT_NEAR(e2e - prefill, decode, decode * 0.01);
  EXPECT_NEAR(s["summary"]["tpot_s"]["p50"].get<double>(), decode / 2, decode * 0.01);
}

// Speculative decoding, never accepted (acceptance 0): prompt 64, 3 output tokens. After
// the prefill, a step where the draft decodes its 2 tokens (cache 65) and the model checks
// 3 positions (keys to 65 + 3), then, one token from the end, a plain decode (cache 66).
TEST_F(Serve, SpeculativeStepsAreTheDraftsDecodesPlusTheModelsCheck) {
  write("draft.yaml",
        "workload:\n  name: tiny-draft\n  ops:\n"
        "    - {op: template, template: transformer_decoder, name: d, batch: 1, seq: 1, decode: true, kv_len: 16,\n"
        "       d_model: 256, heads: 4, kv_heads: 1, d_ff: 512, layers: 1, ffn: swiglu, norm: rmsnorm, dtype: bf16}\n");
  write("r.csv", "arrival_s,prompt_tokens,output_tokens\n0.001,64,3\n");
  const std::string serve = write("spec.yaml", "serve:\n  name: t\n  workload: model.yaml\n  requests: {trace: r.csv}\n"
                                               "  scheduler: {max_batch: 8, max_tokens_per_step: 256}\n"
                                               "  speculative: {draft: draft.yaml, tokens: 2, acceptance: 0}\n");
  const Outcome o = podsim_cli("serve " + serve + " --hw tpu-v4 -q --json " + dir_ + "/sp.json");
  ASSERT_EQ(o.code, 0) << o.output;
  const json s = json::parse(read_file(dir_ + "/sp.json"));
  const Outcome d = podsim_cli("run " + dir_ + "/draft.yaml --hw tpu-v4 -q --json " + dir_ + "/draft.json" +
                               " --wset workload.ops[0].kv_len=65");
  ASSERT_EQ(d.code, 0) << d.output;
  const double draft = json::parse(read_file(dir_ + "/draft.json"))["summary"]["time_s"].get<double>();
  const double check = run_step(false, 3, 68);  // batch 1: 3 positions, keys to 68
  const double expected = 2 * draft + check + run_step(true, 1, 66);
  const double prefill = run_step(false, 64, 64);
  EXPECT_NEAR(s["summary"]["e2e_s"]["p50"].get<double>() - prefill, expected, expected * 0.01);
  EXPECT_EQ(s["speculative"]["drafted"].get<std::uint64_t>(), 1u);  // min(2, tokens left - 1)
  EXPECT_EQ(s["speculative"]["accepted"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(s["summary"]["output_tokens"].get<std::uint64_t>(), 3u);
  // The draft's weights and cache share HBM with the model's: a smaller cache than without.
  const Outcome plain = podsim_cli("serve " + serve_file("{trace: r.csv}") + " --hw tpu-v4 -q --json " + dir_ + "/pl.json");
  ASSERT_EQ(plain.code, 0) << plain.output;
  EXPECT_LT(s["scheduler"]["kv_capacity_tokens"].get<std::uint64_t>(),
            json::parse(read_file(dir_ + "/pl.json"))["scheduler"]["kv_capacity_tokens"].get<std::uint64_t>());
}

// Disaggregated: one request (prompt 64, 3 tokens) prefills on one chip, its 64 tokens of
// KV cache cross a 10 GB/s link after 5 us, and the decode chip's two steps follow.
TEST_F(Serve, DisaggregatedRequestIsPrefillLinkAndDecodeStepsSimulatedAlone) {
  write("r.csv", "arrival_s,prompt_tokens,output_tokens\n0.001,64,3\n");
  const std::string serve = write("dis.yaml", "serve:\n  name: t\n  workload: model.yaml\n  requests: {trace: r.csv}\n"
                                              "  scheduler: {max_batch: 8, max_tokens_per_step: 256}\n"
                                              "  disaggregation: {prefill_chips: 1, decode_chips: 1, kv_link: 10 GB/s, "
                                              "kv_latency: 5 us}\n");
  const Outcome o = podsim_cli("serve " + serve + " --hw tpu-v4 -q --json " + dir_ + "/dis.json");
  ASSERT_EQ(o.code, 0) << o.output;
  const json s = json::parse(read_file(dir_ + "/dis.json"));
  const double prefill = run_step(false, 64, 64);
  EXPECT_NEAR(s["summary"]["ttft_s"]["p50"].get<double>(), prefill, prefill * 1e-9);
  const double kv_bytes = 64.0 * s["model"]["kv_bytes_per_token"].get<double>();
  EXPECT_EQ(s["disaggregation"]["kv_transfer_bytes"].get<double>(), kv_bytes);
  const double link = 5e-6 + kv_bytes / 10e9;
  const double decode = run_step(true, 1, 65) + run_step(true, 1, 66);
  EXPECT_NEAR(s["summary"]["e2e_s"]["p50"].get<double>() - prefill, link + decode, decode * 0.01);
  EXPECT_NEAR(s["disaggregation"]["prefill_busy_s"].get<double>(), prefill, prefill * 1e-9);
}

// Energy: one request whose one step is a prefill grid point spends that run's dynamic
// energy, plus the static power over the makespan; per output token, the one token's.
TEST_F(Serve, EnergyIsTheStepsSimulatedAlonePlusStaticPower) {
  write("r1.csv", "arrival_s,prompt_tokens,output_tokens\n0.001,64,1\n");
  const Outcome o = podsim_cli("serve " + serve_file("{trace: r1.csv}") + " --hw tpu-v4 --set 'chip.energy.static_power=50 W' -q --json " +
                               dir_ + "/e.json");
  ASSERT_EQ(o.code, 0) << o.output;
  const json s = json::parse(read_file(dir_ + "/e.json"))["summary"];
  const double dynamic = run_step_json(false, 64, 64)["energy"]["joules"]["dynamic"].get<double>();
  ASSERT_GT(dynamic, 0);
  const double expected = dynamic + 50.0 * s["makespan_s"].get<double>();
  EXPECT_NEAR(s["energy_j"].get<double>(), expected, 1e-9 * expected);
  EXPECT_NEAR(s["joules_per_output_token"].get<double>(), expected, 1e-9 * expected);  // one output token
  EXPECT_TRUE(s["static_power_known"].get<bool>());
  EXPECT_NEAR(s["average_power_w"].get<double>(), expected / s["makespan_s"].get<double>(), 1e-6);
}

// Tensor parallelism over a 4-chip slice: every step is the sharded model on each chip plus
// its all-reduces over the slice, which `podsim run` on the same pod simulates through the
// pod model (chips in SystemC, collectives in the network's event engine).
TEST_F(Serve, TensorParallelStepsAreThePodRunsOfTheShardedModel) {
  const std::string tiny = "{op: template, template: transformer_decoder, name: m, batch: 1, seq: 1, decode: true, kv_len: 16,"
                           " d_model: 512, heads: 8, kv_heads: 4, d_ff: 1024, layers: 2, ffn: swiglu, norm: rmsnorm, dtype: bf16}";
  write("model.yaml", "workload:\n  name: tiny-decoder\n  ops:\n    - " + tiny + "\n");
  write("pod-model.yaml", "workload:\n  name: tiny-decoder\n  parallelism: {tensor: 4}\n  ops:\n    - " + tiny + "\n");
  write("r.csv", "arrival_s,prompt_tokens,output_tokens\n0.001,64,3\n");
  write("r1.csv", "arrival_s,prompt_tokens,output_tokens\n0.001,64,1\n");
  const std::string slice =
      " --hw tpu-v4-pod --set pod.dims=4x1x1 --set 'chip.energy.static_power=50 W' --set 'chip.energy.ici_bit=10 pJ' -q --json ";
  auto serve = [&](const std::string& trace, const std::string& out) {
    write("tp.yaml", "serve:\n  name: t\n  workload: model.yaml\n  tensor_parallel: 4\n  requests: {trace: " + trace +
                         "}\n  scheduler: {max_batch: 8, max_tokens_per_step: 256}\n");
    const Outcome o = podsim_cli("serve " + dir_ + "/tp.yaml" + slice + dir_ + "/" + out);
    EXPECT_EQ(o.code, 0) << o.output;
    return json::parse(read_file(dir_ + "/" + out));
  };
  auto pod_run = [&](bool decode, std::uint64_t n, std::uint64_t kv_len) {
    std::string w = " --wset workload.ops[0].decode=" + std::string(decode ? "true" : "false") +
                    " --wset workload.ops[0].kv_len=" + std::to_string(kv_len);
    w += decode ? " --wset workload.ops[0].batch=" + std::to_string(n) + " --wset workload.ops[0].seq=1"
                : " --wset workload.ops[0].batch=1 --wset workload.ops[0].seq=" + std::to_string(n);
    const Outcome o = podsim_cli("run " + dir_ + "/pod-model.yaml" + slice + dir_ + "/pod.json" + w);
    EXPECT_EQ(o.code, 0) << o.output;
    return json::parse(read_file(dir_ + "/pod.json"));
  };
  const json s = serve("r.csv", "s.json");
  const json prefill = pod_run(false, 64, 64);
  ASSERT_GT(prefill["pod"]["exposed_comm_s"].get<double>(), 0);  // the all-reduces are in the step
  const double ttft = prefill["summary"]["time_s"].get<double>();
  EXPECT_NEAR(s["summary"]["ttft_s"]["p50"].get<double>(), ttft, ttft * 1e-9);
  const double decode = pod_run(true, 1, 65)["summary"]["time_s"].get<double>() +
                        pod_run(true, 1, 66)["summary"]["time_s"].get<double>();
  EXPECT_NEAR(s["summary"]["e2e_s"]["p50"].get<double>() - ttft, decode, decode * 0.01);  // the grid's bound
  // Each chip holds a quarter of the K/V heads: 2 layers x 1 head x 64 x (K, V) x 2 B.
  EXPECT_EQ(s["model"]["kv_bytes_per_token"].get<std::uint64_t>(), 2u * 1 * 64 * 2 * 2);
  EXPECT_EQ(s["tensor_parallel"].get<int>(), 4);
  // Energy of a lone prefill: the pod run's dynamic energy (4 chips, the links, and the
  // all-reduces' HBM reads and writes) plus static power for all four chips.
  const json e = serve("r1.csv", "e.json")["summary"];
  const double dynamic = prefill["energy"]["joules"]["dynamic"].get<double>();
  ASSERT_GT(prefill["energy"]["joules"]["ici"].get<double>(), 0);
  const double expected = dynamic + 4 * 50.0 * e["makespan_s"].get<double>();
  EXPECT_NEAR(e["energy_j"].get<double>(), expected, 1e-9 * expected);
  // A slice the hardware is not, and what is not modelled with it, exit 2 at the key.
  Outcome o = podsim_cli("serve " + dir_ + "/tp.yaml --hw tpu-v4");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("tp.yaml:4:20: serve.tensor_parallel: shards the model over 4 chips, but 'tpu-v4' is 1 chip"),
            std::string::npos) << o.output;
  write("spec.yaml", "serve:\n  workload: model.yaml\n  requests: {count: 1, rate: 1, prompt_tokens: 8, output_tokens: 2}\n"
                     "  speculative: {draft: model.yaml, tokens: 2, acceptance: 0.5}\n  tensor_parallel: 4\n");
  o = podsim_cli("serve " + dir_ + "/spec.yaml --hw tpu-v4-pod --set pod.dims=4x1x1");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("serve.tensor_parallel: tensor parallelism with speculative decoding is not modelled"),
            std::string::npos) << o.output;
  // K/V heads that neither split over the slice nor divide it (12 heads, 3 K/V heads over
  // 4 chips; 2 over 4 would be replicated, one a chip): at the serve file's key.
  std::string odd = tiny;
  odd.replace(odd.find("d_model: 512, heads: 8, kv_heads: 4"), 35, "d_model: 768, heads: 12, kv_heads: 3");
  write("model.yaml", "workload:\n  name: tiny-decoder\n  ops:\n    - " + odd + "\n");
  o = podsim_cli("serve " + dir_ + "/tp.yaml --hw tpu-v4-pod --set pod.dims=4x1x1");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("tp.yaml:4:20: serve.tensor_parallel: op 'm.L0.attn' is split by heads over 4 chips, but its "
                          "kv_heads (3) neither divides by 4 nor divides it"),
            std::string::npos) << o.output;
}

TEST_F(Serve, ReportIsByteIdenticalWhateverTheJobs) {
  const std::string f =
      serve_file("{count: 40, rate: 200, seed: 5, prompt_tokens: {min: 16, max: 300}, output_tokens: {min: 1, max: 40}}");
  const Outcome a = podsim_cli("serve " + f + " --hw tpu-v4 -j 1 --json " + dir_ + "/a.json --csv " + dir_ + "/a.csv");
  ASSERT_EQ(a.code, 0) << a.output;
  const Outcome b = podsim_cli("serve " + f + " --hw tpu-v4 -j 2 -q --json " + dir_ + "/b.json --csv " + dir_ + "/b.csv");
  ASSERT_EQ(b.code, 0) << b.output;
  EXPECT_EQ(read_file(dir_ + "/a.json"), read_file(dir_ + "/b.json"));
  EXPECT_EQ(read_file(dir_ + "/a.csv"), read_file(dir_ + "/b.csv"));
  const json s = json::parse(read_file(dir_ + "/a.json"))["summary"];
  EXPECT_EQ(s["requests"].get<int>(), 40);
  // Every request's tokens came out: the CSV has one line each, after its header.
  const std::string csv = read_file(dir_ + "/a.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 41);
  EXPECT_LE(s["busy_s"].get<double>(), s["makespan_s"].get<double>() + 1e-9 + 0.01);
  EXPECT_NE(a.output.find("TTFT"), std::string::npos) << a.output;
}

TEST_F(Serve, InterpolatedStepTimesAreWithinTheirStatedBounds) {
  // docs/serving.md: off-grid batches, cache lengths and chunks against `podsim run`. On
  // this small model a prefill's time steps up with each 128-row tile of tokens, which a
  // line between grid points cannot follow: 10 % for prefill (measured up to 7.0 %), 8 %
  // for decode (measured up to 6.2 %).
  const std::string f =
      serve_file("{count: 4, rate: 10, seed: 1, prompt_tokens: {min: 100, max: 900}, output_tokens: {min: 50, max: 100}}",
                 "{max_batch: 32, max_tokens_per_step: 512}");
  const Outcome o = podsim_cli("serve " + f + " --hw tpu-v4 -q --json " + dir_ + "/s.json");
  ASSERT_EQ(o.code, 0) << o.output;
  const json cost = json::parse(read_file(dir_ + "/s.json"))["step_cost"];
  const auto decode = rows_of(cost["decode"], "batch"), prefill = rows_of(cost["prefill"], "tokens");
  for (auto [b, kv] : {std::pair<std::uint64_t, std::uint64_t>{3, 300}, {12, 700}, {20, 500}, {24, 150}}) {
    const double full = run_step(true, b, kv);
    EXPECT_NEAR(podsim::interpolate_rows(decode, b, kv), full, 0.08 * full) << "decode " << b << " x " << kv;
  }
  for (auto [t, kv] : {std::pair<std::uint64_t, std::uint64_t>{100, 100}, {300, 800}, {48, 600}}) {
    const double full = run_step(false, t, kv);
    EXPECT_NEAR(podsim::interpolate_rows(prefill, t, kv), full, 0.10 * full) << "prefill " << t << " x " << kv;
  }
}

TEST_F(Serve, BadInputsExitTwoNamingTheKey) {
  Outcome o = podsim_cli("serve " + write("s.yaml", "serve:\n  workload: nope.yaml\n  requests: {count: 1, rate: 1, "
                                                      "prompt_tokens: 8, output_tokens: 2}\n") + " --hw tpu-v4");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("s.yaml:2:13: serve.workload: no such workload file"), std::string::npos) << o.output;
  o = podsim_cli("serve " + write("sd.yaml", "serve:\n  workload: model.yaml\n  requests: {count: 1, rate: 1, "
                                             "prompt_tokens: 8, output_tokens: 2}\n"
                                             "  speculative: {draft: gone.yaml, tokens: 2, acceptance: 0.5}\n") +
                 " --hw tpu-v4");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("sd.yaml:4:24: serve.speculative.draft: no such workload file"), std::string::npos) << o.output;
  o = podsim_cli("serve " + serve_file("{count: 1, rate: 1, prompt_tokens: 8, output_tokens: 2}",
                                       "{max_batch: 8, kv_capacity_tokens: 100000000000}") + " --hw tpu-v4");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("serve.scheduler.kv_capacity_tokens"), std::string::npos) << o.output;
  o = podsim_cli("serve " + serve_file("{count: 1, rate: 1, prompt_tokens: 8, output_tokens: 2}",
                                       "{max_batch: 8, kv_capacity_tokens: 16, kv_block_tokens: 16}") + " --hw tpu-v4");
  EXPECT_EQ(o.code, 0) << o.output;  // 8 + 2 - 1 tokens fit one block
  o = podsim_cli("serve " + serve_file("{count: 1, rate: 1, prompt_tokens: 40, output_tokens: 2}",
                                       "{max_batch: 8, kv_capacity_tokens: 32, kv_block_tokens: 16}") + " --hw tpu-v4");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("request 0 needs 48 tokens"), std::string::npos) << o.output;
  o = podsim_cli("serve " + serve_file("{count: 1, rate: -1, prompt_tokens: 8, output_tokens: 2}") + " --hw tpu-v4");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("serve.requests.rate"), std::string::npos) << o.output;
}


TEST_F(Serve, SsetOverridesAFieldOfTheServeFile) {
  // --sset serve.requests.rate=R is the file with rate: R (a trace of the same file with
  // the field edited gives the same report), and a typo names the field.
  const std::string base = "{count: 30, rate: 50, seed: 3, prompt_tokens: {min: 32, max: 96}, output_tokens: {min: 4, max: 8}}";
  const std::string f = serve_file(base);
  ASSERT_EQ(podsim_cli("serve " + f + " --hw tpu-v4 -q -j 1 --json " + dir_ + "/a.json --sset serve.requests.rate=500").code, 0);
  const std::string g = write("edited.yaml", "serve:\n  name: t\n  workload: model.yaml\n  requests: "
                                                 "{count: 30, rate: 500, seed: 3, prompt_tokens: {min: 32, max: 96}, "
                                                 "output_tokens: {min: 4, max: 8}}\n  scheduler: {max_batch: 8, "
                                                 "max_tokens_per_step: 256}\n  slo: {ttft: 50 ms, tpot: 5 ms}\n");
  ASSERT_EQ(podsim_cli("serve " + g + " --hw tpu-v4 -q -j 1 --json " + dir_ + "/b.json").code, 0);
  EXPECT_EQ(json::parse(read_file(dir_ + "/a.json"))["summary"], json::parse(read_file(dir_ + "/b.json"))["summary"]);
  const Outcome typo = podsim_cli("serve " + f + " --hw tpu-v4 -q --sset serve.requests.rat=2");
  EXPECT_EQ(typo.code, 2) << typo.output;
  EXPECT_NE(typo.output.find("did you mean 'rate'"), std::string::npos) << typo.output;
}

TEST_F(Serve, ASweepOverServeFieldsRunsPodsimServePerPoint) {
  serve_file("{count: 30, rate: 50, seed: 3, prompt_tokens: {min: 32, max: 96}, output_tokens: {min: 4, max: 8}}");
  // A budget from the scheduler's own limit: a point whose largest batch passes 2 is over
  // budget, one capped at 2 never is.
  write("sweep.yaml", "sweep:\n  hardware: tpu-v4\n  serve: serve.yaml\n  grid:\n"
                      "    serve.requests.rate: [50, 5000]\n    serve.scheduler.max_batch: [2, 8]\n"
                      "  budgets: [\"max_batch <= 2\"]\n  metrics: [ttft_s.p99, output_tokens_per_s, max_batch]\n");
  const Outcome o = podsim_cli("sweep " + dir_ + "/sweep.yaml --out " + dir_ + "/out -j 2");
  ASSERT_EQ(o.code, 0) << o.output;
  const std::string header = read_file(dir_ + "/out/results.csv").substr(0, 100);
  EXPECT_EQ(header.rfind("point,serve.requests.rate,serve.scheduler.max_batch,ttft_s.p99,output_tokens_per_s,max_batch,", 0),
            0u) << header;
  for (int p = 0; p < 4; ++p) {
    const json r = json::parse(read_file(dir_ + "/out/points/" + std::to_string(p) + ".result.json"));
    const std::string rate = r["params"]["serve.requests.rate"], cap = r["params"]["serve.scheduler.max_batch"];
    const double seen = r["metrics"]["max_batch"].get<double>();
    EXPECT_LE(seen, std::stod(cap));
    EXPECT_EQ(r["status"], seen > 2 ? "over_budget" : "ok") << p;
    // Each point is the run podsim serve gives with the same fields.
    ASSERT_EQ(podsim_cli("serve " + dir_ + "/serve.yaml --hw tpu-v4 -q -j 1 --json " + dir_ + "/one.json --sset "
                         "serve.requests.rate=" + rate + " --sset serve.scheduler.max_batch=" + cap).code, 0);
    const json one = json::parse(read_file(dir_ + "/one.json"))["summary"];
    EXPECT_EQ(r["metrics"]["ttft_s.p99"], one["ttft_s"]["p99"]) << p;
    EXPECT_EQ(r["metrics"]["output_tokens_per_s"], one["output_tokens_per_s"]) << p;
  }
  // Axes and metrics are checked at load: a serve field typo, a workload axis, a metric.
  for (const auto& [axis, metric, says] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"serve.requests.rat: [5]", "ttft_s.p99", "did you mean 'rate'"},
           {"workload.ops[0].batch: [2]", "ttft_s.p99", "the model is the serve file's serve.workload"},
           {"serve.requests.rate: [5]", "ttft_s.p999", "did you mean 'ttft_s.p99'"},
           {"serve.requests.rate: [5]", "time_s", "unknown serve metric"}}) {
    write("bad.yaml", "sweep:\n  serve: serve.yaml\n  grid:\n    " + axis + "\n  metrics: [" + metric + "]\n");
    const Outcome bad = podsim_cli("sweep " + dir_ + "/bad.yaml --out " + dir_ + "/bad");
    EXPECT_EQ(bad.code, 2) << axis << " " << metric << "\n" << bad.output;
    EXPECT_NE(bad.output.find(says), std::string::npos) << bad.output;
  }
}

TEST_F(Serve, EveryServeMetricASweepAcceptsIsInTheReport) {
  const std::string f = serve_file("{count: 5, rate: 50, seed: 3, prompt_tokens: {min: 32, max: 64}, output_tokens: {min: 2, max: 4}}");
  ASSERT_EQ(podsim_cli("serve " + f + " --hw tpu-v4 -q -j 1 --json " + dir_ + "/s.json").code, 0);
  const json summary = json::parse(read_file(dir_ + "/s.json"))["summary"];
  std::size_t numbers = 0;
  for (const auto& [key, value] : summary.items()) {
    if (value.is_object()) numbers += value.size();
    else if (value.is_number()) ++numbers;
  }
  const auto names = podsim::serve_metric_names();
  EXPECT_EQ(names.size(), numbers);  // every number in the summary, nothing else
  for (const std::string& n : names) {
    const auto dot = n.find('.');
    const json& v = dot == std::string::npos ? summary[n] : summary[n.substr(0, dot)][n.substr(dot + 1)];
    EXPECT_TRUE(v.is_number()) << n;
  }
}


TEST_F(Serve, ReplicasBehindARouterReportEachChipAndRefuseWhatIsNotModelled) {
  const std::string reqs = "{count: 60, rate: 2000, seed: 5, prompt_tokens: {min: 32, max: 256}, output_tokens: {min: 4, max: 32}}";
  const std::string f = serve_file(reqs);
  ASSERT_EQ(podsim_cli("serve " + f + " --hw tpu-v4 -q -j 1 --json " + dir_ + "/one.json").code, 0);
  ASSERT_EQ(podsim_cli("serve " + f + " --hw tpu-v4 -q -j 1 --json " + dir_ + "/four.json --sset serve.replicas.count=4 "
                       "--sset serve.replicas.routing=least_outstanding").code, 0);
  const json one = json::parse(read_file(dir_ + "/one.json")), four = json::parse(read_file(dir_ + "/four.json"));
  ASSERT_EQ(four["replicas"]["chips"].size(), 4u);
  std::uint64_t routed = 0, steps = 0;
  for (const json& c : four["replicas"]["chips"]) {
    routed += c["requests"].get<std::uint64_t>();
    steps += c["steps"].get<std::uint64_t>();
  }
  EXPECT_EQ(routed, 60u);
  EXPECT_EQ(steps, four["summary"]["steps"].get<std::uint64_t>());
  // Four chips share a load that queues on one: the tail latency can only fall.
  EXPECT_LT(four["summary"]["ttft_s"]["p99"].get<double>(), one["summary"]["ttft_s"]["p99"].get<double>());
  // Static power counts every chip: 4 x 10 W over the makespan, on top of the steps' energy.
  ASSERT_EQ(podsim_cli("serve " + f + " --hw tpu-v4 -q -j 1 --json " + dir_ + "/st.json --sset serve.replicas.count=4 "
                       "--set 'chip.energy.static_power=10 W'").code, 0);
  ASSERT_EQ(podsim_cli("serve " + f + " --hw tpu-v4 -q -j 1 --json " + dir_ + "/dy.json --sset serve.replicas.count=4 "
                       "--set 'chip.energy.static_power=0 W'").code, 0);
  const json st = json::parse(read_file(dir_ + "/st.json"))["summary"], dy = json::parse(read_file(dir_ + "/dy.json"))["summary"];
  EXPECT_NEAR(st["energy_j"].get<double>(), dy["energy_j"].get<double>() + 4 * 10 * st["makespan_s"].get<double>(),
              1e-9 * st["energy_j"].get<double>());
  // A routing typo, and replicas with disaggregation: exit 2 naming the key.
  Outcome bad = podsim_cli("serve " + f + " --hw tpu-v4 -q --sset serve.replicas.count=2 --sset serve.replicas.routing=least_outstandin");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("did you mean 'least_outstanding'"), std::string::npos) << bad.output;
  bad = podsim_cli("serve " + f + " --hw tpu-v4 -q --sset serve.replicas.count=2 --sset serve.disaggregation.prefill_chips=1 "
                   "--sset serve.disaggregation.decode_chips=1 --sset 'serve.disaggregation.kv_link=10 GB/s'");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("serve.replicas"), std::string::npos) << bad.output;
}


TEST_F(Serve, SwapPreemptionNeedsAHostLinkAndMovesTheCacheOverIt) {
  // A cache of 512 tokens for 40 requests of up to 160: preemptions are certain.
  const std::string f = serve_file("{count: 40, rate: 5000, seed: 2, prompt_tokens: {min: 64, max: 128}, output_tokens: {min: 8, max: 32}}",
                                   "{max_batch: 8, max_tokens_per_step: 256, kv_capacity_tokens: 512, preemption: swap}");
  const Outcome no_link = podsim_cli("serve " + f + " --hw tpu-v4 -q");
  EXPECT_EQ(no_link.code, 2) << no_link.output;
  EXPECT_NE(no_link.output.find("serve.scheduler.preemption"), std::string::npos) << no_link.output;
  EXPECT_NE(no_link.output.find("chip.host.link_bandwidth"), std::string::npos) << no_link.output;
  ASSERT_EQ(podsim_cli("serve " + f + " --hw tpu-v4 -q -j 1 --set 'chip.host.link_bandwidth=16 GB/s' --json " + dir_ +
                       "/sw.json").code, 0);
  const json r = json::parse(read_file(dir_ + "/sw.json"));
  ASSERT_GT(r["summary"]["preemptions"].get<std::uint64_t>(), 0u);
  const double bytes = r["preemption"]["swap_bytes"].get<double>();
  EXPECT_GT(bytes, 0.0);
  EXPECT_NEAR(r["preemption"]["swap_s"].get<double>(), bytes / 16e9, 1e-9 * bytes / 16e9);
  // Whole tokens of the model's KV cache, out and back: a multiple of 2 x bytes per token.
  const double per_token = r["model"]["kv_bytes_per_token"].get<double>();
  EXPECT_EQ(std::fmod(bytes, 2 * per_token), 0.0);
}

}  // namespace

namespace {

// Prefix caching end to end: the report's prefix line and JSON block, and the prompt tokens
// it did not prefill; TTFT can only fall when the same requests prefill less, on a chip
// whose steps are the same grid of simulations.
TEST_F(Serve, PrefixCachingReportsItsHitsAndShortensTheFirstToken) {
  const std::string reqs =
      "{count: 40, rate: 400, seed: 4, prompt_tokens: {min: 160, max: 256}, output_tokens: {min: 2, max: 8},\n"
      "    shared_prefix: {groups: 2, tokens: 128}}";
  const std::string f = serve_file(reqs, "{max_batch: 8, max_tokens_per_step: 256, prefix_caching: true}");
  const Outcome on = podsim_cli("serve " + f + " --hw tpu-v4 -j 2 --json " + dir_ + "/on.json");
  ASSERT_EQ(on.code, 0) << on.output;
  EXPECT_NE(on.output.find("prefix cache: "), std::string::npos) << on.output;
  ASSERT_EQ(podsim_cli("serve " + f + " --hw tpu-v4 -q -j 2 --json " + dir_ + "/off.json --sset "
                       "serve.scheduler.prefix_caching=false").code, 0);
  const json a = json::parse(read_file(dir_ + "/on.json")), b = json::parse(read_file(dir_ + "/off.json"));
  ASSERT_TRUE(a.contains("prefix_cache"));
  EXPECT_FALSE(b.contains("prefix_cache"));
  const json& pc = a["prefix_cache"];
  EXPECT_EQ(pc["lookups"].get<std::uint64_t>(), 40u);
  // Two prefixes of 8 whole blocks; a prefix misses only for requests admitted before its
  // first one has prefilled it, at most a batch (8) of them each.
  EXPECT_GE(pc["hits"].get<std::uint64_t>(), 40u - 2 * 8);
  EXPECT_EQ(pc["tokens_saved"].get<std::uint64_t>(), 128u * pc["hits"].get<std::uint64_t>());
  EXPECT_EQ(a["summary"]["prompt_tokens"], b["summary"]["prompt_tokens"]);
  EXPECT_LT(a["summary"]["ttft_s"]["mean"].get<double>(), b["summary"]["ttft_s"]["mean"].get<double>());
  // A prefix as long as the shortest prompt: exit 2 naming the key.
  const Outcome bad = podsim_cli("serve " + f + " --hw tpu-v4 -q --sset serve.requests.shared_prefix.tokens=160");
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("serve.requests.shared_prefix.tokens"), std::string::npos) << bad.output;
}

}  // namespace
