#include "podsim/sim/pod_simulate.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "podsim/arch/clock.h"
#include "podsim/compiler/workload_plan.h"
#include "podsim/config/config_error.h"
#include "podsim/net/collectives.h"
#include "podsim/net/pod_topology.h"
#include "podsim/sim/collective_contention.h"
#include "podsim/sim/isolated_runs.h"
#include "podsim/sim/pod_schedule.h"

namespace podsim {
namespace {

// The pod's step as the network's event engine runs it: every chip's schedule as a chain of
// op nodes (each holding the chip for its simulated duration), the collectives' transfers
// released from the ops that produce their data, and per (collective, member) a node that
// completes when that member's part is done. `extra_ps` (per chip, per op node; may be
// empty) stretches ops slowed by the collectives beside them (collective_contention.h).
using OpStretch = std::vector<std::vector<std::uint64_t>>;

class PodTimeline {
 public:
  // `symmetric` (see symmetric_pod()): chip 0 alone stands for every chip.
  PodTimeline(const HardwareSpec& hw, const PodPlan& plan, const std::vector<RunResult>& sims,
              const std::vector<std::uint32_t>& sim_of_chip, bool symmetric, const OpStretch& extra_ps)
      : plan_(plan), topo_(hw.pod), net_(topo_, hw.pod.chunk_bytes), symmetric_(symmetric),
        modelled_(symmetric ? 1 : topo_.chips()) {
    const std::uint32_t P = topo_.chips();
    const std::size_t I = plan.instances.size();
    // The op and done nodes alone, counted before any is built: a pod too large for the
    // network model is refused in seconds, not after minutes and gigabytes of nodes.
    std::uint64_t nodes = 0;
    for (const auto& in : plan.instances) nodes += symmetric_ ? 1 : in.spec.group.size();
    for (std::uint32_t c = 0; c < modelled_; ++c)
      for (const ScheduleItem& it : plan.schedule[c]) nodes += it.kind == ScheduleItem::compute;
    net_.expect_transfers(nodes);
    done_.resize(I);
    for (std::size_t k = 0; k < I; ++k)
      for (std::uint32_t c : plan.instances[k].spec.group) {
        if (c >= modelled_) continue;
        NetTransfer n;
        n.src = n.dst = c;
        done_[k][c] = net_.add(std::move(n));
      }
    // Compute nodes, and where each chip issues and waits.
    std::vector<std::map<std::uint32_t, std::vector<std::uint32_t>>> start(I);  // instance -> chip -> after
    compute_nodes_.resize(P);
    op_index_.resize(P);
    waited_.resize(P);
    tail_.resize(P);
    busy_.assign(P, 0);
    stream_.assign(P, UINT32_MAX);
    for (std::uint32_t c = 0; c < modelled_; ++c) {
      const RunResult& s = sims[sim_of_chip[c]];
      std::vector<std::uint32_t> pending;
      std::uint32_t last = UINT32_MAX;
      for (const ScheduleItem& it : plan.schedule[c]) {
        if (it.kind == ScheduleItem::compute) {
          NetTransfer n;
          n.src = n.dst = c;
          const OpResult& op = s.ops[it.index];
          n.duration_ps = op.end_ps - op.start_ps;
          busy_[c] += n.duration_ps;  // alone: the stretch is reported as contention
          const std::size_t node = compute_nodes_[c].size();
          if (c < extra_ps.size() && node < extra_ps[c].size()) n.duration_ps += extra_ps[c][node];
          if (last != UINT32_MAX) n.after.push_back(last);
          for (std::uint32_t k : pending) n.after.push_back(done_[k].at(c));
          last = net_.add(std::move(n));
          compute_nodes_[c].push_back(last);
          op_index_[c].push_back(it.index);
          waited_[c].push_back(std::move(pending));
          pending.clear();
        } else if (it.kind == ScheduleItem::issue) {
          auto& gate = start[it.index][c];
          if (last != UINT32_MAX) gate.push_back(last);
          for (std::uint32_t k : pending) gate.push_back(done_[k].at(c));
          if (plan.instances[it.index].async) {
            if (stream_[c] != UINT32_MAX) gate.push_back(done_[stream_[c]].at(c));
            stream_[c] = it.index;
          }
        } else {
          pending.push_back(it.index);
        }
      }
      tail_[c] = std::move(pending);
    }
    // The collectives' transfers, from each member's gate; then their done nodes.
    for (std::size_t k = 0; k < I; ++k) {
      std::vector<ChipGate> gate(P);
      for (auto& [c, after] : start[k]) gate[c].after = after;
      runs_.push_back(add_collective(net_, plan.instances[k].spec, &gate, symmetric_));
      for (auto& [c, node] : done_[k]) {
        net_.transfer(node).after = runs_.back().done[c].after;
        net_.transfer(node).after_delay_ps = runs_.back().done[c].delay_ps;
      }
    }
    net_.run();
    for (const auto& run : runs_) {
      results_.push_back(collective_result(net_, run));
      if (symmetric_) results_.back().bytes_sent *= P;  // every chip sent what chip 0 did
    }
  }

