// The serving scheduler against closed forms: step costs of our choosing, request streams
// small enough to follow by hand (serving/batch_scheduler.h states the policy).
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <unistd.h>

#include "podsim/config/config_error.h"
#include "podsim/serving/batch_scheduler.h"
#include "podsim/serving/serve_report.h"
#include "podsim/serving/serve_spec.h"
#include "podsim/serving/step_cost.h"
#include "temp_dir_test.h"
#include "test_paths.h"

namespace podsim {
namespace {

// A prefill step costs `prefill`, a decode-only step `decode`, whatever the sizes.
struct FixedCost : StepCost {
  double prefill = 0.010, decode = 0.002;
  std::uint64_t steps_with_both = 0;
  double seconds(const StepWork& w) override {
    if (w.prefill_tokens > 0 && w.decode_sequences > 0) ++steps_with_both;
    return w.prefill_tokens > 0 ? prefill : decode;
  }
};

ServeScheduler scheduler(std::uint64_t max_batch, std::uint64_t max_tokens, std::uint64_t block = 16) {
  ServeScheduler s;
  s.max_batch = max_batch;
  s.max_tokens_per_step = max_tokens;
  s.kv_block_tokens = block;
  return s;
}

TEST(ServingScheduler, OneRequestTakesOnePrefillThenOneDecodeStepPerFurtherToken) {
  FixedCost cost;
  const std::vector<ServeRequest> reqs = {{0.5, 100, 20}};
  const ServeTimeline t = simulate_serving(reqs, scheduler(8, 512), 1 << 20, cost, {});
  const RequestOutcome& r = t.requests[0];
  EXPECT_NEAR(r.ttft_s(), 0.010, 1e-12);              // the prefill step gives the first token
  EXPECT_NEAR(r.e2e_s(), 0.010 + 19 * 0.002, 1e-12);  // 19 more tokens, one a step
  EXPECT_NEAR(r.tpot_s(), 0.002, 1e-12);
  EXPECT_EQ(t.steps, 20u);
}

// The timeline's energy is the sum of its steps' (StepCost::joules): 1 prefill step and 19
// decode steps for one request of 20 output tokens.
TEST(ServingScheduler, EnergyIsTheSumOfTheStepsEnergies) {
  struct Costed : FixedCost {
    double joules(const StepWork& w) override { return w.prefill_tokens > 0 ? 3.0 : 0.5; }
  } cost;
  const ServeTimeline t = simulate_serving({{0.5, 100, 20}}, scheduler(8, 512), 1 << 20, cost, {});
  EXPECT_NEAR(t.dynamic_j, 3.0 + 19 * 0.5, 1e-12);
  FixedCost none;  // a cost that knows no energy adds none
  EXPECT_EQ(simulate_serving({{0.5, 100, 20}}, scheduler(8, 512), 1 << 20, none, {}).dynamic_j, 0.0);
}

TEST(ServingScheduler, ChunkedPrefillTakesCeilPromptOverBudgetSteps) {
  FixedCost cost;
  const std::vector<ServeRequest> reqs = {{0, 1000, 2}};
  const ServeTimeline t = simulate_serving(reqs, scheduler(4, 256), 1 << 20, cost, {});
  EXPECT_NEAR(t.requests[0].ttft_s(), 4 * 0.010, 1e-12);  // ceil(1000 / 256) = 4 chunks
  EXPECT_NEAR(t.requests[0].e2e_s(), 4 * 0.010 + 0.002, 1e-12);
}

TEST(ServingScheduler, BatchOfOneServesRequestsOneAfterAnother) {
  FixedCost cost;
  std::vector<ServeRequest> reqs(5, ServeRequest{0, 64, 10});
  const ServeTimeline t = simulate_serving(reqs, scheduler(1, 512), 1 << 20, cost, {});
  const double each = 0.010 + 9 * 0.002;
  for (std::size_t k = 0; k < reqs.size(); ++k) {
    EXPECT_NEAR(t.requests[k].finish_s, (k + 1) * each, 1e-12) << k;
    EXPECT_NEAR(t.requests[k].ttft_s(), k * each + 0.010, 1e-12) << k;
  }
  EXPECT_EQ(t.max_batch_seen, 1u);
}

TEST(ServingScheduler, ContinuousBatchingAdmitsANewRequestBetweenDecodeSteps) {
  FixedCost cost;
  // The second request arrives while the first decodes: it joins at the next step, whose
  // prefill chunk and the first request's decode token share one step.
  const std::vector<ServeRequest> reqs = {{0, 64, 10}, {0.011, 64, 3}};
  const ServeTimeline t = simulate_serving(reqs, scheduler(8, 512), 1 << 20, cost, {});
  // Steps: P(0-.010) D(.010-.012) P+D(.012-.022) D D ...
  EXPECT_NEAR(t.requests[1].first_token_s, 0.022, 1e-12);
  EXPECT_NEAR(t.requests[1].finish_s, 0.022 + 2 * 0.002, 1e-12);
  EXPECT_EQ(cost.steps_with_both, 1u);
  // The first request's 10 tokens: 1 from its prefill, then 9 steps of which one is the mixed step.
  EXPECT_NEAR(t.requests[0].finish_s, 0.010 + 8 * 0.002 + 0.010, 1e-12);
}

TEST(ServingScheduler, FullCachePreemptsTheLatestAdmittedWhichRecomputes) {
  FixedCost cost;
  cost.prefill = cost.decode = 1;  // every step costs 1 s: the times count steps
  // Blocks of one token, 10 of them. Both requests fit at admission (4 + 4 tokens). Step 1
  // prefills both; step 2 decodes both (10 tokens held); in step 3 request 0 needs an 11th
  // and request 1 is preempted; step 4 finishes request 0; step 5 recomputes request 1's
  // prompt and two tokens (6 tokens) and gives its third token; step 6 its fourth.
  const std::vector<ServeRequest> reqs = {{0, 4, 4}, {0, 4, 4}};
  const ServeTimeline t = simulate_serving(reqs, scheduler(8, 64, 1), 10, cost, {});
  EXPECT_DOUBLE_EQ(t.requests[0].finish_s, 4);
  EXPECT_DOUBLE_EQ(t.requests[1].first_token_s, 1);
  EXPECT_DOUBLE_EQ(t.requests[1].finish_s, 6);
  EXPECT_EQ(t.requests[1].preemptions, 1u);
  EXPECT_EQ(t.preemptions, 1u);
  EXPECT_EQ(t.kv_blocks_peak, 10u);
}

TEST(ServingScheduler, RequestLargerThanTheCacheIsAnInputError) {
  FixedCost cost;
  const std::vector<ServeRequest> reqs = {{0, 100, 30}};
  try {
    simulate_serving(reqs, scheduler(8, 512, 16), 64, cost, {"serve.yaml", 12, 7});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "serve.scheduler.kv_capacity_tokens");
    EXPECT_EQ(e.where().line, 12);
    EXPECT_NE(std::string(e.what()).find("request 0"), std::string::npos) << e.what();
  }
}

TEST(ServingScheduler, ThroughputUnderSaturationIsTokensPerStepOverStepTime) {
  // Many requests at t = 0, a cost of 1 s a step: with max_batch 4 and prompts that fit one
  // step, each wave of 4 takes 1 prefill + 9 decode steps for 10 tokens each.
  FixedCost cost;
  cost.prefill = cost.decode = 1;
  std::vector<ServeRequest> reqs(16, ServeRequest{0, 8, 10});
  const ServeTimeline t = simulate_serving(reqs, scheduler(4, 64, 8), 1 << 20, cost, {});
  ServeSpec spec;
  const ServeSummary s = summarize(spec, t);
  EXPECT_DOUBLE_EQ(s.makespan_s, 40);  // 4 waves of 10 steps
  EXPECT_DOUBLE_EQ(s.output_tokens_per_s, 160.0 / 40);
  EXPECT_EQ(t.max_batch_seen, 4u);
}

TEST(ServingScheduler, TheTimelineKeepsAtMostItsLimitOfSamplesEvenlySpaced) {
  FixedCost cost;
  cost.prefill = cost.decode = 1;
  // One request of 10,000 tokens: 10,000 steps of 1 s, sampled every 8th once halved twice.
  const std::vector<ServeRequest> reqs = {{0, 4, 10000}};
  const ServeTimeline t = simulate_serving(reqs, scheduler(1, 64, 16), 1 << 20, cost, {});
  EXPECT_EQ(t.steps, 10000u);
  EXPECT_EQ(t.sample_stride, 8u);  // 10,000 steps / 2,048 samples -> the first power of two above 4.9
  ASSERT_EQ(t.samples.size(), 1250u);  // steps 0, 8, ..., 9,992
  for (std::size_t k = 0; k < t.samples.size(); ++k) {
    EXPECT_DOUBLE_EQ(t.samples[k].t_s, double(8 * k + 1)) << k;  // the end of step 8k
    EXPECT_EQ(t.samples[k].running, 1u);
  }
  // The cache grows a block every 16 tokens: at step 9,992 it holds 4 + 9,992 tokens.
  EXPECT_EQ(t.samples.back().kv_blocks, (4 + 9992 + 15) / 16);
}

// Speculative decoding: k draft tokens accepted in order, each with probability a, then
// the served model's own token: (1 - a^(k+1)) / (1 - a) tokens per sequence-step on average
// (Leviathan et al. 2023, eq. 1). Long outputs keep the end-of-request truncation small.
TEST(ServingScheduler, SpeculativeDecodingGainsTheClosedFormTokensPerStep) {
  ServeScheduler sch = scheduler(16, 4096);
  sch.speculative = {4, 0.6, 7};
  std::vector<ServeRequest> reqs;
  for (int i = 0; i < 16; ++i) reqs.push_back({0.0, 64, 2000});
  FixedCost cost;
  const ServeTimeline t = simulate_serving(reqs, sch, 1 << 24, cost, {});
  const double expected = (1 - std::pow(0.6, 5)) / (1 - 0.6);  // 2.306
  const double measured = double(t.decode_sequence_steps + t.accepted) / double(t.decode_sequence_steps);
  EXPECT_NEAR(measured, expected, 0.02 * expected);
  EXPECT_NEAR(double(t.accepted) / double(t.drafted), 0.6 * (1 - std::pow(0.6, 4)) / (1 - 0.6) / 4, 0.03);
  // Every request gets exactly its tokens: one from the prefill, the rest from decode steps.
  std::uint64_t tokens = 0;
  for (const RequestOutcome& r : t.requests) {
    EXPECT_GT(r.finish_s, 0);
    tokens += r.output_tokens;
  }
  EXPECT_EQ(t.decode_sequence_steps + t.accepted + reqs.size(), tokens);
  // The same seed, the same run; another seed, another.
  const ServeTimeline again = simulate_serving(reqs, sch, 1 << 24, cost, {});
  EXPECT_EQ(again.accepted, t.accepted);
  sch.speculative.seed = 8;
  EXPECT_NE(simulate_serving(reqs, sch, 1 << 24, cost, {}).accepted, t.accepted);
}

TEST(ServingScheduler, SpeculationThatIsNeverAcceptedDecodesOneTokenAStep) {
  ServeScheduler sch = scheduler(8, 512);
  sch.speculative = {3, 0.0, 1};
  FixedCost cost;
  const ServeTimeline t = simulate_serving({{0.5, 100, 20}}, sch, 1 << 20, cost, {});
  EXPECT_EQ(t.accepted, 0u);
  EXPECT_EQ(t.steps, 20u);  // as without speculation: a prefill step, then 19 decode steps
  // Each decode step drafts min(3, tokens left - 1): 3 for 16 steps, then 2, 1, 0.
  EXPECT_EQ(t.drafted, 16u * 3 + 2 + 1);
}

// Prefill/decode disaggregation, with a fixed cost (prefill step 10 ms, decode step 2 ms)
// and a KV link of 1 GB/s after 10 us: 100 prompt tokens of 1,000 B = 100 us on the link.
ServeScheduler disaggregated(std::uint64_t prefill, std::uint64_t decode) {
  ServeScheduler s = scheduler(8, 512);
  s.disaggregation = {prefill, decode, 1e9, 10e-6};
  return s;
}

TEST(ServingScheduler, DisaggregatedRequestIsPrefillTransferThenDecodeSteps) {
  FixedCost cost;
  const ServeTimeline t =
      simulate_disaggregated({{0.5, 100, 5}}, disaggregated(1, 1), 1 << 20, 1000, cost, {});
  const RequestOutcome& r = t.requests[0];
  EXPECT_NEAR(r.ttft_s(), 0.010, 1e-12);                       // the prefill chip's step
  EXPECT_NEAR(r.e2e_s(), 0.010 + 10e-6 + 100e-6 + 4 * 0.002, 1e-12);  // the link, 4 decode steps
  EXPECT_EQ(t.kv_transfer_bytes, 100'000u);
  EXPECT_NEAR(t.prefill_busy_s, 0.010, 1e-12);
  EXPECT_NEAR(t.decode_busy_s, 0.008, 1e-12);
  EXPECT_EQ(t.chips, 2u);
  EXPECT_EQ(cost.steps_with_both, 0u);  // no step mixes prefill and decode
}

TEST(ServingScheduler, DisaggregationKeepsDecodeStepsClearOfOtherPrompts) {
  // A decodes 19 tokens; B arrives 5 ms in. Sharing one chip, B's prefill step (10 ms)
  // interrupts A's decoding; disaggregated, B's prefill runs on its own chip and A's
  // tokens come every 2 ms.
  const std::vector<ServeRequest> reqs = {{0.0, 100, 20}, {0.005, 100, 2}};
  FixedCost shared_cost, split_cost;
  const ServeTimeline shared = simulate_serving(reqs, scheduler(8, 512), 1 << 20, shared_cost, {});
  const ServeTimeline split = simulate_disaggregated(reqs, disaggregated(1, 1), 1 << 20, 1000, split_cost, {});
  EXPECT_NEAR(split.requests[0].e2e_s(), 0.010 + 110e-6 + 19 * 0.002, 1e-12);
  EXPECT_GT(shared.requests[0].e2e_s(), split.requests[0].e2e_s() + 0.005);
  // B: queued behind nothing on the prefill chip (A's prefill ended at 10 ms): 10 -> 20 ms.
  EXPECT_NEAR(split.requests[1].first_token_s, 0.020, 1e-12);
}

TEST(ServingScheduler, DisaggregatedPoolsShareTheirWork) {
  // 4 requests at once, each prompt 100 and 3 output tokens, on 2 prefill and 2 decode
  // chips, batch 1: two prefills at a time (10 ms), then two more.
  ServeScheduler s = disaggregated(2, 2);
  s.max_batch = 1;
  s.max_tokens_per_step = 128;
  FixedCost cost;
  const std::vector<ServeRequest> reqs(4, ServeRequest{0.0, 100, 3});
  const ServeTimeline t = simulate_disaggregated(reqs, s, 1 << 20, 1000, cost, {});
  EXPECT_NEAR(t.requests[0].first_token_s, 0.010, 1e-12);
  EXPECT_NEAR(t.requests[1].first_token_s, 0.010, 1e-12);
  EXPECT_NEAR(t.requests[2].first_token_s, 0.020, 1e-12);
  EXPECT_NEAR(t.requests[3].first_token_s, 0.020, 1e-12);
  EXPECT_NEAR(t.prefill_busy_s, 0.040, 1e-12);
  EXPECT_NEAR(t.decode_busy_s, 4 * 2 * 0.002, 1e-12);  // 2 decode steps each, batch 1
  for (const RequestOutcome& r : t.requests) EXPECT_NEAR(r.e2e_s() - r.ttft_s(), 110e-6 + 2 * 0.002, 1e-12);
}

TEST(ServingReport, PercentilesFollowTheNearestRankRule) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  const LatencyStats s = latency_stats(v);
  EXPECT_DOUBLE_EQ(s.p50, 50);
  EXPECT_DOUBLE_EQ(s.p90, 90);
  EXPECT_DOUBLE_EQ(s.p99, 99);
  EXPECT_DOUBLE_EQ(s.max, 100);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
  EXPECT_DOUBLE_EQ(latency_stats({7}).p99, 7);
}

TEST(ServingCost, InterpolationIsExactOnAnAffineCost) {
  auto f = [](double b, double kv) { return 0.01 + 0.001 * b + 2e-6 * kv; };
  std::vector<CostRow> rows;
  for (std::uint64_t b : {1, 2, 4, 8}) {
    CostRow r{b, {1, 400, 900}, {}, {}};
    for (auto kv : r.kv_len) r.seconds.push_back(f(double(b), double(kv)));
    rows.push_back(r);
  }
  for (std::uint64_t b : {1, 3, 5, 8})
    for (std::uint64_t kv : {1, 250, 899, 1500})  // 1500: beyond the last length, extended
      EXPECT_NEAR(interpolate_rows(rows, b, kv), f(double(b), double(kv)), 1e-12) << b << " " << kv;
}

class ServeFiles : public test::TempDirTest {};

TEST_F(ServeFiles, GeneratorIsPoissonWithUniformLengthsAndDeterministic) {
  const std::string path = write("s.yaml",
                                 "serve:\n  workload: m.yaml\n  requests: {count: 20000, rate: 5, seed: 3,\n"
                                 "    prompt_tokens: {min: 100, max: 300}, output_tokens: 7}\n");
  const ServeSpec spec = load_serve_spec(path);
  const auto a = serve_requests(spec), b = serve_requests(spec);
  ASSERT_EQ(a.size(), 20000u);
  double prompt_sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].arrival_s, b[i].arrival_s);
    EXPECT_GE(a[i].prompt_tokens, 100u);
    EXPECT_LE(a[i].prompt_tokens, 300u);
    EXPECT_EQ(a[i].output_tokens, 7u);
    prompt_sum += double(a[i].prompt_tokens);
  }
  // Mean gap 1/rate: the mean of 20,000 exponential gaps has a standard error of 0.7 %.
  EXPECT_NEAR(a.back().arrival_s / 20000, 0.2, 0.2 * 0.03);
  EXPECT_NEAR(prompt_sum / 20000, 200, 2);  // standard error 0.4 tokens
}

