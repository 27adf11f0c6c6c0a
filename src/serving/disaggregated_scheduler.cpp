// Prefill/decode disaggregation (batch_scheduler.h, simulate_disaggregated): two pools of
// chips, each stepping on its own clock; the earliest step anywhere runs first.
#include <algorithm>
#include <deque>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "podsim/serving/batch_scheduler.h"
#include "serve_timeline.h"

namespace podsim {
namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return serve_ceil_div(a, b); }

struct PrefillJob {
  std::size_t id = 0;
  std::uint64_t done = 0, blocks = 0;
};
struct DecodeSeq {
  std::size_t id = 0;
  std::uint64_t kv = 0, generated = 0, blocks = 0;
};
struct Chip {
  bool prefill = true;
  double free_s = 0;
  std::uint64_t free_blocks = 0;
  std::vector<PrefillJob> jobs;   // prefill chips: admitted prompts, in admission order
  std::vector<DecodeSeq> seqs;    // decode chips: running sequences, in admission order
};
struct Ready {
  double t = 0;
  std::size_t id = 0;
};

}  // namespace

ServeTimeline simulate_disaggregated(const std::vector<ServeRequest>& requests, const ServeScheduler& sch,
                                     std::uint64_t kv_capacity_tokens, std::uint64_t kv_bytes_per_token,
                                     StepCost& cost, const SourceLocation& capacity_where) {
  const Disaggregation& dg = sch.disaggregation;
  const std::uint64_t block = sch.kv_block_tokens;
  ServeTimeline out = start_timeline(requests, block, kv_capacity_tokens, capacity_where);  // each chip's cache
  out.chips = dg.prefill_chips + dg.decode_chips;
  std::vector<Chip> chips(out.chips);
  for (std::size_t c = 0; c < chips.size(); ++c) {
    chips[c].prefill = c < dg.prefill_chips;
    chips[c].free_blocks = out.kv_blocks_total;
  }
  std::deque<std::size_t> waiting;  // arrived, not admitted to a prefill chip
  std::vector<Ready> ready;         // KV caches on their way to the decode pool, by ready time
  std::size_t next_arrival = 0, finished = 0;
  const double inf = std::numeric_limits<double>::infinity();

  while (finished < requests.size()) {
    // The chip whose next step starts first (ties: prefill chips, then the lower index).
    double best = inf;
    std::size_t which = chips.size();
    for (std::size_t c = 0; c < chips.size(); ++c) {
      const Chip& ch = chips[c];
      double start = inf;
      if (ch.prefill) {
        if (!ch.jobs.empty()) start = ch.free_s;
        else if (!waiting.empty()) start = std::max(ch.free_s, requests[waiting.front()].arrival_s);
        else if (next_arrival < requests.size()) start = std::max(ch.free_s, requests[next_arrival].arrival_s);
      } else {
        if (!ch.seqs.empty()) start = ch.free_s;
        else if (!ready.empty()) start = std::max(ch.free_s, ready.front().t);
      }
      if (start < best) {
        best = start;
        which = c;
      }
    }
    if (which == chips.size()) throw std::logic_error("disaggregated serving: no chip can step");
    const double t = best;
    Chip& ch = chips[which];
    while (next_arrival < requests.size() && requests[next_arrival].arrival_s <= t) waiting.push_back(next_arrival++);
    StepWork work;
    if (ch.prefill) {
      // Admit prompts in arrival order while the batch and the cache have room.
      while (ch.jobs.size() < sch.max_batch && !waiting.empty()) {
        const std::uint64_t need = ceil_div(requests[waiting.front()].prompt_tokens, block);
        if (need > ch.free_blocks) break;
        ch.free_blocks -= need;
        ch.jobs.push_back({waiting.front(), 0, need});
        waiting.pop_front();
      }
      std::uint64_t budget = sch.max_tokens_per_step, weighted = 0;
      std::vector<std::uint64_t> chunk(ch.jobs.size(), 0);
      for (std::size_t k = 0; k < ch.jobs.size() && budget > 0; ++k) {
        chunk[k] = std::min(requests[ch.jobs[k].id].prompt_tokens - ch.jobs[k].done, budget);
        budget -= chunk[k];
        work.prefill_tokens += chunk[k];
        weighted += chunk[k] * (ch.jobs[k].done + chunk[k]);
      }
      if (work.prefill_tokens == 0) throw std::logic_error("disaggregated serving: a prefill step with no work");
      work.prefill_context = (weighted + work.prefill_tokens / 2) / work.prefill_tokens;
    } else {
      while (ch.seqs.size() < sch.max_batch && !ready.empty() && ready.front().t <= t) {
        const ServeRequest& r = requests[ready.front().id];
        const std::uint64_t need = ceil_div(r.prompt_tokens + r.output_tokens - 1, block);
        if (need > ch.free_blocks) break;
        ch.free_blocks -= need;
        ch.seqs.push_back({ready.front().id, r.prompt_tokens, 1, need});
        ready.erase(ready.begin());
      }
      // An empty chip has every block free, and every request fits one chip (checked above).
      if (ch.seqs.empty()) throw std::logic_error("disaggregated serving: a decode step with no work");
      work.decode_sequences = ch.seqs.size();
      std::uint64_t context = 0;
      for (const DecodeSeq& s : ch.seqs) context += s.kv + 1;
      work.decode_context = (context + ch.seqs.size() / 2) / ch.seqs.size();
    }

    const double dt = cost.seconds(work);
    out.dynamic_j += cost.joules(work);
    out.busy_s += dt;
    (ch.prefill ? out.prefill_busy_s : out.decode_busy_s) += dt;
    const std::uint64_t used = out.kv_blocks_total - ch.free_blocks;
    if (!ch.prefill) {
      out.kv_block_seconds += double(used) * dt;
      out.kv_blocks_peak = std::max(out.kv_blocks_peak, used);
    }
    out.max_batch_seen = std::max<std::uint64_t>(out.max_batch_seen, ch.prefill ? ch.jobs.size() : ch.seqs.size());
    const double end = t + dt;
    ch.free_s = end;
    record_step(out, {end, used, ch.prefill ? ch.jobs.size() : ch.seqs.size(), waiting.size()});

    if (ch.prefill) {
      std::vector<PrefillJob> still;
      std::uint64_t budget = sch.max_tokens_per_step;
      for (PrefillJob& j : ch.jobs) {
        const ServeRequest& r = requests[j.id];
        const std::uint64_t c = std::min(r.prompt_tokens - j.done, budget);
        budget -= c;
        j.done += c;
        if (j.done < r.prompt_tokens) {
          still.push_back(j);
          continue;
        }
        // The prompt is done: its first token now; its cache leaves for the decode pool.
        ch.free_blocks += j.blocks;
        RequestOutcome& o = out.requests[j.id];
        o.first_token_s = end;
        if (r.output_tokens == 1) {
          o.finish_s = end;
          ++finished;
          continue;
        }
        const std::uint64_t bytes = r.prompt_tokens * kv_bytes_per_token;
        const double transfer = dg.kv_latency_s + double(bytes) / dg.kv_link_Bps;
        out.kv_transfer_bytes += bytes;
        out.kv_transfer_s += transfer;
        const Ready x{end + transfer, j.id};
        ready.insert(std::upper_bound(ready.begin(), ready.end(), x,
                                      [](const Ready& a, const Ready& b) { return a.t < b.t || (a.t == b.t && a.id < b.id); }),
                     x);
      }
      ch.jobs = std::move(still);
    } else {
      std::vector<DecodeSeq> still;
      for (DecodeSeq& s : ch.seqs) {
        ++s.kv;
        ++s.generated;
        if (s.generated < requests[s.id].output_tokens) {
          still.push_back(s);
          continue;
        }
        out.requests[s.id].finish_s = end;
        ch.free_blocks += s.blocks;
        ++finished;
      }
      ch.seqs = std::move(still);
    }
  }
  return out;
}

}  // namespace podsim