  // Per chip, its waits split into exposed communication and idle time (the slowest of each
  // into `pod`); returns the step's end.
  std::uint64_t account(PodResult& pod) const {
    std::uint64_t end = 0;
    for (std::uint32_t c = 0; c < modelled_; ++c) {
      std::uint64_t prev_end = 0, exposed = 0, idle = 0;
      for (std::size_t n = 0; n < compute_nodes_[c].size(); ++n) {
        const NetTransfer& node = net_.transfer(compute_nodes_[c][n]);
        const std::uint64_t wait = node.start_ps > prev_end ? node.start_ps - prev_end : 0;
        if (wait > 0) {
          // Waiting on a collective is exposed communication; on a pipeline message, only as
          // long as the message itself took (the rest is the other stage computing: bubble).
          std::uint64_t comm = 0;
          bool p2p_only = true;
          for (std::uint32_t k : waited_[c][n]) {
            if (!plan_.instances[k].p2p) p2p_only = false;
            comm = std::max(comm, results_[k].end_ps - results_[k].start_ps);
          }
          comm = p2p_only ? std::min(wait, comm) : wait;
          exposed += comm;
          idle += wait - comm;
        }
        prev_end = node.end_ps;
      }
      std::uint64_t chip_end = prev_end;
      for (std::uint32_t k : tail_[c]) chip_end = std::max(chip_end, net_.transfer(done_[k].at(c)).end_ps);
      if (stream_[c] != UINT32_MAX) chip_end = std::max(chip_end, net_.transfer(done_[stream_[c]].at(c)).end_ps);
      exposed += chip_end - prev_end;
      end = std::max(end, chip_end);
      spdlog::debug("chip {}: busy {} ps, exposed {} ps, idle {} ps, end {} ps", c, busy_[c], exposed, idle, chip_end);
      pod.compute_ps = std::max(pod.compute_ps, busy_[c]);
      pod.exposed_comm_ps = std::max(pod.exposed_comm_ps, exposed);
      pod.idle_ps = std::max(pod.idle_ps, idle);
    }
    return end;
  }

  // Chip 0's ops on the pod's timeline (an op run per microbatch shows its first run), and
  // with a trace, its ops and collectives as tracks beside its own simulation.
  void show_chip0(RunResult& r) const {
    for (OpResult& op : r.ops) op.start_ps = op.end_ps = 0;
    std::vector<bool> seen(r.ops.size(), false);
    const int ops_track = r.trace ? r.trace->track("pod: chip 0 ops") : 0;
    std::size_t n = 0;
    for (const ScheduleItem& it : plan_.schedule[0]) {
      if (it.kind != ScheduleItem::compute) continue;
      const NetTransfer& node = net_.transfer(compute_nodes_[0][n++]);
      if (r.trace) r.trace->slice(ops_track, node.start_ps, node.end_ps, r.ops[it.index].name);
      if (seen[it.index]) continue;
      seen[it.index] = true;
      r.ops[it.index].start_ps = node.start_ps;
      r.ops[it.index].end_ps = node.end_ps;
    }
    if (!r.trace) return;
    const int coll_track = r.trace->track("pod: chip 0 collectives");
    for (std::size_t k = 0; k < results_.size(); ++k)
      if (done_[k].count(0))
        r.trace->slice(coll_track, results_[k].start_ps, results_[k].end_ps, plan_.instances[k].name,
                       results_[k].bytes_sent);
  }

