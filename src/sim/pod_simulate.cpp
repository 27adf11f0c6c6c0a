#include "podsim/sim/pod_simulate.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "podsim/arch/clock.h"
#include "podsim/compiler/workload_plan.h"
#include "podsim/config/config_error.h"
#include "podsim/net/collectives.h"
#include "podsim/net/pod_topology.h"
#include "podsim/sim/isolated_runs.h"
#include "podsim/sim/pod_schedule.h"

namespace podsim {
namespace {

// Runs the plan's schedules on the network with the chips' simulated op durations.
RunResult compose(const HardwareSpec& hw, const PodPlan& plan, const std::vector<RunResult>& sims,
                  const std::vector<std::uint32_t>& sim_of_chip, bool folded) {
  const PodTopology topo(hw.pod);
  const std::uint32_t P = topo.chips();
  LinkNetwork net(topo, hw.pod.chunk_bytes);
  const std::size_t I = plan.instances.size();

  // Every (instance, member) gets a node that completes when the member's part is done.
  std::vector<std::map<std::uint32_t, std::uint32_t>> done(I);
  for (std::size_t k = 0; k < I; ++k) {
    const CollectiveInstance& in = plan.instances[k];
    for (std::uint32_t c : in.spec.group) {
      NetTransfer n;
      n.src = n.dst = c;
      done[k][c] = net.add(std::move(n));
    }
  }
  // Compute nodes, and where each chip issues and waits.
  std::vector<std::map<std::uint32_t, std::vector<std::uint32_t>>> start(I);  // instance -> chip -> after
  std::vector<std::vector<std::uint32_t>> compute_nodes(P);
  std::vector<std::vector<std::vector<std::uint32_t>>> waited(P);   // per compute node: instances it waits for
  std::vector<std::vector<std::uint32_t>> tail(P);                 // instances waited after the last op
  std::vector<std::uint64_t> busy(P, 0);
  std::vector<std::uint32_t> stream(P, UINT32_MAX);               // the chip's last async collective
  for (std::uint32_t c = 0; c < P; ++c) {
    const RunResult& s = sims[sim_of_chip[c]];
    std::vector<std::uint32_t> pending;
    std::uint32_t last = UINT32_MAX;
    for (const ScheduleItem& it : plan.schedule[c]) {
      if (it.kind == ScheduleItem::compute) {
        NetTransfer n;
        n.src = n.dst = c;
        const OpResult& op = s.ops[it.index];
        n.duration_ps = op.end_ps - op.start_ps;
        busy[c] += n.duration_ps;
        if (last != UINT32_MAX) n.after.push_back(last);
        for (std::uint32_t k : pending) n.after.push_back(done[k].at(c));
        last = net.add(std::move(n));
        compute_nodes[c].push_back(last);
        waited[c].push_back(std::move(pending));
        pending.clear();
      } else if (it.kind == ScheduleItem::issue) {
        auto& gate = start[it.index][c];
        if (last != UINT32_MAX) gate.push_back(last);
        for (std::uint32_t k : pending) gate.push_back(done[k].at(c));
        if (plan.instances[it.index].async) {
          if (stream[c] != UINT32_MAX) gate.push_back(done[stream[c]].at(c));
          stream[c] = it.index;
        }
      } else {
        pending.push_back(it.index);
      }
    }
    tail[c] = std::move(pending);
  }
  // The collectives' transfers, from each member's gate; then their done nodes.
  std::vector<CollectiveRun> runs;
  for (std::size_t k = 0; k < I; ++k) {
    const CollectiveInstance& in = plan.instances[k];
    std::vector<ChipGate> gate(P);
    for (auto& [c, after] : start[k]) gate[c].after = after;
    runs.push_back(add_collective(net, in.spec, &gate));
    for (auto& [c, node] : done[k]) {
      net.transfer(node).after = runs.back().done[c].after;
      net.transfer(node).after_delay_ps = runs.back().done[c].delay_ps;
    }
  }
  net.run();

  std::vector<CollectiveResult> results;
  for (const auto& run : runs) results.push_back(collective_result(net, run));

  RunResult r = sims[sim_of_chip[0]];
  r.workload.name = plan.name;
  PodResult pod;
  pod.chips = P;
  pod.topology = hw.pod.topology;
  pod.dims = hw.pod.dims;
  pod.data_parallel = plan.layout.data;
  pod.tensor_parallel = plan.layout.tensor;
  pod.pipeline_stages = plan.layout.pipeline;
  pod.microbatches = plan.layout.microbatches;
  pod.expert_parallel = plan.layout.expert;
  pod.folded = folded;
  pod.simulated_chips = std::uint32_t(sims.size());
  std::uint64_t end = 0;
  for (std::uint32_t c = 0; c < P; ++c) {
    std::uint64_t prev_end = 0, exposed = 0, idle = 0;
    for (std::size_t n = 0; n < compute_nodes[c].size(); ++n) {
      const NetTransfer& node = net.transfer(compute_nodes[c][n]);
      const std::uint64_t wait = node.start_ps > prev_end ? node.start_ps - prev_end : 0;
      if (wait > 0) {
        // Waiting on a collective is exposed communication; on a pipeline message, only as
        // long as the message itself took (the rest is the other stage computing: bubble).
        std::uint64_t comm = 0;
        bool p2p_only = true;
        for (std::uint32_t k : waited[c][n]) {
          if (!plan.instances[k].p2p) p2p_only = false;
          comm = std::max(comm, results[k].end_ps - results[k].start_ps);
        }
        comm = p2p_only ? std::min(wait, comm) : wait;
        exposed += comm;
        idle += wait - comm;
      }
      prev_end = node.end_ps;
    }
    std::uint64_t chip_end = prev_end;
    for (std::uint32_t k : tail[c]) chip_end = std::max(chip_end, net.transfer(done[k].at(c)).end_ps);
    if (stream[c] != UINT32_MAX) chip_end = std::max(chip_end, net.transfer(done[stream[c]].at(c)).end_ps);
    exposed += chip_end - prev_end;
    end = std::max(end, chip_end);
    pod.compute_ps = std::max(pod.compute_ps, busy[c]);
    spdlog::debug("chip {}: busy {} ps, exposed {} ps, idle {} ps, end {} ps", c, busy[c], exposed, idle, chip_end);
    pod.exposed_comm_ps = std::max(pod.exposed_comm_ps, exposed);
    pod.idle_ps = std::max(pod.idle_ps, idle);
  }
  for (std::size_t i = 0; i < r.ops.size(); ++i) r.ops[i].start_ps = r.ops[i].end_ps = 0;
  {  // chip 0's ops on the pod's timeline (an op run per microbatch shows its first run)
    std::vector<bool> seen(r.ops.size(), false);
    std::size_t n = 0;
    for (const ScheduleItem& it : plan.schedule[0]) {
      if (it.kind != ScheduleItem::compute) continue;
      const NetTransfer& node = net.transfer(compute_nodes[0][n++]);
      if (seen[it.index]) continue;
      seen[it.index] = true;
      r.ops[it.index].start_ps = node.start_ps;
      r.ops[it.index].end_ps = node.end_ps;
    }
  }
  if (r.trace) {
    // The pod's timeline beside chip 0's own simulation: its ops as composed (with the
    // waits), and every collective it takes part in.
    const int ops_track = r.trace->track("pod: chip 0 ops");
    std::size_t n = 0;
    for (const ScheduleItem& it : plan.schedule[0]) {
      if (it.kind != ScheduleItem::compute) continue;
      const NetTransfer& node = net.transfer(compute_nodes[0][n++]);
      r.trace->slice(ops_track, node.start_ps, node.end_ps, r.ops[it.index].name);
    }
    const int coll_track = r.trace->track("pod: chip 0 collectives");
    for (std::size_t k = 0; k < I; ++k)
      if (done[k].count(0))
        r.trace->slice(coll_track, results[k].start_ps, results[k].end_ps, plan.instances[k].name,
                       results[k].bytes_sent);
  }
  for (std::size_t k = 0; k < I; ++k) {
    const CollectiveInstance& in = plan.instances[k];
    const char* algorithm = collective_algorithm_label(in.spec.kind, runs[k].algorithm);
    pod.collectives.push_back({in.name, collective_kind_name(in.spec.kind), algorithm,
                               in.spec.bytes, std::uint32_t(in.spec.group.size()), results[k].start_ps,
                               results[k].end_ps, results[k].bytes_sent, results[k].busbw_Bps});
  }
  std::uint64_t link_bytes = 0;
  for (std::size_t l = 0; l < topo.links().size(); ++l) {
    const NetLinkStats& ls = net.link_stats()[l];
    link_bytes += ls.bytes;
    if (!topo.links()[l].exists) continue;
    pod.links.push_back({topo.links()[l].name, ls.bytes, end ? double(ls.busy_ps) / double(end) : 0.0});
  }
  pod.ici_bytes = link_bytes;
  pod.network_events = net.events();

  // Totals over every chip: every op run of its schedule (a microbatch's ops run M times).
  r.chips = P;
  r.end_ps = end;
  r.cycles = ClockDomain(hw.chip.clock_hz).cycle_at(end);
  r.macs = r.hbm_read_bytes = r.hbm_write_bytes = r.padded_macs = r.mxu_active_cycles = 0;
  for (std::uint32_t c = 0; c < P; ++c) {
    const RunResult& s = sims[sim_of_chip[c]];
    for (const ScheduleItem& it : plan.schedule[c]) {
      if (it.kind != ScheduleItem::compute) continue;
      const OpResult& op = s.ops[it.index];
      r.macs += op.macs;
      r.hbm_read_bytes += op.hbm_read_bytes;
      r.hbm_write_bytes += op.hbm_write_bytes;
      r.padded_macs += op.padded_macs;
      r.mxu_active_cycles += op.mxu_active_cycles;
    }
  }
  r.hbm_peak_Bps = sims[sim_of_chip[0]].hbm_peak_Bps * P;
  bool chips_ok = true;
  std::string failed;
  for (std::size_t i = 0; i < sims.size(); ++i)
    if (!sims[i].invariants_hold()) {
      chips_ok = false;
      failed += fmt::format(" program{}", i);
    }
  r.invariants.push_back({"every_chip_holds_its_invariants", chips_ok,
                          chips_ok ? fmt::format("{} chip program(s) simulated", sims.size()) : "failed on" + failed});
  r.invariants.push_back({"ici_bytes_equal_routes", link_bytes == net.byte_hops(),
                          fmt::format("links carried {} B, transfers x hops = {} B", link_bytes, net.byte_hops())});
  const bool grads = plan.layout.data == 1 || plan.bucket_bytes_chip0 == plan.gradient_bytes_chip0;
  r.invariants.push_back({"gradients_all_reduced", grads,
                          fmt::format("chip 0 all-reduced {} B of {} B of weight gradients", plan.bucket_bytes_chip0,
                                      plan.gradient_bytes_chip0)});
  r.stats.add("pod", "chips", "1", std::uint64_t(P), "chips in the pod");
  r.stats.add("pod", "ici_bytes", "B", pod.ici_bytes, "bytes carried, summed over links");
  r.stats.add("pod", "exposed_comm", "ps", pod.exposed_comm_ps, "time the slowest chip waited on communication");
  r.stats.add("pod", "idle", "ps", pod.idle_ps, "time the slowest chip waited on other chips' compute (pipeline bubble)");
  r.stats.add("pod", "network_events", "1", pod.network_events, "chunk-hops and nodes the network model handled");
  r.pod = std::move(pod);
  return r;
}

// A stable text of a program's ops without their names: chips whose programs print the
// same (expert 3's FFN on one chip, expert 7's on another) take the same time.

std::uint32_t largest_divisor_at_most(std::uint32_t n, double limit) {
  std::uint32_t best = 1;
  for (std::uint32_t d = 1; d <= n && d <= limit + 1e-9; ++d)
    if (n % d == 0) best = d;
  return best;
}

}  // namespace

std::string pod_dims_for(std::uint32_t chips, std::size_t dimensions) {
  std::vector<std::uint32_t> dims;
  std::uint32_t rest = chips;
  for (std::size_t left = dimensions; left > 1; --left) {
    const std::uint32_t d = largest_divisor_at_most(rest, std::pow(double(rest), 1.0 / double(left)));
    dims.push_back(d);
    rest /= d;
  }
  dims.push_back(rest);
  std::sort(dims.rbegin(), dims.rend());
  std::string out;
  for (std::size_t i = 0; i < dims.size(); ++i) out += (i ? "x" : "") + std::to_string(dims[i]);
  return out;
}

RunResult simulate_pod(const HardwareSpec& hw, const WorkloadSpec& workload, const SimulateOptions& options,
                       const PodSimulateOptions& pod_options) {
  const PodPlan plan = plan_pod(hw, workload);
  const std::uint32_t P = plan.layout.chips;
  // Folded: each distinct program once. Full: every chip its own simulation.
  std::vector<WorkloadSpec> to_simulate;
  std::vector<std::uint32_t> sim_of_chip(P);
  if (pod_options.full) {
    for (std::uint32_t c = 0; c < P; ++c) {
      to_simulate.push_back(plan.programs.programs[plan.programs.program_of[c]]);
      sim_of_chip[c] = c;
    }
  } else {
    std::map<std::string, std::uint32_t> seen;
    std::vector<std::uint32_t> sim_of_program(plan.programs.programs.size());
    for (std::size_t p = 0; p < plan.programs.programs.size(); ++p) {
      const auto [it, fresh] = seen.emplace(program_shape_key(plan.expanded[p]), std::uint32_t(to_simulate.size()));
      if (fresh) to_simulate.push_back(plan.programs.programs[p]);
      sim_of_program[p] = it->second;
    }
    for (std::uint32_t c = 0; c < P; ++c) sim_of_chip[c] = sim_of_program[plan.programs.program_of[c]];
  }
  for (const WorkloadSpec& w : to_simulate) plan_workload(without_collectives(expand_workload(w)), hw);  // input errors here, not in a child
  const std::vector<RunResult> sims = simulate_isolated(hw, to_simulate, options, pod_options.jobs);
  for (std::size_t i = 0; i < sims.size(); ++i)
    for (const auto& op : sims[i].ops) spdlog::trace("sim {} op {} {} ps", i, op.name, op.end_ps - op.start_ps);
  return compose(hw, plan, sims, sim_of_chip, !pod_options.full);
}

std::vector<std::string> validate_pod(const HardwareSpec& hw, const WorkloadSpec& workload) {
  const PodPlan plan = plan_pod(hw, workload);
  const PodLayout& L = plan.layout;
  std::vector<std::string> lines;
  lines.push_back(fmt::format("pod: {} chips ({} {}): data {} x tensor {} x pipeline {}{}{}", L.chips, hw.pod.dims,
                              hw.pod.topology, L.data, L.tensor, L.pipeline,
                              L.pipeline > 1 ? fmt::format(", {} microbatches ({})", L.microbatches,
                                                           L.one_f_one_b ? "1F1B" : "GPipe")
                                             : "",
                              L.expert ? ", experts over the data group" : ""));
  std::map<std::string, int> seen;
  for (std::size_t p = 0; p < plan.expanded.size(); ++p) {
    const WorkloadSpec chip = without_collectives(plan.expanded[p]);
    plan_workload(chip, hw);  // throws ConfigError when the program does not fit the chip
    if (seen.emplace(program_shape_key(plan.expanded[p]), 0).second)
      lines.push_back(fmt::format("  chip program {}: {} ops, {} collectives", p, chip.ops.size(),
                                  plan.expanded[p].ops.size() - chip.ops.size()));
  }
  lines.push_back(fmt::format("  {} collective runs per step", plan.instances.size()));
  return lines;
}

std::vector<RunResult> simulate_pod_sizes(const HardwareSpec& hw, const WorkloadSpec& workload,
                                          const std::vector<std::uint32_t>& chip_counts,
                                          const SimulateOptions& options) {
  const ParallelismSpec& par = workload.parallelism;
  if (par.data != 0 || par.tensor != 1 || par.pipeline != 1 || par.expert)
    throw ConfigError(par.where, "workload.parallelism",
                      "--chips runs data parallelism at each size; leave out data, tensor, pipeline and expert");
  const std::vector<RunResult> sims = simulate_chips(hw, {workload}, options);
  std::vector<RunResult> out;
  for (std::uint32_t chips : chip_counts) {
    HardwareSpec sized = hw;
    sized.pod.dims = hw.pod.topology == "ring" ? std::to_string(chips) : pod_dims_for(chips, hw.pod.dim_sizes().size());
    const PodPlan plan = plan_pod(sized, workload);
    out.push_back(compose(sized, plan, sims, std::vector<std::uint32_t>(chips, 0), true));
  }
  return out;
}

}  // namespace podsim
