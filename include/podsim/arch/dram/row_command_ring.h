// The row commands of one pseudo-channel by cycle, for RowTimeline: one bit per cycle says
// a row command (ACT, PRE, REF) is there, another that it is an ACT, and three more its
// bank group (at most 8, dram_device.cpp), kept together per 64 cycles (one cache line). The cycles kept are a window [lo, hi) that moves forward as the controller forgets
// the past (prune); the storage is a ring that grows to fit the window.
//
// Why not a sorted list of commands: the placement rules ask "what is at or near this
// cycle?" many times per request, and insertions land between commands already placed
// (a request to an idle bank overtakes one waiting for a busy bank). A list answers with
// a search and shifts entries on every insertion; a bitmap answers with a word load and
// a bit scan, and inserts by setting a bit. Same answers: one command per cycle holds by
// construction (every command is placed on a free cycle), so a cycle's bits say
// everything the list said (tests/unit/dram_test.cpp compares both on random commands).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace podsim {

class RowCommandRing {
 public:
  static constexpr std::int64_t kNone = -1;

  // Whether a command sits at `cycle`, and whether it is an ACT (then `bg_at`).
  bool occupied(std::int64_t cycle) const { return in_window(cycle) && bit(words_[word(cycle)].occ, cycle); }
  bool act_at(std::int64_t cycle) const { return in_window(cycle) && bit(words_[word(cycle)].act, cycle); }
  std::uint32_t bg_at(std::int64_t cycle) const { return words_[word(cycle)].bg_of(unsigned(std::uint64_t(cycle) & 63)); }
  bool empty() const { return hi_ <= lo_; }
  // The greatest cycle holding a command, for an empty ring kNone.
  std::int64_t last() const { return empty() ? kNone : prev_set(false, hi_ - 1); }

  // The first cycle in [from, to] holding a command (an ACT), or kNone.
  std::int64_t next_command(std::int64_t from, std::int64_t to) const { return next_set(false, from, to); }
  std::int64_t next_act(std::int64_t from, std::int64_t to) const { return next_set(true, from, to); }
  // The last ACT at or before `to` (down to the window's start), or kNone.
  std::int64_t prev_act(std::int64_t to) const { return prev_set(true, to); }

  // Visits the commands in [from, to] in time order: f(cycle, is_act, bank group) returns
  // the last cycle to visit, so a visitor can widen or end (kNone) the scan as it learns.
  // Only ACTs with `acts_only`. Word by word, inlined: the placement rules' inner loop.
  template <bool acts_only = false, typename F>
  void visit(std::int64_t from, std::int64_t to, F&& f) const {
    from = std::max(from, lo_);
    while (from <= to && from < hi_) {
      const Word& w = words_[word(from)];
      const unsigned shift = unsigned(std::uint64_t(from) & 63);
      const std::uint64_t act = w.act >> shift;
      std::uint64_t left = acts_only ? act : w.occ >> shift;
      while (left) {
        const unsigned tz = unsigned(__builtin_ctzll(left));
        const std::int64_t c = from + std::int64_t(tz);
        if (c > to || c >= hi_) return;
        to = f(c, bool((act >> tz) & 1), w.bg_of(shift + tz));
        left &= left - 1;
      }
      from = (from | 63) + 1;
    }
  }

  // Puts a command on a free cycle (cycle >= 0).
  void insert(std::int64_t cycle, bool act, std::uint32_t bg);
  // Forgets every command before `cycle`.
  void forget_before(std::int64_t cycle);

 private:
  // 64 cycles of the ring: a bit each for "a command", "an ACT" and the bank group's 3 bits.
  struct Word {
    std::uint64_t occ = 0, act = 0, bg[3] = {0, 0, 0};
    std::uint32_t bg_of(unsigned b) const {
      return unsigned((bg[0] >> b) & 1) | unsigned((bg[1] >> b) & 1) << 1 | unsigned((bg[2] >> b) & 1) << 2;
    }
  };
  static bool bit(std::uint64_t w, std::int64_t c) { return (w >> (std::uint64_t(c) & 63)) & 1; }
  bool in_window(std::int64_t c) const { return c >= lo_ && c < hi_; }
  std::size_t word(std::int64_t c) const { return (std::size_t(c) & mask_) >> 6; }
  std::int64_t next_set(bool acts, std::int64_t from, std::int64_t to) const;
  std::int64_t prev_set(bool acts, std::int64_t to) const;
  void clear_range(std::int64_t from, std::int64_t to);  // [from, to)
  void grow(std::int64_t lo, std::int64_t hi);            // room for [lo, hi)

  std::vector<Word> words_;  // the ring, 64 cycles a word
  std::size_t mask_ = 0;     // ring size - 1 (cycles; the size is a power of two >= 1024)
  std::int64_t lo_ = 0, hi_ = 0;          // the window: commands only at cycles in [lo_, hi_)
};

}  // namespace podsim
