#include "podsim/config/hardware_params.h"

#include <functional>
#include <map>
#include <stdexcept>

#include "podsim/config/dram_device.h"
#include "podsim/energy/chip_area.h"
#include "podsim/energy/energy_table.h"

namespace podsim {
namespace {


// Builds a declaration for a numeric field reached through `field` (a captureless lambda
// returning a reference into the spec), so get and set can never disagree on the field.
template <typename Field>
HardwareParam numeric(std::string path, ParamType type, UnitKind unit, std::string default_text,
                      std::uint64_t min, std::uint64_t max, std::string description,
                      Field& (*field)(HardwareSpec&)) {
  HardwareParam p;
  p.path = std::move(path);
  p.type = type;
  p.unit = unit;
  p.default_text = std::move(default_text);
  p.min = min;
  p.max = max;
  p.description = std::move(description);
  p.set = [field](HardwareSpec& h, const ParamValue& v) { field(h) = static_cast<Field>(v.number); };
  p.get = [field](const HardwareSpec& h) {
    ParamValue v;
    v.number = static_cast<std::uint64_t>(field(const_cast<HardwareSpec&>(h)));
    return v;
  };
  return p;
}

HardwareParam count(std::string path, std::string def, std::uint64_t min, std::uint64_t max,
                    std::string description, std::uint32_t& (*field)(HardwareSpec&)) {
  return numeric(std::move(path), ParamType::integer, UnitKind::none, std::move(def), min, max,
                 std::move(description), field);
}

HardwareParam quantity(std::string path, UnitKind unit, std::string def, std::uint64_t min,
                       std::uint64_t max, std::string description,
                       std::uint64_t& (*field)(HardwareSpec&)) {
  return numeric(std::move(path), ParamType::quantity, unit, std::move(def), min, max,
                 std::move(description), field);
}

HardwareParam flag(std::string path, std::string def, std::string description,
                   bool& (*field)(HardwareSpec&)) {
  return numeric(std::move(path), ParamType::boolean, UnitKind::none, std::move(def), 0, 1,
                 std::move(description), field);
}

HardwareParam dataflow_choice(std::string path, std::string def, std::string description) {
  HardwareParam p;
  p.path = std::move(path);
  p.type = ParamType::choice;
  p.default_text = std::move(def);
  p.choices = {"ws", "os", "is"};
  p.description = std::move(description);
  p.set = [](HardwareSpec& h, const ParamValue& v) {
    h.chip.mxu.dataflow = v.text == "os" ? Dataflow::os : v.text == "is" ? Dataflow::is : Dataflow::ws;
  };
  p.get = [](const HardwareSpec& h) {
    ParamValue v;
    v.text = dataflow_name(h.chip.mxu.dataflow);
    return v;
  };
  return p;
}

HardwareParam text_choice(std::string path, std::string def, std::vector<std::string> choices,
                          std::string description, std::string& (*field)(HardwareSpec&)) {
  HardwareParam p;
  p.path = std::move(path);
  p.type = ParamType::choice;
  p.default_text = std::move(def);
  p.choices = std::move(choices);
  p.description = std::move(description);
  p.set = [field](HardwareSpec& h, const ParamValue& v) { field(h) = v.text; };
  p.get = [field](const HardwareSpec& h) {
    ParamValue v;
    v.text = field(const_cast<HardwareSpec&>(h));
    return v;
  };
  return p;
}

// One entry of a name -> text override map (DRAM timings, energy actions, area densities):
// `keep` (the word that means "the preset's or table's value") erases the entry, anything
// else `check` accepts is stored as it normalises it.
using OverrideCheck = std::function<std::optional<std::string>(const std::string&, std::string*)>;
HardwareParam map_entry(std::string path, std::string key, std::string keep, std::string description,
                        OverrideCheck check, std::map<std::string, std::string>& (*map)(HardwareSpec&)) {
  HardwareParam p;
  p.path = std::move(path);
  p.type = ParamType::text;
  p.default_text = keep;
  p.description = std::move(description);
  p.normalize = [keep, check](const std::string& text, std::string* why) -> std::optional<std::string> {
    if (text == keep) return text;
    return check(text, why);
  };
  p.set = [key, keep, map](HardwareSpec& h, const ParamValue& v) {
    if (v.text == keep) map(h).erase(key);
    else map(h)[key] = v.text;
  };
  p.get = [key, keep, map](const HardwareSpec& h) {
    ParamValue v;
    const auto& m = map(const_cast<HardwareSpec&>(h));
    const auto it = m.find(key);
    v.text = it == m.end() ? keep : it->second;
    return v;
  };
  return p;
}

std::vector<HardwareParam> build_table() {
  using U = UnitKind;
  // Defaults describe a TPU v3 chip; the presets in configs/ cite their sources.
  std::vector<HardwareParam> t;
  t.push_back(quantity("chip.clock", U::frequency, "940 MHz", 1'000'000, 100'000'000'000ULL,
                       "core clock: MXUs, vector unit and sequencer",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.clock_hz; }));
  t.push_back(count("chip.tensor_cores", "2", 1, 1024, "TensorCores per chip",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.tensor_cores; }));
  t.push_back(count("chip.mxus_per_core", "2", 1, 64, "matrix units (systolic arrays) per TensorCore",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.mxus_per_core; }));
  t.push_back(count("chip.mxu.rows", "128", 1, 4096,
                    "PE rows R of each systolic array: the K depth of one weight tile",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.mxu.rows; }));
  t.push_back(count("chip.mxu.cols", "128", 1, 4096,
                    "PE columns C of each systolic array: the N width of one weight tile",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.mxu.cols; }));
  t.push_back(dataflow_choice("chip.mxu.dataflow", "ws",
                              "ws: weights stay in the PEs (TPU); os: outputs stay; is: inputs stay"));
  t.push_back(text_choice("chip.mapper", "heuristic", {"heuristic", "search"},
                          "how MXU ops get their tilings: heuristic (the cost model's pick) or search (the heuristic's and "
                          "the cost model's next chip.mapper_candidates tilings of each distinct forward op simulated alone, "
                          "the fastest kept; one chip only; docs/mapping.md)",
                          +[](HardwareSpec& h) -> std::string& { return h.chip.mapper; }));
  t.push_back(count("chip.mapper_candidates", "4", 1, 64,
                    "with chip.mapper=search: tilings simulated per distinct op beside the heuristic's",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.mapper_candidates; }));
  t.push_back(flag("chip.mxu.padded_weight_tiles", "false",
                   "weights are stored off-chip in whole rows x cols array tiles, zero-padded at the matrix edges, "
                   "so an edge tile moves as many bytes as a full one; false: packed (clipped to the matrix)",
                   +[](HardwareSpec& h) -> bool& { return h.chip.mxu.padded_weight_tiles; }));
  t.push_back(flag("chip.mxu.weight_overlap", "true",
                   "double-buffered stationary operand: the next tile shifts in while the current one "
                   "streams (ws and is)",
                   +[](HardwareSpec& h) -> bool& { return h.chip.mxu.weight_overlap; }));
  t.push_back(count("chip.mxu.passes.int8", "1", 0, 64,
                    "array passes per int8 multiply-accumulate (1 = full rate, 0 = unsupported)",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.mxu.passes_int8; }));
  t.push_back(count("chip.mxu.passes.fp8", "1", 0, 64,
                    "array passes per fp8 (e4m3) multiply-accumulate (0 = unsupported)",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.mxu.passes_fp8; }));
  t.push_back(count("chip.mxu.passes.bf16", "1", 0, 64,
                    "array passes per bf16 multiply-accumulate (1 = full rate, 0 = unsupported)",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.mxu.passes_bf16; }));
  t.push_back(count("chip.mxu.passes.fp16", "1", 0, 64,
                    "array passes per fp16 multiply-accumulate (0 = unsupported)",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.mxu.passes_fp16; }));
  t.push_back(count("chip.mxu.passes.fp32", "6", 0, 64,
                    "array passes per fp32 multiply-accumulate (fp32 emulated with bf16 passes)",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.mxu.passes_fp32; }));
  t.push_back(count("chip.mxu.rate.int8", "1", 1, 4,
                    "int8 multiply-accumulates per PE per cycle: 2 = two int8 rows enter per cycle, sharing a "
                    "bf16 lane (twice the bf16 peak); fill, drain and weight shift-in unchanged",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.mxu.rate_int8; }));
  t.push_back(count("chip.mxu.rate.fp8", "1", 1, 4,
                    "fp8 multiply-accumulates per PE per cycle (as chip.mxu.rate.int8)",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.mxu.rate_fp8; }));
  t.push_back(count("chip.mxu.accumulator_bits", "32", 16, 64,
                    "width of one accumulator element (int8 and float products accumulate in it)",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.mxu.accumulator_bits; }));
  t.push_back(count("chip.mxu.weight_fifo_depth", "0", 0, 64,
                    "weight tiles buffered between memory and the array (TPU v1: 4); 0 = weights "
                    "staged in vector memory",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.mxu.weight_fifo_depth; }));
  t.push_back(flag("chip.mxu.weight_prefetch_across_ops", "true",
                   "with a weight FIFO, the weight fetcher runs ahead into the next matmul's tiles while this one "
                   "finishes (TPU v1's Read_Weights is decoupled from MatrixMultiply, Jouppi et al. 2017 Sec. 2); "
                   "false: each op's first weight tile is fetched when the op starts",
                   +[](HardwareSpec& h) -> bool& { return h.chip.mxu.weight_prefetch_across_ops; }));
  t.push_back(flag("chip.mxu.skip_zero_weights", "false",
                   "fine-grained weight sparsity speeds the array up: nonzero weights packed along k (ws only); "
                   "false: zeros are multiplied like any weight",
                   +[](HardwareSpec& h) -> bool& { return h.chip.mxu.skip_zero_weights; }));
  t.push_back(count("chip.vector.lanes", "128", 1, 4096, "vector unit lanes per TensorCore",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.vector.lanes; }));
  t.push_back(count("chip.vector.sublanes", "8", 1, 256, "vector unit sublanes: lanes x sublanes element ops per cycle",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.vector.sublanes; }));
  t.push_back(count("chip.vector.transcendentals_per_cycle", "128", 1, 1 << 20,
                    "exp, tanh, rsqrt, reciprocal results per cycle per TensorCore",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.vector.transcendentals_per_cycle; }));
  t.push_back(flag("chip.vector.fusion", "true",
                   "fuse an elementwise op of one or two inputs into the matmul, conv or elementwise op before it "
                   "(same size): its first input stays in vector memory and it stores nothing (XLA-style)",
                   +[](HardwareSpec& h) -> bool& { return h.chip.vector.fusion; }));
  t.push_back(flag("chip.vector.overlap_fused", "true",
                   "a fused unary elementwise op (relu, gelu, ...) right after a matmul or conv runs on each output "
                   "block as it leaves the arrays, overlapping the next blocks (XLA output fusion); false: after the "
                   "whole matmul",
                   +[](HardwareSpec& h) -> bool& { return h.chip.vector.overlap_fused; }));
  t.push_back(quantity("chip.vmem.capacity", U::size, "16 MiB", 4096, 1ULL << 40,
                       "vector memory per TensorCore: holds the operand and accumulator tiles",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.vmem_bytes; }));
  t.push_back(count("chip.vmem.operand_buffers", "2", 2, 8,
                    "operand tile buffers: 2 = double buffering (the next tile loads while one "
                    "computes); more absorb memory latency jitter",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.vmem_operand_buffers; }));
  t.push_back(flag("chip.vmem.holds_activations", "false",
                   "activations stay in vector memory between ops (TPU v1's Unified Buffer): a matmul's A "
                   "and C and a vector op's inputs and outputs move no off-chip bytes when they fit beside "
                   "the op's tiles; an op whose activations do not fit uses off-chip memory (the report says which)",
                   +[](HardwareSpec& h) -> bool& { return h.chip.vmem_holds_activations; }));
  t.push_back(quantity("chip.cmem.capacity", U::size, "0 B", 0, 1ULL << 40,
                       "a shared on-chip memory between vector memory and HBM (TPU v4's CMEM): activations that do not "
                       "stay in vector memory but fit here move at chip.cmem.bandwidth instead of HBM's; 0 = none",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.cmem.capacity_bytes; }));
  t.push_back(quantity("chip.cmem.bandwidth", U::bandwidth, "0 B/s", 0, 1'000'000'000'000'000ULL,
                       "bandwidth between the on-chip memory (chip.cmem.capacity) and the cores, whole chip; required "
                       "with a capacity",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.cmem.bandwidth_Bps; }));
  t.push_back(quantity("chip.cmem.latency", U::time, "0 ns", 0, 1'000'000'000,
                       "unloaded request-to-data latency of the on-chip memory (chip.cmem.capacity)",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.cmem.latency_ps; }));
  t.push_back(count("chip.hbm.channels", "32", 1, 4096, "independent HBM channels",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.hbm.channels; }));
  t.push_back(quantity("chip.hbm.bandwidth", U::bandwidth, "900 GB/s", 1'000'000,
                       1'000'000'000'000'000ULL, "peak HBM bandwidth of the whole chip (all channels)",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.hbm.bandwidth_Bps; }));
  t.push_back(quantity("chip.hbm.latency", U::time, "100 ns", 0, 1'000'000'000,
                       "ideal: unloaded request-to-data latency; DRAM devices: the fixed part outside "
                       "the DRAM (controller, PHY, crossbar)",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.hbm.latency_ps; }));
  t.push_back(quantity("chip.hbm.capacity", U::size, "32 GiB", 1 << 20, 1ULL << 50, "HBM capacity",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.hbm.capacity_bytes; }));
  t.push_back(quantity("chip.hbm.interleave", U::size, "4 KiB", 32, 1ULL << 30,
                       "ideal device: address stripe, consecutive stripes on consecutive channels",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.hbm.interleave_bytes; }));
  t.push_back(text_choice("chip.hbm.device", "ideal", {"ideal", "hbm2", "hbm2e", "hbm3", "hbm3e", "ddr3"},
                          "ideal: bandwidth + latency per channel; hbm2/hbm2e/hbm3/hbm3e/ddr3: DRAM timing per "
                          "pseudo-channel, data rate (tCK) from chip.hbm.bandwidth (config/dram_device.cpp cites each preset)",
                          +[](HardwareSpec& h) -> std::string& { return h.chip.hbm.device; }));
  {
    HardwareParam p;
    p.path = "chip.hbm.mapping";
    p.type = ParamType::text;
    p.default_text = "ro_ba_ch_co_bg";
    p.description =
        "DRAM address mapping as a field order, most significant first: ro (row), ba (bank), bg (bank group), "
        "ch (pseudo-channel), co (column), each once; 'ro_ba_ch_co_bg' or 'RoBaChCoBg'";
    p.normalize = normalize_dram_mapping;
    p.set = [](HardwareSpec& h, const ParamValue& v) { h.chip.hbm.mapping = v.text; };
    p.get = [](const HardwareSpec& h) {
      ParamValue v;
      v.text = h.chip.hbm.mapping;
      return v;
    };
    t.push_back(std::move(p));
  }
  // The device's organisation and timings: 0 / preset keeps the device preset's value.
  t.push_back(count("chip.hbm.pseudo_channels", "0", 0, 16,
                    "pseudo-channels per channel (1 = legacy mode); 0 = the device's",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.hbm.pseudo_channels; }));
  t.push_back(count("chip.hbm.bank_groups", "0", 0, 8, "bank groups per pseudo-channel; 0 = the device's",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.hbm.bank_groups; }));
  t.push_back(count("chip.hbm.banks_per_group", "0", 0, 64, "banks per bank group; 0 = the device's",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.hbm.banks_per_group; }));
  t.push_back(count("chip.hbm.rows", "0", 0, 1u << 24,
                    "rows per bank; 0 = as many as chip.hbm.capacity holds",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.hbm.rows; }));
  t.push_back(count("chip.hbm.columns", "0", 0, 1u << 16,
                    "bursts per row (page size = columns x bus bytes x burst length); 0 = the device's",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.hbm.columns; }));
  t.push_back(count("chip.hbm.bus_bits", "0", 0, 1024, "data bus width of one pseudo-channel; 0 = the device's",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.hbm.bus_bits; }));
  t.push_back(count("chip.hbm.burst_length", "0", 0, 64, "burst length in transfers (BL4, BL8); 0 = the device's",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.hbm.burst_length; }));
  for (const auto& field : dram_timing_fields())
    t.push_back(map_entry("chip.hbm.timing." + std::string(field.name), field.name, "preset",
                          std::string(field.description) + "; '14 ns' or '7 ck'", parse_dram_time,
                          +[](HardwareSpec& h) -> std::map<std::string, std::string>& { return h.chip.hbm.timing; }));
  t.push_back(flag("chip.hbm.channel_hash", "true",
                   "spread the address bits above the pseudo-channel field into it (the pseudo-channel is "
                   "rotated by their base-PC digit sum), as memory controllers hash addresses into channels: "
                   "strided tiles then use every pseudo-channel; false: plain modulo interleave",
                   +[](HardwareSpec& h) -> bool& { return h.chip.hbm.channel_hash; }));
  t.push_back(flag("chip.hbm.xor_bank", "false",
                   "XOR the bank index with the row's bits from chip.hbm.xor_row_shift up",
                   +[](HardwareSpec& h) -> bool& { return h.chip.hbm.xor_bank; }));
  t.push_back(flag("chip.hbm.xor_channel", "false",
                   "XOR the pseudo-channel with the row's bits from chip.hbm.xor_row_shift up (a power-of-two "
                   "number of pseudo-channels); applied after chip.hbm.channel_hash",
                   +[](HardwareSpec& h) -> bool& { return h.chip.hbm.xor_channel; }));
  t.push_back(count("chip.hbm.xor_row_shift", "0", 0, 31,
                    "the lowest row bit XORed into bank (xor_bank) and pseudo-channel (xor_channel)",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.hbm.xor_row_shift; }));
  t.push_back(text_choice("chip.hbm.page_policy", "open", {"open", "closed", "adaptive"},
                          "open: rows stay open for later hits; closed: precharge after each request; "
                          "adaptive: a row is precharged chip.hbm.page_timeout after its last use",
                          +[](HardwareSpec& h) -> std::string& { return h.chip.hbm.page_policy; }));
  t.push_back(count("chip.hbm.page_timeout", "50", 1, 1'000'000,
                    "adaptive page policy: DRAM clocks an open row waits for another use before it is "
                    "precharged (a timeout row policy, as in Ramulator; 50 is our assumption)",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.hbm.page_timeout; }));
  t.push_back(text_choice("chip.hbm.refresh", "per_bank", {"per_bank", "all_bank"},
                          "per_bank: one bank at a time every tREFI / banks; all_bank: the whole "
                          "pseudo-channel every tREFI",
                          +[](HardwareSpec& h) -> std::string& { return h.chip.hbm.refresh; }));
  t.push_back(flag("chip.hbm.refresh_stagger", "true",
                   "pseudo-channel i starts its refresh schedule i / (pseudo-channels) of an interval late, so "
                   "they never all refresh at once (DRAMsim3's staggered refresh); false: in lockstep",
                   +[](HardwareSpec& h) -> bool& { return h.chip.hbm.refresh_stagger; }));
  t.push_back(flag("chip.hbm.stream_fast_path", "true",
                   "a speed shortcut: requests covering a whole (bank, row) block are appended after the latest "
                   "commands instead of searched into the command timelines, refresh by arithmetic "
                   "(error against the command model: docs/memory.md)",
                   +[](HardwareSpec& h) -> bool& { return h.chip.hbm.stream_fast_path; }));
  t.push_back(count("chip.hbm.write_high_watermark", "100", 1, 100,
                    "percent of the write queue: a write that would pass it waits while posted writes drain "
                    "(row hits first) to the low watermark",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.hbm.write_high_watermark; }));
  t.push_back(count("chip.hbm.write_low_watermark", "50", 0, 99,
                    "percent of the write queue a drain stops at; below chip.hbm.write_high_watermark",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.hbm.write_low_watermark; }));
  t.push_back(count("chip.hbm.queue_depth", "32", 1, 4096, "read and write queue entries per pseudo-channel",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.hbm.queue_depth; }));
  t.push_back(quantity("chip.dma.chunk", U::size, "64 KiB", 64, 1ULL << 30,
                       "DMA request size: one HBM request and one simulation event each",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.dma.chunk_bytes; }));
  t.push_back(count("chip.dma.outstanding", "16", 1, 4096, "DMA requests in flight per TensorCore",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.chip.dma.outstanding; }));
  t.push_back(quantity("chip.noc.core_port_bandwidth", U::bandwidth, "900 GB/s", 1'000'000,
                       1'000'000'000'000'000ULL,
                       "bandwidth of each TensorCore's port into the on-chip crossbar",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.noc.core_port_Bps; }));
  // The pod: defaults are one chip (no network); the *-pod presets set the rest.
  // Energy (energy/energy_table.h): a technology table for the logic, each entry
  // overridable, and the chip's own off-chip and static figures.
  t.push_back(text_choice("chip.energy.node", "16nm", energy_table_nodes(),
                          "technology node whose energy table (configs/energy/<node>.yaml) prices MACs, vector "
                          "ops and SRAM bytes",
                          +[](HardwareSpec& h) -> std::string& { return h.chip.energy.node; }));
  for (const std::string& action : energy_table_actions()) {
    const std::string description =
        action == "vector_op"   ? "energy of one vector-unit lane busy for one cycle; 'table' keeps the node's"
        : action == "sram_byte" ? "energy per byte read or written in vector memory; 'table' keeps the node's"
                                : "energy per " + action.substr(4) + " multiply-accumulate; 'table' keeps the node's";
    t.push_back(map_entry(
        "chip.energy." + action, action, "table", description,
        [](const std::string& text, std::string* why) -> std::optional<std::string> {
          const auto q = parse_quantity(text, UnitKind::energy, why);
          if (!q) return std::nullopt;
          return format_quantity(q->value, UnitKind::energy);
        },
        +[](HardwareSpec& h) -> std::map<std::string, std::string>& { return h.chip.energy.overrides; }));
  }
  // Area (energy/chip_area.h): the same node's area_table, each density overridable.
  for (const std::string& key : area_table_keys())
    t.push_back(map_entry(
        "chip.area." + key, key, "table",
        "area density '" + key + "' (a number in the unit its name ends with); 'table' keeps the node's",
        [key](const std::string& text, std::string* why) -> std::optional<std::string> {
          if (!parse_area_density(key, text, why)) return std::nullopt;
          return text;
        },
        +[](HardwareSpec& h) -> std::map<std::string, std::string>& { return h.chip.area.overrides; }));
  t.push_back(text_choice("chip.energy.dram_model", "per_bit", {"per_bit", "per_command"},
                          "off-chip memory energy: per_bit prices every bit at chip.energy.dram_bit; per_command "
                          "prices ACTs, array reads and writes and refreshes from the device's currents and the "
                          "rest of dram_bit per bit (needs a DRAM device: ideal stays per bit)",
                          +[](HardwareSpec& h) -> std::string& { return h.chip.energy.dram_model; }));
  t.push_back(quantity("chip.energy.dram_bit", U::energy, "3.9 pJ", 0, 1'000'000'000'000,
                       "off-chip memory energy per bit read or written, activation and I/O included",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.energy.dram_bit_aJ; }));
  t.push_back(quantity("chip.energy.ici_bit", U::energy, "0 aJ", 0, 1'000'000'000'000,
                       "inter-chip link energy per bit per link crossed (0 = not known)",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.energy.ici_bit_aJ; }));
  t.push_back(quantity("chip.energy.static_power", U::power, "0 W", 0, 100'000'000'000ULL,
                       "power each chip draws whether busy or idle (leakage, clocks, memory background); "
                       "0 = not known: reports then give dynamic energy only and say so",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.energy.static_power_uW; }));
  // Host side (host/host_model.h): applied to the simulated step after the run.
  t.push_back(quantity("chip.host.link_bandwidth", U::bandwidth, "0 B/s", 0, 1'000'000'000'000'000ULL,
                       "host link (PCIe) bandwidth each direction: each step's input comes in and its output "
                       "goes out over it; 0 = no host link modelled",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.host.link_Bps; }));
  t.push_back(quantity("chip.host.step_time", U::time, "0 ns", 0, 1'000'000'000'000'000ULL,
                       "host work per step (input pipeline, program launch); 0 = none",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.chip.host.step_ps; }));
  t.push_back(flag("chip.host.overlap", "true",
                   "the next step's infeed and host work run while the chip computes this step (infeed "
                   "queues, host running ahead): a step takes the longest of the four; false: their sum",
                   +[](HardwareSpec& h) -> bool& { return h.chip.host.overlap; }));
  t.push_back(text_choice("pod.topology", "torus", {"ring", "torus", "switch"},
                          "ring: one line of chips closed into a ring; torus: 1-3 dimensions, "
                          "dimension-order routing; switch: one non-blocking switch (baseline)",
                          +[](HardwareSpec& h) -> std::string& { return h.pod.topology; }));
  {
    HardwareParam p;
    p.path = "pod.dims";
    p.type = ParamType::shape;
    p.default_text = "1";
    p.description = "chips along each dimension ('32x32', '[16, 16, 16]'); 1 = a single chip";
    p.set = [](HardwareSpec& h, const ParamValue& v) { h.pod.dims = v.text; };
    p.get = [](const HardwareSpec& h) {
      ParamValue v;
      v.text = h.pod.dims;
      return v;
    };
    t.push_back(std::move(p));
  }
  t.push_back(flag("pod.wraparound", "true",
                   "torus: links close every line into a ring (false: a mesh, edges have fewer links)",
                   +[](HardwareSpec& h) -> bool& { return h.pod.wraparound; }));
  t.push_back(count("pod.links_per_chip", "4", 1, 64,
                    "inter-chip links per chip; on a torus a multiple of 2 x dimensions (links "
                    "bundled per neighbour), on a switch all go to the switch",
                    +[](HardwareSpec& h) -> std::uint32_t& { return h.pod.links_per_chip; }));
  t.push_back(quantity("pod.link.bandwidth", U::bandwidth, "80 GB/s", 1'000'000, 1'000'000'000'000'000ULL,
                       "bandwidth of one inter-chip link in each direction",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.pod.link_bandwidth_Bps; }));
  t.push_back(quantity("pod.link.latency", U::time, "500 ns", 0, 1'000'000'000'000ULL,
                       "latency of one hop (link, SerDes and router), added per chunk per hop",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.pod.link_latency_ps; }));
  t.push_back(quantity("pod.chunk", U::size, "256 KiB", 64, 1ULL << 30,
                       "network message chunk: one link reservation per chunk and hop (simulation "
                       "granularity, not a hardware figure)",
                       +[](HardwareSpec& h) -> std::uint64_t& { return h.pod.chunk_bytes; }));
  t.push_back(flag("pod.collective_memory_traffic", "true",
                   "collectives read and write HBM (sent, received, 3 x reduced bytes) and reduce on "
                   "the vector units, slowing the ops beside them (docs/pods.md); false: free",
                   +[](HardwareSpec& h) -> bool& { return h.pod.collective_memory_traffic; }));
  return t;
}

}  // namespace