  // Each collective's time and bus bandwidth, each link's bytes and utilization.
  void record(PodResult& pod, std::uint64_t end) const {
    for (std::size_t k = 0; k < results_.size(); ++k) {
      const CollectiveInstance& in = plan_.instances[k];
      pod.collectives.push_back({in.name, collective_kind_name(in.spec.kind),
                                 collective_algorithm_label(in.spec.kind, runs_[k].algorithm), in.spec.bytes,
                                 std::uint32_t(in.spec.group.size()), results_[k].start_ps, results_[k].end_ps,
                                 results_[k].bytes_sent, results_[k].busbw_Bps});
    }
    // Symmetric: every chip's link in a direction carried what chip 0's did (ids are
    // (chip x dimensions + dimension) x 2 + direction, pod_topology.h).
    const std::size_t per_chip = 2 * topo_.dims().size();
    for (std::size_t l = 0; l < topo_.links().size(); ++l) {
      const NetLinkStats& ls = net_.link_stats()[symmetric_ ? l % per_chip : l];
      pod.ici_bytes += ls.bytes;
      if (topo_.links()[l].exists)
        pod.links.push_back({topo_.links()[l].name, ls.bytes, end ? double(ls.busy_ps) / double(end) : 0.0});
    }
    pod.network_events = net_.events();
    pod.symmetric_network = symmetric_;
  }

  std::uint64_t byte_hops() const { return net_.byte_hops() * (symmetric_ ? topo_.chips() : 1); }

  // Each modelled chip's collectives: when they are active on it and the HBM bytes and
  // vector time they take there (collective_contention.h). Sums the bytes into *hbm_bytes
  // (over every chip of the pod).
  std::vector<std::vector<CollectiveLoad>> collective_loads(std::uint64_t* hbm_bytes) const {
    std::vector<std::vector<CollectiveLoad>> loads(modelled_);
    std::vector<std::uint64_t> sent(modelled_), received(modelled_), begin(modelled_);
    *hbm_bytes = 0;
    for (std::size_t k = 0; k < runs_.size(); ++k) {
      const CollectiveRun& run = runs_[k];
      std::fill(sent.begin(), sent.end(), 0);
      std::fill(received.begin(), received.end(), 0);
      std::fill(begin.begin(), begin.end(), UINT64_MAX);
      for (std::uint32_t id = run.first; id < run.first + run.count; ++id) {
        const NetTransfer& t = net_.transfer(id);
        if (t.src == t.dst) continue;
        if (t.src < modelled_) {
          sent[t.src] += t.bytes;
          begin[t.src] = std::min(begin[t.src], t.start_ps);
        }
        if (t.dst < modelled_) {
          received[t.dst] += t.bytes;
          begin[t.dst] = std::min(begin[t.dst], t.start_ps);
        }
      }
      const CollectiveSpec& spec = run.spec;
      const auto members = std::uint32_t(spec.group.empty() ? topo_.chips() : spec.group.size());
      const std::uint64_t reduced = collective_reduced_bytes(spec.kind, spec.bytes, members);
      for (const auto& [c, node] : done_[k]) {
        if (begin[c] == UINT64_MAX) continue;  // nothing sent or received
        // Symmetric: chip 0 receives what it sends (its neighbour's transfers are not modelled).
        const std::uint64_t in = symmetric_ ? sent[c] : received[c];
        CollectiveLoad l;
        l.begin_ps = begin[c];
        l.end_ps = std::max(begin[c], net_.transfer(node).end_ps);
        l.hbm_bytes = collective_hbm_bytes(sent[c], in, reduced);
        l.vpu_ps = spec.reduce_Bps ? std::uint64_t(double(reduced) / double(spec.reduce_Bps) * 1e12) : 0;
        *hbm_bytes += l.hbm_bytes * (symmetric_ ? topo_.chips() : 1);
        loads[c].push_back(l);
      }
    }
    return loads;
  }

