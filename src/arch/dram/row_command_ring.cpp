#include "podsim/arch/dram/row_command_ring.h"

#include <stdexcept>

namespace podsim {
namespace {
// C++17 has no std::countr_zero / countl_zero; GCC's and Clang's builtins (x != 0).
int trailing_zeros(std::uint64_t x) { return __builtin_ctzll(x); }
int leading_zeros(std::uint64_t x) { return __builtin_clzll(x); }
}  // namespace

std::size_t RowCommandRing::far_index(std::int64_t cycle) const {
  const auto it = std::lower_bound(far_.begin() + std::ptrdiff_t(far_head_), far_.end(), cycle,
                                   [](const Far& f, std::int64_t c) { return f.cycle < c; });
  return std::size_t(it - far_.begin());
}

const RowCommandRing::Far* RowCommandRing::far_at(std::int64_t cycle) const {
  const std::size_t i = far_index(cycle);
  return i < far_.size() && far_[i].cycle == cycle ? &far_[i] : nullptr;
}

bool RowCommandRing::act_at(std::int64_t cycle) const {
  if (cycle < lo_) return false;
  if (in_bitmap(cycle)) return bit(words_[word(cycle)].act, cycle);
  const Far* f = far_at(cycle);
  return f && f->act;
}

std::uint32_t RowCommandRing::bg_at(std::int64_t cycle) const {
  if (in_bitmap(cycle)) return words_[word(cycle)].bg_of(unsigned(std::uint64_t(cycle) & 63));
  const Far* f = far_at(cycle);
  return f ? f->bg : 0;
}

std::int64_t RowCommandRing::next_set(bool acts, std::int64_t from, std::int64_t to) const {
  from = std::max(from, lo_);
  const std::int64_t top = lo_ + kWindow;
  for (std::int64_t c = from, end = std::min(to, top - 1); c <= end;) {
    const Word& w = words_[word(c)];
    const std::uint64_t bits = (acts ? w.act : w.occ) >> (std::uint64_t(c) & 63);
    if (bits) {
      const std::int64_t x = c + trailing_zeros(bits);
      if (x <= end) return x;
      break;  // past `to`, or the word's rest is the window's start a ring round earlier
    }
    c = (c | 63) + 1;  // the next word's first cycle
  }
  for (std::size_t i = far_index(std::max(from, top)); i < far_.size() && far_[i].cycle <= to; ++i)
    if (!acts || far_[i].act) return far_[i].cycle;
  return kNone;
}

std::int64_t RowCommandRing::prev_act(std::int64_t to) const {
  const std::int64_t top = lo_ + kWindow;
  if (to >= top)
    for (std::size_t i = far_index(to + 1); i > far_head_; --i)
      if (far_[i - 1].act) return far_[i - 1].cycle;
  for (std::int64_t c = std::min(to, top - 1); c >= lo_;) {
    const unsigned shift = 63 - unsigned(std::uint64_t(c) & 63);
    const std::uint64_t bits = words_[word(c)].act << shift;  // cycles up to c of its word, at the top
    if (bits) {
      const std::int64_t x = c - leading_zeros(bits);
      return x >= lo_ ? x : kNone;
    }
    c = (c & ~std::int64_t(63)) - 1;  // the previous word's last cycle
  }
  return kNone;
}

std::int64_t RowCommandRing::last() const {
  if (far_head_ < far_.size()) return far_.back().cycle;
  for (std::int64_t c = lo_ + kWindow - 1; c >= lo_;) {
    const unsigned shift = 63 - unsigned(std::uint64_t(c) & 63);
    const std::uint64_t bits = words_[word(c)].occ << shift;
    if (bits) {
      const std::int64_t x = c - leading_zeros(bits);
      return x >= lo_ ? x : kNone;
    }
    c = (c & ~std::int64_t(63)) - 1;
  }
  return kNone;
}

void RowCommandRing::set_bits(std::int64_t cycle, bool act, std::uint32_t bg) {
  const std::uint64_t m = 1ULL << (std::uint64_t(cycle) & 63);
  Word& w = words_[word(cycle)];
  w.occ |= m;
  ++bitmap_live_;
  bitmap_hi_ = std::max(bitmap_hi_, cycle);
  if (act) {
    w.act |= m;
    for (unsigned i = 0; i < 3; ++i)
      if ((bg >> i) & 1) w.bg[i] |= m;
  }
}

void RowCommandRing::clear_range(std::int64_t from, std::int64_t to) {
  // Nothing past the greatest command the bitmap has held since it was last empty: a jump of
  // the present does not walk the whole window.
  to = std::min(to, bitmap_hi_ + 1);
  for (std::int64_t c = from; c < to && bitmap_live_ > 0;) {
    const std::int64_t word_end = std::min(to, (c | 63) + 1);
    const unsigned lo_bit = unsigned(std::uint64_t(c) & 63), n = unsigned(word_end - c);
    const std::uint64_t m = n == 64 ? ~0ULL : ((1ULL << n) - 1) << lo_bit;
    Word& w = words_[word(c)];
    c = word_end;
    // ACT and bank-group bits are only set where a command is: a word with none in the
    // range is left alone (a jump of the present clears mostly empty words).
    const std::uint64_t hit = w.occ & m;
    if (!hit) continue;
    // Row commands are sparse (one per several cycles): count the cleared ones bit by bit
    // (__builtin_popcountll is a library call without -mpopcnt: 3 % of a run).
    for (std::uint64_t x = hit; x; x &= x - 1) --bitmap_live_;
    w.occ &= ~m;
    w.act &= ~m;
    for (auto& b : w.bg) b &= ~m;
  }
}

void RowCommandRing::move_window(std::int64_t lo) {
  lo_ = lo;
  // Far commands the window now reaches move into the bitmap (the list is sorted).
  while (far_head_ < far_.size() && far_[far_head_].cycle < lo_ + kWindow) {
    set_bits(far_[far_head_].cycle, far_[far_head_].act, far_[far_head_].bg);
    ++far_head_;
  }
  if (far_head_ == far_.size()) {
    far_.clear();
    far_head_ = 0;
  } else if (far_head_ > 64 && far_head_ * 2 > far_.size()) {
    far_.erase(far_.begin(), far_.begin() + std::ptrdiff_t(far_head_));
    far_head_ = 0;
  }
}

void RowCommandRing::insert(std::int64_t cycle, bool act, std::uint32_t bg) {
  if (cycle < 0) throw std::logic_error("row command at a negative cycle");
  // Every command is placed on a free cycle (place_act, place_other); two on one cycle
  // would be a controller bug the list this replaced would have kept silently.
  if (occupied(cycle)) throw std::logic_error("two row commands on one cycle");
  if (empty()) {
    lo_ = cycle;  // nothing kept: the window starts here
  } else if (cycle < lo_) {
    // The window reaches back to `cycle`: the commands its top leaves go to the far list
    // (they come before every far command).
    std::vector<Far> out;
    for (std::int64_t c = next_set(false, cycle + kWindow, lo_ + kWindow - 1); c != kNone;
         c = next_set(false, c + 1, lo_ + kWindow - 1))
      out.push_back({c, act_at(c), bg_at(c)});
    clear_range(std::max(cycle + kWindow, lo_), lo_ + kWindow);
    far_.insert(far_.begin() + std::ptrdiff_t(far_head_), out.begin(), out.end());
    lo_ = cycle;
  }
  if (in_bitmap(cycle)) {
    set_bits(cycle, act, bg);
  } else {
    const auto at = far_.begin() + std::ptrdiff_t(far_index(cycle));
    far_.insert(at, Far{cycle, act, bg});
  }
}

void RowCommandRing::forget_before(std::int64_t cycle) {
  if (cycle <= lo_) return;
  clear_range(lo_, std::min(cycle, lo_ + kWindow));
  while (far_head_ < far_.size() && far_[far_head_].cycle < cycle) ++far_head_;
  if (bitmap_live_ == 0) bitmap_hi_ = -1;
  move_window(cycle);
}

}  // namespace podsim