const std::vector<HardwareParam>& hardware_params() {
  static const std::vector<HardwareParam> table = build_table();
  return table;
}

const HardwareParam* find_hardware_param(const std::string& path) {
  for (const auto& p : hardware_params())
    if (p.path == path) return &p;
  return nullptr;
}

const char* dataflow_name(Dataflow d) {
  switch (d) {
    case Dataflow::ws: return "ws";
    case Dataflow::os: return "os";
    case Dataflow::is: return "is";
  }
  return "?";
}

std::vector<std::uint32_t> PodSpec::dim_sizes() const {
  std::vector<std::uint32_t> out;
  std::string digits;
  for (char c : dims + "x") {
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (!digits.empty()) {
      out.push_back(std::uint32_t(std::stoul(digits)));
      digits.clear();
    }
  }
  if (out.empty()) out.push_back(1);
  return out;
}

std::uint64_t PodSpec::chips() const {
  std::uint64_t n = 1;
  for (std::uint32_t d : dim_sizes()) n *= d;
  return n;
}

HardwareSpec default_hardware() {
  HardwareSpec spec;
  for (const auto& p : hardware_params()) {
    std::string why;
    auto value = parse_param_value(p, p.default_text, &why);
    if (!value) throw std::logic_error("bad default for " + p.path + ": " + why);
    p.set(spec, *value);
  }
  return spec;
}

}  // namespace podsim
