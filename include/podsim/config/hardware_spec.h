// The validated description of one chip, in canonical units (Hz, B/s, B, ps). Built by
// load_hardware() from a preset or a file plus overrides; every field is declared once in
// hardware_params.cpp with its path, unit, default, range and description.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace podsim {

// Which operand stays in the PEs while the other streams (see compiler/systolic_timing.h).
enum class Dataflow { ws, os, is };
const char* dataflow_name(Dataflow d);

struct MxuSpec {
  std::uint32_t rows = 128;  // R: PEs down a column
  std::uint32_t cols = 128;  // C: PEs across a row
  Dataflow dataflow = Dataflow::ws;
  bool weight_overlap = true;  // the next stationary tile shifts in while the current streams
  // Array passes per multiply-accumulate, per input dtype: 1 is full rate, 4 quarter
  // rate, 0 not supported (an op of that dtype is an input error).
  std::uint32_t passes_int8 = 1;
  std::uint32_t passes_fp8 = 1;
  std::uint32_t passes_bf16 = 1;
  std::uint32_t passes_fp16 = 1;
  std::uint32_t passes_fp32 = 6;
  // Rows of narrow operands an array takes per cycle, two or four values sharing one
  // lane (TPU v5e runs int8 at twice its bf16 rate): MACs per PE per cycle at that dtype.
  std::uint32_t rate_int8 = 1;
  std::uint32_t rate_fp8 = 1;
  std::uint32_t accumulator_bits = 32;  // width of an accumulator element in vector memory
  // Weight tiles buffered in a FIFO between memory and the array (TPU v1 streams weights
  // from DDR this way). 0: weights are staged in vector memory with the activations.
  std::uint32_t weight_fifo_depth = 0;
  // With a weight FIFO: the next op's weight tiles are fetched while this op finishes.
  bool weight_prefetch_across_ops = true;
  // Weights laid out off-chip in whole rows x cols array tiles, zero-padded at the matrix
  // edges (TPU v1, Jouppi et al. 2017 Sec. 7): every weight fetch moves whole tiles.
  // false: packed, an edge tile moves only its own bytes.
  bool padded_weight_tiles = false;
  // Fine-grained sparsity (MatmulOp::weight_sparsity): the array packs each column's
  // nonzero weights along k, so a tile needs ceil(nonzero k / rows) row folds. false: zero
  // weights are multiplied like any other (no speedup), as on TPUs.
  bool skip_zero_weights = false;
};

struct HbmSpec {
  std::uint32_t channels = 32;
  std::uint64_t bandwidth_Bps = 900'000'000'000ULL;  // whole chip, all channels
  // ideal: latency = request to data, unloaded. DRAM devices: the fixed part outside the
  // DRAM (controller, PHY, crossbar), added to the DRAM's own timing.
  std::uint64_t latency_ps = 100'000;
  std::uint64_t capacity_bytes = 32ULL << 30;
  std::uint64_t interleave_bytes = 4096;             // ideal model: address stripe per channel
  // "ideal": each channel a bandwidth + latency pipe. "hbm2", "hbm2e", "hbm3": DRAM
  // timing per pseudo-channel (arch/dram/), the data rate set by bandwidth.
  std::string device = "ideal";
  std::string mapping = "ro_ba_ch_co_bg";  // DRAM address mapping, see arch/dram/address_map.h
  bool xor_bank = false;
  bool xor_channel = false;       // XOR the pseudo-channel with row bits (address_map.h)
  std::uint32_t xor_row_shift = 0;  // the lowest row bit XORed into bank and channel
  bool channel_hash = true;  // rotate the pseudo-channel by the address bits above it (address_map.h)
  std::string page_policy = "open";        // open | closed | adaptive
  std::uint32_t page_timeout = 50;         // adaptive: DRAM clocks a row stays open after its last use
  std::uint32_t queue_depth = 32;          // read queue and write queue per pseudo-channel
  std::string refresh = "per_bank";        // per_bank | all_bank
  bool refresh_stagger = true;             // pseudo-channels refresh at evenly spread phases
  // Whole-block requests placed by the controller's streaming fast path, not the command
  // timelines (arch/dram/dram_stream_path.cpp; its error: docs/memory.md).
  bool stream_fast_path = true;
  // Write drain: posted writes drain (row hits first) once they would pass the high
  // watermark, down to the low one; percent of the write queue.
  std::uint32_t write_high_watermark = 100, write_low_watermark = 50;
  // Overrides of the device preset (config/dram_device.h). Timings by JEDEC name ("tRCD"):
  // "14 ns" or "7 ck"; a name absent keeps the preset's value. Organisation: 0 keeps the
  // preset's (rows: 0 = as many as chip.hbm.capacity holds).
  std::map<std::string, std::string> timing;
  std::uint32_t pseudo_channels = 0, bank_groups = 0, banks_per_group = 0, rows = 0, columns = 0;
  std::uint32_t burst_length = 0, bus_bits = 0;
};

