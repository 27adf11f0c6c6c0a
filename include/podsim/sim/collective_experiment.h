// One collective over a whole pod on an otherwise idle network: what `podsim collective`
// runs, and what the closed-form tests check. Plain C++ (no SystemC).
#pragma once

#include <cstdint>
#include <vector>

#include "podsim/config/hardware_spec.h"
#include "podsim/net/collectives.h"
#include "podsim/workload/dtype.h"

namespace podsim {

struct CollectiveExperimentResult {
  CollectiveRun run;
  CollectiveResult result;
  std::uint32_t chips = 1;
  std::vector<NetLinkStats> links;  // per link of the topology (see PodTopology::links())
  std::uint64_t link_bytes = 0;     // summed over links
  std::uint64_t byte_hops = 0;      // summed over transfers: bytes x hops (must equal link_bytes)
  double max_link_utilization = 0;  // busy / collective time, over links that exist
  double mean_link_utilization = 0;
  std::uint64_t events = 0;
  bool symmetric = false;  // chip 0's transfers stood for every chip's (net/collectives.h)
};

// The rate at which one chip's vector units add received `dtype` data (all TensorCores).
std::uint64_t reduce_rate_Bps(const HardwareSpec& hw, DType dtype);

// A whole-pod torus collective on a torus with wraparound runs chip 0's transfers alone
// (add_collective's `symmetric`), totals scaled to the pod, unless `full_network`.
CollectiveExperimentResult run_collective_experiment(const HardwareSpec& hw, CollectiveSpec spec,
                                                     DType dtype = DType::bf16, bool full_network = false);

}  // namespace podsim
