#include "podsim/net/collective_translation.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace podsim {
namespace {

// The chips of `in` (flags by chip id) in the pod's ring order.
std::vector<std::uint32_t> in_ring_order(const std::vector<std::uint32_t>& order, const std::vector<char>& in) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t c : order)
    if (in[c]) out.push_back(c);
  return out;
}

}  // namespace

CollectiveSpec translated_to_origin(const PodTopology& topo, const CollectiveSpec& spec) {
  const std::uint32_t chips = topo.chips();
  if (topo.is_switch() || !topo.wraparound() || spec.group.size() < 2 || spec.group.size() >= chips) return spec;
  const std::vector<std::uint32_t>& order = topo.ring_order();
  // A chip the pod lacks: left for add_collective to refuse.
  for (std::uint32_t c : spec.group)
    if (c >= chips) return spec;
  if ((spec.kind == CollectiveKind::broadcast || spec.kind == CollectiveKind::send_recv) &&
      (spec.root >= chips || (spec.kind == CollectiveKind::send_recv && spec.peer >= chips)))
    return spec;
  std::vector<char> in(chips, 0);
  for (std::uint32_t c : spec.group) in[c] = 1;
  const std::vector<std::uint32_t> members = in_ring_order(order, in);
  const std::vector<std::uint32_t>& dims = topo.dims();
  // By the lowest coordinate of any member in each dimension, rounded down to even: no
  // member wraps round (the members keep their order along every line), and every
  // coordinate keeps its parity (the snake's direction along each line, and the routes'
  // half-way ties, depend on it).
  std::vector<std::uint32_t> shift(dims.size(), std::numeric_limits<std::uint32_t>::max());
  for (std::uint32_t c : members) {
    const std::vector<std::uint32_t> x = topo.coords(c);
    for (std::size_t d = 0; d < dims.size(); ++d) shift[d] = std::min(shift[d], x[d]);
  }
  bool moves = false;
  for (std::size_t d = 0; d < dims.size(); ++d) {
    shift[d] -= shift[d] % 2;
    moves = moves || shift[d] != 0;
  }
  if (!moves) return spec;
  auto move = [&](std::uint32_t chip) {
    std::vector<std::uint32_t> x = topo.coords(chip);
    for (std::size_t d = 0; d < dims.size(); ++d) x[d] = (x[d] + dims[d] - shift[d]) % dims[d];
    return topo.chip_at(x);
  };
  std::vector<std::uint32_t> moved_members;
  std::vector<char> moved_in(chips, 0);
  for (std::uint32_t c : members) {
    moved_members.push_back(move(c));
    moved_in[moved_members.back()] = 1;
  }
  if (in_ring_order(order, moved_in) != moved_members) return spec;  // the rings would run another way
  CollectiveSpec out = spec;
  for (std::uint32_t& c : out.group) c = move(c);
  // Only the kinds that read them: the others keep their defaults, so translates share a key.
  if (spec.kind == CollectiveKind::broadcast || spec.kind == CollectiveKind::send_recv) out.root = move(spec.root);
  if (spec.kind == CollectiveKind::send_recv) out.peer = move(spec.peer);
  return out;
}

}  // namespace podsim
