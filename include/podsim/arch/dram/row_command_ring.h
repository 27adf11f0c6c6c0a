// The row commands of one pseudo-channel by cycle, for RowTimeline. Near the present they
// are a bitmap: one bit per cycle says a row command (ACT, PRE, REF) is there, another
// that it is an ACT, and three more its bank group (at most 8, dram_device.cpp), kept
// together per 64 cycles (one cache line). The bitmap covers a fixed window of cycles from
// the oldest one still remembered; commands placed further ahead (refreshes placed up to
// a request that must wait long, sparse) go to a sorted list and move into the bitmap as
// the window moves on. Memory is then bounded by the window plus the far commands, as the
// list alone was, not by how far ahead the controller commits.
//
// Why not a sorted list of all commands: the placement rules ask "what is at or near this
// cycle?" many times per request, and insertions land between commands already placed (a
// request to an idle bank overtakes one waiting for a busy bank). A list answers with a
// search and shifts entries on every insertion; a bitmap answers with a word load and a
// bit scan, and inserts by setting a bit. Same answers: one command per cycle holds by
// construction (every command is placed on a free cycle), so a cycle's bits say everything
// the list said (tests/unit/row_command_ring_test.cpp compares both on random commands).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace podsim {

class RowCommandRing {
 public:
  static constexpr std::int64_t kNone = -1;
  // Cycles the bitmap covers: 256 words of 40 bytes (10 KiB a pseudo-channel).
  static constexpr std::int64_t kWindow = 16384;

  RowCommandRing() : words_(std::size_t(kWindow / 64)) {}

  // Whether a command sits at `cycle`, whether it is an ACT, and an ACT's bank group.
  bool occupied(std::int64_t cycle) const {  // inline: place_other asks it cycle by cycle
    if (cycle < lo_) return false;
    if (cycle < lo_ + kWindow) return bit(words_[word(cycle)].occ, cycle);
    return far_at(cycle) != nullptr;
  }
  bool act_at(std::int64_t cycle) const;
  std::uint32_t bg_at(std::int64_t cycle) const;
  bool empty() const { return bitmap_live_ == 0 && far_head_ == far_.size(); }
  // The greatest cycle holding a command, for an empty ring kNone.
  std::int64_t last() const;

  // The first cycle in [from, to] holding a command (an ACT), or kNone.
  std::int64_t next_command(std::int64_t from, std::int64_t to) const { return next_set(false, from, to); }
  std::int64_t next_act(std::int64_t from, std::int64_t to) const { return next_set(true, from, to); }
  // The last ACT at or before `to`, or kNone.
  std::int64_t prev_act(std::int64_t to) const;

  // Visits the commands in [from, to] in time order: f(cycle, is_act, bank group) returns
  // the last cycle to visit, so a visitor can widen or end (kNone) the scan as it learns.
  // Only ACTs with `acts_only`. The bitmap word by word, inlined: the placement rules'
  // inner loop; then the far list if the scan reaches it.
  template <bool acts_only = false, typename F>
  void visit(std::int64_t from, std::int64_t to, F&& f) const {
    from = std::max(from, lo_);
    const std::int64_t top = lo_ + kWindow, far_from = std::max(from, top);
    while (from <= to && from < top) {
      const Word& w = words_[word(from)];
      const unsigned shift = unsigned(std::uint64_t(from) & 63);
      const std::uint64_t act = w.act >> shift;
      std::uint64_t left = acts_only ? act : w.occ >> shift;
      while (left) {
        const unsigned tz = unsigned(__builtin_ctzll(left));
        const std::int64_t c = from + std::int64_t(tz);
        // The word's rest is the window's start, a ring round earlier: the far list goes
        // on from `top`. (Checked before `to`: the other order ended the scan there, so a
        // far command at or just past `top` went unseen when the window's first cycles held
        // commands, and an ACT could be placed on its cycle; found on a backlogged channel
        // placing 16,384 cycles ahead, tests/unit/row_command_ring_test.cpp.)
        if (c >= top) break;
        if (c > to) return;
        to = f(c, bool((act >> tz) & 1), w.bg_of(shift + tz));
        left &= left - 1;
      }
      from = (from | 63) + 1;
    }
    if (far_from > to || far_head_ == far_.size()) return;
    for (std::size_t i = far_index(far_from); i < far_.size() && far_[i].cycle <= to; ++i)
      if (!acts_only || far_[i].act) to = f(far_[i].cycle, far_[i].act, far_[i].bg);
  }

  // Puts a command on a free cycle (cycle >= 0).
  void insert(std::int64_t cycle, bool act, std::uint32_t bg);
  // Forgets every command before `cycle`.
  void forget_before(std::int64_t cycle);

 private:
  // 64 cycles of the bitmap: a bit each for "a command", "an ACT" and the bank group's 3 bits.
  struct Word {
    std::uint64_t occ = 0, act = 0, bg[3] = {0, 0, 0};
    std::uint32_t bg_of(unsigned b) const {
      return unsigned((bg[0] >> b) & 1) | unsigned((bg[1] >> b) & 1) << 1 | unsigned((bg[2] >> b) & 1) << 2;
    }
  };
  struct Far {
    std::int64_t cycle;
    bool act;
    std::uint32_t bg;
  };
  static bool bit(std::uint64_t w, std::int64_t c) { return (w >> (std::uint64_t(c) & 63)) & 1; }
  bool in_bitmap(std::int64_t c) const { return c >= lo_ && c < lo_ + kWindow; }
  std::size_t word(std::int64_t c) const { return (std::size_t(c) & std::size_t(kWindow - 1)) >> 6; }
  // Index into far_ of the first far command at or after `cycle`.
  std::size_t far_index(std::int64_t cycle) const;
  const Far* far_at(std::int64_t cycle) const;
  std::int64_t next_set(bool acts, std::int64_t from, std::int64_t to) const;
  void set_bits(std::int64_t cycle, bool act, std::uint32_t bg);
  void clear_range(std::int64_t from, std::int64_t to);  // [from, to) of the bitmap
  void move_window(std::int64_t lo);                       // the bitmap from `lo`; far commands in it move in

  std::vector<Word> words_;         // the bitmap, a ring of kWindow cycles
  std::int64_t lo_ = 0;             // the bitmap covers [lo_, lo_ + kWindow); nothing is kept before lo_
  std::vector<Far> far_;            // commands at or after lo_ + kWindow, sorted, from far_head_ on
  std::size_t far_head_ = 0;
  std::int64_t bitmap_live_ = 0;    // commands in the bitmap
  std::int64_t bitmap_hi_ = -1;     // no bitmap command after this cycle (since it was last empty)
};

}  // namespace podsim
