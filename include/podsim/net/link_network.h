// The inter-chip network as a discrete-event model in plain C++: messages (transfers)
// split into chunks; each chunk crosses the links of its route one after another, and a
// link direction carries one chunk at a time (first come, first served). A chunk that
// reaches a link at t starts at max(t, link free), holds it bytes / bandwidth, and reaches
// the next chip a hop latency later (store and forward per chunk, so a long message
// pipelines across hops). Transfers may wait for other transfers (a ring step waits for
// the step before it) plus a delay (the reduction of the data just received).
//
// Times are integer picoseconds; ties are broken by insertion order, so a run is
// deterministic.
#pragma once

#include <cstdint>
#include <vector>

#include "podsim/net/pod_topology.h"

namespace podsim {

struct NetTransfer {
  std::uint32_t src = 0, dst = 0;
  std::uint64_t bytes = 0;
  std::uint64_t ready_ps = 0;             // not before this time
  std::vector<std::uint32_t> after;       // transfers that must be delivered first
  std::uint64_t after_delay_ps = 0;       // then this long (reducing what they brought)
  // src == dst: a node that holds no link, delivered this long after its release (an op's
  // compute on its chip, when the pod composes chips and network).
  std::uint64_t duration_ps = 0;
  // Results of LinkNetwork::run().
  std::uint64_t start_ps = 0;             // released (dependencies met)
  std::uint64_t end_ps = 0;               // last chunk delivered
  std::uint32_t hops = 0;
};

struct NetLinkStats {
  std::uint64_t bytes = 0;
  std::uint64_t busy_ps = 0;
  std::uint64_t chunks = 0;
};

class LinkNetwork {
 public:
  explicit LinkNetwork(const PodTopology& topology, std::uint64_t chunk_bytes);

  // Adds a transfer; returns its id. Its `after` may name transfers added later (the ids
  // are checked, and cycles found, by run()); transfer(id).after may grow until run().
  std::uint32_t add(NetTransfer t);
  // Throws ConfigError when `more` transfers would pass the limit (PODSIM_MAX_NET_TRANSFERS,
  // default 8 M): callers about to add many check first.
  void expect_transfers(std::uint64_t more) const;
  std::size_t size() const { return transfers_.size(); }
  std::uint64_t chunk_bytes() const { return chunk_bytes_; }
  NetTransfer& transfer(std::uint32_t id) { return transfers_[id]; }
  const NetTransfer& transfer(std::uint32_t id) const { return transfers_[id]; }

  // Simulates every transfer added so far (once).
  void run();

  const std::vector<NetLinkStats>& link_stats() const { return links_; }
  const PodTopology& topology() const { return topo_; }
  std::uint64_t events() const { return events_; }
  std::uint64_t end_ps() const { return end_ps_; }
  // Sum over transfers of bytes x hops: what the links must have carried in total.
  std::uint64_t byte_hops() const;

 private:
  void release(std::uint32_t id, std::uint64_t at);

  const PodTopology& topo_;
  std::uint64_t chunk_bytes_;
  std::vector<NetTransfer> transfers_;
  std::vector<std::uint32_t> route_;        // all routes, flattened
  std::vector<std::uint64_t> route_begin_;  // per transfer: offset into route_ (+ one past the end)
  std::vector<std::uint32_t> pending_;      // per transfer: `after` not yet delivered
  std::vector<std::vector<std::uint32_t>> dependents_;
  std::vector<std::uint32_t> undelivered_;  // per transfer: chunks still travelling
  std::vector<std::uint64_t> link_free_;
  std::vector<NetLinkStats> links_;
  struct Event {
    std::uint64_t time;
    std::uint64_t seq;
    std::uint32_t transfer;
    std::uint32_t chunk;
    std::uint32_t hop;
    bool operator>(const Event& o) const { return time != o.time ? time > o.time : seq > o.seq; }
  };
  std::vector<Event> heap_;
  std::uint64_t seq_ = 0;
  std::uint64_t events_ = 0;
  std::uint64_t end_ps_ = 0;
  bool ran_ = false;
};

// Picoseconds to move `bytes` at `Bps`, rounded up.
std::uint64_t transfer_ps(std::uint64_t bytes, std::uint64_t Bps);

}  // namespace podsim
