// LLM serving: a stream of requests against one chip running a decoder model, loaded
// from YAML by load_serve_spec() (config/serve_loader.cpp):
//   serve:
//     name: llama3-8b-chat
//     workload: llama3-8b-model.yaml  # one transformer_decoder template (the model); batch,
//                                     # seq, decode and kv_len are set per step by podsim
//     requests:                       # a generator ...
//       count: 200
//       rate: 4                       # requests per second, Poisson arrivals
//       seed: 1
//       prompt_tokens: {min: 128, max: 1024}  # uniform integers, or one number
//       output_tokens: {min: 32, max: 256}
//     # requests: {trace: requests.csv}      # ... or a CSV: arrival_s,prompt_tokens,output_tokens
//     scheduler:
//       max_batch: 32                 # sequences in a step
//       max_tokens_per_step: 2048     # decode tokens + prefill chunk tokens in a step
//       kv_block_tokens: 16           # paged KV cache block
//       kv_capacity_tokens: auto      # or a number; auto: what HBM holds after the weights
//     slo: {ttft: 1 s, tpot: 100 ms}  # goodput counts requests that meet both
//     tensor_parallel: 8              # the model sharded over a slice of 8 chips: the hardware
//                                     # is a pod of exactly that many (--hw tpu-v5e-pod
//                                     # --set pod.dims=2x4); default 1, one chip
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "podsim/config/config_error.h"

