// `podsim serve FILE --hw H`: requests through a continuously batched LLM on one chip
// (serving/): the model is simulated at a grid of steps, the scheduler runs over those times.
#include <fmt/format.h>

#include "commands.h"
#include "podsim/serving/serve_run.h"

namespace podsim::cli {

int serve_command(const ServeOptions& o) {
  const std::optional<HardwareSpec> hw = load_hardware_or_report(o.hardware, o.overrides);
  if (!hw) return kInputError;
  const PreparedServe prepared = prepare_serve(o.file, *hw, o.serve_overrides);
  const ServeOutcome outcome = run_serve(prepared, o.jobs);
  const ServeRun run = outcome.report(prepared);
  const std::vector<std::string> inputs = {o.file, o.hardware, prepared.spec.workload, prepared.spec.trace};
  if (!o.quiet) fmt::print("{}", serve_text(run));
  if (!o.json_path.empty() && !write_file(o.json_path, serve_json(run), "the JSON report", inputs)) return kInputError;
  if (!o.csv_path.empty() && !write_file(o.csv_path, serve_requests_csv(outcome.timeline), "the request CSV", inputs))
    return kInputError;
  return kOk;
}

}  // namespace podsim::cli
