// `podsim map WORKLOAD --hw H`: each distinct MXU op's best tilings by the cost model,
// simulated (mapper/op_search.h).
#include <optional>

#include <fmt/format.h>

#include "commands.h"
#include "podsim/config/workload_loader.h"
#include "podsim/mapper/learned_cost.h"
#include "podsim/mapper/op_search.h"

namespace podsim::cli {

namespace {

// `podsim map --learn A.csv,B.csv --model m.json`: trains, reports, writes the model.
int learn_command(const MapOptions& o) {
  if (!o.workload.empty()) {
    fmt::print(stderr, "error: map --learn trains from CSV files; it takes no workload ('{}')\n", o.workload);
    return kInputError;
  }
  if (o.model_path.empty()) {
    fmt::print(stderr, "error: map --learn needs --model FILE: where to write the trained model\n");
    return kInputError;
  }
  std::vector<CostSample> samples;
  for (const std::string& path : o.learn_paths) {
    try {
      const std::vector<CostSample> more = read_cost_samples(path);
      samples.insert(samples.end(), more.begin(), more.end());
    } catch (const std::runtime_error& e) {
      fmt::print(stderr, "error: {}\n", e.what());
      return kInputError;
    }
  }
  if (samples.size() < 10) {
    fmt::print(stderr, "error: map --learn: {} samples; expected at least 10 (rows of `podsim map --csv`)\n", samples.size());
    return kInputError;
  }
  const LearnReport r = learn_cost_model(samples);
  if (!o.quiet) fmt::print("{}", learn_report_text(r));
  return write_file(o.model_path, r.model.to_json(), "the learned cost model", o.learn_paths) ? kOk : kInputError;
}

}  // namespace

int map_command(const MapOptions& o) {
  if (!o.learn_paths.empty()) return learn_command(o);
  if (o.workload.empty()) {
    fmt::print(stderr, "error: map needs a workload YAML file (or --learn CSV files)\n");
    return kInputError;
  }
  const std::optional<HardwareSpec> hw = load_hardware_or_report(o.hardware, o.overrides);
  if (!hw) return kInputError;
  std::optional<BoostedTrees> model;
  if (!o.model_path.empty()) {
    try {
      model = load_cost_model(o.model_path);
    } catch (const std::runtime_error& e) {
      fmt::print(stderr, "error: {} (--model)\n", e.what());
      return kInputError;
    }
  }
  const WorkloadSpec workload = load_workload(o.workload, o.workload_overrides);
  const MapResult r = search_mappings(*hw, workload, o.top_k, o.jobs, model ? &*model : nullptr);
  if (!o.quiet) fmt::print("{}", map_text(r));
  if (!o.json_path.empty() && !write_file(o.json_path, map_json(r), "the JSON mapping report", {o.workload, o.hardware}))
    return kInputError;
  if (!o.csv_path.empty() && !write_file(o.csv_path, map_csv(r), "the CSV mapping report", {o.workload, o.hardware}))
    return kInputError;
  return kOk;
}

}  // namespace podsim::cli