TEST_F(ServeFiles, UnknownKeyNamesItsLineColumnAndPath) {
  const std::string path = write("s.yaml",
                                 "serve:\n  workload: m.yaml\n  requests: {trace: r.csv}\n  scheduler:\n"
                                 "    max_bach: 8\n");
  try {
    load_serve_spec(path);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "serve.scheduler.max_bach");
    EXPECT_EQ(e.where().line, 5);
    EXPECT_EQ(e.where().column, 5);
    EXPECT_NE(std::string(e.what()).find("max_batch"), std::string::npos) << e.what();
  }
}

TEST_F(ServeFiles, SpeculativeDecodingIsReadAndItsBadValuesNamed) {
  const std::string ok = write("ok.yaml",
                               "serve:\n  workload: m.yaml\n  requests: {trace: r.csv}\n"
                               "  speculative: {draft: d.yaml, tokens: 4, acceptance: 0.7, seed: 9}\n");
  const ServeSpec spec = load_serve_spec(ok);
  EXPECT_EQ(spec.scheduler.speculative.tokens, 4u);
  EXPECT_DOUBLE_EQ(spec.scheduler.speculative.acceptance, 0.7);
  EXPECT_EQ(spec.scheduler.speculative.seed, 9u);
  EXPECT_EQ(spec.draft, dir_ + "/d.yaml");
  const struct { const char* body; const char* key; } bad[] = {
      {"{draft: d.yaml, tokens: 4, acceptance: 1}", "serve.speculative.acceptance"},
      {"{draft: d.yaml, tokens: 4, acceptance: -0.1}", "serve.speculative.acceptance"},
      {"{draft: d.yaml, tokens: 0, acceptance: 0.5}", "serve.speculative.tokens"},
      {"{draft: d.yaml, acceptance: 0.5}", "serve.speculative.tokens"},
      {"{draft: d.yaml, tokens: 2, acceptance: 0.5, accept: 1}", "serve.speculative.accept"},
  };
  for (const auto& b : bad) {
    const std::string path = write("bad.yaml", std::string("serve:\n  workload: m.yaml\n  requests: {trace: r.csv}\n"
                                                           "  speculative: ") + b.body + "\n");
    try {
      load_serve_spec(path);
      ADD_FAILURE() << b.body;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key_path(), b.key) << b.body << ": " << e.what();
      EXPECT_EQ(e.where().line, 4) << b.body;
    }
  }
  const std::string budget = write("budget.yaml",
                                   "serve:\n  workload: m.yaml\n  requests: {trace: r.csv}\n"
                                   "  scheduler: {max_batch: 256, max_tokens_per_step: 2048}\n"
                                   "  speculative: {draft: d.yaml, tokens: 16, acceptance: 0.5}\n");
  try {
    load_serve_spec(budget);
    ADD_FAILURE();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "serve.speculative.tokens");
    EXPECT_NE(std::string(e.what()).find("4352"), std::string::npos) << e.what();
  }
}

