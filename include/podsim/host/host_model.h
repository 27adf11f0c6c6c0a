// The host side of a step: what the host link carries in and out per step and how long
// the step takes end to end once the host's share is counted (chip.host.*).
//
// The chip model ends at the chip's pins: a simulated step starts with its input already
// in memory. On a real system the host feeds each step over a link (PCIe on every TPU
// generation) and does its own work per step (input pipeline, launching the program).
// With infeed queues and a host that runs ahead (chip.host.overlap, the default), the
// next step's input and host work happen while the chip computes, so a step takes the
// longest of the four; without, their sum. Computed from a finished run, like energy:
// it never changes the simulated chip time (summary.time_s), it adds the end-to-end one.
#pragma once

#include <cstdint>
#include <string>

#include "podsim/workload/workload_spec.h"

namespace podsim {

struct RunResult;

// Bytes per step over the host link, from the chip's op list (after templates, training
// and parallelism are expanded): in, the first op's activation inputs (a matmul's A or a
// convolution's input; a vector op's inputs; an embedding's indices, 4 bytes each); out,
// an inference step's last op's output. A training step sends nothing back but its loss
// (counted as 0): its outputs are the updated weights, which stay on the chip.
struct HostTraffic {
  std::uint64_t infeed_bytes = 0, outfeed_bytes = 0;
  std::string infeed_op, outfeed_op;  // names of the ops they belong to
};
HostTraffic host_traffic(const WorkloadSpec& chip_ops);

// The activation bytes an op reads (its inputs from the op before, not its weights) and
// writes, all repeats when they are independent instances (attention's heads).
std::uint64_t op_input_bytes(const Op& op);
std::uint64_t op_output_bytes(const Op& op);

struct HostStep {
  bool modelled = false;  // chip.host.link_bandwidth or chip.host.step_time set
  bool overlap = true;
  HostTraffic traffic;
  std::uint64_t link_Bps = 0;
  std::uint64_t device_ps = 0;   // the simulated step (RunResult::end_ps)
  std::uint64_t infeed_ps = 0, outfeed_ps = 0, host_ps = 0;
  std::uint64_t step_ps = 0;     // end to end
  std::string bound;             // device, infeed, outfeed or host: the longest part

  double step_s() const { return double(step_ps) * 1e-12; }
  // How much longer than the chip alone a step takes (1 = the host costs nothing).
  double slowdown() const { return device_ps ? double(step_ps) / double(device_ps) : 1.0; }
};

// Throws nothing: a run without a host link and host time gives modelled = false and
// step_ps = device_ps.
HostStep host_step(const RunResult& run);

}  // namespace podsim
