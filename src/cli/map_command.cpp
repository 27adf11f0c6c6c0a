// `podsim map WORKLOAD --hw H`: each distinct MXU op's best tilings by the cost model,
// simulated (mapper/op_search.h).
#include <fmt/format.h>

#include "commands.h"
#include "podsim/config/workload_loader.h"
#include "podsim/mapper/op_search.h"

namespace podsim::cli {

int map_command(const MapOptions& o) {
  const std::optional<HardwareSpec> hw = load_hardware_or_report(o.hardware, o.overrides);
  if (!hw) return kInputError;
  const WorkloadSpec workload = load_workload(o.workload, o.workload_overrides);
  const MapResult r = search_mappings(*hw, workload, o.top_k, o.jobs);
  if (!o.quiet) fmt::print("{}", map_text(r));
  if (!o.json_path.empty() && !write_file(o.json_path, map_json(r), "the JSON mapping report", {o.workload, o.hardware}))
    return kInputError;
  if (!o.csv_path.empty() && !write_file(o.csv_path, map_csv(r), "the CSV mapping report", {o.workload, o.hardware}))
    return kInputError;
  return kOk;
}

}  // namespace podsim::cli