TEST_F(ServeFiles, DisaggregationIsReadAndItsBadValuesNamed) {
  const std::string ok = write("d.yaml",
                               "serve:\n  workload: m.yaml\n  requests: {trace: r.csv}\n"
                               "  disaggregation: {prefill_chips: 2, decode_chips: 3, kv_link: 50 GB/s, kv_latency: 5 us}\n");
  const Disaggregation d = load_serve_spec(ok).scheduler.disaggregation;
  EXPECT_EQ(d.prefill_chips, 2u);
  EXPECT_EQ(d.decode_chips, 3u);
  EXPECT_DOUBLE_EQ(d.kv_link_Bps, 50e9);
  EXPECT_DOUBLE_EQ(d.kv_latency_s, 5e-6);
  const struct { const char* body; const char* key; } bad[] = {
      {"{prefill_chips: 0, decode_chips: 1, kv_link: 1 GB/s}", "serve.disaggregation.prefill_chips"},
      {"{prefill_chips: 1, decode_chips: 1, kv_link: fast}", "serve.disaggregation.kv_link"},
      {"{prefill_chips: 1, decode_chips: 1}", "serve.disaggregation.kv_link"},
      {"{prefill_chips: 1, decode_chips: 1, kv_link: 1 GB/s, kv_latency: soon}", "serve.disaggregation.kv_latency"},
  };
  for (const auto& b : bad) {
    const std::string path = write("bad.yaml", std::string("serve:\n  workload: m.yaml\n  requests: {trace: r.csv}\n"
                                                           "  disaggregation: ") + b.body + "\n");
    try {
      load_serve_spec(path);
      ADD_FAILURE() << b.body;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key_path(), b.key) << b.body << ": " << e.what();
      EXPECT_EQ(e.where().line, 4) << b.body;
    }
  }
}

