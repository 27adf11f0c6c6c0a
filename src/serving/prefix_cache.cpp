#include "podsim/serving/prefix_cache.h"

#include <stdexcept>

namespace podsim {

std::uint64_t PrefixCache::cached_blocks(std::uint64_t prefix_id) const {
  const auto it = entries_.find(prefix_id);
  return it == entries_.end() ? 0 : it->second.blocks;
}

std::uint64_t PrefixCache::idle_blocks_of(std::uint64_t prefix_id) const {
  const auto it = entries_.find(prefix_id);
  return it == entries_.end() || it->second.refs > 0 ? 0 : it->second.blocks;
}

std::uint64_t PrefixCache::acquire(std::uint64_t prefix_id) {
  const auto it = entries_.find(prefix_id);
  if (it == entries_.end()) throw std::logic_error("prefix cache: acquire of an entry that is not cached");
  Entry& e = it->second;
  if (e.refs++ == 0) {
    idle_.erase({e.released_at, prefix_id});
    idle_blocks_ -= e.blocks;
  }
  return e.blocks;
}

void PrefixCache::release(std::uint64_t prefix_id, double t) {
  const auto it = entries_.find(prefix_id);
  if (it == entries_.end() || it->second.refs == 0) throw std::logic_error("prefix cache: release without a reference");
  Entry& e = it->second;
  if (--e.refs == 0) {
    e.released_at = t;
    idle_.insert({t, prefix_id});
    idle_blocks_ += e.blocks;
  }
}

bool PrefixCache::insert(std::uint64_t prefix_id, std::uint64_t blocks) {
  return entries_.emplace(prefix_id, Entry{blocks, 1, 0.0}).second;
}

std::uint64_t PrefixCache::evict_one() {
  if (idle_.empty()) return 0;
  const std::uint64_t id = idle_.begin()->second;  // released longest ago; ties: the lowest id
  idle_.erase(idle_.begin());
  const std::uint64_t blocks = entries_.at(id).blocks;
  entries_.erase(id);
  idle_blocks_ -= blocks;
  ++evictions_;
  return blocks;
}

}  // namespace podsim
