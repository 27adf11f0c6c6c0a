#include "podsim/serving/batch_scheduler.h"

#include "podsim/serving/prefix_cache.h"

#include "serve_timeline.h"

#include <algorithm>
#include <deque>
#include <random>
#include <stdexcept>
#include <unordered_map>

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
  std::uint64_t blocks = 0;           // its own
  std::uint64_t shared_blocks = 0;    // its prompt prefix's, held by the prefix cache
  bool first_token = false;
  bool swapped = false;               // its cache is in host memory (swap preemption)
  bool prefill_done() const { return prefilled == prefill_target; }
};


// One chip's continuous batching: requests arrive (arrive()), and step() runs the next
// step from the chip's clock. simulate_serving() drives one per replica. `out` takes the
// chip's counters; `outcomes` (every request's, shared by the replicas) its requests'.
// It holds state for the requests routed to it only, so replicas cost memory in
// proportion to their share, not to the whole stream.
class Replica {
 public:
  Replica(const std::vector<ServeRequest>& requests, const std::vector<char>& keeps_context, const ServeScheduler& sch,
          ServeTimeline& out, std::vector<RequestOutcome>& outcomes, StepCost& cost, std::uint64_t accept_seed,
          const SwapLink& swap)
      : requests_(requests), keeps_context_(keeps_context), sch_(sch), out_(out), outcomes_(outcomes), cost_(cost),
        accept_rng_(accept_seed), free_blocks_(out.kv_blocks_total), swap_(swap), swapping_(sch.preemption == "swap") {}

  bool busy() const { return !running_.empty() || !waiting_.empty(); }
  // KV-cache pressure for the router: blocks the running sequences hold (their own and the
  // prefixes they share; not idle cached prefixes, which are free to evict) plus the blocks
  // the waiting requests' prompts will need.
  std::uint64_t kv_pressure() const {
    std::uint64_t n = out_.kv_blocks_total - free_blocks_ - prefix_.idle_blocks();
    for (const std::size_t id : waiting_) {
      const Sequence& s = seq_.at(id);
      n += ceil_div(std::max(s.prefill_target, s.kv_tokens), sch_.kv_block_tokens);
    }
    return n;
  }
  double clock() const { return t_; }
  // A request joins the queue; an idle chip's clock moves on to its arrival.
  void arrive(std::size_t id) {
    if (!busy()) t_ = std::max(t_, requests_[id].arrival_s);
    Sequence s;
    s.id = id;
    s.prefill_target = requests_[id].prompt_tokens;
    seq_.emplace(id, s);
    waiting_.push_back(id);
    ++routed_;
  }
  // Requests routed here and not finished by time `at` (finishes are in time order).
  std::uint64_t outstanding(double at) {
    while (finished_by_ < finish_times_.size() && finish_times_[finished_by_] <= at) ++finished_by_;
    return routed_ - finished_by_;
  }
  void step();
  // After the last step: every block is free or cached, and no request holds a reference.
  void check_blocks() const {
    if (free_blocks_ + prefix_.total_blocks() != out_.kv_blocks_total || prefix_.idle_blocks() != prefix_.total_blocks())
      throw std::logic_error("serving scheduler: KV blocks leaked");
  }

