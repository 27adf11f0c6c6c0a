#include <algorithm>

#include <fmt/format.h>

#include "podsim/energy/block_energy.h"
#include "podsim/energy/chip_area.h"
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

// FLOP rates with a unit that keeps three significant digits on any chip (lab-8x8's
// 26 GFLOPS would be "0.03 TFLOPS" in fixed TFLOPS).
// "images" -> "image": the sample units of workload.samples.
std::string singular(const std::string& unit) {
  return !unit.empty() && unit.back() == 's' ? unit.substr(0, unit.size() - 1) : unit;
}

std::string human_flops(double flops_per_s) {
  if (flops_per_s >= 1e15) return fmt::format("{:.2f} PFLOPS", flops_per_s * 1e-15);
  if (flops_per_s >= 1e12) return fmt::format("{:.2f} TFLOPS", flops_per_s * 1e-12);
  if (flops_per_s >= 1e9) return fmt::format("{:.2f} GFLOPS", flops_per_s * 1e-9);
  return fmt::format("{:.2f} MFLOPS", flops_per_s * 1e-6);
}

// A FLOP count the same way ("34.36 G").
std::string human_count(double n) {
  if (n >= 1e15) return fmt::format("{:.2f} P", n * 1e-15);
  if (n >= 1e12) return fmt::format("{:.2f} T", n * 1e-12);
  if (n >= 1e9) return fmt::format("{:.2f} G", n * 1e-9);
  if (n >= 1e6) return fmt::format("{:.2f} M", n * 1e-6);
  if (n >= 1e3) return fmt::format("{:.2f} k", n * 1e-3);
  return fmt::format("{:.0f}", n);
}

// The first `depth` dot-separated parts of an op's name.
std::string name_prefix(const std::string& name, std::size_t depth) {
  std::size_t pos = 0;
  for (std::size_t d = 0; d < depth; ++d) {
    pos = name.find('.', pos);
    if (pos == std::string::npos) return name;
    if (d + 1 < depth) ++pos;
  }
  return name.substr(0, pos);
}

// A table whose columns are as wide as their widest cell: names of any length stay aligned.
class Table {
 public:
  // `right`: which columns are right-aligned (numbers).
  Table(std::vector<std::string> header, std::vector<bool> right) : right_(std::move(right)) {
    rows_.push_back(std::move(header));
  }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string text() const {
    std::vector<std::size_t> width(right_.size(), 0);
    for (const auto& row : rows_)
      for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    std::string out;
    for (const auto& row : rows_) {
      std::string line = " ";
      for (std::size_t c = 0; c < row.size(); ++c)
        line += right_[c] ? fmt::format(" {:>{}}", row[c], width[c]) : fmt::format(" {:<{}}", row[c], width[c]);
      while (!line.empty() && line.back() == ' ') line.pop_back();
      out += line + "\n";
    }
    return out;
  }

 private:
  std::vector<bool> right_;
  std::vector<std::vector<std::string>> rows_;
};
}  // namespace

