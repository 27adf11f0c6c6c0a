// A TensorCore: a sequencer running a matmul tile program on its MXUs, fed by a read DMA
// engine (and, with a weight FIFO, a weight DMA engine) and drained by a write DMA
// engine through vector memory.
//
// SystemC threads, one per pipeline stage, synchronised by counters and events:
//   loader    issues the DMA for tile i once operand buffer i mod B is free (tile i-B's
//             input stream has ended; B = chip.vmem.operand_buffers, 2 = double buffering);
//   weights   (only with chip.mxu.weight_fifo_depth > 0) fetches each fold's weight tile
//             into the FIFO once a slot is free (the fold `depth` earlier has shifted
//             into the array); it works through a queue of programs, so it can run ahead
//             into the next program's tiles (chip.mxu.weight_prefetch_across_ops);
//   compute   waits for tile i's data and schedules it on the MXUs (closed-form systolic
//             timing, so it need not wait for the stream), then hands a finished
//             accumulator block to the storer, due when its last result drains;
//   storer    writes each finished block back to HBM, freeing accumulator buffer j mod 2.
// Each stage wakes once per tile, fold or DMA chunk: never per cycle.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "podsim/arch/clock.h"
#include "podsim/arch/dma_engine.h"
#include "podsim/arch/sim_counters.h"
#include "podsim/compiler/implicit_conv.h"
#include "podsim/compiler/matmul_tiling.h"
#include "podsim/compiler/systolic_timing.h"
#include "podsim/compiler/vector_plan.h"
#include "podsim/compiler/workload_plan.h"
#include "podsim/config/hardware_spec.h"

namespace podsim {

// One matmul as one core runs it: the tiling, where the operands live in HBM, and which
// share of the output blocks is this core's.
struct CoreMatmulProgram {
  Engine engine = Engine::mxu;
  VectorOp vector;        // engine == vector
  EmbeddingOp embedding;  // engine == embedding
  VectorTiling vtiling;   // engine == vector or embedding
  MatmulOp op;
  MatmulTiling tiling;
  MxuRate rate;
  std::uint64_t a_base = 0, b_base = 0, c_base = 0;
  std::uint64_t tensor_stride = 0;  // vector ops: distance between their tensors
  std::uint32_t core = 0;   // this core's index
  std::uint32_t cores = 1;  // how many cores share the output blocks
  // MXU programs: independent instances of the matmul (attention heads, convolution
  // groups) run as one batched program, their tiles through one pipeline (docs/timing.md).
  std::uint64_t instances = 1;
  // MXU programs: a fused elementwise op applied to each output block on the vector unit
  // before it is stored (OpPlan::epilogue).
  std::optional<VectorCost> epilogue;
  std::string label;        // the op's name, for the trace
};

struct MxuCounters {
  std::uint64_t macs = 0;         // useful multiply-accumulates
  std::uint64_t padded_macs = 0;  // PE slots in folds that hold no data (edges)
  std::uint64_t folds = 0;
};

// The part of a tile one MXU runs: a run of column folds (or all of them with a share of
// the streaming rows when there are fewer column folds than MXUs).
struct MxuShare {
  std::uint32_t mxu = 0;
  std::uint64_t col_fold_begin = 0, col_folds = 0, row_folds = 0;
  std::uint64_t rows = 0;  // streaming rows T for this MXU
  std::uint64_t macs = 0;
};

class SteadyStateReplay;

class TensorCore : public sc_core::sc_module {
 public:
  TensorCore(sc_core::sc_module_name name, const HardwareSpec& hw, HbmModel& hbm,
             BandwidthServer& port, SimCounters& counters, TraceRecorder* trace = nullptr);

  // Starts a program; `finished()` turns true (and finished_event() fires) when its last
  // block is stored. `next`, if given, is the program that will start after it: with a
  // weight FIFO its weight tiles may be fetched while this one finishes; the next start()
  // must then be given exactly that program.
  void start(const CoreMatmulProgram& program, const CoreMatmulProgram* next = nullptr);
  bool finished() const { return finished_; }
  sc_core::sc_event& finished_event() { return finished_ev_; }

