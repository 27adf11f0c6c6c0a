#include "podsim/serving/batch_scheduler.h"

#include "serve_timeline.h"

#include <algorithm>
#include <deque>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

namespace podsim {
namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return serve_ceil_div(a, b); }

struct Sequence {
  std::size_t id = 0;                 // index into the requests
  std::uint64_t prefill_target = 0;   // prompt, plus the tokens produced before a preemption
  std::uint64_t prefilled = 0;        // of the target, in the cache
  std::uint64_t kv_tokens = 0;        // keys and values in the cache
  std::uint64_t generated = 0;
  std::uint64_t blocks = 0;
  bool first_token = false;
  bool prefill_done() const { return prefilled == prefill_target; }
};

}  // namespace

ServeTimeline simulate_serving(const std::vector<ServeRequest>& requests, const ServeScheduler& sch,
                               std::uint64_t kv_capacity_tokens, StepCost& cost,
                               const SourceLocation& capacity_where) {
  const std::uint64_t block = sch.kv_block_tokens;
  ServeTimeline out = start_timeline(requests, block, kv_capacity_tokens, capacity_where);
  std::vector<Sequence> seq(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    seq[i].id = i;
    seq[i].prefill_target = requests[i].prompt_tokens;
  }

  const SpeculativeDecoding& spec = sch.speculative;
  std::mt19937_64 accept_rng(spec.seed);
  // Tokens a sequence may draft this step: never past its last token, so the cache never
  // holds more than prompt + output - 1 tokens (the capacity check above stays true).
  auto draftable = [&](std::size_t id) {
    const std::uint64_t left = requests[id].output_tokens - seq[id].generated;
    return std::min<std::uint64_t>(spec.tokens, left - 1);
  };

  std::deque<std::size_t> waiting;
  std::vector<std::size_t> running;  // in admission order
  std::uint64_t free_blocks = out.kv_blocks_total;
  std::size_t next_arrival = 0, finished = 0;
  double t = 0;

  auto preempt_last = [&]() {
    const std::size_t victim = running.back();
    running.pop_back();
    Sequence& v = seq[victim];
    free_blocks += v.blocks;
    v.blocks = 0;
    v.prefilled = v.kv_tokens = 0;
    v.prefill_target = requests[victim].prompt_tokens + v.generated;
    ++out.requests[victim].preemptions;
    ++out.preemptions;
    waiting.push_front(victim);
  };

  while (finished < requests.size()) {
    while (next_arrival < requests.size() && requests[next_arrival].arrival_s <= t) waiting.push_back(next_arrival++);
    if (running.empty() && waiting.empty()) {
      t = requests[next_arrival].arrival_s;
      continue;
    }
    std::uint64_t budget = sch.max_tokens_per_step;
    // Decode tokens first: each running sequence past its prefill needs room for one more
    // key and value; with no free block the latest-admitted sequence gives its blocks up.
    std::vector<std::size_t> decoders;
    for (std::size_t k = 0; k < running.size(); ++k) {
      const std::size_t id = running[k];
      Sequence& s = seq[id];
      if (!s.prefill_done()) continue;
      // Room for the token it decodes (and, speculating, for the draft's tokens it checks).
      const std::uint64_t need = ceil_div(s.kv_tokens + 1 + draftable(id), block);
      while (need > s.blocks && free_blocks < need - s.blocks && running.back() != id) preempt_last();
      if (need > s.blocks) {
        if (free_blocks < need - s.blocks) {  // it is the latest admitted itself
          preempt_last();
          break;
        }
        free_blocks -= need - s.blocks;
        s.blocks = need;
      }
      decoders.push_back(id);
    }
    budget -= std::min<std::uint64_t>(budget, decoders.size() * (spec.tokens + 1));
    // Then prefill chunks: sequences already admitted, then new ones while they fit.
    std::vector<std::pair<std::size_t, std::uint64_t>> chunks;
    for (const std::size_t id : running) {
      const Sequence& s = seq[id];
      if (s.prefill_done() || budget == 0) continue;
      const std::uint64_t c = std::min(s.prefill_target - s.prefilled, budget);
      chunks.emplace_back(id, c);
      budget -= c;
    }
    while (budget > 0 && running.size() < sch.max_batch && !waiting.empty()) {
      const std::size_t id = waiting.front();
      Sequence& s = seq[id];
      const std::uint64_t need = ceil_div(s.prefill_target, block);
      if (need > free_blocks) break;  // first come, first served: no one overtakes the head
      waiting.pop_front();
      free_blocks -= need;
      s.blocks = need;
      running.push_back(id);
      const std::uint64_t c = std::min(s.prefill_target, budget);
      chunks.emplace_back(id, c);
      budget -= c;
    }

    StepWork work;
    work.decode_sequences = decoders.size();
    // The draft runs its configured tokens for the whole batch whenever any sequence drafts
    // (a sequence one token from its end drafts nothing; when none drafts, a plain decode).
    for (const std::size_t id : decoders)
      if (draftable(id) > 0) work.draft_tokens = spec.tokens;
    std::uint64_t context_sum = 0;
    for (const std::size_t id : decoders) context_sum += seq[id].kv_tokens + 1;
    if (!decoders.empty()) work.decode_context = (context_sum + decoders.size() / 2) / decoders.size();
    std::uint64_t weighted = 0;
    for (const auto& [id, c] : chunks) {
      work.prefill_tokens += c;
      weighted += c * (seq[id].prefilled + c);
    }
    if (work.prefill_tokens > 0) work.prefill_context = (weighted + work.prefill_tokens / 2) / work.prefill_tokens;
    if (work.decode_sequences == 0 && work.prefill_tokens == 0)
      throw std::logic_error("serving scheduler: a step with no work");  // the capacity check rules it out

    const double dt = cost.seconds(work);
    out.dynamic_j += cost.joules(work);
    const std::uint64_t used = out.kv_blocks_total - free_blocks;
    out.kv_blocks_peak = std::max(out.kv_blocks_peak, used);
    out.kv_block_seconds += static_cast<double>(used) * dt;
    out.busy_s += dt;
    out.max_batch_seen = std::max<std::uint64_t>(out.max_batch_seen, running.size());
    t += dt;
    record_step(out, {t, used, running.size(), waiting.size()});

    auto emit = [&](std::size_t id) {
      Sequence& s = seq[id];
      ++s.generated;
      RequestOutcome& o = out.requests[id];
      if (!s.first_token) {
        s.first_token = true;
        o.first_token_s = t;
      }
      if (s.generated == requests[id].output_tokens) {
        o.finish_s = t;
        free_blocks += s.blocks;
        s.blocks = 0;
        ++finished;
        running.erase(std::find(running.begin(), running.end(), id));
      }
    };
    for (const std::size_t id : decoders) {
      Sequence& s = seq[id];
      // The draft's tokens stand until the first rejected one; the served model's own
      // token follows (its correction, or the next token when all were accepted).
      const std::uint64_t drafted = draftable(id);
      std::uint64_t accepted = 0;
      while (accepted < drafted && double(accept_rng() >> 11) * 0x1.0p-53 < spec.acceptance) ++accepted;
      out.drafted += drafted;
      out.accepted += accepted;
      ++out.decode_sequence_steps;
      for (std::uint64_t k = 0; k <= accepted; ++k) {
        ++s.kv_tokens;
        emit(id);
      }
      if (s.blocks > 0) {  // unfinished: give back the blocks the rejected tokens held
        const std::uint64_t keep = ceil_div(s.kv_tokens, block);
        free_blocks += s.blocks - std::min(s.blocks, keep);
        s.blocks = std::min(s.blocks, keep);
      }
    }
    for (const auto& [id, c] : chunks) {
      Sequence& s = seq[id];
      s.prefilled += c;
      s.kv_tokens = s.prefilled;
      if (s.prefill_done()) emit(id);
    }
  }
  return out;
}

}  // namespace podsim