 private:
  // Tokens a sequence may draft this step: never past its last token, so the cache never
  // holds more than prompt + output - 1 tokens (the capacity check stays true).
  std::uint64_t draftable(std::size_t id) const {
    const std::uint64_t left = requests_[id].output_tokens - seq_.at(id).generated;
    return std::min<std::uint64_t>(sch_.speculative.tokens, left - 1);
  }
  void preempt_last();
  void emit(std::size_t id);
  void admit_waiting(std::uint64_t& budget, std::vector<std::pair<std::size_t, std::uint64_t>>& chunks);
  // Blocks a sequence needs of its own to hold `tokens` tokens (the shared prefix's are the cache's).
  std::uint64_t own_blocks(const Sequence& s, std::uint64_t tokens) const {
    const std::uint64_t all = ceil_div(tokens, sch_.kv_block_tokens);
    return all > s.shared_blocks ? all - s.shared_blocks : 0;
  }
  // Evicts idle cached prefixes until `n` blocks are free; false if they do not suffice.
  bool make_room(std::uint64_t n) {
    while (free_blocks_ < n) {
      const std::uint64_t freed = prefix_.evict_one();
      if (freed == 0) return false;
      free_blocks_ += freed;
      ++out_.prefix_evictions;
    }
    return true;
  }
  void finish_blocks(std::size_t id, Sequence& s);
  // The sequence stops referencing its cached prefix (finished or preempted).
  void drop_prefix(std::size_t id, Sequence& s) {
    if (s.shared_blocks == 0) return;
    prefix_.release(requests_[id].prefix_id, t_);
    s.shared_blocks = 0;
  }
  // Once a sequence has prefilled past its prefix's whole blocks, they go to the cache
  // (unless another request's are there already).
  void offer_prefix(std::size_t id, Sequence& s) {
    const ServeRequest& r = requests_[id];
    const std::uint64_t full = r.prefix_tokens / sch_.kv_block_tokens;
    if (!sch_.prefix_caching || r.prefix_id == 0 || s.shared_blocks > 0 || full == 0 ||
        s.prefilled < full * sch_.kv_block_tokens || s.blocks < full)
      return;
    if (!prefix_.insert(r.prefix_id, full)) return;
    s.blocks -= full;
    s.shared_blocks = full;
  }

  const std::vector<ServeRequest>& requests_;
  const std::vector<char>& keeps_context_;  // by request id: a later turn continues its context
  const ServeScheduler& sch_;
  ServeTimeline& out_;
  std::vector<RequestOutcome>& outcomes_;
  StepCost& cost_;
  std::mt19937_64 accept_rng_;
  std::unordered_map<std::size_t, Sequence> seq_;  // by request id: those routed here
  std::deque<std::size_t> waiting_;
  std::vector<std::size_t> running_;  // in admission order
  std::uint64_t free_blocks_;
  double t_ = 0;
  std::uint64_t routed_ = 0;
  std::vector<double> finish_times_;
  std::size_t finished_by_ = 0;
  SwapLink swap_;
  bool swapping_;
  double pending_swap_s_ = 0;  // copies to or from the host that the next step waits for
  PrefixCache prefix_;
  // Copies `tokens` cached tokens over the host link (one way) before the step ends.
  void copy_to_or_from_host(std::uint64_t tokens) {
    const double bytes = double(tokens) * swap_.bytes_per_token;
    out_.swap_bytes += bytes;
    pending_swap_s_ += swap_.Bps > 0 ? bytes / swap_.Bps : 0.0;
  }
};

void Replica::preempt_last() {
  const std::size_t victim = running_.back();
  running_.pop_back();
  Sequence& v = seq_[victim];
  free_blocks_ += v.blocks;
  v.blocks = 0;
  drop_prefix(victim, v);  // a swapped cache goes out whole, prefix included (it comes back as its own)
  if (swapping_) {  // its cache goes to the host whole; it resumes where it stopped
    copy_to_or_from_host(v.kv_tokens);
    v.swapped = v.kv_tokens > 0;
  } else {  // recompute: the cache is dropped; the prompt and what it produced are prefilled again
    v.prefilled = v.kv_tokens = 0;
    v.prefill_target = requests_[victim].prompt_tokens + v.generated;
  }
  ++outcomes_[victim].preemptions;
  ++out_.preemptions;
  waiting_.push_front(victim);
}

