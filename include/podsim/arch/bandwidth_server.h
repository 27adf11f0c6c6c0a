// A first-come first-served link of fixed bandwidth: the timing policy of an HBM channel
// in the bandwidth model and of a crossbar port. A request that arrives while the link is
// busy waits its turn, so two streams that share a link share its bandwidth. Plain C++.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "podsim/arch/clock.h"

namespace podsim {

class BandwidthServer {
 public:
  explicit BandwidthServer(std::uint64_t bytes_per_second) : bps_(bytes_per_second) {}

  // Reserves the link for `bytes` arriving at `now_ps`; returns when the last byte is
  // through. Calls must come in non-decreasing `now_ps` (SystemC's time order).
  std::uint64_t reserve(std::uint64_t now_ps, std::uint64_t bytes) {
    const std::uint64_t start = std::max(now_ps, free_at_);
    const std::uint64_t busy = transfer_ps(bytes, bps_);
    free_at_ = start + busy;
    busy_ps_ += busy;
    bytes_ += bytes;
    ++requests_;
    return free_at_;
  }

  std::uint64_t busy_ps() const { return busy_ps_; }
  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t requests() const { return requests_; }
  std::uint64_t free_at() const { return free_at_; }
  std::uint64_t bytes_per_second() const { return bps_; }
  // Activity counters, for replaying an op (arch/counter_list.h).
  void list_counters(std::vector<std::uint64_t*>& out) { out.insert(out.end(), {&busy_ps_, &bytes_, &requests_}); }

 private:
  std::uint64_t bps_;
  std::uint64_t free_at_ = 0;
  std::uint64_t busy_ps_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t requests_ = 0;
};

}  // namespace podsim
