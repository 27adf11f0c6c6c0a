// The points of a sweep, in a fixed order: point ids are stable, so shards, resumed runs
// and merges agree on them.
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "podsim/config/hardware_spec.h"
#include "podsim/config/sweep_spec.h"

namespace podsim {

struct SweepPoint {
  std::uint64_t id = 0;
  std::vector<std::pair<std::string, std::string>> params;  // (path, value), in axis order
  std::string skip_reason;  // non-empty: a constraint rejected the point
};

// The points one at a time, in id order, without building the list: a grid point is
// computed from its id (mixed radix over the axes, then the zip groups; the last varies
// fastest), random samples are drawn in order from the seeded generator. Memory does not
// grow with the number of points (a 10,000,000-point grid streams in constant memory).
class SweepPointStream {
 public:
  explicit SweepPointStream(const SweepSpec& spec);
  std::uint64_t size() const { return size_; }
  // The next point (constraints checked); false after the last.
  bool next(SweepPoint* out);

 private:
  const SweepSpec& spec_;
  std::vector<std::vector<const SweepAxis*>> digits_;  // per digit: its axes (one, or a zip group's)
  std::uint64_t size_ = 0, next_id_ = 0;
  bool random_ = false;
  std::mt19937_64 rng_;                                // random sweeps: the seeded generator
  std::map<std::string, HardwareSpec> bases_;          // each chip a constraint reads, loaded once
};

// Every point, in a vector (the stream collected): for tests and small sweeps.
// grid: every combination (the last axis varies fastest), times the zipped rows;
// random: `samples` points, each axis value drawn uniformly with the seed.
std::vector<SweepPoint> expand_sweep(const SweepSpec& spec);

// The hardware a point runs on: its `hardware` axis value (a preset or a resolved file), or
// the sweep's base hardware. The other axes' parameters apply on top of it.
std::string point_hardware(const SweepSpec& spec, const SweepPoint& point);

}  // namespace podsim
