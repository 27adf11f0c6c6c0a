// Every activity counter of the chip's blocks, as pointers, so the sequencer can take the
// difference an op made and add it again when it replays an identical op (arch/chip.h).
// Each block appends its own counters; blocks do not move once the chip is built.
#pragma once

#include <cstdint>
#include <vector>

namespace podsim {

using CounterList = std::vector<std::uint64_t*>;

inline std::vector<std::uint64_t> read_counters(const CounterList& list) {
  std::vector<std::uint64_t> v;
  v.reserve(list.size());
  for (const std::uint64_t* c : list) v.push_back(*c);
  return v;
}

}  // namespace podsim