  const std::vector<MxuCounters>& mxu_counters() const { return mxu_counters_; }
  const std::vector<SystolicPipeline>& mxus() const { return mxus_; }
  std::vector<const DmaEngine*> dma_engines() const { return {&read_dma_, &write_dma_, &weight_dma_}; }
  const DmaEngine* store_dma() const { return &write_dma_; }  // the one of them that writes
  std::string progress() const;  // for the watchdog: where each stage stands
  std::uint64_t vpu_busy_cycles() const { return vpu_busy_cycles_; }
  // Bytes the MXUs and the vector unit moved in and out of vector memory.
  std::uint64_t onchip_bytes() const { return onchip_bytes_; }
  // Every activity counter of the core, its MXUs and DMA engines (arch/counter_list.h).
  void list_counters(std::vector<std::uint64_t*>& out);

  // Steady-state replay (arch/steady_state.h): the coordinator this core asks at each
  // period boundary, and what the coordinator asks about the running program.
  void set_steady_state(SteadyStateReplay* coordinator, std::uint32_t core_index) {
    steady_ = coordinator;
    core_index_ = core_index;
  }
  std::uint64_t program_tiles() const { return tile_count(); }
  // The period, in tiles, the running program is replayed by (0: never).
  std::uint64_t steady_period() const;
  // What a skip is a multiple of: whole periods and whole turns of the operand buffers.
  std::uint64_t steady_skip_unit(std::uint64_t period) const;
  // How many tiles from `from` (at most `limit`) repeat with `period`: tile j has the same
  // shape and bytes as tile j - period for every j in [from - period, from + result);
  // 0 when the period before `from` does not repeat the one before it. With `same_bytes`
  // false, the same shape and stores suffice: the loads may differ (a convolution's input
  // rows under its windows), and the caller credits the tiles' own bytes.
  std::uint64_t repeating_tiles(std::uint64_t from, std::uint64_t period, std::uint64_t limit,
                                bool same_bytes = true) const;
  // HBM bytes tiles [from, from + count) load and store; `loads`, when given, gets the
  // loaded part.
  std::uint64_t tile_hbm_bytes(std::uint64_t from, std::uint64_t count, std::uint64_t* loads = nullptr) const;
  // The MACs the compute counts for tiles [from, from + count), or kUnknownMacs when they
  // depend on more than the tile's shape (block or weight sparsity).
  static constexpr std::uint64_t kUnknownMacs = ~std::uint64_t(0);
  std::uint64_t tile_macs(std::uint64_t from, std::uint64_t count) const;

  // How a tile's folds are spread over `mxus` arrays (split_over_mxus; exposed for tests).
  static std::vector<MxuShare> share_tile(const SystolicArrayShape& shape, std::uint32_t mxus,
                                          const MatmulTile& tile, MxuRate rate = {});

 private:
  void loader();
  void weight_fetcher();
  void compute();
  void storer();
  void wait_for(std::uint64_t& seen_program);
  void schedule_tile(const MatmulTile& tile, std::uint64_t ready, std::uint64_t* stream_end,
                     std::uint64_t* done);
  // Vector and embedding programs: tile i of this core covers rows (samples) from
  // first_row, `rows` of them.
  void vector_tile_rows(std::uint64_t i, std::uint64_t* first_row, std::uint64_t* rows) const;
  std::uint64_t tile_count() const;
  void load_regions(std::uint64_t i, std::vector<DmaRegion>& regions);
  // Tile i's loads as planned, with or without its A block (load_regions decides that for
  // A-resident tilings).
  void planned_load_regions(std::uint64_t i, bool load_a, std::vector<DmaRegion>& regions) const;
  // Steady-state replay: the loader asks at a period boundary before tile i and returns
  // the tile to issue next (past the skipped ones); the compute stage, at the first
  // skipped tile, moves its pipeline's timestamps on by the skipped time.
  std::uint64_t skip_if_steady(std::uint64_t i);
  void skip_in_compute();
  struct TileSignature {
    std::uint64_t shape[4] = {}, load_bytes = 0, store_bytes = 0, regions = 0;
    bool operator==(const TileSignature& o) const;
    bool same_shape(const TileSignature& o) const;  // shape and stores; loads may differ
  };
  TileSignature signature(std::uint64_t i) const;
  std::vector<DmaRegion> store_regions(std::uint64_t i) const;
  DmaRegion weight_region(const CoreMatmulProgram& p, const MatmulTile& tile, std::uint64_t row_fold,
                          std::uint64_t col_fold) const;
  // Sparsity (ws): the folds of a share that run, and its useful MACs. `run`, if given,
  // receives each running fold's (row fold, column fold), in the order the array runs them.
  void sparse_share(const MatmulOp& op, const MatmulTile& tile, MxuShare* share, std::uint64_t* folds,
                    std::vector<std::pair<std::uint64_t, std::uint64_t>>* run = nullptr) const;
  // The weight tiles a program's folds use, in order, into the FIFO.
  void fetch_weights_of(const CoreMatmulProgram& p);
  // Schedules a finished block's epilogue on the vector unit; returns when it is done.
  // The cycle a tile's quantized weights are ready for the arrays (its load's, when the
  // weights are not quantized).
  std::uint64_t dequantize(const MatmulTile& t, std::uint64_t loaded);
  std::uint64_t run_epilogue(const MatmulTile& t, std::uint64_t results_ready);
  // Gather (and, backward, scatter) entries of tile i's looked-up rows, with their
  // optimizer-state rows when training.
  void embedding_rows(std::uint64_t i, std::vector<DmaRegion>& regions) const;
  bool weight_fifo() const { return hw_.chip.mxu.weight_fifo_depth > 0; }

