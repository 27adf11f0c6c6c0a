// A collective on part of a torus, moved to a canonical place where that changes nothing.
//
// On a torus with wraparound every chip sees the same links, so a collective over a group
// of chips takes exactly the time of the same collective over the group moved by a fixed
// offset, as long as what decides its transfers moves with it: the routes (dimension order,
// the shorter way round, and half-way ties by the parity of the source coordinate: the
// offset keeps every coordinate's parity), and the order its rings take the members in
// (the pod's snake order, `PodTopology::ring_order`, which is not translation-invariant:
// it turns back along every other line, and a member that wrapped round would change
// places; the offset keeps the parities and wraps no member, and the move is checked). The transfers are then created in the same order with the same
// sizes, and the network simulation (net/link_network.h) orders equal times by creation,
// so every time is equal, not close. Callers that cache collectives by their group (the
// pod planner's step composer) key them by the moved spec: the data groups of the many
// pipeline stages and tensor ranks of one layout, translates of one another, run once.
#pragma once

#include "podsim/net/collectives.h"
#include "podsim/net/pod_topology.h"

namespace podsim {

// The spec with its group (in its own order), and the root and peer of a broadcast or a
// send_recv, moved towards the origin: in each dimension by the members' lowest coordinate
// rounded down to even (no member wraps round, every coordinate keeps its parity); the spec
// unchanged where the move would not be exact: a switch, a torus without wraparound, the
// whole pod, or (checked, not expected) a ring order the move does not keep.
CollectiveSpec translated_to_origin(const PodTopology& topo, const CollectiveSpec& spec);

}  // namespace podsim
