// A workload on a pod: the chips' compute from SystemC (sim/simulate.h), the inter-chip
// traffic from the network model (net/), composed at op boundaries.
//
// Method. Each chip runs a program: its ops in order. Every op's duration comes from a
// SystemC simulation of that chip's program; the pod's timeline is then one dependency
// graph run by the network's discrete-event engine (net/link_network.h): per chip a chain
// of op nodes (each holding its chip for the op's duration), and each collective's link
// transfers, released when the op producing its data ends; an op that consumes a
// collective's result waits for it there. Collectives of one chip go one after another
// (one stream), and compete for links with every other message in flight.
//
// Folding. Chips with identical programs have identical op durations, so each distinct
// program is simulated once ("folded") while the network still carries every chip's
// traffic. This is exact when (1) the chips' hardware and programs are identical, and (2)
// an op's duration does not depend on when it starts, which holds because a chip's ops do
// not share HBM or cores with the network in this model (collective traffic is not
// charged to HBM). `full` simulates every chip instead (tests compare the two). Each
// program runs alone in its own process (sim/isolated_runs.h), `jobs` at a time.
//
// Symmetric pods. When every chip runs the same schedule and every collective is a
// whole-pod torus collective on a torus with wraparound, the step is the same on every
// chip shifted along the pod: the network then carries chip 0's nodes and transfers alone
// (one chip's events instead of P chips'), and link and byte totals are scaled to the pod.
// `full_network` turns this off; tests compare the two.
//
// Parallelism (workload/parallelism.h): data (gradient buckets all-reduced over the data
// group while the backward pass runs; the optimizer waits for them), tensor and expert
// (blocking collectives between ops), pipeline (messages between stages, GPipe or 1F1B
// over the microbatches). What chips wait for is reported as exposed communication, or as
// idle time (the pipeline bubble) when it is another stage computing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "podsim/sim/run_result.h"
#include "podsim/sim/simulate.h"

namespace podsim {

struct PodSimulateOptions {
  bool full = false;  // simulate every chip in SystemC, not each distinct program once
  // Every chip's transfers in the network, even where chip 0 could stand for all of them
  // (a symmetric pod: net/collectives.h, add_collective's `symmetric`).
  bool full_network = false;
  unsigned jobs = 2;  // chip programs simulated at once, each in its own process
};

// One SystemC elaboration: call once per process. Throws ConfigError when the workload's
// parallelism does not fit the pod.
RunResult simulate_pod(const HardwareSpec& hw, const WorkloadSpec& workload, const SimulateOptions& options = {},
                       const PodSimulateOptions& pod_options = {});

// The same data-parallel workload at several pod sizes from one chip simulation: the
// per-chip program does not change with the pod size, only the network does. Each size's
// dims come from pod_dims_for() with the preset's number of dimensions.
std::vector<RunResult> simulate_pod_sizes(const HardwareSpec& hw, const WorkloadSpec& workload,
                                          const std::vector<std::uint32_t>& chip_counts,
                                          const SimulateOptions& options = {});

// Plans a pod run without simulating: the layout, each distinct chip program lowered onto
// the chip (ConfigError if one does not fit), the collectives. Lines for `podsim validate`.
std::vector<std::string> validate_pod(const HardwareSpec& hw, const WorkloadSpec& workload);

// Near-cubic dims for `chips` with `dimensions` dimensions: 64 -> 8x8, 8 -> 4x2, 4096 ->
// 16x16x16 (largest first).
std::string pod_dims_for(std::uint32_t chips, std::size_t dimensions);

}  // namespace podsim
