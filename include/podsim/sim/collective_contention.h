// What a collective costs the ops that run beside it on a chip (issue 12, item 6).
//
// On a TPU a collective's data moves between HBM and the inter-chip links by DMA, and its
// reductions run on the vector units: every byte a chip sends is read from HBM, every byte
// it receives is written to HBM, and every reduced byte reads two operands and writes one
// result (an unfused accounting: nothing is assumed to stay in VMEM between steps). That
// traffic competes with the ops' own HBM traffic and vector work.
//
// The pod's composition (sim/pod_simulate.cpp) simulates each chip's ops alone, so this is
// charged afterwards, in closed form: a collective's HBM bytes and vector time are spread
// evenly over its active interval on the chip; an op whose own HBM bytes plus the
// collectives' bytes inside its window need longer than its duration at the HBM's peak
// bandwidth is stretched to that time (likewise for the vector units), and the pod's step
// is run again with the stretched ops, until the stretches settle. docs/pods.md gives the
// measured effect.
#pragma once

#include <cstdint>
#include <vector>

#include "podsim/net/collective_kind.h"

namespace podsim {

// One collective's work on one chip.
struct CollectiveLoad {
  std::uint64_t begin_ps = 0, end_ps = 0;  // active on the chip: its first transfer to its last
  std::uint64_t hbm_bytes = 0;             // sent + received + 3 x reduced
  std::uint64_t vpu_ps = 0;                // reducing on the vector units
};

// The HBM bytes a chip moves for a collective: what it sends is read, what it receives is
// written, what it reduces is read twice and written once.
std::uint64_t collective_hbm_bytes(std::uint64_t sent, std::uint64_t received, std::uint64_t reduced);

// The bytes one chip reduces: (P-1)/P of the buffer for all_reduce and reduce_scatter over
// P chips (whatever the algorithm: each element is added P-1 times, spread over P chips),
// none for the others.
std::uint64_t collective_reduced_bytes(CollectiveKind kind, std::uint64_t bytes, std::uint32_t chips);

// An op on the pod's timeline.
struct OpWindow {
  std::uint64_t start_ps = 0, end_ps = 0;  // where it ran (stretched, in a later pass)
  std::uint64_t alone_ps = 0;              // its duration simulated alone
  std::uint64_t hbm_bytes = 0;             // its own HBM traffic
  std::uint64_t vpu_ps = 0;                // its own vector-unit time
};

// How much longer the op takes beside the collectives: the larger of
//   (its HBM bytes + the collectives' bytes in its window) / hbm_Bps - alone, and
//   its vector time + the collectives' vector time in its window - alone,
// or 0. A lower bound: it assumes the memory sustains its peak under mixed traffic.
std::uint64_t contention_extra_ps(const OpWindow& op, const std::vector<CollectiveLoad>& loads, std::uint64_t hbm_Bps);

}  // namespace podsim