void Replica::emit(std::size_t id) {
  Sequence& s = seq_[id];
  ++s.generated;
  RequestOutcome& o = outcomes_[id];
  if (!s.first_token) {
    s.first_token = true;
    o.first_token_s = t_;
  }
  if (s.generated == requests_[id].output_tokens) {
    o.finish_s = t_;
    finish_blocks(id, s);
    finish_times_.push_back(t_);
    running_.erase(std::find(running_.begin(), running_.end(), id));
  }
}

// A finished sequence frees its blocks, unless a later turn of its conversation continues
// its context: then its whole blocks (prompt and output) become the conversation's cached
// entry, the shared part it referenced included, and only the partly filled last block is
// freed.
void Replica::finish_blocks(std::size_t id, Sequence& s) {
  const std::uint64_t prefix_id = requests_[id].prefix_id;
  if (sch_.prefix_caching && prefix_id != 0 && keeps_context_[id]) {
    const std::uint64_t whole = s.kv_tokens / sch_.kv_block_tokens;
    const bool grows = s.shared_blocks > 0 && prefix_.refs(prefix_id) == 1 &&
                       prefix_.cached_blocks(prefix_id) == s.shared_blocks && whole >= s.shared_blocks;
    if (!grows && s.shared_blocks == 0) free_blocks_ += prefix_.drop_idle(prefix_id);  // an older context, replaced
    if (grows || (s.shared_blocks == 0 && prefix_.cached_blocks(prefix_id) == 0)) {
      const std::uint64_t own_kept = std::min(s.blocks, whole - s.shared_blocks);
      free_blocks_ += s.blocks - own_kept;
      if (grows) {
        prefix_.extend(prefix_id, s.shared_blocks + own_kept, t_);
      } else if (own_kept > 0) {
        prefix_.put_idle(prefix_id, own_kept, t_);
      }
      s.blocks = s.shared_blocks = 0;
      return;
    }
  }
  free_blocks_ += s.blocks;
  s.blocks = 0;
  drop_prefix(id, s);
}

// New sequences join while the step's token budget, the batch and the cache allow, first
// come first served; each starts its prefill chunk in this step.
void Replica::admit_waiting(std::uint64_t& budget, std::vector<std::pair<std::size_t, std::uint64_t>>& chunks) {
  const std::uint64_t block = sch_.kv_block_tokens;
  while (budget > 0 && running_.size() < sch_.max_batch && !waiting_.empty()) {
    const std::size_t id = waiting_.front();
    Sequence& s = seq_[id];
    // A prefill from the start finds its prefix's blocks in the cache, if they are there.
    const std::uint64_t prefix_id = requests_[id].prefix_id;
    const bool looks_up = sch_.prefix_caching && prefix_id != 0 && requests_[id].prefix_tokens > 0 && !s.swapped &&
                          s.prefilled == 0;
    const std::uint64_t hit =
        looks_up ? std::min(prefix_.cached_blocks(prefix_id), requests_[id].prefix_tokens / block) : 0;
    // Blocks for its whole prompt (less the cached prefix), or for the cache it had when
    // swapped out.
    const std::uint64_t all = ceil_div(std::max(s.prefill_target, s.kv_tokens), block);
    const std::uint64_t need = all - std::min(all, hit);
    // First come, first served: no one overtakes the head. Idle cached prefixes (not the
    // one it is about to use) can be evicted for it.
    const std::uint64_t kept = hit > 0 ? prefix_.idle_blocks_of(prefix_id) : 0;
    if (need > free_blocks_ + prefix_.idle_blocks() - kept) break;
    waiting_.pop_front();
    if (looks_up) {
      ++out_.prefix_lookups;
      if (hit > 0) {
        prefix_.acquire(prefix_id);
        s.shared_blocks = hit;
        s.prefilled = s.kv_tokens = hit * block;
        ++out_.prefix_hits;
        out_.prefix_tokens_saved += hit * block;
        outcomes_[id].cached_tokens += hit * block;
      }
    }
    make_room(need);
    free_blocks_ -= need;
    s.blocks = need;
    running_.push_back(id);
    if (s.swapped) {  // its cache comes back from the host; it decodes from the next step
      copy_to_or_from_host(s.kv_tokens);
      s.swapped = false;
    }
    if (s.prefill_done()) continue;
    const std::uint64_t c = std::min(s.prefill_target - s.prefilled, budget);
    chunks.emplace_back(id, c);
    budget -= c;
  }
}

