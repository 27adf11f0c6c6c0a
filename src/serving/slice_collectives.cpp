#include "podsim/serving/slice_collectives.h"

#include <numeric>
#include <variant>

#include "podsim/sim/collective_contention.h"
#include "podsim/sim/collective_experiment.h"

namespace podsim {

const SliceCollectiveCost::Alone& SliceCollectiveCost::alone(const CollectiveOp& op) {
  const auto key = std::make_tuple(int(op.kind), op.bytes, int(op.dtype));
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  CollectiveSpec spec;
  spec.kind = op.kind;
  spec.bytes = op.bytes;
  spec.group.resize(std::size_t(hw_.pod.chips()));
  std::iota(spec.group.begin(), spec.group.end(), 0u);  // the tensor group: the whole slice, in order
  spec.reduce_Bps = reduce_rate_Bps(hw_, op.dtype);
  const CollectiveExperimentResult r = run_collective_experiment(hw_, spec, op.dtype);
  // As the pod model counts it: every chip reads what it sends and writes what it receives
  // (bytes_sent is over all chips, each byte received once), and reads two operands and
  // writes one result per byte it reduces.
  const auto chips = std::uint32_t(spec.group.size());
  const std::uint64_t hbm = collective_hbm_bytes(r.result.bytes_sent, r.result.bytes_sent,
                                                 std::uint64_t(chips) * collective_reduced_bytes(op.kind, op.bytes, chips));
  return cache_.emplace(key, Alone{r.result.time_s(), r.link_bytes, hbm}).first->second;
}

SliceCollectives SliceCollectiveCost::of(const WorkloadSpec& sharded) {
  SliceCollectives out;
  if (hw_.pod.chips() < 2) return out;
  for (const Op& op : sharded.ops) {
    const auto* co = std::get_if<CollectiveOp>(&op.body);
    if (!co || !co->forward || co->bytes == 0) continue;  // inference: only forward collectives run
    const Alone& a = alone(*co);
    out.seconds += a.seconds * double(op.repeat);
    out.link_bytes += a.link_bytes * op.repeat;
    out.hbm_bytes += a.hbm_bytes * op.repeat;
  }
  return out;
}

}  // namespace podsim
