#include "podsim/serving/serve_run.h"

#include <algorithm>
#include <filesystem>
#include <tuple>

#include <fmt/format.h>

#include "podsim/config/config_error.h"

namespace podsim {

PreparedServe prepare_serve(const std::string& serve_file, const HardwareSpec& hw,
                            const std::vector<std::string>& overrides) {
  PreparedServe p;
  p.spec = load_serve_spec(serve_file, overrides);
  p.hw = hw;
  // The model files the serve file names, before anything reads them: a missing one is
  // the serve file's error, at its key.
  for (const auto& [file, where, key] : {std::tuple{p.spec.workload, p.spec.workload_where, "serve.workload"},
                                         std::tuple{p.spec.draft, p.spec.draft_where, "serve.speculative.draft"}}) {
    std::error_code ec;
    if (!file.empty() && !std::filesystem::is_regular_file(file, ec))
      throw ConfigError(where, key, fmt::format("no such workload file: {}", file));
  }
  p.requests = serve_requests(p.spec);
  // Tensor parallelism: the hardware is the slice, a pod of exactly that many chips.
  const std::uint64_t tp = p.spec.scheduler.tensor_parallel;
  if (tp > 1 && hw.pod.chips() != tp)
    throw ConfigError(p.spec.tensor_parallel_where, "serve.tensor_parallel",
                      fmt::format("shards the model over {} chips, but '{}' is {} chip{} (pod.dims {}); serve on a pod "
                                  "preset sized to the slice, e.g. --hw tpu-v5e-pod --set pod.dims=2x4 for 8 chips",
                                  tp, hw.name, hw.pod.chips(), hw.pod.chips() == 1 ? "" : "s", hw.pod.dims));
  try {
    p.model = served_model(p.spec.workload, p.spec.workload_where, tp);
  } catch (const ConfigError& e) {
    // A model that does not split over the slice: the serve file's key, and where the model says why.
    if (tp < 2 || e.key_path() != "workload.parallelism.tensor") throw;
    throw ConfigError(p.spec.tensor_parallel_where, "serve.tensor_parallel",
                      fmt::format("{} ({}:{})", e.problem(), p.spec.workload, e.where().line));
  }
  const ServeSpec& spec = p.spec;
  // Speculative decoding: the draft model's weights and its cache share the chip's HBM.
  ServedModel draft;
  if (!spec.draft.empty()) draft = served_model(spec.draft, spec.draft_where);
  const std::uint64_t weights = p.model.weights_bytes + draft.weights_bytes;
  const std::uint64_t kv_per_token = p.model.kv_bytes_per_token + draft.kv_bytes_per_token;
  // The KV cache: what HBM holds after the weights, or what the file asks for (no more).
  if (weights >= hw.chip.hbm.capacity_bytes)
    throw ConfigError(spec.workload_where, "serve.workload",
                      fmt::format("the model's weights ({} bytes{}) fill the chip's HBM ({} bytes, chip.hbm.capacity)",
                                  weights, spec.draft.empty() ? "" : ", with the draft model's", hw.chip.hbm.capacity_bytes));
  const std::uint64_t fits = (hw.chip.hbm.capacity_bytes - weights) / std::max<std::uint64_t>(1, kv_per_token);
  std::uint64_t capacity = spec.scheduler.kv_capacity_tokens ? spec.scheduler.kv_capacity_tokens : fits;
  if (capacity > fits)
    throw ConfigError(spec.capacity_where, "serve.scheduler.kv_capacity_tokens",
                      fmt::format("{} tokens of KV cache ({} bytes each) do not fit beside the weights ({} bytes) in {} "
                                  "bytes of HBM: at most {}",
                                  capacity, kv_per_token, weights, hw.chip.hbm.capacity_bytes, fits));
  p.kv_capacity_tokens = capacity / spec.scheduler.kv_block_tokens * spec.scheduler.kv_block_tokens;
  p.min_context = UINT64_MAX;
  for (const ServeRequest& r : p.requests) {
    p.max_context = std::max(p.max_context, r.prompt_tokens + r.output_tokens - 1);
    p.min_context = std::min(p.min_context, r.prompt_tokens + 1);
  }
  // A request that can never fit is refused before anything is simulated.
  struct NoCost : StepCost {
    double seconds(const StepWork&) override { return 1; }
  } none;
  if (spec.scheduler.preemption == "swap" && hw.chip.host.link_Bps == 0)
    throw ConfigError(spec.preemption_where, "serve.scheduler.preemption",
                      fmt::format("swap copies preempted caches to the host: '{}' has no host link "
                                  "(set chip.host.link_bandwidth, e.g. --set 'chip.host.link_bandwidth=32 GB/s')",
                                  hw.name));
  if (p.max_context > p.kv_capacity_tokens)
    simulate_serving(p.requests, spec.scheduler, p.kv_capacity_tokens, none, spec.capacity_where);  // throws
  return p;
}

ServeOutcome run_serve(const PreparedServe& p, unsigned jobs) {
  ServeOutcome o;
  o.cost = std::make_unique<SimulatedStepCost>(p.hw, p.spec.workload, p.spec.workload_where, p.spec.scheduler,
                                               p.min_context, p.max_context, p.kv_capacity_tokens, jobs, p.spec.draft,
                                               p.spec.draft_where);
  o.timeline = p.spec.scheduler.disaggregation.prefill_chips > 0
                   ? simulate_disaggregated(p.requests, p.spec.scheduler, p.kv_capacity_tokens,
                                            p.model.kv_bytes_per_token, *o.cost, p.spec.capacity_where)
                   : simulate_serving(p.requests, p.spec.scheduler, p.kv_capacity_tokens, *o.cost, p.spec.capacity_where,
                                      SwapLink{double(p.model.kv_bytes_per_token), double(p.hw.chip.host.link_Bps)});
  return o;
}

ServeRun ServeOutcome::report(const PreparedServe& p) const {
  ServeRun run;
  run.spec = &p.spec;
  run.hardware = p.hw.name;
  run.model = p.model;
  run.kv_capacity_tokens = p.kv_capacity_tokens;
  // A replica is a slice: every chip of it is powered.
  run.static_power_w = double(p.hw.chip.energy.static_power_uW) * 1e-6 * double(p.spec.scheduler.tensor_parallel);
  run.timeline = &timeline;
  run.cost = cost.get();
  return run;
}

}  // namespace podsim
