// Replays the command stream one pseudo-channel issued and checks it against every DRAM
// timing constraint the controller is meant to honour. Independent of the controller's
// code: it keeps its own bank state from the commands alone.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "podsim/arch/dram/dram_channel.h"
#include "podsim/config/dram_device.h"

namespace podsim {

struct TimingViolation {
  std::uint64_t cycle = 0;
  std::string rule;    // "tRCD", "tFAW", "row bus", "RD to closed row" ...
  std::string detail;
};

std::vector<TimingViolation> check_dram_timing(const DramDevice& device, std::vector<DramCommand> commands);

}  // namespace podsim
