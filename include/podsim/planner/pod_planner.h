// `podsim plan`: the best way to spread a training step over a pod. For a workload of
// model templates and a pod of N chips, every layout (tensor degree dividing the heads,
// pipeline stages no more than the layers, data = N / (tensor x pipeline)), microbatch
// count keeping the global batch, pipeline schedule, recompute, expert placement and ZeRO
// sharding of the optimizer state and gradients over the data group is
// checked against the chips' HBM (the fullest chip's footprint, with the activations of
// every microbatch a stage holds at once), and the ones that fit are ranked by step time.
//
// Method (docs/planner.md). A candidate's step time is composed from simulations: each
// distinct stage program (its ops sharded, forward, backward, optimizer) runs once in
// SystemC, in a child process, and its tensor-parallel, pipeline and gradient
// collectives run one at a time on the pod's network model; the schedule (pipeline
// fill and drain, 1F1B or GPipe, gradient buckets overlapping the last backward) is then
// composed in closed form. A candidate is simulated only while its lower bound (its
// MACs at the MXUs' peak, pipeline bubble included) could still put it among the best,
// so most are ranked without a simulation (branch and bound). `verify` runs the best
// through the full pod model (sim/pod_simulate.h) as well; tests bound the difference.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "podsim/config/hardware_spec.h"
#include "podsim/workload/training.h"
#include "podsim/workload/workload_spec.h"

namespace podsim {

struct PlanOptions {
  std::uint32_t chips = 0;         // pod size (0: the preset's); dims near-cubic (pod_dims_for)
  std::uint64_t global_batch = 0;  // per step, in the templates' batch unit (0: the workload's as written)
  std::size_t top = 5;             // configurations ranked exactly (estimated) and shown
  std::uint32_t max_tensor = 64, max_microbatches = 64;
  unsigned jobs = 2;               // stage programs simulated at once, one process each
};

// One way to run the step, and what it gives.
struct PlanCandidate {
  std::uint32_t data = 1, tensor = 1, pipeline = 1, microbatches = 1;
  std::uint64_t micro_batch = 1;  // the templates' batch per microbatch
  bool one_f_one_b = false, recompute = false, expert = false;
  std::uint32_t zero = 0;          // ZeRO stage over the data group (0, 2 or 3 searched; ParallelismSpec::zero)
  std::uint64_t bucket_bytes = 0;  // gradient all-reduce bucket (the best of those tried)
  TrainingFootprint memory;        // the fullest chip
  double lower_bound_s = 0;        // MACs at peak, bubble included
  bool estimated = false;
  double step_s = 0;           // composed step time
  double stage_compute_s = 0;  // the slowest stage's ops, all microbatches (tensor collectives included)
  double tensor_comm_s = 0;    // of that: the tensor-parallel collectives
  double bubble_s = 0;         // pipeline fill and drain, and the messages between stages
  double exposed_grad_s = 0;   // gradient all-reduce not hidden behind the last backward
  double contention_s = 0;     // of that: the last backward slowed by the buckets' HBM and vector work
  double optimizer_s = 0;
  std::string rejected;        // why it cannot run (empty: it can)
  bool as_written = false;     // the workload's own parallelism
  std::string label() const;   // "t8 p8 d4 mb16 1f1b"
};

struct PlanResult {
  std::string workload, hardware, dims;
  std::uint32_t chips = 0;
  std::uint64_t global_batch = 0, hbm_capacity = 0;
  std::vector<PlanCandidate> estimated;  // best first
  std::vector<PlanCandidate> rejected;   // do not fit, or cannot be laid out
  std::size_t candidates = 0, pruned = 0, estimated_count = 0, programs_simulated = 0, collectives_modelled = 0;
  std::string as_written_rank;  // where the workload's own parallelism ranks, in words
};

// Throws ConfigError when the workload cannot be planned (not training, an op that is not
// a template, a global batch the templates do not divide).
PlanResult plan_parallelism(const HardwareSpec& hw, const WorkloadSpec& workload, const PlanOptions& options);

// The workload with one candidate's parallelism (for `podsim run`, and the tests).
WorkloadSpec with_plan(const WorkloadSpec& workload, const PlanCandidate& c);

std::string plan_text(const PlanResult& r, std::size_t rejected_shown = 8);
std::string plan_json(const PlanResult& r);

}  // namespace podsim