struct DmaSpec {
  std::uint64_t chunk_bytes = 64 << 10;  // one HBM request = one simulation event
  std::uint32_t outstanding = 16;        // chunks in flight per DMA engine
};

struct NocSpec {
  std::uint64_t core_port_Bps = 900'000'000'000ULL;  // each core's port into the crossbar
};

// The vector unit of each TensorCore (VPU) and its transcendental unit.
struct VectorSpec {
  std::uint32_t lanes = 128;
  std::uint32_t sublanes = 8;
  std::uint32_t transcendentals_per_cycle = 128;
  bool fusion = true;  // an elementwise op right after a matmul/conv of its shape runs in its epilogue
  // A fused unary elementwise op (relu, gelu, ...) right after a matmul runs on each output
  // block as it leaves the arrays, overlapping the next blocks' matrix work (XLA's output
  // fusion; TPU v1's Activation unit). false: it runs after the whole matmul.
  bool overlap_fused = true;
};

// Energy per action and static power (energy/energy_model.h turns a run's actions into
// joules). The logic actions (MACs, vector ops, SRAM bytes) come from a technology table,
// configs/energy/<node>.yaml, each entry overridable; the off-chip ones are the chip's.
struct EnergySpec {
  std::string node = "16nm";                      // configs/energy/16nm.yaml
  std::map<std::string, std::string> overrides;   // action -> "0.2 pJ" (replaces the table's)
  std::uint64_t dram_bit_aJ = 3'900'000;              // per bit read or written, I/O included
  // per_bit: every off-chip bit at dram_bit; per_command: ACTs, array reads and writes and
  // refreshes from the device's currents, the rest of dram_bit per bit (energy/dram_energy.h).
  std::string dram_model = "per_bit";
  std::uint64_t ici_bit_aJ = 0;                   // per bit per link crossed
  std::uint64_t static_power_uW = 0;              // per chip, whether busy or idle; 0 = not known
};

// The host side of a step (host/host_model.h): the link that carries each step's input in
// (infeed) and its output out (outfeed), and the host's own time per step. Off (0) unless
// a preset has a source for the link.
struct HostSpec {
  std::uint64_t link_Bps = 0;   // each direction (PCIe is full duplex); 0 = no host link modelled
  std::uint64_t step_ps = 0;    // host work per step (input pipeline, launch); 0 = none
  bool overlap = true;          // the next step's input and host work run during this step
};

// A shared on-chip memory between vector memory and HBM (a CMEM: TPU v4 has 128 MiB,
// Jouppi et al., ISCA 2023). Activations that do not stay in vector memory but fit here
// move between it and vector memory at its bandwidth, not HBM's (compiler/cmem_plan.h).
// capacity 0: no such level (every preset: no bandwidth for v4's is published).
// The on-chip memory is modelled as kCmemChannels ideal channels striped every
// kCmemInterleave bytes (arch/hbm_model.h); tensors placed in it get addresses from
// kCmemBase up, far above any HBM address.
constexpr std::uint32_t kCmemChannels = 16;
constexpr std::uint64_t kCmemInterleave = 4096;
constexpr std::uint64_t kCmemBase = 1ULL << 60;

