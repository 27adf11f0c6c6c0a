#include "podsim/sim/pod_simulate.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "podsim/arch/clock.h"
#include "podsim/config/config_error.h"
#include "podsim/net/collectives.h"
#include "podsim/net/pod_topology.h"
#include "podsim/sim/collective_experiment.h"

namespace podsim {
namespace {

bool is_optimizer_update(const Op& op) {
  const auto* v = std::get_if<VectorOp>(&op.body);
  return v && (v->fn == VectorFn::sgd || v->fn == VectorFn::momentum || v->fn == VectorFn::adam);
}

struct Bucket {
  std::size_t issue_op = 0;  // the backward op that completes it
  std::uint64_t bytes = 0;
};

// Weight gradients in backward order, cut into buckets of at least `bucket_bytes`.
std::vector<Bucket> gradient_buckets(const WorkloadSpec& w, std::uint64_t elem_bytes, std::uint64_t bucket_bytes) {
  std::vector<Bucket> out;
  std::uint64_t acc = 0;
  std::size_t last = 0;
  for (std::size_t i = 0; i < w.ops.size(); ++i) {
    if (w.ops[i].gradient_elements == 0) continue;
    acc += w.ops[i].gradient_elements * elem_bytes;
    last = i;
    if (acc >= bucket_bytes) {
      out.push_back({i, acc});
      acc = 0;
    }
  }
  if (acc > 0) out.push_back({last, acc});
  return out;
}

// Composes the chips' simulated op durations with the network (see pod_simulate.h).
RunResult compose(const HardwareSpec& hw, const std::vector<RunResult>& sims,
                  const std::vector<std::uint32_t>& program_of, bool folded) {
  const PodTopology topo(hw.pod);
  const std::uint32_t P = topo.chips();
  LinkNetwork net(topo, hw.pod.chunk_bytes);

  // Per chip, its ops as a chain of nodes holding the chip for each op's duration.
  std::vector<std::vector<std::uint32_t>> node(P);
  std::vector<std::uint64_t> compute(P, 0);
  for (std::uint32_t c = 0; c < P; ++c) {
    const RunResult& s = sims[program_of[c]];
    for (std::size_t i = 0; i < s.ops.size(); ++i) {
      NetTransfer t;
      t.src = t.dst = c;
      t.duration_ps = s.ops[i].end_ps - s.ops[i].start_ps;
      compute[c] += t.duration_ps;
      if (i > 0) t.after = {node[c][i - 1]};
      node[c].push_back(net.add(std::move(t)));
    }
  }

  // Data parallelism: gradient buckets all-reduced over every chip, one after another.
  const RunResult& rep = sims[program_of[0]];
  const WorkloadSpec& w = rep.workload;
  const DType grad_dtype = w.parallelism.gradient_dtype.value_or(w.training.compute);
  const auto buckets = w.training.enabled
                           ? gradient_buckets(w, dtype_bytes(grad_dtype), w.parallelism.gradient_bucket_bytes)
                           : std::vector<Bucket>{};
  std::size_t first_update = w.ops.size();
  for (std::size_t i = 0; i < w.ops.size(); ++i)
    if (is_optimizer_update(w.ops[i])) {
      first_update = i;
      break;
    }
  std::vector<std::uint32_t> stream(P, UINT32_MAX);  // per chip: its previous collective's end node
  std::vector<CollectiveRun> runs;
  std::uint64_t reduced_bytes = 0;
  for (const Bucket& b : buckets) {
    std::vector<ChipGate> start(P);
    for (std::uint32_t c = 0; c < P; ++c) {
      start[c].after = {node[c][b.issue_op]};
      if (stream[c] != UINT32_MAX) start[c].after.push_back(stream[c]);
    }
    CollectiveSpec spec;
    spec.kind = CollectiveKind::all_reduce;
    spec.bytes = b.bytes;
    spec.reduce_Bps = reduce_rate_Bps(hw, grad_dtype);
    runs.push_back(add_collective(net, spec, &start));
    reduced_bytes += b.bytes;
    for (std::uint32_t c = 0; c < P; ++c) {
      NetTransfer done;
      done.src = done.dst = c;
      done.after = runs.back().done[c].after;
      done.after_delay_ps = runs.back().done[c].delay_ps;
      stream[c] = net.add(std::move(done));
      if (first_update < node[c].size()) net.transfer(node[c][first_update]).after.push_back(stream[c]);
    }
  }
  net.run();

  // The pod's step: every chip's last op and last collective.
  RunResult r = rep;
  PodResult pod;
  pod.chips = P;
  pod.topology = hw.pod.topology;
  pod.dims = hw.pod.dims;
  pod.data_parallel = P;
  pod.folded = folded;
  pod.simulated_chips = std::uint32_t(sims.size());
  std::uint64_t end = 0;
  for (std::uint32_t c = 0; c < P; ++c) {
    std::uint64_t chip_end = node[c].empty() ? 0 : net.transfer(node[c].back()).end_ps;
    if (stream[c] != UINT32_MAX) chip_end = std::max(chip_end, net.transfer(stream[c]).end_ps);
    end = std::max(end, chip_end);
    pod.compute_ps = std::max(pod.compute_ps, compute[c]);
    // Data parallel: a chip only ever waits for gradients, so its idle time is exposed communication.
    pod.exposed_comm_ps = std::max(pod.exposed_comm_ps, chip_end - compute[c]);
  }
  for (std::size_t i = 0; i < r.ops.size(); ++i) {  // chip 0's ops on the pod's timeline
    r.ops[i].start_ps = net.transfer(node[0][i]).start_ps;
    r.ops[i].end_ps = net.transfer(node[0][i]).end_ps;
  }
  for (std::size_t k = 0; k < runs.size(); ++k) {
    const CollectiveResult cr = collective_result(net, runs[k]);
    pod.collectives.push_back({fmt::format("grad_bucket{}", k), collective_kind_name(runs[k].spec.kind),
                               collective_algorithm_name(runs[k].algorithm), runs[k].spec.bytes, P, cr.start_ps,
                               cr.end_ps, cr.bytes_sent, cr.busbw_Bps});
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

  // Totals over every chip.
  r.chips = P;
  r.end_ps = end;
  r.cycles = ClockDomain(hw.chip.clock_hz).cycle_at(end);
  r.macs = r.hbm_read_bytes = r.hbm_write_bytes = r.padded_macs = r.mxu_active_cycles = 0;
  for (std::uint32_t c = 0; c < P; ++c) {
    const RunResult& s = sims[program_of[c]];
    r.macs += s.macs;
    r.hbm_read_bytes += s.hbm_read_bytes;
    r.hbm_write_bytes += s.hbm_write_bytes;
    r.padded_macs += s.padded_macs;
    r.mxu_active_cycles += s.mxu_active_cycles;
  }
  r.hbm_peak_Bps = rep.hbm_peak_Bps * P;
  bool chips_ok = true;
  std::string failed;
  for (std::size_t i = 1; i < sims.size(); ++i)
    if (!sims[i].invariants_hold()) {
      chips_ok = false;
      failed += fmt::format(" chip{}", i);
    }
  r.invariants.push_back({"every_chip_holds_its_invariants", chips_ok,
                          chips_ok ? fmt::format("{} chip program(s) simulated", sims.size())
                                   : "failed on" + failed});
  r.invariants.push_back({"ici_bytes_equal_routes", link_bytes == net.byte_hops(),
                          fmt::format("links carried {} B, transfers x hops = {} B", link_bytes, net.byte_hops())});
  std::uint64_t gradient_bytes = 0;
  for (const Op& op : w.ops) gradient_bytes += op.gradient_elements * dtype_bytes(grad_dtype);
  r.invariants.push_back({"gradients_all_reduced", P == 1 || reduced_bytes == gradient_bytes,
                          fmt::format("all-reduced {} B of {} B of weight gradients", reduced_bytes, gradient_bytes)});
  r.stats.add("pod", "chips", "1", std::uint64_t(P), "chips in the pod");
  r.stats.add("pod", "ici_bytes", "B", pod.ici_bytes, "bytes carried, summed over links");
  r.stats.add("pod", "exposed_comm", "ps", pod.exposed_comm_ps, "time the slowest chip waited on collectives");
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
  const auto P = std::uint32_t(hw.pod.chips());
  const ParallelismSpec& par = workload.parallelism;
  if (par.data != 0 && par.data != P)
    throw ConfigError(par.where, "workload.parallelism.data",
                      fmt::format("{} replicas on a pod of {} chips ({}); data parallelism spans the whole pod: "
                                  "set it to {}, leave it out, or change pod.dims",
                                  par.data, P, hw.pod.dims, P));
  const std::uint32_t n = pod_options.full ? P : 1;
  const std::vector<RunResult> sims = simulate_chips(hw, std::vector<WorkloadSpec>(n, workload), options);
  std::vector<std::uint32_t> program_of(P, 0);
  if (pod_options.full)
    for (std::uint32_t c = 0; c < P; ++c) program_of[c] = c;
  return compose(hw, sims, program_of, !pod_options.full);
}

std::vector<RunResult> simulate_pod_sizes(const HardwareSpec& hw, const WorkloadSpec& workload,
                                          const std::vector<std::uint32_t>& chip_counts,
                                          const SimulateOptions& options) {
  if (workload.parallelism.data != 0)
    throw ConfigError(workload.parallelism.where, "workload.parallelism.data",
                      "fixes the replica count; leave it out to run the workload at several pod sizes");
  const std::vector<RunResult> sims = simulate_chips(hw, {workload}, options);
  std::vector<RunResult> out;
  for (std::uint32_t chips : chip_counts) {
    HardwareSpec sized = hw;
    sized.pod.dims = pod_dims_for(chips, hw.pod.dim_sizes().size());
    if (sized.pod.topology == "ring") sized.pod.dims = std::to_string(chips);
    out.push_back(compose(sized, sims, std::vector<std::uint32_t>(chips, 0), true));
  }
  return out;
}

}  // namespace podsim