  // How much longer each op takes beside the collectives active in its window on this
  // timeline (per chip, per op node).
  OpStretch contention(const HardwareSpec& hw, const std::vector<RunResult>& sims,
                       const std::vector<std::uint32_t>& sim_of_chip, std::uint64_t* hbm_bytes) const {
    const std::vector<std::vector<CollectiveLoad>> loads = collective_loads(hbm_bytes);
    OpStretch extra(modelled_);
    const double vpu_ps_per_cycle = 1e12 / double(hw.chip.clock_hz) / double(std::max(1u, hw.chip.tensor_cores));
    for (std::uint32_t c = 0; c < modelled_; ++c) {
      const RunResult& s = sims[sim_of_chip[c]];
      extra[c].resize(compute_nodes_[c].size(), 0);
      if (loads[c].empty()) continue;
      for (std::size_t n = 0; n < compute_nodes_[c].size(); ++n) {
        const NetTransfer& node = net_.transfer(compute_nodes_[c][n]);
        const OpResult& op = s.ops[op_index_[c][n]];
        OpWindow w;
        w.start_ps = node.start_ps;
        w.end_ps = node.end_ps;
        w.alone_ps = op.end_ps - op.start_ps;
        w.hbm_bytes = op.hbm_read_bytes + op.hbm_write_bytes;
        w.vpu_ps = std::uint64_t(double(op.vpu_busy_cycles) * vpu_ps_per_cycle);
        extra[c][n] = contention_extra_ps(w, loads[c], s.hbm_peak_Bps);
      }
    }
    return extra;
  }

