// `podsim selftest memory`: drives the chip's HBM model directly with standard access
// patterns and reports what it achieves, so a user can tell whether their configuration
// or the tool limits the bandwidth. Plain C++ (no SystemC): a closed loop keeps a window
// of requests in flight, issuing the next when one completes.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "podsim/config/hardware_spec.h"

namespace podsim {

struct MemoryPatternResult {
  std::string name;
  std::uint64_t requests = 0;
  std::uint64_t bytes = 0;
  double achieved_gbps = 0;
  double peak_gbps = 0;          // pseudo-channels x bus bytes x data rate (or the ideal figure)
  double mean_latency_ns = 0;    // issue to data, reads (for write-only: issue to acceptance)
  double p99_latency_ns = 0;
  double row_hit_rate = 0;       // hits / (hits + misses + conflicts); 0 for the ideal model
  double elapsed_s = 0;          // simulated
  std::uint64_t dram_cycles = 0; // simulated DRAM clock cycles (0 for the ideal model)
  std::uint64_t commands_checked = 0;    // with check_timing: commands replayed by the checker
  std::uint64_t timing_violations = 0;   // ... and the violations it found
  std::uint64_t reads = 0, writes = 0;
  double p50_latency_ns = 0, max_latency_ns = 0;
  // Latency histogram: latency_histogram[i] counts latencies in [2^(i-1), 2^i) ns ([0, 1) for i = 0).
  std::vector<std::uint64_t> latency_histogram;
  std::uint64_t row_hits = 0, row_misses = 0, row_conflicts = 0;
  std::uint64_t forwarded_reads = 0;  // reads served from the write queue (read-after-write)
  // DRAM commands issued by kind (ACT, PRE, PRE(auto), RD, WR, REF, REFpb), all pseudo-channels.
  std::vector<std::pair<std::string, std::uint64_t>> commands;
  // ACTs per bank: pseudo-channel x banks + bank group x banks per group + bank.
  std::vector<std::uint64_t> bank_acts;
};

struct MemorySelftestOptions {
  std::uint64_t stream_bytes = 256ull << 20;  // sequential patterns
  std::uint64_t random_requests = 200'000;    // random and gather patterns
  std::uint64_t seed = 42;
  // Generator parameters (`selftest memory --request-bytes ...`); 0 or a negative value:
  // the pattern's own. request_bytes: the size of each random, gather, strided or
  // row_miss request (and of a zipf row); footprint: the bytes the random patterns draw
  // addresses from (a zipf table: footprint / request_bytes rows); stride: the step of
  // `strided`; write_fraction: the share of random, gather and strided requests that
  // write, evenly spaced; zipf_s: the zipf exponent.
  std::uint64_t request_bytes = 0;
  std::uint64_t footprint = 0;
  std::uint64_t stride = 0;
  double write_fraction = -1;
  double zipf_s = -1;
  std::vector<std::string> only;              // run just these patterns (empty: all)
  bool check_timing = false;                   // log every DRAM command and replay it through the checker
};

struct MemoryRequest;
// The requests a built-in pattern issues (a trace: sim/memory_trace.h), and how many it
// keeps in flight. Throws std::invalid_argument for an unknown name.
std::vector<MemoryRequest> memory_pattern_trace(const HardwareSpec& hw, const std::string& name,
                                                const MemorySelftestOptions& options, std::size_t* window);

std::vector<std::string> memory_pattern_names();
std::vector<MemoryPatternResult> run_memory_selftest(const HardwareSpec& hw, const MemorySelftestOptions& options);

}  // namespace podsim