void Replica::step() {
  const SpeculativeDecoding& spec = sch_.speculative;
  std::uint64_t budget = sch_.max_tokens_per_step;
  // Decode tokens first: each running sequence past its prefill needs room for one more
  // key and value; with no free block the latest-admitted sequence gives its blocks up.
  std::vector<std::size_t> decoders;
  for (std::size_t k = 0; k < running_.size(); ++k) {
    const std::size_t id = running_[k];
    Sequence& s = seq_[id];
    if (!s.prefill_done()) continue;
    // Room for the token it decodes (and, speculating, for the draft's tokens it checks).
    const std::uint64_t need = own_blocks(s, s.kv_tokens + 1 + draftable(id));
    // Idle cached prefixes are evicted before any sequence is preempted (and a preempted
    // sequence's prefix, once idle, before the next).
    while (need > s.blocks && !make_room(need - s.blocks) && running_.back() != id) preempt_last();
    if (need > s.blocks) {
      if (free_blocks_ < need - s.blocks) {  // it is the latest admitted itself
        preempt_last();
        break;
      }
      free_blocks_ -= need - s.blocks;
      s.blocks = need;
    }
    decoders.push_back(id);
  }
  budget -= std::min<std::uint64_t>(budget, decoders.size() * (spec.tokens + 1));
  // Then prefill chunks: sequences already admitted, then new ones while they fit.
  std::vector<std::pair<std::size_t, std::uint64_t>> chunks;
  for (const std::size_t id : running_) {
    const Sequence& s = seq_[id];
    if (s.prefill_done() || budget == 0) continue;
    const std::uint64_t c = std::min(s.prefill_target - s.prefilled, budget);
    chunks.emplace_back(id, c);
    budget -= c;
  }
  admit_waiting(budget, chunks);

  StepWork work;
  work.decode_sequences = decoders.size();
  // The draft runs its configured tokens for the whole batch whenever any sequence drafts
  // (a sequence one token from its end drafts nothing; when none drafts, a plain decode).
  for (const std::size_t id : decoders)
    if (draftable(id) > 0) work.draft_tokens = spec.tokens;
  std::uint64_t context_sum = 0;
  for (const std::size_t id : decoders) context_sum += seq_[id].kv_tokens + 1;
  if (!decoders.empty()) work.decode_context = (context_sum + decoders.size() / 2) / decoders.size();
  std::uint64_t weighted = 0;
  for (const auto& [id, c] : chunks) {
    work.prefill_tokens += c;
    weighted += c * (seq_[id].prefilled + c);
  }
  if (work.prefill_tokens > 0) work.prefill_context = (weighted + work.prefill_tokens / 2) / work.prefill_tokens;
  const bool idle_step = work.decode_sequences == 0 && work.prefill_tokens == 0;
  if (idle_step && pending_swap_s_ == 0)
    throw std::logic_error("serving scheduler: a step with no work");  // the capacity check rules it out

  // A step that only brings caches back from the host takes just the copy.
  const double dt = (idle_step ? 0.0 : cost_.seconds(work)) + pending_swap_s_;
  out_.swap_s += pending_swap_s_;
  pending_swap_s_ = 0;
  if (!idle_step) out_.dynamic_j += cost_.joules(work);
  const std::uint64_t used = out_.kv_blocks_total - free_blocks_;
  out_.kv_blocks_peak = std::max(out_.kv_blocks_peak, used);
  out_.kv_block_seconds += static_cast<double>(used) * dt;
  out_.busy_s += dt;
  out_.max_batch_seen = std::max<std::uint64_t>(out_.max_batch_seen, running_.size());
  t_ += dt;
  record_step(out_, {t_, used, running_.size(), waiting_.size()});

  for (const std::size_t id : decoders) {
    Sequence& s = seq_[id];
    // The draft's tokens stand until the first rejected one; the served model's own
    // token follows (its correction, or the next token when all were accepted).
    const std::uint64_t drafted = draftable(id);
    std::uint64_t accepted = 0;
    while (accepted < drafted && double(accept_rng_() >> 11) * 0x1.0p-53 < spec.acceptance) ++accepted;
    out_.drafted += drafted;
    out_.accepted += accepted;
    ++out_.decode_sequence_steps;
    for (std::uint64_t k = 0; k <= accepted; ++k) {
      ++s.kv_tokens;
      emit(id);
    }
    if (s.blocks > 0) {  // unfinished: give back the blocks the rejected tokens held
      const std::uint64_t keep = own_blocks(s, s.kv_tokens);
      free_blocks_ += s.blocks - std::min(s.blocks, keep);
      s.blocks = std::min(s.blocks, keep);
    }
  }
  for (const auto& [id, c] : chunks) {
    Sequence& s = seq_[id];
    s.prefilled += c;
    s.kv_tokens = s.prefilled;
    offer_prefix(id, s);
    if (s.prefill_done()) emit(id);
  }
}

