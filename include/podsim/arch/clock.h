// Time in podsim: SystemC runs at a 1 ps resolution; every timing model works in whole
// picoseconds (std::uint64_t) or in cycles of its own clock domain. These helpers convert
// between the two exactly (128-bit intermediate, rounding up: an event never happens
// before its cycle).
#pragma once

#include <cstdint>

namespace podsim {

constexpr std::uint64_t kPsPerSecond = 1'000'000'000'000ULL;
__extension__ using Wide = unsigned __int128;  // products of ps and Hz overflow 64 bits

class ClockDomain {
 public:
  explicit ClockDomain(std::uint64_t hz) : hz_(hz) {}
  std::uint64_t hz() const { return hz_; }
  // The first cycle boundary at or after `ps`: the smallest c with ps_of(c) >= ps, so that
  // cycle_at(ps_of(c)) == c even when a period is not a whole number of picoseconds (a
  // request made on a boundary is not pushed to the next one).
  std::uint64_t cycle_at(std::uint64_t ps) const {
    if (ps == 0) return 0;
    return static_cast<std::uint64_t>(((Wide)(ps - 1) * hz_) / kPsPerSecond) + 1;
  }
  // The time of cycle boundary `cycle`, rounded up to a whole picosecond.
  std::uint64_t ps_of(std::uint64_t cycle) const {
    return static_cast<std::uint64_t>(((Wide)cycle * kPsPerSecond + hz_ - 1) / hz_);
  }

 private:
  std::uint64_t hz_;
};

// Picoseconds to move `bytes` at `bytes_per_second`, rounded up.
inline std::uint64_t transfer_ps(std::uint64_t bytes, std::uint64_t bytes_per_second) {
  return static_cast<std::uint64_t>(((Wide)bytes * kPsPerSecond + bytes_per_second - 1) /
                                    bytes_per_second);
}

}  // namespace podsim