 private:
  const PodPlan& plan_;
  PodTopology topo_;
  LinkNetwork net_;
  bool symmetric_;
  std::uint32_t modelled_;  // chips whose nodes and transfers are in the network
  std::vector<std::map<std::uint32_t, std::uint32_t>> done_;  // instance -> member -> its done node
  std::vector<std::vector<std::uint32_t>> compute_nodes_;    // per chip, in schedule order
  std::vector<std::vector<std::uint32_t>> op_index_;         // per chip, per compute node: its op
  std::vector<std::vector<std::vector<std::uint32_t>>> waited_;  // per compute node: instances it waits for
  std::vector<std::vector<std::uint32_t>> tail_;             // per chip: instances waited after its last op
  std::vector<std::uint64_t> busy_;                          // per chip: its ops' durations
  std::vector<std::uint32_t> stream_;                        // per chip: its last async collective
  std::vector<CollectiveRun> runs_;
  std::vector<CollectiveResult> results_;
};

// The pod's RunResult: chip 0's report with the pod's timeline, totals over every chip, the
// network's records and the pod invariants.
// Whether chip 0 can stand for every chip on the network (PodTimeline): the same program
// and schedule on every chip, every collective translation-symmetric on a torus with
// wraparound (net/collectives.h), no pipeline messages.
bool symmetric_pod(const HardwareSpec& hw, const PodPlan& plan, const std::vector<std::uint32_t>& sim_of_chip) {
  const PodTopology topo(hw.pod);
  if (topo.is_switch() || !topo.wraparound() || topo.chips() < 2) return false;
  for (const CollectiveInstance& in : plan.instances)
    if (in.p2p || !symmetric_collective(topo, in.spec)) return false;
  for (std::uint32_t c = 1; c < topo.chips(); ++c) {
    if (sim_of_chip[c] != sim_of_chip[0] || plan.schedule[c].size() != plan.schedule[0].size()) return false;
    for (std::size_t i = 0; i < plan.schedule[c].size(); ++i)
      if (plan.schedule[c][i].kind != plan.schedule[0][i].kind || plan.schedule[c][i].index != plan.schedule[0][i].index)
        return false;
  }
  return true;
}

// HBM a training step holds on its fullest chip. Each chip program's footprint counts one
// microbatch's stashed activations, but a pipeline stage holds those of every microbatch
// whose forward ran and whose backward has not: all M under GPipe (every forward first),
// min(S - s, M) on stage s under 1F1B (its warm-up forwards and the one in progress;
// pod_schedule.cpp). Without this the report said GPT-3 175B on 8 stages of 8 microbatches
// held one microbatch's activations (docs/pods.md).
TrainingFootprint held_at_peak(const PodLayout& L, const std::vector<RunResult>& sims,
                               const std::vector<std::uint32_t>& sim_of_chip) {
  TrainingFootprint best;
  bool first = true;
  for (std::uint32_t c = 0; c < sim_of_chip.size(); ++c) {
    const auto& one = sims[sim_of_chip[c]].training;
    if (!one) continue;
    TrainingFootprint f = *one;
    f.microbatches_in_flight = L.microbatches_in_flight(L.stage(c));
    f.stashed_activation_bytes = one->stashed_activation_bytes * f.microbatches_in_flight;
    if (first || f.peak_bytes() > best.peak_bytes()) best = f;
    first = false;
  }
  return best;
}

RunResult compose(const HardwareSpec& hw, const PodPlan& plan, const std::vector<RunResult>& sims,
                  const std::vector<std::uint32_t>& sim_of_chip, bool folded, bool full_network) {
  const bool symmetric = !full_network && symmetric_pod(hw, plan, sim_of_chip);
  // Collectives' HBM and vector traffic slows the ops beside them: stretch those ops and run
  // the step again, until the stretches repeat (at most kPasses runs; docs/pods.md).
  constexpr int kPasses = 4;
  OpStretch extra;
  std::uint64_t collective_hbm_bytes = 0;
  auto timeline = std::make_unique<PodTimeline>(hw, plan, sims, sim_of_chip, symmetric, extra);
  for (int pass = 1; hw.pod.collective_memory_traffic && pass < kPasses; ++pass) {
    OpStretch next = timeline->contention(hw, sims, sim_of_chip, &collective_hbm_bytes);
    if (next == extra) break;
    extra = std::move(next);
    timeline = std::make_unique<PodTimeline>(hw, plan, sims, sim_of_chip, symmetric, extra);
  }
  const std::uint32_t P = std::uint32_t(hw.pod.chips());
  RunResult r = sims[sim_of_chip[0]];
  r.workload.name = plan.name;
  if (r.training) r.training = held_at_peak(plan.layout, sims, sim_of_chip);
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
  const std::uint64_t end = timeline->account(pod);
  timeline->show_chip0(r);
  timeline->record(pod, end);
  for (const auto& chip : extra) {
    std::uint64_t sum = 0;
    for (std::uint64_t e : chip) sum += e;
    pod.contention_ps = std::max(pod.contention_ps, sum);
  }
  pod.collective_hbm_bytes = collective_hbm_bytes;

  // Totals over every chip: every op run of its schedule (a microbatch's ops run M times).
  r.chips = P;
  r.end_ps = end;
  r.cycles = ClockDomain(hw.chip.clock_hz).cycle_at(end);
  r.macs = r.hbm_read_bytes = r.hbm_write_bytes = r.padded_macs = r.mxu_active_cycles = 0;
  RunResult::ChipActions actions;
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
      actions.macs_by_dtype[op.dtype] += op.macs;
      actions.vpu_busy_cycles += op.vpu_busy_cycles;
      actions.onchip_bytes += op.onchip_bytes;
      actions.dram_acts += op.dram_acts;
      actions.dram_refreshes += op.dram_refreshes;
      actions.dram_bank_refreshes += op.dram_bank_refreshes;
    }
  }
  r.all_chips = std::move(actions);
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
  r.invariants.push_back({"ici_bytes_equal_routes", pod.ici_bytes == timeline->byte_hops(),
                          fmt::format("links carried {} B, transfers x hops = {} B", pod.ici_bytes, timeline->byte_hops())});
  const bool grads = plan.layout.data == 1 || plan.bucket_bytes_chip0 == plan.gradient_bytes_chip0;
  r.invariants.push_back({"gradients_all_reduced", grads,
                          fmt::format("chip 0 {} {} B of {} B of weight gradients",
                                      plan.programs.programs[0].training.state_shards > 1 ? "reduce-scattered" : "all-reduced",
                                      plan.bucket_bytes_chip0,
                                      plan.gradient_bytes_chip0)});
  r.stats.add("pod", "chips", "1", std::uint64_t(P), "chips in the pod");
  r.stats.add("pod", "ici_bytes", "B", pod.ici_bytes, "bytes carried, summed over links");
  r.stats.add("pod", "exposed_comm", "ps", pod.exposed_comm_ps, "time the slowest chip waited on communication");
  r.stats.add("pod", "idle", "ps", pod.idle_ps, "time the slowest chip waited on other chips' compute (pipeline bubble)");
  r.stats.add("pod", "network_events", "1", pod.network_events, "chunk-hops and nodes the network model handled");
  r.pod = std::move(pod);
  return r;
}

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
  return compose(hw, plan, sims, sim_of_chip, !pod_options.full, pod_options.full_network);
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
  const std::vector<RunResult> sims = {simulate(hw, workload, options)};
  std::vector<RunResult> out;
  for (std::uint32_t chips : chip_counts) {
    HardwareSpec sized = hw;
    sized.pod.dims = hw.pod.topology == "ring" ? std::to_string(chips) : pod_dims_for(chips, hw.pod.dim_sizes().size());
    const PodPlan plan = plan_pod(sized, workload);
    out.push_back(compose(sized, plan, sims, std::vector<std::uint32_t>(chips, 0), true, false));
  }
  return out;
}

}  // namespace podsim
