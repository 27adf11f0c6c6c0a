// Everything a run produced, in plain data: what the report writers read.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "podsim/arch/hbm_model.h"
#include "podsim/compiler/workload_plan.h"
#include "podsim/config/hardware_spec.h"
#include "podsim/stats/stats_registry.h"
#include "podsim/stats/trace_recorder.h"
#include "podsim/compiler/model_capacity.h"
#include "podsim/workload/training.h"
#include "podsim/workload/workload_spec.h"

namespace podsim {

struct OpResult {
  std::string name;
  std::string kind;
  std::string shape;  // "4096x4096x4096"
  std::string dtype;
  std::string weight_dtype;  // a matmul's quantized B (MatmulOp::weight_dtype); empty when B is in dtype
  std::uint64_t repeat = 1;
  std::uint64_t macs = 0;  // all repeats
  std::uint64_t start_ps = 0, end_ps = 0;
  std::uint64_t hbm_read_bytes = 0, hbm_write_bytes = 0;
  std::uint64_t cmem_read_bytes = 0, cmem_write_bytes = 0;  // the on-chip memory's (chip.cmem; else 0)
  std::uint64_t dram_acts = 0, dram_refreshes = 0, dram_bank_refreshes = 0;  // DRAM commands (0 for the ideal device)
  // Where the MXUs' cycles went during the op, summed over every MXU of the chip: the
  // five parts add up to (op cycles x MXU count) exactly.
  std::uint64_t mxu_active_cycles = 0;
  std::uint64_t mxu_input_stall_cycles = 0;
  std::uint64_t mxu_weight_load_stall_cycles = 0;
  std::uint64_t mxu_weight_shift_cycles = 0;
  std::uint64_t mxu_non_matrix_cycles = 0;
  std::uint64_t padded_macs = 0;
  std::uint64_t vpu_busy_cycles = 0;  // vector units, summed over cores
  std::uint64_t onchip_bytes = 0;     // vector memory <-> MXUs and vector units
  std::uint64_t replayed_tiles = 0;   // credited by steady-state replay (arch/steady_state.h)
  OpPlan plan;
};

struct InvariantCheck {
  std::string name;
  bool ok = false;
  std::string detail;
};

// A pod run (sim/pod_simulate.h): the network's side and how the chips' times combine.
struct PodCollectiveRecord {
  std::string name;       // "grad_bucket3"
  std::string kind;       // all_reduce, ...
  std::string algorithm;  // ring, bidir_ring, torus
  std::uint64_t bytes = 0;   // per chip (the collective's buffer)
  std::uint32_t chips = 0;   // in its group
  std::uint64_t start_ps = 0, end_ps = 0;
  std::uint64_t bytes_sent = 0;  // all chips
  double busbw_Bps = 0;
};

struct PodLinkRecord {
  std::string name;
  std::uint64_t bytes = 0;
  double utilization = 0;  // busy / step time
};

struct PodResult {
  std::uint32_t chips = 1;
  std::string topology, dims;
  std::uint64_t data_parallel = 1, tensor_parallel = 1, pipeline_stages = 1, microbatches = 1;
  bool expert_parallel = false;
  bool folded = true;                  // identical chips simulated once
  std::uint32_t simulated_chips = 1;   // chip programs run in SystemC
  std::uint64_t compute_ps = 0;        // the slowest chip's ops back to back, no waiting
  std::uint64_t exposed_comm_ps = 0;   // the most any chip waited on communication
  std::uint64_t idle_ps = 0;           // the most any chip waited on other chips' compute (bubble)
  // The most any chip's ops were slowed by collectives' HBM and vector traffic beside them
  // (not in compute_ps: that is the ops alone), and that traffic's HBM bytes over every chip
  // (sim/collective_contention.h; 0 with pod.collective_memory_traffic off).
  std::uint64_t contention_ps = 0;
  std::uint64_t collective_hbm_bytes = 0;
  std::uint64_t ici_bytes = 0;         // summed over links (a byte crossing 3 links counts 3 times)
  std::uint64_t network_events = 0;
  bool symmetric_network = false;      // chip 0's transfers stood for every chip's (sim/pod_simulate.h)
  std::vector<PodCollectiveRecord> collectives;
  std::vector<PodLinkRecord> links;    // links that exist, in topology order
};

// What the search mapper did before the run (chip.mapper=search; mapper/searched_run.h).
struct MapperSearch {
  std::uint64_t distinct_ops = 0;     // forward MXU ops of distinct signature
  std::uint64_t simulations = 0;      // one-op runs, the heuristic's tiling included
  std::uint64_t retiled_ops = 0;      // distinct ops whose tiling the search changed
  double heuristic_s = 0, best_s = 0; // their MXU time alone, summed over occurrences
  // The whole workload, run both ways (ops alone miss their neighbours' overlap): the
  // report is the faster run's, so the search is never slower than the heuristic.
  double whole_heuristic_s = 0, whole_searched_s = 0;
  bool kept_search = false;
};

struct RunResult {
  HardwareSpec hw;
  WorkloadSpec workload;
  bool completed = false;        // every op finished (else: stall_report says where)
  std::string stall_report;
  std::uint64_t end_ps = 0;
  std::uint64_t cycles = 0;      // core clock cycles
  std::uint64_t macs = 0;
  std::uint64_t hbm_read_bytes = 0, hbm_write_bytes = 0;
  std::uint64_t cmem_read_bytes = 0, cmem_write_bytes = 0;  // chip.cmem's, summed over ops
  std::uint64_t mxu_active_cycles = 0;
  std::uint64_t padded_macs = 0;
  std::uint64_t wakeups = 0;     // SystemC process wake-ups: the simulator's own work
  std::vector<OpResult> ops;
  std::vector<HbmChannelStats> channels;  // pseudo-channels for DRAM devices
  std::string hbm_device;
  std::uint64_t hbm_peak_Bps = 0;
  std::uint64_t hbm_series_bucket_ps = 0;       // HBM bytes moved per bucket over time
  std::vector<std::uint64_t> hbm_series_bytes;
  struct ChannelSeries {
    std::uint64_t bucket_ps = 0;
    std::vector<std::uint64_t> bytes;
  };
  std::vector<ChannelSeries> hbm_channel_series;  // per (pseudo-)channel
  std::shared_ptr<TraceRecorder> trace;           // with SimulateOptions::trace
  std::optional<TrainingFootprint> training;      // when the workload trains
  std::optional<ModelFootprint> model;            // when it does not (compiler/model_capacity.h)
  std::uint32_t chips = 1;                        // chips whose work the totals add up
  std::optional<PodResult> pod;                   // a run over a pod
  std::optional<MapperSearch> mapper_search;      // with chip.mapper=search
  // A pod run's `ops` are chip 0's; what every chip did, for energy (energy/energy_model.h).
  struct ChipActions {
    std::map<std::string, std::uint64_t> macs_by_dtype;
    std::uint64_t vpu_busy_cycles = 0, onchip_bytes = 0;
    std::uint64_t dram_acts = 0, dram_refreshes = 0, dram_bank_refreshes = 0;
  };
  std::optional<ChipActions> all_chips;
  std::vector<InvariantCheck> invariants;
  StatsRegistry stats;

