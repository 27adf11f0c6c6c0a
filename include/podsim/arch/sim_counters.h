// Counters of the simulator's own work, for the speed benchmarks: how many times a
// SystemC process woke up (each is one kernel event).
#pragma once

#include <cstdint>

namespace podsim {

struct SimCounters {
  std::uint64_t wakeups = 0;
};

}  // namespace podsim
