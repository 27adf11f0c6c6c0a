// What `podsim serve` reports: per request and in aggregate (latency percentiles by the
// nearest-rank rule, throughput, goodput under the SLOs, KV-cache occupancy), as text,
// JSON and a per-request CSV. Byte-identical for the same inputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "podsim/serving/batch_scheduler.h"
#include "podsim/serving/step_cost.h"

namespace podsim {

struct LatencyStats {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};
// Nearest rank: the smallest value with at least p % of the values at or below it.
LatencyStats latency_stats(std::vector<double> values);

struct ServeSummary {
  std::uint64_t requests = 0, prompt_tokens = 0, output_tokens = 0;
  double makespan_s = 0;  // first arrival to last finish
  double requests_per_s = 0, output_tokens_per_s = 0, tokens_per_s = 0;
  LatencyStats ttft, tpot, e2e;
  std::uint64_t met_slo = 0;
  double goodput_requests_per_s = 0;
  double kv_mean_occupancy = 0, kv_peak_occupancy = 0;  // of the blocks, over busy time
};

ServeSummary summarize(const ServeSpec& spec, const ServeTimeline& timeline);


struct ServeRun {
  const ServeSpec* spec = nullptr;
  std::string hardware;
  ServedModel model;
  std::uint64_t kv_capacity_tokens = 0;
  double static_power_w = 0;  // chip.energy.static_power; 0: not known (energy is dynamic only)
  const ServeTimeline* timeline = nullptr;
  const SimulatedStepCost* cost = nullptr;
};

// The run's energy: the steps' dynamic joules plus static power over the makespan (the
// chip is powered between requests too), per output token, and the average power.
struct ServeEnergy {
  double energy_j = 0, joules_per_output_token = 0, average_power_w = 0;
  bool static_known = false;
};
ServeEnergy serve_energy(const ServeRun& run, const ServeSummary& summary);

std::string serve_text(const ServeRun& run);
std::string serve_json(const ServeRun& run);
std::string serve_requests_csv(const ServeTimeline& timeline);

}  // namespace podsim
