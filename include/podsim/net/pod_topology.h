// The chips of a pod and the directed links between them, with dimension-order routes.
// Plain C++: the network simulation (link_network.h) and the collectives use it.
//
// Torus (and ring): chip ids run over the coordinates, dimension 0 fastest. Each chip has,
// per dimension, a link towards +1 and one towards -1 (wraparound closes each line; without
// it the edge chips lack the outward links). pod.links_per_chip / (2 x dimensions) physical
// links are bundled per neighbour and direction. Switch: one uplink and one downlink per
// chip, each carrying all of the chip's links, through a non-blocking switch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "podsim/config/hardware_spec.h"

namespace podsim {

struct NetLink {
  std::uint32_t from = 0, to = 0;  // chip ids; for a switch one end is the switch
  std::uint64_t bandwidth_Bps = 0;
  bool exists = false;             // false: an edge link a mesh does not have
  std::string name;                // "(3,4)+x", "up(7)"
};

class PodTopology {
 public:
  explicit PodTopology(const PodSpec& pod);

  std::uint32_t chips() const { return chips_; }
  const std::vector<std::uint32_t>& dims() const { return dims_; }
  bool is_switch() const { return switch_; }
  bool wraparound() const { return wrap_; }
  std::uint64_t latency_ps() const { return latency_ps_; }

  std::vector<std::uint32_t> coords(std::uint32_t chip) const;
  std::uint32_t chip_at(const std::vector<std::uint32_t>& coords) const;
  // The chip one step from `chip` along dimension `dim` (+1 or -1, wrapping).
  std::uint32_t step(std::uint32_t chip, std::size_t dim, int direction) const;

  const std::vector<NetLink>& links() const { return links_; }
  // Appends the ids of the links from src to dst: dimensions in order, the shorter way
  // round a ring (half way round: + from an even coordinate, - from an odd one, so the
  // directions share such routes). Empty when src == dst.
  void route(std::uint32_t src, std::uint32_t dst, std::vector<std::uint32_t>& out) const;
  // Every chip once, each next to the one before where the topology allows (a snake
  // through the torus), for ring algorithms over the whole pod. Made once (collectives ask
  // for it on every group).
  const std::vector<std::uint32_t>& ring_order() const { return ring_order_; }

 private:
  std::uint32_t link_id(std::uint32_t chip, std::size_t dim, int direction) const {
    return std::uint32_t((std::size_t(chip) * dims_.size() + dim) * 2 + (direction > 0 ? 0 : 1));
  }
  std::vector<std::uint32_t> dims_;
  std::uint32_t chips_ = 1;
  bool switch_ = false;
  bool wrap_ = true;
  std::uint64_t latency_ps_ = 0;
  std::vector<NetLink> links_;
  std::vector<std::uint32_t> ring_order_;
  std::vector<std::uint32_t> snake() const;
};

}  // namespace podsim