std::string report_text(const RunResult& r, const TextReportOptions& options) {
  std::string out;
  auto line = [&](auto&&... args) {
    out += fmt::format(std::forward<decltype(args)>(args)...);
    out += '\n';
  };
  line("podsim: workload '{}' on hardware '{}'", r.workload.name, r.hw.name);
  line("  simulated time   {} ({} cycles at {:g} MHz)", human_time(r.time_s()), r.cycles,
       double(r.hw.chip.clock_hz) * 1e-6);
  line("  throughput       {} achieved of {} peak{}", human_flops(r.achieved_flops()), human_flops(r.peak_flops()),
       r.chips > 1 ? fmt::format(" ({} chips)", r.chips) : "");
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
    if (p.collective_hbm_bytes > 0)
      line("  contention       collectives moved {} through HBM; ops beside them {} slower (in compute)",
           human_bytes(p.collective_hbm_bytes), human_time(double(p.contention_ps) * 1e-12));
  }
  line("  MXU utilization  {:.1f} %", 100 * r.mxu_utilization());
  line("  HBM              {} read, {} written, {:.1f} GB/s of {:.1f} peak", human_bytes(r.hbm_read_bytes),
       human_bytes(r.hbm_write_bytes), r.hbm_bandwidth_Bps() * 1e-9,
       double(r.hbm_peak_Bps) * 1e-9);
  if (r.hw.chip.cmem.capacity_bytes > 0)
    line("  on-chip memory   {} read, {} written (chip.cmem: activations that fit, docs/timing.md)",
         human_bytes(r.cmem_read_bytes), human_bytes(r.cmem_write_bytes));
  const ChipArea area = chip_area(r.hw);  // energy by block and the area line
  {
    const RunEnergy e = run_energy(r);
    line("  energy           {:.4g} J{}: MACs {:.3g}, vector {:.3g}, SRAM {:.3g}, DRAM {:.3g}, ICI {:.3g}, static {:.3g} "
         "({} table)",
         e.total.total_j(), e.static_known ? "" : " (dynamic only: chip.energy.static_power not set)", e.total.mac_j,
         e.total.vector_j, e.total.sram_j, e.total.dram_j, e.total.ici_j, e.total.static_j, e.costs.node);
    if (e.dram_commands)
      line("  DRAM by command  ACT {:.3g} J, read {:.3g}, write {:.3g}, refresh {:.3g}, I/O {:.3g} "
           "(chip.energy.dram_model=per_command; currents from {})",
           e.total.dram.act_j, e.total.dram.read_j, e.total.dram.write_j, e.total.dram.refresh_j, e.total.dram.io_j,
           e.dram_commands->source);
    {
      std::string parts;  // energy/block_energy.h: static power spread by area
      for (const BlockEnergy& b : energy_by_block(e, area))
        parts += fmt::format("{}{} {:.3g}", parts.empty() ? "" : ", ", b.block, b.total_j());
      line("  by block         {} J (static power spread over the die by area)", parts);
    }
    line("  power            {:.1f} W average{}, {:.3g} TOPS/W", e.average_power_w,
         r.all_chips ? "" : fmt::format(", {:.1f} W peak (op by op)", e.peak_power_w), e.tops_per_w);
    if (const std::uint64_t n = r.samples_per_step()) {  // workload.samples
      const std::string& unit = r.workload.samples.unit;
      line("  samples          {} {} a step{}: {:.5g} {}/s, {:.4g} J per {}", n, unit,
           r.pod ? fmt::format(" ({} a replica's microbatch)", r.workload.samples.count) : "",
           r.samples_per_s(), unit, e.joules_per_sample, singular(unit));
    }
  }
  {
    std::string parts;
    for (const AreaBlock& b : area.blocks) parts += fmt::format("{}{} {:.3g}", parts.empty() ? "" : ", ", b.name, b.mm2);
    line("  area             {:.4g} mm2 a chip ({} table, {} PEs): {}; {:.3g} TFLOPS/mm2 achieved", area.total_mm2,
         area.node, area.pe_dtype, parts, r.achieved_flops() * 1e-12 / (area.total_mm2 * double(r.chips)));
  }
  if (const HostStep h = host_step(r); h.modelled) {
    line("  host             step {} end to end ({}-bound, x{:.3f} the chip's {}): in {} ({}) in {}, out {} in {}, host {}{}",
         human_time(h.step_s()), h.bound, h.slowdown(), human_time(double(h.device_ps) * 1e-12),
         human_bytes(h.traffic.infeed_bytes), h.traffic.infeed_op, human_time(double(h.infeed_ps) * 1e-12),
         human_bytes(h.traffic.outfeed_bytes), human_time(double(h.outfeed_ps) * 1e-12),
         human_time(double(h.host_ps) * 1e-12), h.overlap ? ", overlapped with the chip" : ", one after another");
  }
  if (const auto& m = r.mapper_search)
    line("  mapper           search: {} distinct MXU ops, {} one-op simulations, {} retiled (their MXU time alone {} "
         "-> {}); the whole run {} with the heuristic's tilings, {} with the search's: kept the {}",
         m->distinct_ops, m->simulations, m->retiled_ops, human_time(m->heuristic_s), human_time(m->best_s),
         human_time(m->whole_heuristic_s), human_time(m->whole_searched_s), m->kept_search ? "search's" : "heuristic's");
  for (const auto& m : r.workload.moe_routing)
    line("  moe              {}: capacity {} tokens per expert, {} tokens dropped", m.op, m.capacity, m.dropped);
  if (r.training) {
    const auto& f = *r.training;
    line("  training         {} parameters, {} optimizer; HBM held: weights {}, optimizer state {}, gradients {}, "
         "stashed activations {}{}: peak {}{}{}",
         f.parameters, optimizer_name(r.workload.training.optimizer), human_bytes(f.weights_bytes),
         human_bytes(f.optimizer_state_bytes), human_bytes(f.gradient_bytes), human_bytes(f.stashed_activation_bytes),
         f.microbatches_in_flight > 1 ? fmt::format(" ({} microbatches in flight)", f.microbatches_in_flight) : "",
         human_bytes(f.peak_bytes()),
         f.peak_bytes() > r.hw.chip.hbm.capacity_bytes ? "  DOES NOT FIT HBM (" + human_bytes(r.hw.chip.hbm.capacity_bytes) + ")"
                                                       : "",
         f.state_shards > 1
             ? fmt::format("; ZeRO-{}: master weights, optimizer state{} sharded over {} data ranks",
                           f.weights_sharded ? 3 : f.gradient_shards > 1 ? 2 : 1,
                           f.weights_sharded ? ", gradients and the weights (gathered per op)"
                                             : f.gradient_shards > 1 ? " and gradients" : "",
                           f.state_shards)
             : "");
  }
  line("");
  {
    // The op table: every op in run order, or the `top` longest, longest first.
    std::vector<std::size_t> shown(r.ops.size());
    for (std::size_t i = 0; i < shown.size(); ++i) shown[i] = i;
    auto span = [&](std::size_t i) { return r.ops[i].end_ps - r.ops[i].start_ps; };
    if (options.top > 0 && options.top < shown.size()) {
      std::stable_sort(shown.begin(), shown.end(), [&](std::size_t a, std::size_t b) { return span(a) > span(b); });
      shown.resize(options.top);
    }
    Table ops({"op", "kind", "shape", "dtype", "time", "FLOP", "TFLOPS", "MXU %", "HBM bytes", "HBM GB/s", "bound"},
              {false, false, false, false, true, true, true, true, true, true, false});
    for (std::size_t i : shown) {
      const OpResult& o = r.ops[i];
      const OpMetrics m = op_metrics(r, o);
      ops.add({o.name, o.kind, o.repeat > 1 ? fmt::format("{} x{}", o.shape, o.repeat) : o.shape, o.dtype,
               human_time(m.time_s), human_count(2.0 * double(o.macs)), fmt::format("{:.4g}", m.achieved_flops * 1e-12),
               fmt::format("{:.1f}", 100 * m.mxu_utilization), human_bytes(o.hbm_read_bytes + o.hbm_write_bytes),
               fmt::format("{:.1f}", m.hbm_Bps * 1e-9), m.bound});
    }
    out += ops.text();
    if (shown.size() < r.ops.size())
      line("  ({} longest of {} ops, longest first; --top 0 shows every op in run order)", shown.size(), r.ops.size());
  }
  if (options.group_depth > 0) {
    // Ops grouped by name prefix, in the order each group first runs.
    struct Group {
      std::string name;
      std::size_t ops = 0;
      double time_s = 0, flops = 0;
      std::uint64_t bytes = 0;
    };
    std::vector<Group> groups;
    double total = 0;
    for (const OpResult& o : r.ops) {
      const std::string g = name_prefix(o.name, options.group_depth);
      auto it = std::find_if(groups.begin(), groups.end(), [&](const Group& x) { return x.name == g; });
      if (it == groups.end()) it = groups.insert(groups.end(), Group{g});
      const double t = double(o.end_ps - o.start_ps) * 1e-12;
      ++it->ops;
      it->time_s += t;
      it->flops += 2.0 * double(o.macs);
      it->bytes += o.hbm_read_bytes + o.hbm_write_bytes;
      total += t;
    }
    line("");
    Table by({"by layer", "ops", "time", "share", "FLOP", "TFLOPS", "HBM bytes"},
             {false, true, true, true, true, true, true});
    for (const Group& g : groups)
      by.add({g.name, std::to_string(g.ops), human_time(g.time_s),
              fmt::format("{:.1f}%", total > 0 ? 100 * g.time_s / total : 0.0), human_count(g.flops),
              fmt::format("{:.4g}", g.time_s > 0 ? g.flops / g.time_s * 1e-12 : 0.0), human_bytes(g.bytes)});
    out += by.text();
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
