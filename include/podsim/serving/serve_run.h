// One `podsim serve` run, for the command line and the Python package alike: the inputs
// checked (prepare_serve, no simulation: every input error is raised here, with its file,
// line and key), then the grid simulated and the requests scheduled (run_serve).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "podsim/config/hardware_spec.h"
#include "podsim/serving/batch_scheduler.h"
#include "podsim/serving/serve_report.h"
#include "podsim/serving/serve_spec.h"
#include "podsim/serving/step_cost.h"

namespace podsim {

struct PreparedServe {
  ServeSpec spec;
  HardwareSpec hw;
  std::vector<ServeRequest> requests;
  ServedModel model;
  std::uint64_t kv_capacity_tokens = 0;  // whole blocks
  std::uint64_t min_context = 1, max_context = 1;
};

// Throws ConfigError: a bad serve file or trace, a model that is not one decoder
// template, weights that fill HBM, a cache larger than HBM leaves, a request that could
// never fit the cache.
// `overrides`: serve.<section>.<field>=value, set in the file first (podsim serve --sset).
PreparedServe prepare_serve(const std::string& serve_file, const HardwareSpec& hw,
                            const std::vector<std::string>& overrides = {});

struct ServeOutcome {
  std::unique_ptr<SimulatedStepCost> cost;
  ServeTimeline timeline;
  ServeRun report(const PreparedServe& p) const;  // for serve_text / serve_json
};

// Simulates the grid (`jobs` processes at a time; this process elaborates SystemC once)
// and schedules the requests.
ServeOutcome run_serve(const PreparedServe& p, unsigned jobs);

}  // namespace podsim
