// `podsim collective`: one collective over a pod on an idle network, at one or more sizes:
// time, algorithm and bus bandwidth, link utilization, and the ring closed form beside it.
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "podsim/config/units.h"
#include "podsim/net/pod_topology.h"
#include "podsim/sim/collective_experiment.h"

namespace podsim::cli {

int collective_command(const CollectiveOptions& o) {
  const std::optional<HardwareSpec> loaded = load_hardware_or_report(o.hardware, o.overrides);
  if (!loaded) return kInputError;
  const HardwareSpec& hw = *loaded;
  const auto kind = parse_collective_kind(o.kind);
  const auto algorithm = parse_collective_algorithm(o.algorithm);
  const auto dtype = parse_dtype(o.dtype);
  if (!kind || !algorithm || !dtype) {
    fmt::print(stderr, "error: unknown {} '{}'\n", !kind ? "collective" : !algorithm ? "--algorithm" : "--dtype",
               !kind ? o.kind : !algorithm ? o.algorithm : o.dtype);
    return kInputError;
  }
  std::vector<std::uint64_t> sizes;
  for (const auto& text : o.sizes) {
    std::string why;
    auto q = parse_quantity(text, UnitKind::size, &why);
    if (!q) {
      fmt::print(stderr, "error: --bytes: expected a size like '64 MiB', got '{}' ({})\n", text, why);
      return kInputError;
    }
    sizes.push_back(q->value);
  }
  const std::uint64_t chips = hw.pod.chips();
  if (o.root >= chips || (*kind == CollectiveKind::send_recv && o.peer >= chips)) {
    fmt::print(stderr, "error: --root/--peer: the pod has chips 0 to {}\n", chips - 1);
    return kInputError;
  }
  const PodTopology topo(hw.pod);
  const double B = double(hw.pod.link_bandwidth_Bps);
  const double a = double(hw.pod.link_latency_ps) * 1e-12;
  fmt::print("podsim collective: {} on '{}': {} chips ({} {}{}), {} links per chip of {} each way, {} per hop\n",
             o.kind, hw.name, chips, hw.pod.dims, hw.pod.topology,
             hw.pod.topology == "torus" && !hw.pod.wraparound ? ", no wraparound" : "", hw.pod.links_per_chip,
             format_quantity(hw.pod.link_bandwidth_Bps, UnitKind::bandwidth),
             format_quantity(hw.pod.link_latency_ps, UnitKind::time));
  fmt::print("  {:>10} {:>11} {:>12} {:>12} {:>12} {:>10} {:>9}\n", "bytes", "algorithm", "time us", "algbw GB/s",
             "busbw GB/s", "link util", "ring CF us");
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (std::uint64_t bytes : sizes) {
    CollectiveSpec spec;
    spec.kind = *kind;
    spec.algorithm = *algorithm;
    spec.bytes = bytes;
    spec.root = o.root;
    spec.peer = o.peer;
    const CollectiveExperimentResult r = run_collective_experiment(hw, spec, *dtype, o.full_network);
    // The textbook one-link ring: 2(P-1)/P S/B + 2(P-1) a (all-reduce only).
    const double P = double(chips);
    const double ring_cf = 2 * (P - 1) / P * double(bytes) / B + 2 * (P - 1) * a;
    const bool show_cf = *kind == CollectiveKind::all_reduce;
    fmt::print("  {:>10} {:>11} {:>12.3f} {:>12.2f} {:>12.2f} {:>9.1f}% {:>9}\n", format_quantity(bytes, UnitKind::size),
               collective_algorithm_label(*kind, r.run.algorithm), r.result.time_s() * 1e6, r.result.algbw_Bps * 1e-9,
               r.result.busbw_Bps * 1e-9, 100 * r.max_link_utilization,
               show_cf ? fmt::format("{:.3f}", ring_cf * 1e6) : "-");
    nlohmann::ordered_json j;
    j["collective"] = o.kind;
    j["algorithm"] = collective_algorithm_label(*kind, r.run.algorithm);
    j["chips"] = chips;
    j["bytes"] = bytes;
    j["time_s"] = r.result.time_s();
    j["algbw_gbps"] = r.result.algbw_Bps * 1e-9;
    j["busbw_gbps"] = r.result.busbw_Bps * 1e-9;
    j["bytes_sent"] = r.result.bytes_sent;
    j["transfers"] = r.result.transfers;  // simulated: chip 0's alone when symmetric
    j["symmetric"] = r.symmetric;
    j["link_bytes"] = r.link_bytes;
    j["max_link_utilization"] = r.max_link_utilization;
    j["mean_link_utilization"] = r.mean_link_utilization;
    if (show_cf) j["ring_closed_form_s"] = ring_cf;
    nlohmann::ordered_json links = nlohmann::ordered_json::array();
    const double span = double(r.result.end_ps - r.result.start_ps);
    for (std::size_t i = 0; i < r.links.size(); ++i) {
      if (!topo.links()[i].exists) continue;
      links.push_back({{"link", topo.links()[i].name},
                       {"bytes", r.links[i].bytes},
                       {"utilization", span > 0 ? double(r.links[i].busy_ps) / span : 0.0}});
    }
    j["links"] = std::move(links);
    out.push_back(std::move(j));
  }
  fmt::print("  link util: the busiest link's busy time / the collective's time. ring CF: 2(P-1)/P S/B + 2(P-1) a, one link\n");
  if (!o.json_path.empty()) {
    if (!write_file(o.json_path, out.dump(2) + "\n", "the JSON report", {o.hardware})) return kInputError;
  }
  return kOk;
}

}  // namespace podsim::cli
