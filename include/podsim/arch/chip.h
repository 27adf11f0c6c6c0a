// The chip: TensorCores, their crossbar ports, and HBM. The top module owns its children
// as members and wires them in its constructor. A sequencer thread runs the workload's ops
// one after another, each spread over all cores.
//
// Replaying identical ops (`reuse_ops`): an op whose plan matches an op simulated earlier
// in the run (same kind, shapes, dtype, tiling, addresses: op_replay_key) is not simulated
// again. The sequencer waits the earlier op's duration and adds the difference it made to
// every activity counter (arch/counter_list.h); the memory is left idle at the end (posted
// writes drained, rows closed). What this leaves out is the memory state an op inherits
// from the op before it (open rows, posted writes, the refresh phase): docs/timing.md
// gives the measured difference. With `reuse_ops`, long ops are also replayed inside: once
// their tile pipeline repeats, the remaining periods are credited, not simulated
// (arch/steady_state.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "podsim/arch/bandwidth_server.h"
#include "podsim/arch/counter_list.h"
#include "podsim/arch/hbm_model.h"
#include "podsim/arch/sim_counters.h"
#include "podsim/arch/steady_state.h"
#include "podsim/arch/tensor_core.h"
#include "podsim/compiler/workload_plan.h"
#include "podsim/config/hardware_spec.h"
#include "podsim/stats/trace_recorder.h"
#include "podsim/workload/workload_spec.h"

namespace podsim {

// Totals over all MXUs; one snapshot before and one after an op give its share.
struct OpTiming {
  std::uint64_t start_ps = 0, end_ps = 0;
  std::uint64_t hbm_read_bytes = 0, hbm_write_bytes = 0;
  std::uint64_t cmem_read_bytes = 0, cmem_write_bytes = 0;  // the on-chip memory's (chip.cmem)
  std::uint64_t dram_acts = 0, dram_refreshes = 0, dram_bank_refreshes = 0;  // DRAM devices' commands
  ArrayCycleBreakdown mxu;  // summed over MXUs
  std::uint64_t macs = 0, padded_macs = 0;
  std::uint64_t vpu_busy_cycles = 0;  // summed over the cores' vector units
  std::uint64_t onchip_bytes = 0;     // vector memory traffic of the MXUs and vector units
  std::uint64_t replayed_tiles = 0;   // tiles credited by steady-state replay, not simulated
};

class Chip : public sc_core::sc_module {
 public:
  Chip(sc_core::sc_module_name name, const HardwareSpec& hw, const WorkloadSpec& workload,
       const std::vector<OpPlan>& plans, TraceRecorder* trace = nullptr, bool reuse_ops = false);

  bool all_done() const { return ops_done_ == plans_.size(); }
  std::size_t ops_replayed() const { return ops_replayed_; }
  // Tiles (summed over cores) not simulated because their op's pipeline was in a steady
  // state (arch/steady_state.h).
  std::uint64_t tiles_replayed() const { return steady_ ? steady_->tiles_replayed() : 0; }
  const std::vector<OpTiming>& op_timings() const { return timings_; }
  const HbmModel& hbm() const { return hbm_; }
  // Drains posted writes at the end of a run (they do not hold up the ops).
  void flush_memory() { hbm_.flush(); }
  const std::vector<std::unique_ptr<TensorCore>>& cores() const { return cores_; }
  const std::vector<BandwidthServer>& core_ports() const { return ports_; }
  const SimCounters& counters() const { return counters_; }
  std::string progress() const;

 private:
  void sequencer();
  // What `core` runs of an op: its share of the plan.
  CoreMatmulProgram program_for(const OpPlan& plan, std::uint32_t core) const;
  OpTiming snapshot() const;
  // What an op did, kept to replay an identical op.
  struct Recording {
    OpTiming timing;
    std::vector<std::uint64_t> counters;       // the difference in every counter
    std::vector<std::uint64_t> channel_bytes;  // bytes per HBM channel
  };
  void replay(const Recording& rec, const std::string& name);

  const HardwareSpec& hw_;
  const WorkloadSpec& workload_;
  const std::vector<OpPlan>& plans_;
  SimCounters counters_;
  HbmModel hbm_;
  std::vector<BandwidthServer> ports_;
  std::vector<std::unique_ptr<TensorCore>> cores_;
  std::vector<OpTiming> timings_;
  std::size_t ops_done_ = 0;
  CounterList counter_list_;
  std::map<std::string, Recording> recordings_;
  std::size_t ops_replayed_ = 0;
  std::unique_ptr<SteadyStateReplay> steady_;  // with reuse_ops
  TraceRecorder* trace_ = nullptr;
  bool reuse_ops_ = false;
  int ops_track_ = 0;
};

}  // namespace podsim
