#include "podsim/net/pod_topology.h"

#include <fmt/format.h>

namespace podsim {

PodTopology::PodTopology(const PodSpec& pod)
    : dims_(pod.dim_sizes()),
      chips_(std::uint32_t(pod.chips())),
      switch_(pod.topology == "switch"),
      wrap_(pod.wraparound || pod.topology == "ring"),
      latency_ps_(pod.link_latency_ps) {
  ring_order_ = snake();
  if (switch_) {
    // Uplink 2c, downlink 2c+1: each carries every link of the chip.
    const std::uint64_t bw = pod.link_bandwidth_Bps * pod.links_per_chip;
    for (std::uint32_t c = 0; c < chips_; ++c) {
      links_.push_back({c, c, bw, chips_ > 1, fmt::format("up({})", c)});
      links_.push_back({c, c, bw, chips_ > 1, fmt::format("down({})", c)});
    }
    return;
  }
  // Links bundled per neighbour and direction.
  const std::uint64_t bundle_Bps = pod.link_bandwidth_Bps * (pod.links_per_chip / (2 * dims_.size()));
  static const char* kAxis[] = {"x", "y", "z"};
  links_.resize(std::size_t(chips_) * dims_.size() * 2);
  for (std::uint32_t c = 0; c < chips_; ++c) {
    const auto xyz = coords(c);
    std::string at = "(";
    for (std::size_t d = 0; d < xyz.size(); ++d) at += (d ? "," : "") + std::to_string(xyz[d]);
    at += ")";
    for (std::size_t d = 0; d < dims_.size(); ++d)
      for (int dir : {+1, -1}) {
        NetLink& l = links_[link_id(c, d, dir)];
        l.from = c;
        l.to = step(c, d, dir);
        l.bandwidth_Bps = bundle_Bps;
        const bool edge = dir > 0 ? xyz[d] + 1 == dims_[d] : xyz[d] == 0;
        l.exists = dims_[d] > 1 && (wrap_ || !edge);
        l.name = at + (dir > 0 ? "+" : "-") + kAxis[d];
      }
  }
}

std::vector<std::uint32_t> PodTopology::coords(std::uint32_t chip) const {
  std::vector<std::uint32_t> c(dims_.size());
  for (std::size_t d = 0; d < dims_.size(); ++d) {
    c[d] = chip % dims_[d];
    chip /= dims_[d];
  }
  return c;
}

std::uint32_t PodTopology::chip_at(const std::vector<std::uint32_t>& c) const {
  std::uint32_t id = 0;
  for (std::size_t d = dims_.size(); d-- > 0;) id = id * dims_[d] + c[d];
  return id;
}

std::uint32_t PodTopology::step(std::uint32_t chip, std::size_t dim, int direction) const {
  auto c = coords(chip);
  const std::uint32_t k = dims_[dim];
  c[dim] = direction > 0 ? (c[dim] + 1) % k : (c[dim] + k - 1) % k;
  return chip_at(c);
}

void PodTopology::route(std::uint32_t src, std::uint32_t dst, std::vector<std::uint32_t>& out) const {
  if (src == dst) return;
  if (switch_) {
    out.push_back(2 * src);
    out.push_back(2 * dst + 1);
    return;
  }
  std::uint32_t at = src;
  const auto to = coords(dst);
  for (std::size_t d = 0; d < dims_.size(); ++d) {
    const std::uint32_t k = dims_[d];
    const std::uint32_t from = coords(at)[d];
    if (from == to[d]) continue;
    int dir;
    std::uint32_t hops;
    if (wrap_) {
      // The shorter way round; a destination exactly half way round (even k) is reached
      // forwards from even coordinates and backwards from odd ones, so the two directions
      // carry such traffic equally. (Until 2026-12-07 every tie went forwards, which loads
      // the forward links 1 + 2/k times the balanced share under uniform traffic: 1.5x on
      // a ring of 4; docs/pods.md, "Routes".)
      const std::uint32_t forward = (to[d] + k - from) % k;
      dir = forward < k - forward || (forward == k - forward && from % 2 == 0) ? +1 : -1;
      hops = dir > 0 ? forward : k - forward;
    } else {
      dir = to[d] > from ? +1 : -1;
      hops = dir > 0 ? to[d] - from : from - to[d];
    }
    for (std::uint32_t h = 0; h < hops; ++h) {
      out.push_back(link_id(at, d, dir));
      at = step(at, d, dir);
    }
  }
}

std::vector<std::uint32_t> PodTopology::snake() const {
  // Boustrophedon: dimension 0 runs forwards on even rows and backwards on odd ones, and so
  // on up the dimensions, so consecutive chips are neighbours.
  std::vector<std::uint32_t> line{0};  // the order over the dimensions handled so far
  std::uint32_t span = 1;
  for (std::size_t d = 0; d < dims_.size(); ++d) {
    std::vector<std::uint32_t> next;
    for (std::uint32_t i = 0; i < dims_[d]; ++i) {
      if (i % 2 == 0)
        for (std::uint32_t x : line) next.push_back(x + i * span);
      else
        for (auto it = line.rbegin(); it != line.rend(); ++it) next.push_back(*it + i * span);
    }
    line = std::move(next);
    span *= dims_[d];
  }
  return line;
}

}  // namespace podsim