TEST_F(ServeFiles, TraceLinesAreReadAndABadFieldNamesItsLineAndColumn) {
  write("r.csv", "arrival_s,prompt_tokens,output_tokens\n0.5,100,20\n1.25,7,1\n");
  const ServeSpec spec = load_serve_spec(write("s.yaml", "serve:\n  workload: m.yaml\n  requests: {trace: r.csv}\n"));
  const auto reqs = serve_requests(spec);
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_DOUBLE_EQ(reqs[1].arrival_s, 1.25);
  EXPECT_EQ(reqs[1].prompt_tokens, 7u);
  write("r.csv", "arrival_s,prompt_tokens,output_tokens\n0.5,100,20\n1.0,x7,1\n");
  try {
    serve_requests(spec);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.where().line, 3);
    EXPECT_EQ(e.where().column, 5);
    EXPECT_NE(std::string(e.what()).find("prompt_tokens"), std::string::npos) << e.what();
  }
}


// Replicas behind a router (ServeScheduler::replicas): each replica is a lone chip running
// the requests routed to it, so each request's outcome equals a one-chip run of its
// replica's requests alone (an independent run of the same policy).
TEST(ServingScheduler, RoundRobinReplicasEachRunTheirShareAlone) {
  FixedCost cost;
  std::vector<ServeRequest> reqs;
  for (int i = 0; i < 9; ++i) reqs.push_back({0.001 * i, 64 + 16 * std::uint64_t(i), 5 + std::uint64_t(i % 4)});
  ServeScheduler sch = scheduler(2, 256);
  sch.replicas.count = 3;
  const ServeTimeline t = simulate_serving(reqs, sch, 1 << 20, cost, {});
  ASSERT_EQ(t.replicas.size(), 3u);
  EXPECT_EQ(t.chips, 3u);
  std::uint64_t steps = 0;
  for (std::size_t r = 0; r < 3; ++r) {
    std::vector<ServeRequest> share;
    for (std::size_t i = r; i < reqs.size(); i += 3) share.push_back(reqs[i]);  // in turn
    FixedCost alone_cost;
    const ServeTimeline alone = simulate_serving(share, scheduler(2, 256), 1 << 20, alone_cost, {});
    for (std::size_t k = 0; k < share.size(); ++k) {
      EXPECT_EQ(t.requests[r + 3 * k].first_token_s, alone.requests[k].first_token_s) << r << " " << k;
      EXPECT_EQ(t.requests[r + 3 * k].finish_s, alone.requests[k].finish_s) << r << " " << k;
    }
    EXPECT_EQ(t.replicas[r].requests, 3u);
    EXPECT_EQ(t.replicas[r].steps, alone.steps);
    steps += alone.steps;
  }
  EXPECT_EQ(t.steps, steps);
}

