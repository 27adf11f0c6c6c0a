// Prefix caching and KV-aware routing (serving/prefix_cache.h, batch_scheduler.cpp) against
// closed forms: step costs of our choosing, request streams small enough to follow by hand.
#include <cstdlib>
#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "podsim/config/config_error.h"
#include "podsim/serving/batch_scheduler.h"
#include "podsim/serving/prefix_cache.h"
#include "podsim/serving/serve_spec.h"
#include "podsim/serving/step_cost.h"
#include "temp_dir_test.h"

namespace podsim {
namespace {

// A prefill step costs 0.1 ms a prompt token, a decode-only step 2 ms; it records every
// step's work.
struct RecordingCost : StepCost {
  std::vector<StepWork> steps;
  double seconds(const StepWork& w) override {
    steps.push_back(w);
    return w.prefill_tokens > 0 ? 1e-4 * double(w.prefill_tokens) : 0.002;
  }
  std::vector<std::uint64_t> prefills() const {
    std::vector<std::uint64_t> out;
    for (const StepWork& w : steps)
      if (w.prefill_tokens > 0) out.push_back(w.prefill_tokens);
    return out;
  }
};

ServeScheduler caching(bool on, std::uint64_t block = 16) {
  ServeScheduler s;
  s.max_batch = 8;
  s.max_tokens_per_step = 512;
  s.kv_block_tokens = block;
  s.prefix_caching = on;
  return s;
}

ServeRequest with_prefix(double at, std::uint64_t prompt, std::uint64_t output, std::uint64_t id, std::uint64_t tokens) {
  ServeRequest r{at, prompt, output};
  r.prefix_id = id;
  r.prefix_tokens = tokens;
  return r;
}

TEST(PrefixCache, EvictsTheLeastRecentlyReleasedIdleEntryFirst) {
  PrefixCache c;
  EXPECT_TRUE(c.insert(1, 2));
  EXPECT_TRUE(c.insert(2, 3));
  EXPECT_FALSE(c.insert(1, 5));  // cached already: nothing changes
  EXPECT_EQ(c.cached_blocks(1), 2u);
  EXPECT_EQ(c.evict_one(), 0u);  // both referenced
  c.release(2, 1.0);
  c.release(1, 2.0);
  EXPECT_EQ(c.idle_blocks(), 5u);
  EXPECT_EQ(c.idle_blocks_of(2), 3u);
  EXPECT_EQ(c.acquire(1), 2u);  // referenced again: no longer evictable
  EXPECT_EQ(c.idle_blocks(), 3u);
  EXPECT_EQ(c.idle_blocks_of(1), 0u);
  EXPECT_EQ(c.evict_one(), 3u);  // prefix 2
  EXPECT_EQ(c.cached_blocks(2), 0u);
  EXPECT_EQ(c.evict_one(), 0u);
  c.release(1, 3.0);
  EXPECT_EQ(c.evict_one(), 2u);
  EXPECT_EQ(c.evictions(), 2u);
}

// The second request with the same 70-token prefix finds floor(70 / 16) = 4 blocks (64
// tokens) cached and prefills the other 36 of its 100, attending to all 100.
TEST(PrefixCaching, ALaterRequestPrefillsOnlyWhatTheCachedWholeBlocksDoNotHold) {
  const std::vector<ServeRequest> reqs = {with_prefix(0, 100, 2, 1, 70), with_prefix(10, 100, 2, 1, 70)};
  RecordingCost cost;
  const ServeTimeline t = simulate_serving(reqs, caching(true), 1 << 20, cost, {});
  EXPECT_EQ(cost.prefills(), (std::vector<std::uint64_t>{100, 36}));
  for (const StepWork& w : cost.steps) {
    if (w.prefill_tokens == 36) {
      EXPECT_EQ(w.prefill_context, 100u);
    }
  }
  EXPECT_NEAR(t.requests[0].ttft_s(), 100e-4, 1e-12);
  EXPECT_NEAR(t.requests[1].ttft_s(), 36e-4, 1e-12);
  EXPECT_EQ(t.prefix_lookups, 2u);
  EXPECT_EQ(t.prefix_hits, 1u);
  EXPECT_EQ(t.prefix_tokens_saved, 64u);
  EXPECT_EQ(t.requests[0].cached_tokens, 0u);
  EXPECT_EQ(t.requests[1].cached_tokens, 64u);
  // Off, both prefill their whole prompt.
  RecordingCost off;
  const ServeTimeline u = simulate_serving(reqs, caching(false), 1 << 20, off, {});
  EXPECT_EQ(off.prefills(), (std::vector<std::uint64_t>{100, 100}));
  EXPECT_EQ(u.prefix_lookups, 0u);
  EXPECT_EQ(u.prefix_hits, 0u);
}

// Two requests admitted in the same step both compute the prefix (neither is cached yet);
// one of them leaves it for the third.
TEST(PrefixCaching, RequestsAdmittedBeforeThePrefixIsComputedComputeItThemselves) {
  const std::vector<ServeRequest> reqs = {with_prefix(0, 100, 2, 7, 64), with_prefix(0, 100, 2, 7, 64),
                                          with_prefix(10, 80, 2, 7, 64)};
  RecordingCost cost;
  const ServeTimeline t = simulate_serving(reqs, caching(true), 1 << 20, cost, {});
  EXPECT_EQ(cost.prefills(), (std::vector<std::uint64_t>{200, 16}));
  EXPECT_EQ(t.prefix_lookups, 3u);
  EXPECT_EQ(t.prefix_hits, 1u);
  // A prefix shorter than one block shares nothing.
  RecordingCost short_cost;
  const ServeTimeline s = simulate_serving({with_prefix(0, 40, 2, 3, 15), with_prefix(10, 40, 2, 3, 15)}, caching(true),
                                           1 << 20, short_cost, {});
  EXPECT_EQ(short_cost.prefills(), (std::vector<std::uint64_t>{40, 40}));
  EXPECT_EQ(s.prefix_hits, 0u);
}

// 14 blocks of 16 tokens. Request 0 (100 tokens, 7 blocks) leaves its 4 prefix blocks
// cached; request 1 needs 13 blocks, 10 are free: the idle prefix is evicted, no sequence
// is preempted; request 2 with the evicted prefix then misses.
TEST(PrefixCaching, AnIdleCachedPrefixIsEvictedBeforeAnySequenceIsPreempted) {
  const std::vector<ServeRequest> reqs = {with_prefix(0, 100, 2, 1, 64), ServeRequest{10, 200, 2},
                                          with_prefix(20, 100, 2, 1, 64)};
  RecordingCost cost;
  const ServeTimeline t = simulate_serving(reqs, caching(true), 14 * 16, cost, {});
  EXPECT_EQ(t.prefix_evictions, 1u);
  EXPECT_EQ(t.preemptions, 0u);
  EXPECT_EQ(t.prefix_lookups, 2u);
  EXPECT_EQ(t.prefix_hits, 0u);
  EXPECT_EQ(cost.prefills(), (std::vector<std::uint64_t>{100, 200, 100}));
  EXPECT_LE(t.kv_blocks_peak, 14u);
}

// Many requests over a few prefixes in a cache that cannot hold them all: with either
// preemption policy every request finishes, in order of its own steps, within the cache.
TEST(PrefixCaching, EveryRequestFinishesUnderPreemptionWithEitherPolicy) {
  std::mt19937_64 rng(11);
  std::vector<ServeRequest> reqs;
  double at = 0;
  for (int i = 0; i < 300; ++i) {
    at += double(rng() % 1000) * 1e-6;
    const std::uint64_t id = rng() % 4;  // 0: no prefix
    const std::uint64_t prompt = 40 + rng() % 200, output = 1 + rng() % 40;
    reqs.push_back(id ? with_prefix(at, prompt, output, id, 16 + 8 * id) : ServeRequest{at, prompt, output});
  }
  // And conversations (prefix ids from 100) whose turns overlap the rest.
  for (std::uint64_t c = 100; c < 110; ++c) {
    double when = double(rng() % 100000) * 1e-6;
    std::uint64_t context = 0;
    for (int turn = 0; turn < 3; ++turn) {
      const std::uint64_t prompt = context + 10 + rng() % 40, output = 1 + rng() % 20;
      reqs.push_back(with_prefix(when, prompt, output, c, context ? context - 1 : 0));
      context = prompt + output;
      when += double(rng() % 20000) * 1e-6;
    }
  }
  std::stable_sort(reqs.begin(), reqs.end(), [](const ServeRequest& a, const ServeRequest& b) { return a.arrival_s < b.arrival_s; });
  for (const char* policy : {"recompute", "swap"}) {
    ServeScheduler sch = caching(true);
    sch.preemption = policy;
    RecordingCost cost;
    const ServeTimeline t = simulate_serving(reqs, sch, 24 * 16, cost, {}, SwapLink{100, 1e9});
    EXPECT_GT(t.preemptions, 0u) << policy;  // the cache is small enough to force them
    EXPECT_GT(t.prefix_hits, 0u) << policy;
    EXPECT_LE(t.kv_blocks_peak, 24u) << policy;
    for (const RequestOutcome& r : t.requests) {
      EXPECT_GE(r.first_token_s, r.arrival_s) << policy;
      EXPECT_GE(r.finish_s, r.first_token_s) << policy;
    }
  }
}

// A conversation of three turns, each long after the one before, blocks of 16. Turn 1
// (40 + 10 tokens) leaves its 49 cached tokens' 3 whole blocks; turn 2 (prompt 50 + 30 = 80,
// prefix 49) finds 48 and prefills 32, then leaves 80 + 9 = 89 tokens' 5 blocks; turn 3
// (prompt 90 + 20 = 110, prefix 89) finds 80 and prefills 30.
TEST(PrefixCaching, AConversationsNextTurnPrefillsOnlyItsNewTokens) {
  const std::vector<ServeRequest> reqs = {with_prefix(0, 40, 10, 5, 0), with_prefix(10, 80, 10, 5, 49),
                                          with_prefix(20, 110, 3, 5, 89)};
  RecordingCost cost;
  const ServeTimeline t = simulate_serving(reqs, caching(true), 1 << 20, cost, {});
  EXPECT_EQ(cost.prefills(), (std::vector<std::uint64_t>{40, 32, 30}));
  EXPECT_EQ(t.prefix_lookups, 2u);  // the first turn has nothing to look up
  EXPECT_EQ(t.prefix_hits, 2u);
  EXPECT_EQ(t.prefix_tokens_saved, 48u + 80u);
  RecordingCost off;
  simulate_serving(reqs, caching(false), 1 << 20, off, {});
  EXPECT_EQ(off.prefills(), (std::vector<std::uint64_t>{40, 80, 110}));
  // Turn 2 arriving while turn 1 still decodes finds nothing cached and prefills it all;
  // turn 3 then finds what turn 2 left.
  const std::vector<ServeRequest> early = {with_prefix(0, 40, 10, 5, 0), with_prefix(0.005, 80, 10, 5, 49),
                                           with_prefix(20, 110, 3, 5, 89)};
  RecordingCost e;
  const ServeTimeline u = simulate_serving(early, caching(true), 1 << 20, e, {});
  EXPECT_EQ(e.prefills(), (std::vector<std::uint64_t>{40, 80, 30}));
  EXPECT_EQ(u.prefix_hits, 1u);
}

// Two replicas, fixed step costs. Prefixes 1 and 2 each go to a replica first; later, a
// request of prefix 2 arrives first, then one of prefix 1. least_outstanding sends them to
// the idle replicas in index order (each the other's prefix: misses); prefix_affinity
// sends each where its prefix is cached (hits).
TEST(PrefixCaching, PrefixAffinityRoutesARequestToTheReplicaHoldingItsPrefix) {
  const std::vector<ServeRequest> reqs = {with_prefix(0, 100, 2, 1, 64), with_prefix(0.001, 100, 2, 2, 64),
                                          with_prefix(10, 100, 2, 2, 64), with_prefix(10.001, 100, 2, 1, 64)};
  ServeScheduler sch = caching(true);
  sch.replicas.count = 2;
  sch.replicas.routing = "least_outstanding";
  RecordingCost a;
  const ServeTimeline lo = simulate_serving(reqs, sch, 1 << 20, a, {});
  EXPECT_EQ(lo.prefix_hits, 0u);
  sch.replicas.routing = "prefix_affinity";
  RecordingCost b;
  const ServeTimeline pa = simulate_serving(reqs, sch, 1 << 20, b, {});
  EXPECT_EQ(pa.prefix_hits, 2u);
  EXPECT_EQ(pa.prefix_tokens_saved, 128u);
  EXPECT_NEAR(pa.requests[2].ttft_s(), 36e-4, 1e-12);
  EXPECT_NEAR(lo.requests[2].ttft_s(), 100e-4, 1e-12);
}

// Ten requests of one prefix, 1 ms apart, each running for over 100 ms. Pure affinity
// sends all ten to the prefix's replica; with balance 2 a request goes to the other
// replica whenever the prefix's one has more than 2 more outstanding: by hand, 6 and 4.
TEST(PrefixCaching, ABalanceThresholdSpillsAPopularPrefixToTheLeastLoadedReplica) {
  std::vector<ServeRequest> reqs;
  for (int i = 0; i < 10; ++i) reqs.push_back(with_prefix(0.001 * i, 100, 50, 1, 64));
  ServeScheduler sch = caching(true);
  sch.replicas.count = 2;
  sch.replicas.routing = "prefix_affinity";
  RecordingCost a;
  const ServeTimeline pure = simulate_serving(reqs, sch, 1 << 20, a, {});
  EXPECT_EQ(pure.replicas[0].requests, 10u);
  EXPECT_EQ(pure.replicas[1].requests, 0u);
  sch.replicas.balance = 2;
  RecordingCost b;
  const ServeTimeline balanced = simulate_serving(reqs, sch, 1 << 20, b, {});
  EXPECT_EQ(balanced.replicas[0].requests, 6u);
  EXPECT_EQ(balanced.replicas[1].requests, 4u);
}

// least_kv weighs the caches, not the request counts: a long prompt on replica 0 makes
// replica 1 the choice for both later requests, where least_outstanding splits them.
TEST(PrefixCaching, LeastKvRoutesByTheBlocksEachReplicaHoldsAndAwaits) {
  const std::vector<ServeRequest> reqs = {{0, 1000, 100}, {0.05, 16, 100}, {0.06, 16, 100}};
  ServeScheduler sch = caching(false);
  sch.max_tokens_per_step = 2048;
  sch.replicas.count = 2;
  sch.replicas.routing = "least_kv";
  RecordingCost a;
  const ServeTimeline kv = simulate_serving(reqs, sch, 1 << 20, a, {});
  ASSERT_EQ(kv.replicas.size(), 2u);
  EXPECT_EQ(kv.replicas[0].requests, 1u);
  EXPECT_EQ(kv.replicas[1].requests, 2u);
  sch.replicas.routing = "least_outstanding";
  RecordingCost b;
  const ServeTimeline lo = simulate_serving(reqs, sch, 1 << 20, b, {});
  EXPECT_EQ(lo.replicas[0].requests, 2u);
  EXPECT_EQ(lo.replicas[1].requests, 1u);
}

class PrefixFiles : public test::TempDirTest {};

TEST_F(PrefixFiles, SharedPrefixesAreDrawnApartFromTheArrivalsAndLengths) {
  const std::string base = "serve:\n  workload: m.yaml\n  requests: {count: 2000, rate: 5, seed: 3,\n"
                           "    prompt_tokens: {min: 100, max: 300}, output_tokens: 7";
  const auto plain = serve_requests(load_serve_spec(write("a.yaml", base + "}\n")));
  const auto shared =
      serve_requests(load_serve_spec(write("b.yaml", base + ", shared_prefix: {groups: 4, tokens: 64}}\n")));
  ASSERT_EQ(plain.size(), shared.size());
  std::vector<std::uint64_t> per_group(5, 0);
  for (std::size_t i = 0; i < plain.size(); ++i) {
    EXPECT_EQ(plain[i].arrival_s, shared[i].arrival_s);
    EXPECT_EQ(plain[i].prompt_tokens, shared[i].prompt_tokens);
    EXPECT_EQ(plain[i].prefix_id, 0u);
    ASSERT_GE(shared[i].prefix_id, 1u);
    ASSERT_LE(shared[i].prefix_id, 4u);
    EXPECT_EQ(shared[i].prefix_tokens, 64u);
    ++per_group[shared[i].prefix_id];
  }
  for (std::uint64_t g = 1; g <= 4; ++g) EXPECT_NEAR(double(per_group[g]), 500, 100) << g;  // binomial sd 19
}

TEST_F(PrefixFiles, ConversationsGrowTurnByTurnFromTheTurnBefore) {
  const auto reqs = serve_requests(load_serve_spec(
      write("c.yaml", "serve:\n  workload: m.yaml\n  requests: {count: 200, rate: 2, seed: 9, prompt_tokens: {min: 20, "
                      "max: 60},\n    output_tokens: {min: 5, max: 40}, conversations: {turns: {min: 1, max: 5}, "
                      "turn_gap: 30 s}}\n")));
  std::map<std::uint64_t, std::vector<ServeRequest>> by_conversation;
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    if (i > 0) {
      EXPECT_GE(reqs[i].arrival_s, reqs[i - 1].arrival_s);
    }
    by_conversation[reqs[i].prefix_id].push_back(reqs[i]);
  }
  EXPECT_EQ(by_conversation.size(), 200u);
  EXPECT_EQ(by_conversation.count(0), 0u);
  double turns = 0;
  for (const auto& [id, turn] : by_conversation) {
    turns += double(turn.size());
    EXPECT_LE(turn.size(), 5u);
    EXPECT_EQ(turn[0].prefix_tokens, 0u) << id;
    EXPECT_GE(turn[0].prompt_tokens, 20u);
    for (std::size_t k = 1; k < turn.size(); ++k) {
      const std::uint64_t context = turn[k - 1].prompt_tokens + turn[k - 1].output_tokens;
      EXPECT_EQ(turn[k].prefix_tokens, context - 1) << id;
      EXPECT_GE(turn[k].prompt_tokens, context + 20) << id;
      EXPECT_LE(turn[k].prompt_tokens, context + 60) << id;
    }
  }
  EXPECT_NEAR(turns / 200, 3.0, 0.3);  // uniform over 1..5: mean 3, standard error 0.1
}

TEST_F(PrefixFiles, BadPrefixSettingsNameTheirKeyLineAndColumn) {
  try {
    load_serve_spec(write("s.yaml", "serve:\n  workload: m.yaml\n  requests: {count: 5, rate: 5, prompt_tokens: 64,\n"
                                    "    output_tokens: 7, shared_prefix: {groups: 2, tokens: 64}}\n"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "serve.requests.shared_prefix.tokens");
    EXPECT_EQ(e.where().line, 4);
    EXPECT_NE(std::string(e.what()).find("fewer than the shortest prompt"), std::string::npos) << e.what();
  }
  try {
    load_serve_spec(write("cs.yaml", "serve:\n  workload: m.yaml\n  requests: {count: 5, rate: 5, prompt_tokens: 64,\n"
                                     "    output_tokens: 7, shared_prefix: {groups: 2, tokens: 32},\n"
                                     "    conversations: {turns: 3, turn_gap: 5 s}}\n"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "serve.requests.conversations");
    EXPECT_EQ(e.where().line, 5);
  }
  try {
    load_serve_spec(write("t.yaml", "serve:\n  workload: m.yaml\n  requests: {count: 5, rate: 5, prompt_tokens: 64,\n"
                                    "    output_tokens: 7, conversations: {turns: {min: 2, max: 1001}, turn_gap: 5 s}}\n"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "serve.requests.conversations.turns.max");
    EXPECT_NE(std::string(e.what()).find("from 1 to 1000"), std::string::npos) << e.what();
  }
  try {  // a million conversations of 2 turns: past the million requests a run takes
    load_serve_spec(write("big.yaml", "serve:\n  workload: m.yaml\n  requests: {count: 1000000, rate: 5, prompt_tokens: 64,\n"
                                      "    output_tokens: 7, conversations: {turns: 2, turn_gap: 5 s}}\n"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "serve.requests.conversations.turns");
    EXPECT_NE(std::string(e.what()).find("more than 1000000 requests"), std::string::npos) << e.what();
  }
  try {
    load_serve_spec(write("b.yaml", "serve:\n  workload: m.yaml\n  requests: {trace: r.csv}\n"
                                    "  replicas: {count: 2, routing: least_kv, balance: 4}\n"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "serve.replicas.balance");
    EXPECT_EQ(e.where().line, 4);
  }
  try {
    load_serve_spec(write("p.yaml", "serve:\n  workload: m.yaml\n  requests: {trace: r.csv}\n"
                                    "  scheduler: {prefix_caching: yes}\n"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "serve.scheduler.prefix_caching");
    EXPECT_EQ(e.where().line, 4);
  }
  try {
    load_serve_spec(write("d.yaml", "serve:\n  workload: m.yaml\n  requests: {trace: r.csv}\n"
                                    "  scheduler: {prefix_caching: true}\n"
                                    "  disaggregation: {prefill_chips: 1, decode_chips: 1, kv_link: 10 GB/s}\n"));
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "serve.scheduler.prefix_caching");
  }
}

TEST_F(PrefixFiles, TraceCarriesPrefixColumnsAndRefusesInconsistentOnes) {
  const auto ok = parse_serve_trace(
      "arrival_s,prompt_tokens,output_tokens,prefix_id,prefix_tokens\n0,100,5,3,64\n0.5,90,5,0,0\n1,80,5,3,64\n", "t.csv");
  ASSERT_EQ(ok.size(), 3u);
  EXPECT_EQ(ok[0].prefix_id, 3u);
  EXPECT_EQ(ok[0].prefix_tokens, 64u);
  EXPECT_EQ(ok[1].prefix_id, 0u);
  EXPECT_EQ(ok[2].prefix_tokens, 64u);
  const auto expect_error = [](const std::string& text, int line, int column, const std::string& words) {
    try {
      parse_serve_trace(text, "t.csv");
      FAIL() << text;
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key_path(), "serve.requests.trace");
      EXPECT_EQ(e.where().line, line) << e.what();
      EXPECT_EQ(e.where().column, column) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  const std::string h = "arrival_s,prompt_tokens,output_tokens,prefix_id,prefix_tokens\n";
  expect_error(h + "0,100,5,3,64\n1,100,5,3,32\n", 3, 11, "prefix 3 has 64 tokens on line 2, 32 here");
  EXPECT_EQ(parse_serve_trace(h + "0,100,5,3,64\n1,200,5,3,104\n", "t.csv").size(), 2u);  // a conversation grows
  expect_error(h + "0,64,5,3,64\n", 2, 10, "fewer than the prompt's 64 tokens");
  expect_error(h + "0,100,5,0,64\n", 2, 11, "a prefix needs a prefix_id above 0");
  expect_error(h + "0,100,5\n", 2, 1, "expected 5 fields");
}

}  // namespace
}  // namespace podsim

namespace podsim {
namespace {

// Conversations beside a fixed-prefix group, on caches from just big enough to roomy,
// under both preemption policies, one to three replicas (prefix_affinity or least_kv),
// with and without speculative decoding, over many draws: every run ends (no step without
// work), with every block accounted for (simulate_serving checks free + cached = cache).
// It found a swapped-out turn whose idle conversation entry was kept out of the blocks
// its readmission could evict: nothing ran, and the next step had no work (3,000 draws
// pass since).
TEST(PrefixCaching, ConversationsUnderPressureAlwaysFinish) {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    std::mt19937_64 rng(seed);
    std::vector<ServeRequest> reqs;
    for (std::uint64_t c = 1; c <= 6; ++c) {
      double when = double(rng() % 20000) * 1e-6;
      std::uint64_t context = 0;
      for (int turn = 0; turn < 4; ++turn) {
        const std::uint64_t prompt = context + 4 + rng() % 30, output = 1 + rng() % 12;
        reqs.push_back(with_prefix(when, prompt, output, c, context ? context - 1 : 0));
        context = prompt + output;
        when += double(rng() % 5000) * 1e-6;
      }
    }
    std::stable_sort(reqs.begin(), reqs.end(), [](const ServeRequest& a, const ServeRequest& b) { return a.arrival_s < b.arrival_s; });
    std::uint64_t longest = 0;
    for (const ServeRequest& r : reqs) longest = std::max(longest, r.prompt_tokens + r.output_tokens - 1);
    // and a fixed-prefix group beside them
    for (int i = 0; i < 8; ++i) reqs.push_back(with_prefix(double(rng() % 30000) * 1e-6, 20 + rng() % 20, 1 + rng() % 8, 99, 16));
    std::stable_sort(reqs.begin(), reqs.end(), [](const ServeRequest& a, const ServeRequest& b) { return a.arrival_s < b.arrival_s; });
    longest = 0;
    for (const ServeRequest& r : reqs) longest = std::max(longest, r.prompt_tokens + r.output_tokens - 1);
    for (const char* policy : {"recompute", "swap"}) {
      ServeScheduler sch = caching(true, 8);
      sch.preemption = policy;
      sch.replicas.count = 1 + seed % 3;
      sch.replicas.routing = seed % 2 ? "prefix_affinity" : "least_kv";
      sch.speculative.tokens = seed % 5 == 0 ? 2 : 0;
      sch.speculative.acceptance = 0.6;
      sch.max_tokens_per_step = 64;
      RecordingCost cost;
      const std::uint64_t capacity = (longest + 7) / 8 * 8 + 8 * (seed % 4);
      ServeTimeline t;
      ASSERT_NO_THROW(t = simulate_serving(reqs, sch, capacity, cost, {}, SwapLink{100, 1e9})) << seed << " " << policy;
      for (const RequestOutcome& r : t.requests) EXPECT_GE(r.finish_s, r.first_token_s) << seed << " " << policy;
    }
  }
}

}  // namespace
}  // namespace podsim
