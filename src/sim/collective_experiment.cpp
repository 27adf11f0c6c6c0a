#include "podsim/sim/collective_experiment.h"

#include <algorithm>

namespace podsim {

std::uint64_t reduce_rate_Bps(const HardwareSpec& hw, DType dtype) {
  // One add per element per lane per cycle: tensor_cores x lanes x sublanes elements.
  return std::uint64_t(hw.chip.tensor_cores) * hw.chip.vector.lanes * hw.chip.vector.sublanes *
         hw.chip.clock_hz * dtype_bytes(dtype);
}

CollectiveExperimentResult run_collective_experiment(const HardwareSpec& hw, CollectiveSpec spec, DType dtype,
                                                     bool full_network) {
  const PodTopology topo(hw.pod);
  LinkNetwork net(topo, hw.pod.chunk_bytes);
  if (spec.reduce_Bps == 0) spec.reduce_Bps = reduce_rate_Bps(hw, dtype);
  CollectiveExperimentResult r;
  r.chips = topo.chips();
  r.symmetric = !full_network && topo.chips() > 1 && symmetric_collective(topo, spec);
  r.run = add_collective(net, spec, nullptr, r.symmetric);
  net.run();
  r.result = collective_result(net, r.run);
  r.links = net.link_stats();
  r.byte_hops = net.byte_hops();
  r.events = net.events();
  if (r.symmetric) {  // every chip did what chip 0 did: link ids are (chip x dims + dim) x 2 + direction
    const std::size_t per_chip = 2 * topo.dims().size();
    for (std::size_t l = per_chip; l < r.links.size(); ++l) r.links[l] = r.links[l % per_chip];
    r.byte_hops *= topo.chips();
    r.result.bytes_sent *= topo.chips();
  }
  const double span = double(r.result.end_ps - r.result.start_ps);
  std::size_t existing = 0;
  double sum = 0;
  for (std::size_t i = 0; i < r.links.size(); ++i) {
    r.link_bytes += r.links[i].bytes;
    if (!topo.links()[i].exists) continue;
    ++existing;
    const double u = span > 0 ? double(r.links[i].busy_ps) / span : 0.0;
    r.max_link_utilization = std::max(r.max_link_utilization, u);
    sum += u;
  }
  r.mean_link_utilization = existing ? sum / double(existing) : 0.0;
  return r;
}

}  // namespace podsim
