#include "podsim/net/link_network.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <stdexcept>

#include <fmt/format.h>

#include "podsim/config/config_error.h"

namespace podsim {
namespace {

// A limit from the environment (a positive whole number), else the default.
std::uint64_t limit_from_env(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const unsigned long long x = std::strtoull(v, &end, 10);
  return end && *end == '\0' && x > 0 ? x : fallback;
}

}  // namespace

std::uint64_t transfer_ps(std::uint64_t bytes, std::uint64_t Bps) {
  if (bytes == 0) return 0;
  __extension__ typedef unsigned __int128 u128;  // bytes x 10^12 overflows 64 bits
  const u128 ps = (static_cast<u128>(bytes) * 1'000'000'000'000ULL + Bps - 1) / Bps;
  return std::uint64_t(ps);
}

LinkNetwork::LinkNetwork(const PodTopology& topology, std::uint64_t chunk_bytes)
    : topo_(topology),
      chunk_bytes_(std::max<std::uint64_t>(1, chunk_bytes)),
      link_free_(topology.links().size(), 0),
      links_(topology.links().size()) {
  route_begin_.push_back(0);
}

void LinkNetwork::expect_transfers(std::uint64_t more) const {
  // Each transfer costs about 150 B before anything runs (a 4096-chip all-to-all is 16.8 M
  // of them: 3.4 GB and half a minute to build); refuse before, naming the way past it.
  static const std::uint64_t max_transfers = limit_from_env("PODSIM_MAX_NET_TRANSFERS", 8'000'000);
  if (transfers_.size() + more > max_transfers)
    throw ConfigError({}, "pod.dims",
                      fmt::format("the network simulation needs {} transfers, more than {} (about {} MB); use a "
                                  "smaller pod or group, or set PODSIM_MAX_NET_TRANSFERS to allow more",
                                  transfers_.size() + more, max_transfers, (transfers_.size() + more) * 150 / 1'000'000));
}

std::uint32_t LinkNetwork::add(NetTransfer t) {
  if (ran_) throw std::logic_error("LinkNetwork::add after run()");
  expect_transfers(1);
  const auto id = std::uint32_t(transfers_.size());
  const std::size_t before = route_.size();
  topo_.route(t.src, t.dst, route_);
  t.hops = std::uint32_t(route_.size() - before);
  if (t.hops > 0 && t.duration_ps > 0) throw std::logic_error("LinkNetwork: only a chip-local node has a duration");
  route_begin_.push_back(route_.size());
  transfers_.push_back(std::move(t));
  return id;
}

std::uint64_t LinkNetwork::byte_hops() const {
  std::uint64_t sum = 0;
  for (const auto& t : transfers_) sum += t.bytes * t.hops;
  return sum;
}

void LinkNetwork::release(std::uint32_t id, std::uint64_t at) {
  NetTransfer& t = transfers_[id];
  t.start_ps = at;
  const std::uint64_t chunks = std::max<std::uint64_t>(1, (t.bytes + chunk_bytes_ - 1) / chunk_bytes_);
  undelivered_[id] = std::uint32_t(chunks);
  if (t.hops == 0) {  // nothing crosses a link: delivered after the node's duration
    undelivered_[id] = 1;
    heap_.push_back({at + t.duration_ps, seq_++, id, 0, 0});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<Event>());
    return;
  }
  // Every chunk is ready now; they queue at the first link in order.
  for (std::uint32_t c = 0; c < chunks; ++c) {
    heap_.push_back({at, seq_++, id, c, 0});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<Event>());
  }
}

