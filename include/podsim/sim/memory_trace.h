// Memory request traces for `podsim selftest memory --trace FILE`: a user's access pattern
// replayed against the chip's memory model, closed loop (N requests in flight) or open loop
// (each request at its own issue cycle), as DRAM simulators replay traces.
//
// Format (one request per line; '#' starts a comment; fields separated by blanks or commas):
//   ADDRESS  OP  [CYCLE]  [BYTES]
//   ADDRESS  hex (0x1f40) or decimal byte address
//   OP       R, RD, READ, LOAD or W, WR, WRITE, STORE (any case)
//   CYCLE    issue time in DRAM clock cycles (tCK = 2 / data rate; 1 ns on the ideal
//            device), non-decreasing; required for open loop, ignored closed loop
//   BYTES    request size, default 64
// The format of DRAMsim3 (`0x... READ 12`) and of Ramulator's memory traces (`0x... R`) is
// accepted as it is.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "podsim/config/hardware_spec.h"
#include "podsim/sim/memory_selftest.h"

namespace podsim {

struct MemoryRequest {
  std::uint64_t addr = 0;
  std::uint64_t bytes = 64;
  bool write = false;
  std::int64_t cycle = -1;  // issue cycle; -1 when the trace gives none
};

// Reads a trace file. Throws ConfigError (file:line:column, what was expected) on a bad
// line, a file that is not a regular file, more than 64 MiB or more than 10 M requests.
std::vector<MemoryRequest> load_memory_trace(const std::string& path);
// The same from text; `source` names it in errors.
std::vector<MemoryRequest> parse_memory_trace(const std::string& text, const std::string& source);
// The trace text of `requests` (with cycles when every request has one).
std::string format_memory_trace(const std::vector<MemoryRequest>& requests);

struct MemoryReplayOptions {
  std::size_t outstanding = 16;  // closed loop: requests in flight
  bool open_loop = false;        // issue at the trace's cycles instead
  bool check_timing = false;
};

// Replays `requests` through the HBM model of `hw`.
MemoryPatternResult replay_memory_trace(const HardwareSpec& hw, const std::vector<MemoryRequest>& requests,
                                        const MemoryReplayOptions& options, const std::string& name = "trace");

}  // namespace podsim
