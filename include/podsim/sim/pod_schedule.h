// A pod run's plan (sim/pod_simulate.h): each chip's program and schedule (its ops per
// microbatch in order, the collectives it issues and waits for, pipeline messages,
// gradient buckets) and every collective as it happens. Plain C++, no SystemC.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "podsim/config/hardware_spec.h"
#include "podsim/net/collectives.h"
#include "podsim/workload/parallelism.h"

namespace podsim {

// One step of a chip's schedule.
struct ScheduleItem {
  enum Kind { compute, issue, wait } kind;
  std::uint32_t index;  // compute: op in the chip's simulated op list; issue, wait: collective instance
};

// One collective as it happens: a TP all-reduce of one microbatch in one tensor group, a
// pipeline send, a gradient bucket of one data group.
struct CollectiveInstance {
  CollectiveSpec spec;
  std::string name;
  bool p2p = false;    // a pipeline send: waiting on it is partly waiting for the sender to compute
  bool async = false;  // on the chip's collective stream (data-parallel gradients)
};

struct PodPlan {
  std::string name;  // the workload's
  PodLayout layout;
  ChipPrograms programs;
  std::vector<WorkloadSpec> expanded;          // per program: its ops with collectives, training expanded
  std::vector<std::vector<ScheduleItem>> schedule;     // per chip
  std::vector<CollectiveInstance> instances;
  std::uint64_t gradient_bytes_chip0 = 0;      // weight gradients of chip 0 (what its buckets must carry)
  std::uint64_t bucket_bytes_chip0 = 0;
};

// Splits the workload over the pod (workload/parallelism.h) and builds every chip's
// schedule. Throws ConfigError when the parallelism does not fit the pod.
PodPlan plan_pod(const HardwareSpec& hw, const WorkloadSpec& workload);

// The ops of a program by kind, shape, repeat and pass, without names: two chips whose
// programs have the same key take the same time (expert 3's FFN on one, expert 7's on
// another).
std::string program_shape_key(const WorkloadSpec& program);

}  // namespace podsim