void LinkNetwork::run() {
  // The cost of a run is its chunk-hops: every chunk of every transfer on every link of its
  // route (about 5 million per second on this machine, and up to 32 B each queued at once).
  // 64 B chunks of a 1 TiB all-reduce would run for days and wrap the per-transfer chunk
  // counter; refuse with the estimate and the options that change it.
  static const std::uint64_t max_chunk_hops = limit_from_env("PODSIM_MAX_CHUNK_HOPS", 200'000'000);
  std::uint64_t chunk_hops = 0, most_chunks = 0;
  for (const auto& t : transfers_) {
    const std::uint64_t chunks = std::max<std::uint64_t>(1, t.bytes / chunk_bytes_ + (t.bytes % chunk_bytes_ ? 1 : 0));
    most_chunks = std::max(most_chunks, chunks);
    chunk_hops = chunks > (UINT64_MAX - chunk_hops) / std::max<std::uint64_t>(1, t.hops) ? UINT64_MAX
                                                                                        : chunk_hops + chunks * t.hops;
  }
  if (chunk_hops > max_chunk_hops || most_chunks > UINT32_MAX)
    throw ConfigError({}, "pod.chunk",
                      fmt::format("the network simulation would move {:.3g} chunk-hops (chunks of {} B over every "
                                  "link of their routes), about {:.0f} s at 5 M per second; the limit is {:.3g}: "
                                  "raise pod.chunk for fewer, larger chunks, move fewer bytes, or set "
                                  "PODSIM_MAX_CHUNK_HOPS to allow more",
                                  double(chunk_hops), chunk_bytes_, double(chunk_hops) / 5e6, double(max_chunk_hops)));
  if (ran_) return;
  ran_ = true;
  const std::size_t n = transfers_.size();
  pending_.assign(n, 0);
  undelivered_.assign(n, 0);
  dependents_.assign(n, {});
  for (std::uint32_t i = 0; i < n; ++i) {
    pending_[i] = std::uint32_t(transfers_[i].after.size());
    for (std::uint32_t a : transfers_[i].after) {
      if (a >= n) throw std::logic_error("LinkNetwork: a transfer waits for one that does not exist");
      dependents_[a].push_back(i);
    }
  }
  for (std::uint32_t i = 0; i < n; ++i)
    if (pending_[i] == 0) release(i, transfers_[i].ready_ps);

  const std::uint64_t latency = topo_.latency_ps();
  const auto& topo_links = topo_.links();
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), std::greater<Event>());
    const Event e = heap_.back();
    heap_.pop_back();
    ++events_;
    NetTransfer& t = transfers_[e.transfer];
    const std::uint64_t begin = route_begin_[e.transfer];
    const std::uint32_t hops = std::uint32_t(route_begin_[e.transfer + 1] - begin);
    if (e.hop < hops) {
      const std::uint32_t link = route_[begin + e.hop];
      const std::uint64_t first = std::uint64_t(e.chunk) * chunk_bytes_;
      const std::uint64_t bytes = std::min(chunk_bytes_, t.bytes - std::min(t.bytes, first));
      const std::uint64_t start = std::max(e.time, link_free_[link]);
      const std::uint64_t busy = transfer_ps(bytes, topo_links[link].bandwidth_Bps);
      link_free_[link] = start + busy;
      links_[link].bytes += bytes;
      links_[link].busy_ps += busy;
      ++links_[link].chunks;
      heap_.push_back({start + busy + latency, seq_++, e.transfer, e.chunk, e.hop + 1});
      std::push_heap(heap_.begin(), heap_.end(), std::greater<Event>());
      continue;
    }
    // Delivered.
    t.end_ps = std::max(t.end_ps, e.time);
    if (--undelivered_[e.transfer] != 0) continue;
    end_ps_ = std::max(end_ps_, t.end_ps);
    for (std::uint32_t d : dependents_[e.transfer]) {
      if (--pending_[d] != 0) continue;
      NetTransfer& next = transfers_[d];
      std::uint64_t at = next.ready_ps;
      for (std::uint32_t a : next.after) at = std::max(at, transfers_[a].end_ps + next.after_delay_ps);
      release(d, at);
    }
  }
  for (std::uint32_t i = 0; i < n; ++i)
    if (pending_[i] != 0 || undelivered_[i] != 0)
      throw std::logic_error("LinkNetwork: a transfer never completed (dependency cycle)");
}

}  // namespace podsim
