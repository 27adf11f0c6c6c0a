#include <algorithm>

#include <fmt/format.h>

#include "podsim/energy/energy_model.h"
#include "podsim/host/host_model.h"
#include "podsim/report/op_metrics.h"
#include "podsim/report/report.h"

namespace podsim {

namespace {
std::string human_bytes(std::uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = double(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.2f} {}", v, units[u]);
}

std::string human_time(double s) {
  if (s >= 1) return fmt::format("{:.3f} s", s);
  if (s >= 1e-3) return fmt::format("{:.3f} ms", s * 1e3);
  if (s >= 1e-6) return fmt::format("{:.3f} us", s * 1e6);
  return fmt::format("{:.1f} ns", s * 1e9);
}
}  // namespace

std::string report_text(const RunResult& r) {
  std::string out;
  auto line = [&](auto&&... args) {
    out += fmt::format(std::forward<decltype(args)>(args)...);
    out += '\n';
  };
  line("podsim: workload '{}' on hardware '{}'", r.workload.name, r.hw.name);
  line("  simulated time   {} ({} cycles at {:g} MHz)", human_time(r.time_s()), r.cycles,
       double(r.hw.chip.clock_hz) * 1e-6);
  line("  throughput       {:.2f} TFLOPS achieved of {:.2f} peak{}", r.achieved_flops() * 1e-12,
       r.peak_flops() * 1e-12, r.chips > 1 ? fmt::format(" ({} chips)", r.chips) : "");
  if (r.pod) {
    const PodResult& p = *r.pod;
    double busiest = 0;
    for (const auto& l : p.links) busiest = std::max(busiest, l.utilization);
    line("  pod              {} chips, {} {}: data {} x tensor {} x pipeline {}{}{}; {} ({} chip program(s) simulated)",
         p.chips, p.dims, p.topology, p.data_parallel, p.tensor_parallel, p.pipeline_stages,
         p.pipeline_stages > 1 ? fmt::format(" ({} microbatches)", p.microbatches) : "",
         p.expert_parallel ? ", experts over data" : "", p.folded ? "folded" : "every chip simulated", p.simulated_chips);
    if (p.symmetric_network) line("  network          symmetric pod: chip 0's transfers stand for every chip's (--full-network: all)");
    line("  communication    {} collectives, {} on the links (busiest {:.1f} % busy); compute {}, exposed comm {}, "
         "idle (bubble) {}",
         p.collectives.size(), human_bytes(p.ici_bytes), 100 * busiest, human_time(double(p.compute_ps) * 1e-12),
         human_time(double(p.exposed_comm_ps) * 1e-12), human_time(double(p.idle_ps) * 1e-12));
  }
  line("  MXU utilization  {:.1f} %", 100 * r.mxu_utilization());
  line("  HBM              {} read, {} written, {:.1f} GB/s of {:.1f} peak", human_bytes(r.hbm_read_bytes),
       human_bytes(r.hbm_write_bytes), r.hbm_bandwidth_Bps() * 1e-9,
       double(r.hbm_peak_Bps) * 1e-9);
  {
    const RunEnergy e = run_energy(r);
    line("  energy           {:.4g} J{}: MACs {:.3g}, vector {:.3g}, SRAM {:.3g}, DRAM {:.3g}, ICI {:.3g}, static {:.3g} "
         "({} table)",
         e.total.total_j(), e.static_known ? "" : " (dynamic only: chip.energy.static_power not set)", e.total.mac_j,
         e.total.vector_j, e.total.sram_j, e.total.dram_j, e.total.ici_j, e.total.static_j, e.costs.node);
    line("  power            {:.1f} W average{}, {:.3g} TOPS/W", e.average_power_w,
         r.all_chips ? "" : fmt::format(", {:.1f} W peak (op by op)", e.peak_power_w), e.tops_per_w);
  }
  if (const HostStep h = host_step(r); h.modelled) {
    line("  host             step {} end to end ({}-bound, x{:.3f} the chip's {}): in {} ({}) in {}, out {} in {}, host {}{}",
         human_time(h.step_s()), h.bound, h.slowdown(), human_time(double(h.device_ps) * 1e-12),
         human_bytes(h.traffic.infeed_bytes), h.traffic.infeed_op, human_time(double(h.infeed_ps) * 1e-12),
         human_bytes(h.traffic.outfeed_bytes), human_time(double(h.outfeed_ps) * 1e-12),
         human_time(double(h.host_ps) * 1e-12), h.overlap ? ", overlapped with the chip" : ", one after another");
  }
  for (const auto& m : r.workload.moe_routing)
    line("  moe              {}: capacity {} tokens per expert, {} tokens dropped", m.op, m.capacity, m.dropped);
  if (r.training) {
    const auto& f = *r.training;
    line("  training         {} parameters, {} optimizer; HBM held: weights {}, optimizer state {}, gradients {}, "
         "stashed activations {}: peak {}{}",
         f.parameters, optimizer_name(r.workload.training.optimizer), human_bytes(f.weights_bytes),
         human_bytes(f.optimizer_state_bytes), human_bytes(f.gradient_bytes), human_bytes(f.stashed_activation_bytes),
         human_bytes(f.peak_bytes()),
         f.peak_bytes() > r.hw.chip.hbm.capacity_bytes ? "  DOES NOT FIT HBM (" + human_bytes(r.hw.chip.hbm.capacity_bytes) + ")"
                                                       : "");
  }
  line("");
  line("  {:<16} {:<7} {:<26} {:<5} {:>12} {:>9} {:>8} {:>10} {:>7}", "op", "kind", "shape", "dtype",
       "time", "TFLOPS", "MXU %", "HBM GB/s", "bound");
  for (const auto& o : r.ops) {
    const OpMetrics m = op_metrics(r, o);
    line("  {:<16} {:<7} {:<26} {:<5} {:>12} {:>9.2f} {:>8.1f} {:>10.1f} {:>7}", o.name, o.kind,
         o.repeat > 1 ? fmt::format("{} x{}", o.shape, o.repeat) : o.shape, o.dtype, human_time(m.time_s),
         m.achieved_flops * 1e-12, 100 * m.mxu_utilization, m.hbm_Bps * 1e-9, m.bound);
  }
  line("");
  line("  {:<16} {:>5} {:>12} {:>7} {:>9} {:>12} {:>12}", "by kind", "ops", "time", "share", "TFLOP", "HBM read",
       "HBM written");
  for (const KindTotals& t : totals_by_kind(r))
    line("  {:<16} {:>5} {:>12} {:>6.1f}% {:>9.3f} {:>12} {:>12}", t.kind, t.ops, human_time(t.time_s),
         100 * t.time_share, double(t.flops) * 1e-12, human_bytes(t.hbm_read_bytes), human_bytes(t.hbm_write_bytes));
  line("");
  bool all_ok = true;
  for (const auto& i : r.invariants)
    if (!i.ok) {
      all_ok = false;
      line("  INVARIANT FAILED {}: {}", i.name, i.detail);
    }
  if (all_ok) line("  invariants: all {} hold", r.invariants.size());
  return out;
}

}  // namespace podsim