  bool invariants_hold() const {
    for (const auto& i : invariants)
      if (!i.ok) return false;
    return true;
  }
  double time_s() const { return double(end_ps) * 1e-12; }
  // Samples the whole run processes (workload.samples, docs/workloads.md): the declared
  // count, times the data-parallel replicas and microbatches on a pod (the ops are one
  // replica's microbatch). 0 when the workload declares none.
  std::uint64_t samples_per_step() const {
    if (workload.samples.count == 0) return 0;
    return workload.samples.count * (pod ? pod->data_parallel * pod->microbatches : 1);
  }
  double samples_per_s() const { return end_ps ? double(samples_per_step()) / time_s() : 0.0; }
  // The arrays' fastest rate among the run's ops (chip.mxu.rate.*): the peak and the
  // utilization of a run of packed int8 ops count its doubled MACs per cycle.
  std::uint32_t fastest_mxu_rate() const {
    std::uint32_t r = 1;
    for (const OpResult& op : ops)
      if (op.plan.engine == Engine::mxu && op.plan.rate.packed > r) r = op.plan.rate.packed;
    return r;
  }
  double peak_flops() const { return hw.peak_flops() * chips * fastest_mxu_rate(); }
  double achieved_flops() const { return end_ps ? 2.0 * double(macs) / time_s() : 0.0; }
  double mxu_utilization() const {
    return cycles ? double(macs) / (double(cycles) * double(hw.macs_per_cycle()) * chips * fastest_mxu_rate()) : 0.0;
  }
  double hbm_bandwidth_Bps() const {
    return end_ps ? double(hbm_read_bytes + hbm_write_bytes) / time_s() : 0.0;
  }
};

}  // namespace podsim
