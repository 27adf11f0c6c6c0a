// A small sorted sequence keyed by cycle, for the command timelines: insertions land near
// the end, the oldest entries are dropped from the front. A vector with a moving head
// beats a tree here: no allocation per command, and scans are cache-friendly.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace podsim {

template <typename T>
class SortedWindow {
 public:
  using Entry = std::pair<std::int64_t, T>;

  std::size_t size() const { return items_.size() - head_; }
  bool empty() const { return size() == 0; }
  const Entry& operator[](std::size_t i) const { return items_[head_ + i]; }

  // Index of the first entry with key >= k.
  std::size_t lower_bound(std::int64_t k) const {
    auto it = std::lower_bound(items_.begin() + std::ptrdiff_t(head_), items_.end(), k,
                               [](const Entry& e, std::int64_t key) { return e.first < key; });
    return std::size_t(it - items_.begin()) - head_;
  }
  // Index of the first entry for which `pred` is false, for a `pred` true on a prefix.
  template <typename Pred>
  std::size_t partition_point(Pred pred) const {
    auto it = std::partition_point(items_.begin() + std::ptrdiff_t(head_), items_.end(), pred);
    return std::size_t(it - items_.begin()) - head_;
  }
  bool contains(std::int64_t k) const {
    const std::size_t i = lower_bound(k);
    return i < size() && (*this)[i].first == k;
  }
  void insert(std::int64_t k, const T& value) {
    auto it = std::upper_bound(items_.begin() + std::ptrdiff_t(head_), items_.end(), k,
                               [](std::int64_t key, const Entry& e) { return key < e.first; });
    items_.insert(it, Entry{k, value});
  }
  // Drops entries from the front while `stale(entry)` holds.
  template <typename Pred>
  void drop_front_while(Pred stale) {
    while (head_ < items_.size() && stale(items_[head_])) ++head_;
    if (head_ > 64 && head_ * 2 > items_.size()) {
      items_.erase(items_.begin(), items_.begin() + std::ptrdiff_t(head_));
      head_ = 0;
    }
  }

 private:
  std::vector<Entry> items_;
  std::size_t head_ = 0;
};

}  // namespace podsim
