// HBM behind the crossbar. Two models behind one interface (serve_batch):
//
// ideal (chip.hbm.device: ideal): addresses are striped over channels every
//   `interleave` bytes; each channel is a FIFO link of bandwidth / channels; a request
//   completes when its last piece is through, plus the unloaded latency.
// DRAM (hbm2, hbm2e, hbm3): addresses map to pseudo-channel, bank group, bank, row and
//   column (arch/dram/address_map.h); each pseudo-channel is a DramChannel: a controller
//   with read and write queues, FR-FCFS, open or closed pages, refresh and the full JEDEC
//   timing set, timed in closed form per row run. Reads complete when their data is in;
//   writes are posted. The fixed latency (controller, PHY, crossbar) is added on top.
//
// Plain C++; the DMA engines (SystemC) call it at the current simulation time, like a
// TLM loosely-timed b_transport with an annotated delay.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "podsim/arch/bandwidth_server.h"
#include "podsim/arch/clock.h"
#include "podsim/arch/dram/address_map.h"
#include "podsim/arch/dram/dram_channel.h"
#include "podsim/config/hardware_spec.h"

namespace podsim {

struct HbmChannelStats {
  std::uint64_t read_bytes = 0;   // requested bytes served by this channel
  std::uint64_t write_bytes = 0;
  std::uint64_t requests = 0;
  std::uint64_t busy_ps = 0;      // data bus busy
  // DRAM devices only:
  std::uint64_t row_hits = 0, row_misses = 0, row_conflicts = 0, refreshes = 0;
  // Commands for energy (energy/dram_energy.h): ACTs, and refreshes all-bank and per-bank,
  // including those counted in idle stretches without being placed.
  std::uint64_t acts = 0, all_bank_refreshes = 0, bank_refreshes = 0;
  std::uint64_t forwarded_reads = 0;  // served from the write queue (read-after-write)
  std::uint64_t streamed = 0;         // requests the controller's streaming fast path placed
  double mean_queue_depth = 0;
};

// Bytes moved per time bucket; the bucket width doubles (merging pairs) to stay under
// kMaxBuckets, so a long run keeps a bounded series.
class BandwidthSeries {
 public:
  static constexpr std::size_t kMaxBuckets = 256;
  void add(std::uint64_t at_ps, std::uint64_t bytes);
  std::uint64_t bucket_ps() const { return bucket_ps_; }
  const std::vector<std::uint64_t>& bytes() const { return bytes_; }

 private:
  std::uint64_t bucket_ps_ = 1'000'000;  // 1 us to start
  std::vector<std::uint64_t> bytes_;
};

class HbmModel {
 public:
  struct Segment {
    std::uint64_t addr = 0, bytes = 0;
  };

  explicit HbmModel(const HbmSpec& spec, bool log_commands = false);

  // A shared on-chip memory beside HBM (chip.cmem, capacity > 0; compiler/cmem_plan.h):
  // segments at addresses from kCmemBase go to it, kCmemChannels ideal channels of its
  // bandwidth and latency, not to HBM. Its bytes count in bytes_served(), channel_bytes()
  // and read_bytes() (after HBM's channels: the totals the DMA engines and the steady-state
  // replay balance), not in channel_stats().
  void attach_onchip_memory(const CmemSpec& cmem);
  // The on-chip memory's bytes so far (0 without one).
  std::uint64_t cmem_read_bytes() const;
  std::uint64_t cmem_write_bytes() const;

  // Requests issued together at `now_ps` (a DMA chunk); returns when the last completes.
  std::uint64_t serve_batch(std::uint64_t now_ps, const Segment* segments, std::size_t count, bool is_write);
  std::uint64_t serve_batch(std::uint64_t now_ps, const std::vector<Segment>& segments, bool is_write) {
    return serve_batch(now_ps, segments.data(), segments.size(), is_write);
  }
  std::uint64_t serve(std::uint64_t now_ps, std::uint64_t addr, std::uint64_t bytes, bool is_write) {
    const Segment s{addr, bytes};
    return serve_batch(now_ps, &s, 1, is_write);
  }
  // Drains posted writes (DRAM); returns when the last is written.
  std::uint64_t flush();

  bool is_dram() const { return !dram_.empty(); }
  std::uint64_t peak_Bps() const;
  std::size_t channel_count() const { return is_dram() ? dram_.size() : ideal_.size(); }
  std::uint32_t channel_of(std::uint64_t addr) const;
  std::vector<HbmChannelStats> channel_stats() const;
  std::uint64_t bytes_served() const { return served_bytes_; }
  std::size_t pending_writes() const;
  const HbmSpec& spec() const { return spec_; }
  const DramDevice* device() const { return is_dram() ? &device_ : nullptr; }
  const std::vector<DramChannel>& dram_channels() const { return dram_; }
  const BandwidthSeries& series() const { return series_; }
  const std::vector<BandwidthSeries>& channel_series() const { return channel_series_; }

  // Bytes each channel has served so far (reads and writes).
  std::vector<std::uint64_t> channel_bytes() const;
  // Bytes read so far, over all channels.
  std::uint64_t read_bytes() const;
  // An op is replayed over [from_ps, to_ps) (arch/chip.h): the memory idles until to_ps,
  // and the bandwidth series get `bytes` per channel spread evenly over the interval.
  void replay(std::uint64_t from_ps, std::uint64_t to_ps, const std::vector<std::uint64_t>& bytes);
  // Per channel, how long past `now_ps` its data bus is committed (DRAM; 0 for the ideal
  // model), and a replay that leaves each channel that busy past to_ps (steady-state
  // replay inside an op: the skipped periods' backlog, arch/steady_state.h).
  std::vector<std::uint64_t> backlog_ps(std::uint64_t now_ps) const;
  void replay(std::uint64_t from_ps, std::uint64_t to_ps, const std::vector<std::uint64_t>& bytes,
              const std::vector<std::uint64_t>& backlog_ps);
  void list_counters(std::vector<std::uint64_t*>& out);
  // Among those: the bytes served, and each HBM channel's read and write bytes (the
  // counters a steady-state skip credits from the tiles' exact bytes; arch/steady_state.h).
  const std::uint64_t* served_counter() const { return &served_bytes_; }
  std::vector<const std::uint64_t*> channel_read_counters() const;
  std::vector<const std::uint64_t*> channel_write_counters() const;

 private:
  std::uint64_t serve_ideal(std::uint64_t now_ps, const Segment& s, bool is_write);
  std::uint64_t serve_hbm(std::uint64_t now_ps, const Segment* segments, std::size_t count, bool is_write);

  HbmSpec spec_;
  std::vector<BandwidthServer> ideal_;
  DramDevice device_;
  std::unique_ptr<AddressMap> map_;
  std::vector<DramChannel> dram_;
  ClockDomain dram_clock_{1};
  std::vector<HbmChannelStats> bytes_;  // requested bytes per channel
  struct Pending {
    DramPiece piece;
    std::uint64_t bytes;  // requested bytes inside the piece's bursts
  };
  std::vector<std::vector<Pending>> by_pc_;  // scratch: a batch's pieces per pseudo-channel
  std::vector<std::uint32_t> touched_pcs_;
  std::uint64_t served_bytes_ = 0;
  BandwidthSeries series_;
  std::vector<BandwidthSeries> channel_series_;  // per (pseudo-)channel
  std::unique_ptr<HbmModel> cmem_;               // the on-chip memory, if any (ideal channels)
  std::vector<Segment> hbm_part_, cmem_part_;    // scratch: a batch split between the two
};


}  // namespace podsim
