// A small sorted sequence keyed by cycle, for the column timeline (the row timeline is a bitmap, row_command_ring.h): insertions land near
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
  // A plain aggregate, not std::pair: trivially copyable, so an insertion shifts the
  // entries after it with one memmove (std::pair's assignment moved them one by one).
  struct Entry {
    std::int64_t first;
    T second;
  };

  std::size_t size() const { return items_.size() - head_; }
  bool empty() const { return size() == 0; }
  const Entry& operator[](std::size_t i) const { return items_[head_ + i]; }

  // Index of the first entry with key >= k.
  // Queries and insertions land near the newest entries, so the search gallops back from
  // the end (a few comparisons) before it bisects.
  std::size_t lower_bound(std::int64_t k) const {
    return std::size_t(gallop(k, [](std::int64_t e, std::int64_t key) { return e < key; })) - head_;
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
    const std::size_t at = gallop(k, [](std::int64_t e, std::int64_t key) { return e <= key; });
    items_.insert(items_.begin() + std::ptrdiff_t(at), Entry{k, value});
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
  // The first index (absolute) at or after head_ whose key fails `before(key_i, k)`, for a
  // `before` true on a prefix.
  template <typename Before>
  std::size_t gallop(std::int64_t k, Before before) const {
    std::size_t hi = items_.size(), step = 1;
    while (hi > head_ && !before(items_[hi - 1].first, k)) {  // items_[hi - 1] is not before k
      const std::size_t lo = hi > head_ + step ? hi - step : head_;
      if (before(items_[lo].first, k)) {  // the boundary is in (lo, hi - 1]
        std::size_t a = lo + 1, b = hi - 1;
        while (a < b) {
          const std::size_t mid = a + (b - a) / 2;
          if (before(items_[mid].first, k)) a = mid + 1; else b = mid;
        }
        return a;
      }
      hi = lo;
      step *= 2;
    }
    return hi;
  }

  std::vector<Entry> items_;
  std::size_t head_ = 0;
};

}  // namespace podsim
