// `podsim serve FILE --hw H`: requests through a continuously batched LLM on one chip
// (serving/): the model is simulated at a grid of steps, the scheduler runs over those times.
#include <algorithm>

#include <fmt/format.h>

#include "commands.h"
#include "podsim/config/config_error.h"
#include "podsim/serving/batch_scheduler.h"
#include "podsim/serving/serve_report.h"
#include "podsim/serving/serve_spec.h"
#include "podsim/serving/step_cost.h"

namespace podsim::cli {

int serve_command(const ServeOptions& o) {
  const ServeSpec spec = load_serve_spec(o.file);
  const std::optional<HardwareSpec> hw = load_hardware_or_report(o.hardware, o.overrides);
  if (!hw) return kInputError;
  const std::vector<ServeRequest> requests = serve_requests(spec);
  const ServedModel model = served_model(spec.workload, spec.workload_where);

  // The KV cache: what HBM holds after the weights, or what the file asks for (no more).
  if (model.weights_bytes >= hw->chip.hbm.capacity_bytes)
    throw ConfigError(spec.workload_where, "serve.workload",
                      fmt::format("the model's weights ({} bytes) fill the chip's HBM ({} bytes, chip.hbm.capacity)",
                                  model.weights_bytes, hw->chip.hbm.capacity_bytes));
  const std::uint64_t fits = (hw->chip.hbm.capacity_bytes - model.weights_bytes) / std::max<std::uint64_t>(1, model.kv_bytes_per_token);
  std::uint64_t capacity = spec.scheduler.kv_capacity_tokens ? spec.scheduler.kv_capacity_tokens : fits;
  if (capacity > fits)
    throw ConfigError(spec.capacity_where, "serve.scheduler.kv_capacity_tokens",
                      fmt::format("{} tokens of KV cache ({} bytes each) do not fit beside the weights ({} bytes) in {} "
                                  "bytes of HBM: at most {}",
                                  capacity, model.kv_bytes_per_token, model.weights_bytes, hw->chip.hbm.capacity_bytes, fits));
  capacity = capacity / spec.scheduler.kv_block_tokens * spec.scheduler.kv_block_tokens;

  std::uint64_t max_context = 1, min_context = UINT64_MAX;
  for (const ServeRequest& r : requests) {
    max_context = std::max(max_context, r.prompt_tokens + r.output_tokens - 1);
    min_context = std::min(min_context, r.prompt_tokens + 1);
  }
  // Reject a request that can never fit before simulating anything.
  if (max_context > capacity) {
    struct NoCost : StepCost {
      double seconds(const StepWork&) override { return 1; }
    } none;
    simulate_serving(requests, spec.scheduler, capacity, none, spec.capacity_where);  // throws
  }
  SimulatedStepCost cost(*hw, spec.workload, spec.workload_where, spec.scheduler, min_context, max_context, capacity,
                         o.jobs);
  const ServeTimeline timeline = simulate_serving(requests, spec.scheduler, capacity, cost, spec.capacity_where);

  ServeRun run;
  run.spec = &spec;
  run.hardware = hw->name;
  run.model = model;
  run.kv_capacity_tokens = capacity;
  run.timeline = &timeline;
  run.cost = &cost;
  const std::vector<std::string> inputs = {o.file, o.hardware, spec.workload, spec.trace};
  if (!o.quiet) fmt::print("{}", serve_text(run));
  if (!o.json_path.empty() && !write_file(o.json_path, serve_json(run), "the JSON report", inputs)) return kInputError;
  if (!o.csv_path.empty() && !write_file(o.csv_path, serve_requests_csv(timeline), "the request CSV", inputs))
    return kInputError;
  return kOk;
}

}  // namespace podsim::cli
