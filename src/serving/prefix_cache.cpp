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
  if (!entries_.emplace(prefix_id, Entry{blocks, 1, 0.0}).second) return false;
  total_blocks_ += blocks;
  return true;
}

std::uint64_t PrefixCache::refs(std::uint64_t prefix_id) const {
  const auto it = entries_.find(prefix_id);
  return it == entries_.end() ? 0 : it->second.refs;
}

std::uint64_t PrefixCache::drop_idle(std::uint64_t prefix_id) {
  const auto it = entries_.find(prefix_id);
  if (it == entries_.end() || it->second.refs > 0) return 0;
  const std::uint64_t blocks = it->second.blocks;
  idle_.erase({it->second.released_at, prefix_id});
  idle_blocks_ -= blocks;
  total_blocks_ -= blocks;
  entries_.erase(it);
  return blocks;
}

bool PrefixCache::extend(std::uint64_t prefix_id, std::uint64_t blocks, double t) {
  const auto it = entries_.find(prefix_id);
  if (it == entries_.end() || it->second.refs != 1) return false;
  total_blocks_ += blocks - it->second.blocks;
  it->second.blocks = blocks;
  release(prefix_id, t);
  return true;
}

void PrefixCache::put_idle(std::uint64_t prefix_id, std::uint64_t blocks, double t) {
  if (!insert(prefix_id, blocks)) throw std::logic_error("prefix cache: put_idle of a prefix that is cached");
  release(prefix_id, t);
}

std::uint64_t PrefixCache::evict_one() {
  if (idle_.empty()) return 0;
  const std::uint64_t id = idle_.begin()->second;  // released longest ago; ties: the lowest id
  idle_.erase(idle_.begin());
  const std::uint64_t blocks = entries_.at(id).blocks;
  entries_.erase(id);
  idle_blocks_ -= blocks;
  total_blocks_ -= blocks;
  ++evictions_;
  return blocks;
}

}  // namespace podsim
