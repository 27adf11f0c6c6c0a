// Prefix caching (vLLM's automatic prefix caching, SGLang's RadixAttention): the KV blocks
// of a prompt prefix that many requests share (a system prompt, a few-shot preamble) stay
// in the cache after the request that computed them, and a later request with the same
// prefix references them instead of prefilling those tokens again.
//
// Only whole blocks are shared (a block is hashed once it is full): a prefix of P tokens
// in blocks of B shares floor(P / B) blocks. An entry is created when the first request
// with that prefix has prefilled past it (its blocks then move from the request to the
// cache); requests admitted before that compute the prefix themselves. An entry that no
// running request references stays cached, and is evicted least recently released first
// when blocks are needed (before any running sequence is preempted).
//
// A conversation is a prefix that grows: each turn's prompt is the conversation so far
// plus the user's new tokens. A turn whose context a later turn continues leaves its whole
// context (prompt and output, in whole blocks) as the conversation's entry when it
// finishes (extend, or put_idle when it shared nothing).
//
// The scheduler (batch_scheduler.cpp) owns the block accounting; this class keeps the
// entries, their references and the eviction order.
#pragma once

#include <cstdint>
#include <set>
#include <unordered_map>
#include <utility>

namespace podsim {

class PrefixCache {
 public:
  // Blocks of the entry for `prefix_id`, or 0 if it is not cached.
  std::uint64_t cached_blocks(std::uint64_t prefix_id) const;
  // A request references the cached entry (which must exist); returns its blocks.
  std::uint64_t acquire(std::uint64_t prefix_id);
  // A request drops its reference at time `t` (finished or preempted); an entry left
  // unreferenced becomes evictable, the least recently released first.
  void release(std::uint64_t prefix_id, double t);
  // A request that computed the prefix hands `blocks` blocks to a new entry, referenced by
  // it; false (nothing changes) if the prefix is cached already.
  bool insert(std::uint64_t prefix_id, std::uint64_t blocks);
  // Evicts the least recently released unreferenced entry; returns the blocks it frees
  // (0: none evictable).
  std::uint64_t evict_one();
  // Evicts the entry for `prefix_id` if no request references it; returns its blocks (0:
  // not cached, or referenced). Not counted as an eviction (it is being replaced).
  std::uint64_t drop_idle(std::uint64_t prefix_id);
  // The one request referencing the entry grows it to `blocks` and releases it at `t`;
  // false (nothing changes) if it is not cached or others reference it too.
  bool extend(std::uint64_t prefix_id, std::uint64_t blocks, double t);
  // A new unreferenced entry of `blocks`, released at `t` (the prefix must not be cached).
  void put_idle(std::uint64_t prefix_id, std::uint64_t blocks, double t);
  std::uint64_t refs(std::uint64_t prefix_id) const;
  // Blocks held by every entry, referenced or not.
  std::uint64_t total_blocks() const { return total_blocks_; }
  // The entry's blocks if it is cached and no request references it, else 0.
  std::uint64_t idle_blocks_of(std::uint64_t prefix_id) const;
  // Blocks held by entries no request references (free to evict).
  std::uint64_t idle_blocks() const { return idle_blocks_; }
  std::uint64_t evictions() const { return evictions_; }

 private:
  struct Entry {
    std::uint64_t blocks = 0;
    std::uint64_t refs = 0;
    double released_at = 0;
  };
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::set<std::pair<double, std::uint64_t>> idle_;  // (released_at, prefix_id): eviction order
  std::uint64_t idle_blocks_ = 0;
  std::uint64_t total_blocks_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace podsim