struct CmemSpec {
  std::uint64_t capacity_bytes = 0;
  std::uint64_t bandwidth_Bps = 0;  // whole level; required when capacity > 0
  std::uint64_t latency_ps = 0;     // unloaded request-to-data latency
};

// Area densities (energy/chip_area.h): the node's area_table (the node is chip.energy.node),
// each density overridable by name: "pe_bf16_um2" -> "900".
struct AreaSpec {
  std::map<std::string, std::string> overrides;
};

struct ChipSpec {
  std::uint64_t clock_hz = 940'000'000;
  std::uint32_t tensor_cores = 2;
  std::uint32_t mxus_per_core = 2;
  MxuSpec mxu;
  VectorSpec vector;
  std::uint64_t vmem_bytes = 16ULL << 20;  // vector memory per core
  std::uint32_t vmem_operand_buffers = 2;  // operand tiles in flight: 2 = double buffering
  // Activations (a matmul's A and C, a vector op's inputs and outputs) live in vector
  // memory between ops when they fit, as in TPU v1's Unified Buffer: only weights (and
  // embedding tables) come from off-chip memory.
  bool vmem_holds_activations = false;
  // How MXU ops get their tilings: "heuristic" (the cost model's pick,
  // compiler/matmul_tiling.h) or "search" (the heuristic's and the cost model's next
  // `mapper_candidates` tilings of each distinct forward op simulated alone, the fastest
  // kept: mapper/searched_run.h). Not a hardware figure: a compiler choice.
  std::string mapper = "heuristic";
  std::uint32_t mapper_candidates = 4;
  HbmSpec hbm;
  CmemSpec cmem;
  DmaSpec dma;
  NocSpec noc;
  EnergySpec energy;
  AreaSpec area;
  HostSpec host;
};

// The chips of a pod and the inter-chip (ICI) network joining them (net/ models it).
struct PodSpec {
  // ring: one dimension; torus: 1 to 3 dimensions, neighbours +-1 in each (wraparound
  // links close each line into a ring); switch: every chip's links go to one non-blocking
  // switch (a baseline for comparison).
  std::string topology = "torus";
  std::string dims = "1";          // "32x32": chips along each dimension
  bool wraparound = true;          // torus lines closed into rings (false: a mesh)
  std::uint32_t links_per_chip = 4;
  std::uint64_t link_bandwidth_Bps = 80'000'000'000ULL;  // each link, each direction
  std::uint64_t link_latency_ps = 500'000;               // per hop: wire, SerDes, router
  std::uint64_t chunk_bytes = 256 << 10;                 // network simulation granularity
  // Collectives read and write HBM and reduce on the vector units, slowing the ops they
  // overlap (sim/collective_contention.h); false: they cost the chips nothing.
  bool collective_memory_traffic = true;

  std::vector<std::uint32_t> dim_sizes() const;  // parsed from dims
  std::uint64_t chips() const;
};

struct HardwareSpec {
  std::string name = "custom";
  std::string description;
  ChipSpec chip;
  PodSpec pod;

  // Derived figures, for reports and `podsim presets`.
  std::uint64_t mxu_count() const { return std::uint64_t(chip.tensor_cores) * chip.mxus_per_core; }
  std::uint64_t macs_per_cycle() const {
    return mxu_count() * chip.mxu.rows * chip.mxu.cols;
  }
  // Peak at full rate (passes = 1): 2 FLOPs per MAC.
  double peak_flops() const { return 2.0 * double(macs_per_cycle()) * double(chip.clock_hz); }
  // The whole pod: every chip at full rate, and every chip's HBM.
  double system_peak_flops() const { return peak_flops() * double(pod.chips()); }
  std::uint64_t system_hbm_bytes() const { return chip.hbm.capacity_bytes * pod.chips(); }
};

}  // namespace podsim
