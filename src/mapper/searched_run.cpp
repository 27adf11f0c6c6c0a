#include "podsim/mapper/searched_run.h"

#include <array>
#include <map>
#include <string>

#include "podsim/compiler/workload_plan.h"
#include "podsim/mapper/op_search.h"

namespace podsim {

RunResult simulate_with_searched_mappings(const HardwareSpec& hw, const WorkloadSpec& workload,
                                          SimulateOptions options, unsigned jobs) {
  const MapResult found = search_mappings(hw, workload, hw.chip.mapper_candidates, jobs);
  MapperSearch summary;
  summary.distinct_ops = found.ops.size();
  summary.simulations = found.simulations;
  std::map<std::string, std::array<std::uint64_t, 3>> pins;  // signature -> tile
  for (const OpMapping& m : found.ops) {
    summary.heuristic_s += m.heuristic_s() * double(m.occurrences);
    summary.best_s += m.best_s() * double(m.occurrences);
    if (m.best == 0) continue;  // the heuristic's own tiling was the fastest
    const MatmulTiling& t = m.candidates[m.best].tiling;
    ++summary.retiled_ops;
    pins.emplace(m.signature, std::array<std::uint64_t, 3>{t.tm, t.tk, t.tn});
  }
  options.before_planning = [pins, &hw](WorkloadSpec& expanded) {
    const std::vector<OpPlan> plans = plan_workload(expanded, hw);
    for (std::size_t i = 0; i < expanded.ops.size(); ++i) {
      Op& op = expanded.ops[i];
      if (op.tile || plans[i].engine != Engine::mxu || op.pass != Op::Pass::forward) continue;
      if (auto it = pins.find(op_signature(op)); it != pins.end()) op.tile = it->second;
    }
  };
  RunResult r = simulate(hw, workload, options);
  r.mapper_search = summary;
  return r;
}

}  // namespace podsim
