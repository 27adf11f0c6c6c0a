// HBM behind the crossbar, as a bandwidth + latency model per channel with contention.
//
// Addresses are striped over channels: stripe s = addr / interleave goes to channel
// s mod channels. A request is split into its per-channel pieces; each piece waits for its
// channel (BandwidthServer: FIFO at bandwidth / channels), and the request completes when
// its last piece is through, plus the unloaded latency. The DRAM-timing model that
// replaces this keeps the same serve() interface, so the change stays inside this file.
// Plain C++; the DMA engines (SystemC) call serve() at the current simulation time, like a
// TLM loosely-timed b_transport with an annotated delay.
#pragma once

#include <cstdint>
#include <vector>

#include "podsim/arch/bandwidth_server.h"
#include "podsim/config/hardware_spec.h"

namespace podsim {

struct HbmChannelStats {
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
  std::uint64_t requests = 0;
  std::uint64_t busy_ps = 0;
};

class HbmModel {
 public:
  explicit HbmModel(const HbmSpec& spec);

  // A request of `bytes` at `addr`, issued at `now_ps`; returns the completion time.
  std::uint64_t serve(std::uint64_t now_ps, std::uint64_t addr, std::uint64_t bytes, bool is_write);

  std::uint32_t channel_of(std::uint64_t addr) const {
    return static_cast<std::uint32_t>((addr / spec_.interleave_bytes) % spec_.channels);
  }
  const std::vector<HbmChannelStats>& channel_stats() const { return stats_; }
  std::uint64_t bytes_served() const { return served_bytes_; }
  const HbmSpec& spec() const { return spec_; }

 private:
  HbmSpec spec_;
  std::vector<BandwidthServer> channels_;
  std::vector<HbmChannelStats> stats_;
  std::uint64_t served_bytes_ = 0;
};

}  // namespace podsim