TEST(ServingScheduler, LeastOutstandingSendsARequestToTheIdleReplica) {
  // Request 0 is long (100 tokens: 0.010 + 99 x 0.002 = 0.208 s), request 1 short (2
  // tokens, done at 0.012 s); request 2 arrives at 0.05 s. Round robin sends it to replica
  // 0, beside request 0: its prefill step waits for the decode step under way there.
  // Least outstanding sends it to replica 1, idle: its first token comes one prefill step
  // after it arrives.
  const std::vector<ServeRequest> reqs = {{0.0, 64, 100}, {0.0, 64, 2}, {0.0501, 64, 2}};
  for (const char* routing : {"round_robin", "least_outstanding"}) {
    FixedCost cost;
    ServeScheduler sch = scheduler(8, 512);
    sch.replicas.count = 2;
    sch.replicas.routing = routing;
    const ServeTimeline t = simulate_serving(reqs, sch, 1 << 20, cost, {});
    const RequestOutcome& r2 = t.requests[2];
    if (std::string(routing) == "least_outstanding") {
      EXPECT_EQ(t.replicas[1].requests, 2u);
      EXPECT_NEAR(r2.ttft_s(), 0.010, 1e-12);
    } else {
      EXPECT_EQ(t.replicas[0].requests, 2u);
      // Replica 0 decodes from 0.010 every 0.002 s: the step under way at 0.0501 ends at
      // 0.052; then the prefill step (with request 0's decode) ends at 0.062.
      EXPECT_NEAR(r2.first_token_s, 0.062, 1e-9);
    }
    // Request 0's decode in request 2's prefill step costs a prefill step (+0.008 s) under
    // round robin; alone under least outstanding.
    EXPECT_NEAR(t.requests[0].e2e_s(), std::string(routing) == "round_robin" ? 0.216 : 0.208, 1e-9);
  }
}

}  // namespace