// The replicas' counters as one timeline with every request's outcome: counts and busy
// time summed, the largest batch; the cache's peak as the sum of each chip's (an upper
// bound on their simultaneous peak); the samples are replica 0's.
ServeTimeline merge_replicas(const std::vector<ServeTimeline>& outs, std::vector<RequestOutcome> outcomes,
                             const std::vector<std::size_t>& replica_of) {
  ServeTimeline m = outs.front();
  m.requests = std::move(outcomes);
  m.chips = outs.size();
  m.steps = m.preemptions = m.kv_blocks_total = m.kv_blocks_peak = m.max_batch_seen = 0;
  m.drafted = m.accepted = m.decode_sequence_steps = 0;
  m.prefix_lookups = m.prefix_hits = m.prefix_tokens_saved = m.prefix_evictions = 0;
  m.busy_s = m.dynamic_j = m.kv_block_seconds = m.swap_bytes = m.swap_s = 0;
  for (const ServeTimeline& o : outs) {
    m.steps += o.steps;
    m.preemptions += o.preemptions;
    m.kv_blocks_total += o.kv_blocks_total;
    m.kv_blocks_peak += o.kv_blocks_peak;
    m.max_batch_seen = std::max(m.max_batch_seen, o.max_batch_seen);
    m.swap_bytes += o.swap_bytes;
    m.swap_s += o.swap_s;
    m.drafted += o.drafted;
    m.accepted += o.accepted;
    m.decode_sequence_steps += o.decode_sequence_steps;
    m.prefix_lookups += o.prefix_lookups;
    m.prefix_hits += o.prefix_hits;
    m.prefix_tokens_saved += o.prefix_tokens_saved;
    m.prefix_evictions += o.prefix_evictions;
    m.busy_s += o.busy_s;
    m.dynamic_j += o.dynamic_j;
    m.kv_block_seconds += o.kv_block_seconds;
  }
  m.replicas.resize(outs.size());
  for (const std::size_t r : replica_of) ++m.replicas[r].requests;
  for (std::size_t r = 0; r < outs.size(); ++r) {
    ServeReplicaStats& st = m.replicas[r];
    st.steps = outs[r].steps;
    st.busy_s = outs[r].busy_s;
    st.max_batch = outs[r].max_batch_seen;
    st.kv_peak_blocks = outs[r].kv_blocks_peak;
    st.preemptions = outs[r].preemptions;
  }
  return m;
}

}  // namespace

