#include "podsim/mapper/searched_run.h"

#include <array>
#include <map>
#include <stdexcept>
#include <string>

#include "podsim/mapper/op_search.h"
#include "podsim/sim/isolated_runs.h"

namespace podsim {

RunResult simulate_with_searched_mappings(const HardwareSpec& hw, const WorkloadSpec& workload,
                                          SimulateOptions options, unsigned jobs) {
  const MapResult found = search_mappings(hw, workload, hw.chip.mapper_candidates, jobs);
  MapperSearch summary;
  summary.distinct_ops = found.ops.size();
  summary.simulations = found.simulations;
  std::map<std::string, std::array<std::uint64_t, 4>> pins;  // signature -> tile (and cores)
  for (const OpMapping& m : found.ops) {
    summary.heuristic_s += m.heuristic_s() * double(m.occurrences);
    summary.best_s += m.best_s() * double(m.occurrences);
    if (m.best == 0) continue;  // the heuristic's own tiling was the fastest
    const MatmulTiling& t = m.candidates[m.best].tiling;
    ++summary.retiled_ops;
    pins.emplace(m.signature, std::array<std::uint64_t, 4>{t.tm, t.tk, t.tn, t.cores});
  }
  SimulateOptions searched = options;
  // A signature names the op's kind, so only the MXU ops searched above can match.
  searched.before_planning = [pins](WorkloadSpec& expanded) {
    for (Op& op : expanded.ops) {
      if (op.tile) continue;
      if (auto it = pins.find(op_signature(op)); it != pins.end()) op.tile = it->second;
    }
  };
  // Both whole runs in children, then the faster again here with the full report (this
  // process's one elaboration). Equal times keep the heuristic's.
  if (summary.retiled_ops > 0) {
    const std::vector<RunResult> whole =
        simulate_in_children(hw, {workload, workload}, std::vector<SimulateOptions>{options, searched}, jobs);
    for (const RunResult& w : whole)
      if (!w.completed || !w.invariants_hold())
        throw std::runtime_error("map: a whole-workload run for the search mapper did not complete");
    summary.whole_heuristic_s = whole[0].time_s();
    summary.whole_searched_s = whole[1].time_s();
    summary.kept_search = summary.whole_searched_s < summary.whole_heuristic_s;
  }
  RunResult r = simulate(hw, workload, summary.kept_search ? searched : options);
  if (summary.retiled_ops == 0) summary.whole_heuristic_s = summary.whole_searched_s = r.time_s();
  r.mapper_search = summary;
  return r;
}

}  // namespace podsim