// Swap preemption against recompute: two requests that outgrow a 6-block cache together
// (each reaches 71 tokens, 5 blocks). Recompute prefills a victim's prompt and its output
// again; swap copies its cache out and back, both ways at the link's rate, and prefills
// nothing twice.
TEST(ServingScheduler, SwapPreemptionCopiesTheCacheOutAndBackInsteadOfRecomputing) {
  struct Counting : FixedCost {
    std::uint64_t prefill_tokens = 0;
    double total = 0;
    double seconds(const StepWork& w) override {
      prefill_tokens += w.prefill_tokens;
      const double s = FixedCost::seconds(w);
      total += s;
      return s;
    }
  };
  const std::vector<ServeRequest> reqs = {{0.0, 32, 40}, {0.0, 32, 40}};
  Counting recompute_cost;
  const ServeTimeline rc = simulate_serving(reqs, scheduler(8, 512), 96, recompute_cost, {});
  ASSERT_GE(rc.preemptions, 1u);
  EXPECT_GT(recompute_cost.prefill_tokens, 64u);  // the victims' prompts and outputs again
  EXPECT_EQ(rc.swap_bytes, 0.0);

  ServeScheduler sch = scheduler(8, 512);
  sch.preemption = "swap";
  Counting swap_cost;
  const SwapLink link{1000.0, 1e6};  // 1 kB a token, 1 MB/s: 1 ms a token each way
  const ServeTimeline sw = simulate_serving(reqs, sch, 96, swap_cost, {}, link);
  ASSERT_GE(sw.preemptions, 1u);
  EXPECT_EQ(swap_cost.prefill_tokens, 64u);  // each prompt once
  // Every byte that went out came back (both requests finished), at the link's rate, and
  // the steps took their own time plus the copies'.
  EXPECT_GT(sw.swap_bytes, 0.0);
  EXPECT_EQ(std::fmod(sw.swap_bytes, 2000.0), 0.0);  // whole tokens, out and in
  EXPECT_NEAR(sw.swap_s, sw.swap_bytes / 1e6, 1e-12);
  EXPECT_NEAR(sw.busy_s, swap_cost.total + sw.swap_s, 1e-12);
  for (const RequestOutcome& r : sw.requests) EXPECT_GT(r.finish_s, 0.0);
}

}  // namespace podsim

namespace podsim {
namespace {

// Every shipped serve file loads, names a model file that exists, and generates its
// requests: a prompt longer than its prefix, arrivals in order.
TEST(ServeExamples, EveryShippedServeFileLoadsAndGeneratesItsRequests) {
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(test::source_path("workloads/serve"))) {
    if (entry.path().extension() != ".yaml") continue;
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.rfind("serve:", 0) != 0 && text.find("\nserve:") == std::string::npos) continue;  // a model file
    ++files;
    const ServeSpec spec = load_serve_spec(entry.path().string());
    EXPECT_TRUE(std::filesystem::exists(spec.workload)) << entry.path();
    const std::vector<ServeRequest> reqs = serve_requests(spec);
    ASSERT_FALSE(reqs.empty()) << entry.path();
    for (std::size_t i = 0; i < reqs.size(); ++i) {
      EXPECT_LT(reqs[i].prefix_tokens, reqs[i].prompt_tokens) << entry.path() << " request " << i;
      if (i > 0) {
        EXPECT_GE(reqs[i].arrival_s, reqs[i - 1].arrival_s) << entry.path();
      }
    }
  }
  EXPECT_GE(files, 7u);
}

}  // namespace
}  // namespace podsim