ServeTimeline simulate_serving(const std::vector<ServeRequest>& requests, const ServeScheduler& sch,
                               std::uint64_t kv_capacity_tokens, StepCost& cost,
                               const SourceLocation& capacity_where, const SwapLink& swap) {
  const std::size_t n = std::max<std::uint64_t>(1, sch.replicas.count);
  // Every request's outcome (and the capacity check) once; each chip its own counters.
  ServeTimeline all = start_timeline(requests, sch.kv_block_tokens, kv_capacity_tokens, capacity_where);
  std::vector<ServeTimeline> outs(n);
  for (ServeTimeline& o : outs) o.kv_blocks_total = all.kv_blocks_total;
  // A request keeps its context for the next request of its prefix when that one's prefix
  // is longer (a conversation's next turn); equal lengths share a fixed prefix.
  std::vector<char> keeps_context(requests.size(), 0);
  {
    std::unordered_map<std::uint64_t, std::size_t> last_of;
    for (std::size_t i = 0; i < requests.size(); ++i) {
      if (requests[i].prefix_id == 0) continue;
      const auto [it, fresh] = last_of.emplace(requests[i].prefix_id, i);
      if (!fresh) {
        if (requests[i].prefix_tokens > requests[it->second].prefix_tokens) keeps_context[it->second] = 1;
        it->second = i;
      }
    }
  }
  std::vector<Replica> chips;
  chips.reserve(n);
  // Each replica draws its own acceptances (replica 0 from the seed, as a lone chip does).
  for (std::size_t r = 0; r < n; ++r)
    chips.emplace_back(requests, keeps_context, sch, outs[r], all.requests, cost, sch.speculative.seed + r, swap);
  std::vector<std::size_t> replica_of(requests.size(), 0);
  std::unordered_map<std::uint64_t, std::size_t> prefix_home;  // prefix_affinity: where each prefix went first
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const double at = requests[i].arrival_s;
    // Every chip runs the steps that start before this arrival: its state then is what
    // the router sees (a step under way finishes first; the request waits for the next).
    for (Replica& c : chips)
      while (c.busy() && c.clock() < at) c.step();
    auto least_outstanding = [&] {
      std::size_t best = 0;
      for (std::size_t r = 1; r < n; ++r)
        if (chips[r].outstanding(at) < chips[best].outstanding(at)) best = r;  // ties: the lowest index
      return best;
    };
    const std::string& routing = sch.replicas.routing;
    std::size_t pick = 0;
    if (routing == "least_outstanding") {
      pick = least_outstanding();
    } else if (routing == "least_kv") {
      std::uint64_t best = chips[0].kv_pressure();
      for (std::size_t r = 1; r < n; ++r) {
        const std::uint64_t p = chips[r].kv_pressure();
        if (p < best) {  // ties: the lowest index
          best = p;
          pick = r;
        }
      }
    } else if (routing == "prefix_affinity") {
      const std::uint64_t prefix = requests[i].prefix_id;
      const auto home = prefix ? prefix_home.find(prefix) : prefix_home.end();
      const std::size_t least = least_outstanding();
      pick = home != prefix_home.end() ? home->second : least;
      if (prefix && home == prefix_home.end()) prefix_home.emplace(prefix, pick);
      // Past the balance threshold the least loaded replica takes it (the prefix's home stays).
      if (sch.replicas.balance > 0 && chips[pick].outstanding(at) > chips[least].outstanding(at) + sch.replicas.balance)
        pick = least;
    } else {  // round_robin
      pick = i % n;
    }
    replica_of[i] = pick;
    chips[pick].arrive(i);
  }
  for (Replica& c : chips) {
    while (c.busy()) c.step();
    c.check_blocks();
  }
  if (n == 1) {
    outs.front().requests = std::move(all.requests);
    return std::move(outs.front());
  }
  return merge_replicas(outs, std::move(all.requests), replica_of);
}

}  // namespace podsim
