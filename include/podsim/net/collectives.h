// Collectives over all chips of a pod, decomposed into link transfers (link_network.h).
//
// all_reduce, reduce_scatter and all_gather run as rings: `ring` (one direction, chips in a
// snake through the pod), `bidir_ring` (half the data each way) or `torus` (dimension by
// dimension: reduce-scatter along each dimension's lines, then all-gather back, each line a
// bidirectional ring; the data shrinks by the line length at each dimension). A ring step
// waits for the step before it to arrive whole and, in a reduction, for the vector unit to
// add its last chunk (earlier chunks are added while later ones arrive). all_to_all sends
// each chip's share to every other chip directly (dimension-order routes); broadcast
// pipelines chunks down the ring from the root; send_recv is one message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "podsim/net/collective_kind.h"
#include "podsim/net/link_network.h"

namespace podsim {

enum class CollectiveAlgorithm { automatic, ring, bidir_ring, torus };

const char* collective_kind_name(CollectiveKind k);
const char* collective_algorithm_name(CollectiveAlgorithm a);
// What a run of `kind` used: the ring algorithm for all_reduce, reduce_scatter and
// all_gather; "direct" for all_to_all and send_recv; "chain" for broadcast.
const char* collective_algorithm_label(CollectiveKind kind, CollectiveAlgorithm used);
std::optional<CollectiveKind> parse_collective_kind(const std::string& s);
std::optional<CollectiveAlgorithm> parse_collective_algorithm(const std::string& s);
std::vector<std::string> collective_kind_names();
std::vector<std::string> collective_algorithm_names();

struct CollectiveSpec {
  CollectiveKind kind = CollectiveKind::all_reduce;
  CollectiveAlgorithm algorithm = CollectiveAlgorithm::automatic;
  // all_reduce: the buffer each chip holds; reduce_scatter: its input; all_gather: its
  // output; all_to_all: what each chip sends in all (1/P to each chip, itself included);
  // broadcast, send_recv: the message.
  std::uint64_t bytes = 0;
  std::uint64_t ready_ps = 0;
  std::uint32_t root = 0;  // broadcast root, send_recv source
  std::uint32_t peer = 1;  // send_recv destination
  std::uint64_t reduce_Bps = 0;  // bytes per second a chip's vector units reduce (0: free)
  // The chips taking part (empty: the whole pod). A group other than the whole pod runs
  // rings through its chips in the pod's ring order (torus becomes bidir_ring).
  std::vector<std::uint32_t> group;
  // all_to_all: the share of each chip's bytes that goes to each group member (empty:
  // equal shares). Skewed expert routing sends more to the chips holding busy experts.
  std::vector<std::uint64_t> weights;
  // all_to_all: what each group member sends in all (empty: `bytes` each).
  std::vector<std::uint64_t> sender_bytes;
};

// Per chip: the transfers after whose delivery the chip has finished its part, and how
// long it then still works (a final reduction). Chains collectives on one stream.
struct ChipGate {
  std::vector<std::uint32_t> after;
  std::uint64_t delay_ps = 0;
};

// The transfers one collective added to a network.
struct CollectiveRun {
  CollectiveSpec spec;
  CollectiveAlgorithm algorithm = CollectiveAlgorithm::ring;  // the one used
  std::uint32_t first = 0, count = 0;  // transfer ids [first, first + count)
  std::vector<ChipGate> done;          // per chip
};

// Adds the collective to `net`; `start` (per chip, optional) is what each chip waits for
// before it begins.
//
// `symmetric`: only chip 0's transfers are added, and `done` is meaningful for chip 0 only.
// On a torus with wraparound every chip's part of a whole-pod torus collective is the same
// as chip 0's shifted along the pod (translation symmetry), and every transfer crosses one
// link out of its sender, used by no other chip's transfers: so chip 0's sends, each waiting
// for its own previous send in place of its neighbour's, take exactly the time the whole
// pod's would, with one chip's events. Ring segments differ by up to one byte between
// positions, the only difference (tests compare with the full network). Needs
// symmetric_collective() and, when gates are given, the same gate for every chip.
CollectiveRun add_collective(LinkNetwork& net, const CollectiveSpec& spec,
                             const std::vector<ChipGate>* start = nullptr, bool symmetric = false);
// Whether `spec` on `topo` is translation-symmetric: all_reduce, reduce_scatter or
// all_gather over the whole pod with the torus algorithm on a torus with wraparound.
bool symmetric_collective(const PodTopology& topo, const CollectiveSpec& spec);

struct CollectiveResult {
  std::uint64_t start_ps = 0, end_ps = 0;
  std::uint64_t bytes_sent = 0;  // all chips, all transfers
  std::uint64_t transfers = 0;
  double time_s() const { return double(end_ps - start_ps) * 1e-12; }
  double algbw_Bps = 0;  // spec.bytes / time
  double busbw_Bps = 0;  // algbw x the bus factor (NCCL's convention)
};

// After net.run().
CollectiveResult collective_result(const LinkNetwork& net, const CollectiveRun& run);

// NCCL's bus-bandwidth factor: 2(P-1)/P for all_reduce, (P-1)/P for reduce_scatter,
// all_gather and all_to_all, 1 for broadcast and send_recv.
double bus_factor(CollectiveKind kind, std::uint32_t chips);

}  // namespace podsim
