// The collectives of one tensor-parallel pass over a slice (serve.tensor_parallel): what a
// serving step adds to its chip program's time when the model is sharded over the chips of
// the hardware's pod.
//
// Sharding (workload/parallelism.h) inserts an all-reduce after every row-split matmul (the
// attention's output projection, the FFN's down projection). In inference each one blocks
// the chips: the next op needs the reduced output. As the pod model composes a step
// (sim/pod_schedule.cpp: an issue then a wait per collective, between the chip's ops), the
// pass takes its chip program's time plus each collective's time alone on the slice's
// otherwise idle network (sim/collective_experiment.h), its group the slice's chips in
// order. Tested against `podsim run` on the pod (tests/integration/serve_test.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <tuple>

#include "podsim/config/hardware_spec.h"
#include "podsim/workload/workload_spec.h"

namespace podsim {

struct SliceCollectives {
  double seconds = 0;           // blocking: added to the chip program's time
  std::uint64_t link_bytes = 0;  // summed over the links crossed (ICI energy)
  std::uint64_t hbm_bytes = 0;   // every chip's: sent bytes read, received written, reduced read twice and
                                 // written once (sim/collective_contention.h; DRAM energy)
};

class SliceCollectiveCost {
 public:
  // The slice: every chip of hw.pod.
  explicit SliceCollectiveCost(const HardwareSpec& hw) : hw_(hw) {}
  // Every forward collective of a sharded program (sharded_program()), `repeat` times each.
  SliceCollectives of(const WorkloadSpec& sharded);

 private:
  struct Alone {
    double seconds = 0;
    std::uint64_t link_bytes = 0, hbm_bytes = 0;
  };
  const Alone& alone(const CollectiveOp& op);
  HardwareSpec hw_;
  std::map<std::tuple<int, std::uint64_t, int>, Alone> cache_;  // (kind, bytes, dtype)
};

}  // namespace podsim