  const HardwareSpec& hw_;
  ClockDomain clock_;
  SimCounters& counters_;
  DmaEngine read_dma_;
  DmaEngine write_dma_;
  DmaEngine weight_dma_;
  std::vector<SystolicPipeline> mxus_;
  std::vector<MxuCounters> mxu_counters_;

  CoreMatmulProgram program_;
  MatmulTileSequence tiles_{MatmulOp{}, MatmulTiling{}, 0, 1};
  std::uint64_t program_id_ = 0;
  sc_core::sc_event start_ev_;

  // Pipeline state of the current program.
  std::uint64_t issued_ = 0;     // tiles whose load was submitted
  std::uint64_t scheduled_ = 0;  // tiles given to the MXUs
  std::vector<std::uint64_t> buffer_free_ps_;  // when each operand buffer's stream ends
  std::uint64_t vpu_free_ = 0;                 // cycle the vector unit is free again
  std::uint64_t vpu_busy_cycles_ = 0;
  std::uint64_t onchip_bytes_ = 0;
  std::uint64_t blocks_started_ = 0;
  std::uint64_t blocks_stored_ = 0;
  std::uint64_t blocks_total_ = 0;
  std::vector<bool> a_loaded_;  // A-resident tilings: which A blocks this core holds
  std::uint64_t a_loaded_instance_ = 0;  // of this instance of a batched matmul
  mutable std::vector<InputSpan> patch_spans_;  // scratch: a convolution tile's input rows
  std::vector<std::unique_ptr<DmaJob>> load_jobs_;  // one per operand buffer
  DmaJob store_job_;
  struct PendingStore {
    std::vector<DmaRegion> regions;
    std::uint64_t ready_ps;
  };
  std::deque<PendingStore> stores_;
  // Weight FIFO: one DMA job per slot; fold g uses slot g mod depth.
  std::vector<std::unique_ptr<DmaJob>> weight_jobs_;
  std::vector<std::uint64_t> fifo_free_ps_;
  // Counted over the whole run (programs follow each other through the FIFO).
  std::uint64_t weights_issued_ = 0, weights_consumed_ = 0;
  std::deque<CoreMatmulProgram> fetch_queue_;  // programs whose weights are still to fetch
  bool next_queued_ = false;                   // the next start()'s program is queued already
  sc_core::sc_event fetch_queued_ev_;
  sc_core::sc_event issued_ev_, scheduled_ev_, stored_ev_, store_queued_ev_, finished_ev_;
  sc_core::sc_event weights_issued_ev_, weights_consumed_ev_;
  bool finished_ = true;
  SteadyStateReplay* steady_ = nullptr;
  std::uint32_t core_index_ = 0;
  struct Skip {
    std::uint64_t from = ~std::uint64_t(0), to = 0, shift_ps = 0;
  } skip_;  // set by the loader, carried out by the compute stage at tile `from`
  // repeating_tiles' scan: tiles [scan_from_, scan_to_) repeat with scan_period_; scan_end_
  // is true when tile scan_to_ broke the repeat.
  mutable std::uint64_t scan_from_ = 0, scan_to_ = 0, scan_period_ = 0;
  mutable bool scan_end_ = false, scan_same_bytes_ = true;
  TraceRecorder* trace_ = nullptr;
  std::vector<int> mxu_tracks_;
  int vpu_track_ = 0;
};

}  // namespace podsim
