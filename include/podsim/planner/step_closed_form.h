// The planner's closed forms for the communication that overlaps a stage's ops
// (planner/pod_planner.cpp composes a step from them): the gradient buckets of the last
// backward pass with their contention on the ops, and ZeRO-3's weight gathers ahead of
// the ops that read them. Both follow what the pod model does (sim/pod_schedule.cpp,
// sim/collective_contention.h) over durations simulated alone.
#pragma once

#include <cstdint>
#include <vector>

#include "podsim/sim/collective_contention.h"

namespace podsim {

// One gradient bucket of the last backward pass, times from the pass's start.
struct GradientBucket {
  double release_s = 0;   // the backward op completing it ends (unstretched)
  double duration_s = 0;  // its collective alone on the network
  std::uint64_t hbm_bytes = 0, vpu_ps = 0;  // what it moves through HBM and reduces (collective_contention.h)
};

struct BucketStream {
  double end_s = 0;      // from the pass's start: the later of the (stretched) pass's end and the last bucket's
  double stretch_s = 0;  // what the buckets' HBM and vector work added to the pass's ops
};

// The buckets run one after another on the chip's collective stream, each once released
// and the one before is done. Their HBM bytes and vector time, spread over their windows,
// stretch the backward ops they overlap (contention_extra_ps; one pass, from the
// unstretched windows), and each bucket is released later by the stretch of the ops
// before its release. `ops`: the pass's ops from its start, in ps.
BucketStream gradient_bucket_stream(double pass_s, const std::vector<GradientBucket>& buckets,
                                    const std::vector<OpWindow>& ops, std::uint64_t hbm_peak_Bps);

// ZeRO-3's gathers through one stage's passes, op by op: the pass waits for an op's
// gather before the op, and the next gather starts as that op starts; an op overlapping
// a gather in flight takes at least its own and the gather's share of HBM bytes at the HBM
// bandwidth (2 (d-1)/d of the gathered bytes, spread over the gather).
class GatherPrefetch {
 public:
  // Per gather, in run order: the op before which it is waited, its pass, its time alone
  // and its HBM bytes on this chip.
  struct Gather {
    std::size_t op = 0;
    int pass = 0;
    double duration_s = 0, hbm_bytes = 0;
  };
  GatherPrefetch(std::vector<Gather> gathers, double hbm_Bps) : g_(std::move(gathers)), hbm_Bps_(hbm_Bps) {}
  // A pass begins (its first gather is issued at its start).
  void begin_pass(int pass);
  // Before op `i` of `pass` at `clock` (the pass's time so far): the clock after waiting
  // for the op's gather, if it has one.
  double before_op(std::size_t i, int pass, double clock);
  // The op's duration beside the gather in flight.
  double stretched(double clock, double alone_s, double op_hbm_bytes) const;

 private:
  void start(std::size_t j, double at);
  std::vector<Gather> g_;
  double hbm_Bps_ = 0;
  std::size_t next_ = 0;
  double done_ = 0, from_ = 0, to_ = 0, bytes_ = 0;  // the gather in flight
};

}  // namespace podsim
