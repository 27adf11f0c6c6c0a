// `podsim plan`'s step time of one candidate, composed in closed form from simulated op
// durations (pod_schedule.cpp's schedule without a simulation): each stage's forward,
// backward and update ops at the durations their simulations gave (ZeRO-3 gathers
// prefetched), the tensor-parallel and pipeline collectives run alone on the pod's network
// model, pipeline fill and drain, and the gradient buckets streaming behind the last
// backward, stretching the ops they share HBM with. The planner (pod_planner.cpp) decides
// what to simulate; this file turns the results into a step.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "podsim/config/hardware_spec.h"
#include "podsim/net/pod_topology.h"
#include "podsim/planner/pod_planner.h"
#include "podsim/sim/collective_contention.h"
#include "podsim/workload/parallelism.h"
#include "podsim/workload/workload_spec.h"

namespace podsim {

// One stage's program as the pod simulation would run it. Shared by every layout that
// builds the same one (a planning run over thousands of layouts held gigabytes of copies).
struct StageProgram {
  WorkloadSpec expanded;             // training expanded, collectives included
  std::vector<std::string> op_keys;  // per op the chip runs: its kind, shape, repeat and pass
};

// One stage of a candidate: its program and what the composition needs of it.
struct StageInfo {
  std::shared_ptr<const StageProgram> program;
  const WorkloadSpec& expanded() const { return program->expanded; }
  const std::vector<std::string>& op_keys() const { return program->op_keys; }
  std::string sim_key;       // program_shape_key: equal keys take equal time
  std::uint64_t macs = 0;    // per microbatch, backward and recompute included
  std::uint64_t boundary_bytes = 0;
};

// What the simulations measured, per op key (kind, shape, repeat and pass).
struct SimulatedOps {
  std::map<std::string, double> seconds;    // its simulated duration
  std::map<std::string, double> hbm_bytes;  // the HBM bytes it moved
  std::map<std::string, double> vpu_s;      // its vector-unit seconds
  std::uint64_t hbm_peak_Bps = 0;           // as the simulations report it
  // The key of an op as the chip runs it.
  static std::string key(const Op& op);
};

class StepComposer {
 public:
  StepComposer(const HardwareSpec& hw, const WorkloadSpec& workload, const SimulatedOps& ops)
      : hw_(hw), w_(workload), ops_(ops), topo_(hw.pod) {}

  // The step of candidate c (laid out as L, its stages), with its gradient bucket size the
  // best of the workload's and 4, 16, 64 and 256 MiB (it changes no program).
  PlanCandidate estimate(const PlanCandidate& c, const PodLayout& L, const std::vector<StageInfo>& stages);

  std::size_t collectives_modelled() const { return collective_s_.size(); }

 private:
  struct StageTimes {
    double fwd = 0, bwd = 0, upd = 0, tensor = 0;
    std::uint64_t params = 0;           // weights this chip holds (gradient elements)
    std::vector<double> release;        // per gradient bucket: when in the last backward it is ready
    std::vector<std::uint64_t> bucket;  // its bytes
    std::vector<OpWindow> backward;     // the backward pass's ops from its start, in ps (contention)
  };

  PlanCandidate compose(const PlanCandidate& c0, const PodLayout& L, const std::vector<StageInfo>& stages,
                        std::uint64_t bucket_bytes);
  StageTimes stage_times(const PlanCandidate& c, const PodLayout& L, std::uint32_t s, const StageInfo& st,
                         std::uint64_t bucket_bytes);
  // One collective on the pod's otherwise idle network, in seconds (cached, by its spec
  // moved to the origin where that is exact: net/collective_translation.h).
  double collective_s(CollectiveKind kind, std::uint64_t bytes, std::vector<std::uint32_t> group, DType dtype,
                      std::uint32_t root = 0, std::uint32_t peer = 1);
  DType gradient_dtype() const { return w_.parallelism.gradient_dtype.value_or(w_.training.compute); }

  const HardwareSpec& hw_;
  const WorkloadSpec& w_;
  const SimulatedOps& ops_;
  PodTopology topo_;
  std::map<std::string, double> collective_s_;  // collective (moved to the origin) -> seconds
};

}  // namespace podsim
