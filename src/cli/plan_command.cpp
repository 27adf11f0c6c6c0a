// `podsim plan WORKLOAD --hw POD --chips N`: the best ways to spread a training step over
// the pod (planner/pod_planner.h).
#include <fmt/format.h>

#include "commands.h"
#include "podsim/config/workload_loader.h"
#include "podsim/planner/pod_planner.h"

namespace podsim::cli {

int plan_command(const PlanOptions& o) {
  const std::optional<HardwareSpec> hw = load_hardware_or_report(o.hardware, o.overrides);
  if (!hw) return kInputError;
  const WorkloadSpec workload = load_workload(o.workload, o.workload_overrides);
  podsim::PlanOptions po;
  po.chips = o.chips;
  po.global_batch = o.global_batch;
  po.top = o.top;
  po.jobs = o.jobs;
  const PlanResult r = plan_parallelism(*hw, workload, po);
  if (!o.quiet) fmt::print("{}", plan_text(r));
  if (!o.json_path.empty() && !write_file(o.json_path, plan_json(r), "the JSON plan", {o.workload, o.hardware}))
    return kInputError;
  return kOk;
}

}  // namespace podsim::cli
