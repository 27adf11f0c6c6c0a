// Continuous batching, one step at a time (Orca's iteration-level scheduling, vLLM's paged
// KV cache): each step every running sequence that has finished its prefill decodes one
// token, and what is left of the step's token budget goes to prefill chunks, oldest
// request first. The KV cache is a pool of fixed-size blocks: a request is admitted when
// blocks for its whole prompt are free; a decode token that needs a new block and finds
// none preempts the latest-admitted sequence, which frees its blocks and later recomputes
// its prompt and the tokens it had produced (vLLM's recompute preemption).
//
// The scheduler knows nothing of the chip: a StepCost says how long a step takes
// (serving/step_cost.h), so the policy is tested against closed forms with a cost of our
// choosing (tests/unit/serving_scheduler_test.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "podsim/serving/serve_spec.h"

namespace podsim {

// What one step runs: `decode_sequences` sequences decode one token each against KV
// caches of `decode_context` tokens on average; `prefill_tokens` prompt tokens are
// processed in chunks whose keys and values reach `prefill_context` tokens on average
// (the chunk plus what earlier chunks of its request left in the cache).
struct StepWork {
  std::uint64_t decode_sequences = 0;
  std::uint64_t decode_context = 0;
  // Speculative decoding (ServeScheduler::speculative): the draft model decoded
  // `draft_tokens` tokens for each decoding sequence, one after another, and the served
  // model checks `draft_tokens` + 1 positions per sequence in one pass. 0: plain decode.
  std::uint64_t draft_tokens = 0;
  std::uint64_t prefill_tokens = 0;
  std::uint64_t prefill_context = 0;
};

class StepCost {
 public:
  virtual ~StepCost() = default;
  virtual double seconds(const StepWork& work) = 0;
  // The chip's dynamic energy for the step (energy/energy_model.h); 0 when not known.
  virtual double joules(const StepWork& /*work*/) { return 0.0; }
};

struct RequestOutcome {
  double arrival_s = 0;
  double first_token_s = 0;  // end of the step that finished its prefill
  double finish_s = 0;       // end of the step that produced its last token
  std::uint64_t prompt_tokens = 0, output_tokens = 0;
  std::uint64_t preemptions = 0;
  std::uint64_t cached_tokens = 0;  // prompt tokens found in the prefix cache, not prefilled (all admissions)
  double ttft_s() const { return first_token_s - arrival_s; }
  // Time per output token after the first; 0 for a one-token request.
  double tpot_s() const { return output_tokens > 1 ? (finish_s - first_token_s) / double(output_tokens - 1) : 0; }
  double e2e_s() const { return finish_s - arrival_s; }
};

// The state after one step, for plots of the cache and the queue over time.
struct ServeSample {
  double t_s = 0;                 // the step's end
  std::uint64_t kv_blocks = 0;    // in use during the step
  std::uint64_t running = 0;      // sequences admitted
  std::uint64_t waiting = 0;      // arrived, not admitted
};

// One replica's share of a replicated run (ServeScheduler::replicas).
struct ServeReplicaStats {
  std::uint64_t requests = 0, steps = 0, max_batch = 0, kv_peak_blocks = 0, preemptions = 0;
  double busy_s = 0;
};

struct ServeTimeline {
  // Every `sample_stride`-th step; at most kMaxSamples: when full, every other sample goes
  // and the stride doubles (deterministic, whatever the run's length).
  static constexpr std::size_t kMaxSamples = 2048;
  std::vector<ServeSample> samples;
  std::uint64_t sample_stride = 1;
  std::vector<RequestOutcome> requests;  // in arrival order
  std::uint64_t steps = 0;
  double busy_s = 0;                    // time the chip spent in steps
  double dynamic_j = 0;                 // the steps' dynamic energy (StepCost::joules)
  double kv_block_seconds = 0;          // blocks in use integrated over busy time
  std::uint64_t kv_blocks_total = 0;
  std::uint64_t kv_blocks_peak = 0;
  std::uint64_t preemptions = 0;
  // Swap preemption: blocks copied to the host and back, in bytes, and the time the steps
  // waited for those copies.
  double swap_bytes = 0, swap_s = 0;
  std::uint64_t max_batch_seen = 0;
  // Prefix caching (serving/prefix_cache.h): admissions of a request with a shared prefix,
  // those that found it cached, the prompt tokens they did not prefill, entries evicted.
  std::uint64_t prefix_lookups = 0, prefix_hits = 0, prefix_tokens_saved = 0, prefix_evictions = 0;
  // Speculative decoding: draft tokens proposed and accepted, and decode sequence-steps.
  std::uint64_t drafted = 0, accepted = 0, decode_sequence_steps = 0;
  // Disaggregated serving: chips in all, each pool's busy time, KV bytes moved between
  // them and the transfers' time (mean per request).
  std::uint64_t chips = 1;
  double prefill_busy_s = 0, decode_busy_s = 0;
  std::uint64_t kv_transfer_bytes = 0;
  double kv_transfer_s = 0;
  // Replicas (more than one): each chip's share; the fields above are summed over them
  // (kv_blocks_peak: the sum of each chip's peak), the samples are replica 0's.
  std::vector<ServeReplicaStats> replicas;
};

// Throws ConfigError (at `capacity_where`) when a request could never fit the KV cache
// alone (its prompt plus output tokens exceed the capacity). With scheduler.replicas, each
// request goes to a replica as it arrives (the router sees every replica's state at that
// moment: each runs the steps that start before it), and every replica runs the policy
// above on its own chip.
// Swap preemption's link: a cached token's bytes and the host link's bandwidth (each way).
// A step that swaps a sequence out or in takes the copy's time on top of its own (the
// copy is not overlapped with the step: an upper bound).
struct SwapLink {
  double bytes_per_token = 0;
  double Bps = 0;
};

ServeTimeline simulate_serving(const std::vector<ServeRequest>& requests, const ServeScheduler& scheduler,
                               std::uint64_t kv_capacity_tokens, StepCost& cost,
                               const SourceLocation& capacity_where, const SwapLink& swap = {});

// Prefill/decode disaggregation (ServeScheduler::disaggregation): prefill chips run only
// prefill chunks (FCFS, max_tokens_per_step and max_batch a step, a prompt's blocks held
// until its prefill ends); a finished prompt gives its first token and sends its KV cache
// (prompt x kv_bytes_per_token) to the decode pool, ready after the link's latency and
// transfer time; a decode chip admits ready sequences FCFS when blocks for the whole
// sequence (prompt + output - 1) are free (no preemption), and every step decodes one
// token of each. Chips step in time order, the earliest first. `kv_capacity_tokens` is
// each chip's cache.
ServeTimeline simulate_disaggregated(const std::vector<ServeRequest>& requests, const ServeScheduler& scheduler,
                                     std::uint64_t kv_capacity_tokens, std::uint64_t kv_bytes_per_token,
                                     StepCost& cost, const SourceLocation& capacity_where);

}  // namespace podsim