namespace podsim {

struct ServeRequest {
  double arrival_s = 0;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t output_tokens = 0;  // >= 1: the first comes out of the prefill
  // The prompt begins with the shared prefix `prefix_id` (0: none) of `prefix_tokens`
  // tokens, fewer than the prompt's (serving/prefix_cache.h).
  std::uint64_t prefix_id = 0;
  std::uint64_t prefix_tokens = 0;
};

struct TokenRange {
  std::uint64_t min = 1, max = 1;  // uniform integers in [min, max]
};

// Shared prompt prefixes: each prompt begins with one of `groups` prefixes of `tokens`
// tokens, drawn uniformly (a system prompt per application, say); 0 groups: none.
struct SharedPrefix {
  std::uint64_t groups = 0;
  std::uint64_t tokens = 0;
};

// Multi-turn conversations: `count` and `rate` then count conversations and their
// Poisson starts; each has `turns` turns (uniform), `turn_gap_s` apart on average
// (exponential, arrival to arrival: a turn does not wait for the answer before it). Turn 1's
// prompt is drawn from prompt_tokens; turn k's is the conversation so far (turn k-1's
// prompt and output) plus new tokens drawn from prompt_tokens, and its prefix is what the
// cache can hold of that history: turn k-1's prompt + output - 1 tokens. 0 turns: off.
struct Conversations {
  TokenRange turns{0, 0};
  double turn_gap_s = 0;
};

struct RequestGenerator {
  std::uint64_t count = 0;
  double rate_per_s = 0;  // Poisson arrivals
  std::uint64_t seed = 1;
  TokenRange prompt, output;
  SharedPrefix shared_prefix;
  Conversations conversations;
};

// Speculative decoding (Leviathan et al., ICML 2023): each step a draft model proposes
// `tokens` tokens per decoding sequence, one after another, and the served model checks
// them all in one pass over tokens + 1 positions; the draft's tokens are accepted in order
// until the first rejected one, each with probability `acceptance` (independently, drawn
// from `seed`), and the served model adds one token of its own. A sequence then gains 1 to
// tokens + 1 tokens a step, (1 - a^(tokens+1)) / (1 - a) on average.
struct SpeculativeDecoding {
  std::uint64_t tokens = 0;  // 0: off
  double acceptance = 0;
  std::uint64_t seed = 1;
};

// Prefill/decode disaggregation (Splitwise, DistServe): prompts run on `prefill_chips`
// chips, then each sequence's KV cache crosses a link of `kv_link_Bps` (after
// `kv_latency_s`) to one of `decode_chips` chips that only decode. Every chip holds the
// whole model. 0 chips: off (prefill and decode share each step on one chip).
struct Disaggregation {
  std::uint64_t prefill_chips = 0, decode_chips = 0;
  double kv_link_Bps = 0;
  double kv_latency_s = 0;
};

// Replicas of the model, each a chip with its own scheduler and KV cache, behind a router
// that sends each request, as it arrives, to one of them: `round_robin` (in turn),
// `least_outstanding` (the replica with the fewest requests routed to it and not yet
// finished; ties to the lowest index), as serving frontends and Vidur's global schedulers
// do; `least_kv` (the replica with the least KV-cache pressure: blocks its sequences hold
// plus blocks its waiting prompts will need), or `prefix_affinity` (a request with a shared
// prefix goes where that prefix went first, so its cached blocks are found; the first of a
// prefix, and requests without one, go by least_outstanding; with `balance` B > 0, a
// request whose prefix's replica has more than B requests outstanding beyond the least
// loaded one goes to that one instead: SGLang's cache-aware routing and its balance
// threshold).
struct Replicas {
  std::uint64_t count = 1;
  std::string routing = "round_robin";
  std::uint64_t balance = 0;  // prefix_affinity: 0 = always the prefix's replica
};

struct ServeScheduler {
  std::uint64_t max_batch = 32;
  std::uint64_t max_tokens_per_step = 2048;
  std::uint64_t kv_block_tokens = 16;
  std::uint64_t kv_capacity_tokens = 0;  // 0: auto (HBM after the weights)
  // When the cache is full, the latest-admitted sequence is preempted: `recompute` drops
  // its cache and later recomputes it (vLLM's default), `swap` copies its blocks to host
  // memory over chip.host.link_bandwidth and back when it is readmitted.
  std::string preemption = "recompute";
  // Keep shared prompt prefixes' KV blocks for later requests (serving/prefix_cache.h).
  bool prefix_caching = false;
  SpeculativeDecoding speculative;
  Disaggregation disaggregation;
  Replicas replicas;
  // Megatron tensor parallelism over a slice of this many chips (the hardware's pod): every
  // step runs the model's sharded program on each chip and its all-reduces over the slice
  // (serving/slice_collectives.h). A replica is then a slice.
  std::uint64_t tensor_parallel = 1;
};

struct ServeSpec {
  std::string source;  // the serve file
  std::string name;
  std::string workload;  // the model's workload file, resolved against the serve file
  SourceLocation workload_where;
  std::optional<RequestGenerator> generator;
  std::string trace;  // CSV path, resolved against the serve file
  SourceLocation trace_where;
  ServeScheduler scheduler;
  SourceLocation capacity_where;
  SourceLocation preemption_where;
  SourceLocation prefix_caching_where;
  double slo_ttft_s = 0, slo_tpot_s = 0;  // 0: no target
  std::string draft;  // speculative decoding: the draft model's workload file (resolved)
  SourceLocation draft_where;
  SourceLocation tensor_parallel_where;
};

// Throws ConfigError (file, line, column, key path) on any bad or unknown key.
ServeSpec load_serve_spec(const std::string& path);
// With overrides "serve.<section>.<field>=value" (serve.requests.rate=8,
// serve.scheduler.max_batch=64, serve.slo.ttft=200 ms), set in the file before it is
// checked in full: `podsim serve --sset` and a sweep axis.
ServeSpec load_serve_spec(const std::string& path, const std::vector<std::string>& overrides);
bool is_serve_path(const std::string& path);
ServeSpec load_serve_spec_text(const std::string& text, const std::string& path);  // relative paths against `path`

// The requests the spec describes, in arrival order: generated (deterministic for the
// seed on every platform: podsim's own transforms of a 64-bit Mersenne Twister) or read
// from the trace (a header `arrival_s,prompt_tokens,output_tokens`, then one request a
// line; a bad line is a ConfigError naming its line and column).
std::vector<ServeRequest> serve_requests(const ServeSpec& spec);
std::vector<ServeRequest> parse_serve_trace(const std::string& text, const std::string& source);

}  // namespace podsim
