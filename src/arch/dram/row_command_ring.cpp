#include "podsim/arch/dram/row_command_ring.h"

#include <algorithm>
#include <stdexcept>

namespace podsim {
namespace {
// C++17 has no std::countr_zero / countl_zero; GCC and Clang's builtins (x != 0).
int trailing_zeros(std::uint64_t x) { return __builtin_ctzll(x); }
int leading_zeros(std::uint64_t x) { return __builtin_clzll(x); }
}  // namespace

std::int64_t RowCommandRing::next_set(bool acts, std::int64_t from, std::int64_t to) const {
  from = std::max(from, lo_);
  to = std::min(to, hi_ - 1);
  while (from <= to) {
    const Word& w = words_[word(from)];
    const std::uint64_t bits = (acts ? w.act : w.occ) >> (std::uint64_t(from) & 63);
    if (bits) {
      const std::int64_t c = from + trailing_zeros(bits);
      return c <= to ? c : kNone;
    }
    from = (from | 63) + 1;  // the next word's first cycle
  }
  return kNone;
}

std::int64_t RowCommandRing::prev_set(bool acts, std::int64_t to) const {
  to = std::min(to, hi_ - 1);
  while (to >= lo_) {
    const Word& w = words_[word(to)];
    const unsigned shift = 63 - unsigned(std::uint64_t(to) & 63);
    const std::uint64_t bits = (acts ? w.act : w.occ) << shift;  // cycles up to `to` of its word, at the top
    if (bits) {
      const std::int64_t c = to - leading_zeros(bits);
      return c >= lo_ ? c : kNone;
    }
    to = (to & ~std::int64_t(63)) - 1;  // the previous word's last cycle
  }
  return kNone;
}

void RowCommandRing::clear_range(std::int64_t from, std::int64_t to) {
  for (std::int64_t c = from; c < to;) {
    const std::int64_t word_end = std::min(to, (c | 63) + 1);
    const unsigned lo_bit = unsigned(std::uint64_t(c) & 63), n = unsigned(word_end - c);
    const std::uint64_t keep = ~(n == 64 ? ~0ULL : ((1ULL << n) - 1) << lo_bit);
    Word& w = words_[word(c)];
    w.occ &= keep;
    w.act &= keep;
    for (auto& b : w.bg) b &= keep;
    c = word_end;
  }
}

void RowCommandRing::grow(std::int64_t lo, std::int64_t hi) {
  std::size_t size = std::max<std::size_t>(mask_ + 1, 1024);
  while (std::int64_t(size) < hi - lo) size *= 2;
  RowCommandRing bigger;
  bigger.mask_ = size - 1;
  bigger.words_.assign(size / 64, Word{});
  bigger.lo_ = lo;
  bigger.hi_ = hi;
  if (!words_.empty())
    for (std::int64_t c = next_set(false, lo_, hi_ - 1); c != kNone; c = next_set(false, c + 1, hi_ - 1))
      bigger.insert(c, act_at(c), bg_at(c));
  *this = std::move(bigger);
}

void RowCommandRing::insert(std::int64_t cycle, bool act, std::uint32_t bg) {
  if (cycle < 0) throw std::logic_error("row command at a negative cycle");
  if (hi_ <= lo_) lo_ = hi_ = cycle;  // nothing kept: the window starts here
  const std::int64_t lo = std::min(lo_, cycle), hi = std::max(hi_, cycle + 1);
  if (words_.empty() || std::uint64_t(hi - lo) > mask_ + 1) grow(lo, hi);
  lo_ = lo;
  hi_ = hi;
  const unsigned b = unsigned(std::uint64_t(cycle) & 63);
  const std::uint64_t m = 1ULL << b;
  Word& w = words_[word(cycle)];
  // Every command is placed on a free cycle (place_act, place_other); two on one cycle
  // would be a controller bug the list this replaced would have kept silently.
  if (w.occ & m) throw std::logic_error("two row commands on one cycle");
  w.occ |= m;
  if (act) {
    w.act |= m;
    for (unsigned i = 0; i < 3; ++i)
      if ((bg >> i) & 1) w.bg[i] |= m;
  }
}

void RowCommandRing::forget_before(std::int64_t cycle) {
  if (cycle <= lo_) return;
  if (hi_ > lo_) clear_range(lo_, std::min(cycle, hi_));
  lo_ = cycle;
  hi_ = std::max(hi_, lo_);
}

}  // namespace podsim
