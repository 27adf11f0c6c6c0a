// The points of a sweep, in a fixed order: point ids are stable, so shards, resumed runs
// and merges agree on them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "podsim/config/sweep_spec.h"

namespace podsim {

struct SweepPoint {
  std::uint64_t id = 0;
  std::vector<std::pair<std::string, std::string>> params;  // (path, value), in axis order
  std::string skip_reason;  // non-empty: a constraint rejected the point
};

// grid: every combination (the last axis varies fastest), times the zipped rows;
// random: `samples` points, each axis value drawn uniformly with the seed.
std::vector<SweepPoint> expand_sweep(const SweepSpec& spec);

// The hardware a point runs on: its `hardware` axis value (a preset or a resolved file), or
// the sweep's base hardware. The other axes' parameters apply on top of it.
std::string point_hardware(const SweepSpec& spec, const SweepPoint& point);

}  // namespace podsim
