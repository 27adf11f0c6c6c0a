#include "podsim/compiler/matmul_tiling.h"
#include "podsim/compiler/vector_plan.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "podsim/compiler/implicit_conv.h"

namespace podsim {
namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// min(dim, granule x 2^i) for every i until the whole dimension is covered.
std::vector<std::uint64_t> candidates(std::uint64_t dim, std::uint64_t granule) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t s = granule;; s *= 2) {
    out.push_back(std::min(dim, s));
    if (s >= dim) break;
  }
  return out;
}

// Estimated time of a tiling, mirroring the pipeline in arch/tensor_core: the DMA of tile
// i+1 starts when tile i starts streaming, so each tile takes the longer of its MXU time
// and its load (at this core's share of HBM bandwidth). The busiest core sets the time.
double estimate_seconds(const MatmulOp& op, const HardwareSpec& hw, const MatmulTiling& t) {
  const auto& chip = hw.chip;
  const double f = double(chip.clock_hz);
  const double bytes = dtype_bytes(op.dtype);
  // A batched op's instances deal their output blocks to the cores as one list
  // (MatmulTileSequence): the whole op is costed, not one instance.
  const std::uint64_t instances = std::max<std::uint64_t>(1, op.batch_instances);
  const std::uint64_t all_blocks = t.output_blocks() * instances;
  const std::uint64_t active_cores = std::min<std::uint64_t>(t.cores, all_blocks);
  const std::uint64_t blocks_per_core = ceil_div(all_blocks, t.cores);
  const double core_bw = std::min(double(chip.noc.core_port_Bps),
                                  double(chip.hbm.bandwidth_Bps) / double(active_cores));
  const double latency_s = double(chip.hbm.latency_ps) * 1e-12;

  // One tile on one core, its folds shared out over the MXUs as TensorCore::share_tile
  // does (split_over_mxus): the busiest MXU's folds back to back.
  const SystolicPipeline array(array_shape(hw));
  const FoldGrid grid = fold_grid(array.shape(), t.tm, t.tk, t.tn);
  const MxuSplit split = split_over_mxus(array.shape(), chip.mxus_per_core, grid, mxu_rate(hw, op.dtype));
  // Quantized weights: each tile is dequantized on the vector unit while the MXUs work on
  // the one before (TensorCore::compute), so a tile takes the longer of the two.
  const std::uint64_t dequant_cycles =
      op.dequantizes() ? vector_tile_cycles(hw, dequantize_cost(op.b_dtype()), t.tk, t.tn) : 0;
  const double tile_compute_s = double(std::max(split.cycles, dequant_cycles)) / f;
  // Bytes per tile on average: the tiling's total traffic over its tiles. An A-resident
  // tiling reads each A block once, with the first tile that needs it: those tiles carry
  // an A block on top of their B tile and are costed apart below.
  const double tiles = double(t.output_blocks() * t.blocks_k);
  const double a_resident_bytes =
      t.a_resident && !t.a_onchip
          ? double(t.hbm_read_bytes - op.weight_bytes(padded_weight_k(op, hw) * padded_weight_n(op, hw)) * t.blocks_m)
          : 0.0;
  const double tile_load_s = (double(t.hbm_read_bytes) - a_resident_bytes) / tiles / core_bw;
  const double store_s = double(t.tm * t.tn) * bytes / core_bw;
  // Compute-bound: a load starts when a buffer frees, one tile ahead, so its latency must
  // hide under one tile's compute. Memory-bound: loads queue back to back and the DMA
  // engine keeps its requests in flight across them, so the latency is paid once.
  auto tile_time = [&](double load_s) {
    return tile_compute_s >= load_s ? std::max(tile_compute_s, load_s + latency_s) : load_s;
  };
  const double tile_s = tile_time(tile_load_s);
  const double block_s = std::max(double(t.blocks_k) * tile_s, double(t.blocks_k) * tile_load_s + store_s);
  double per_core_s = double(blocks_per_core) * block_s;
  if (a_resident_bytes > 0) {
    // Each core's A blocks (tm x tk) come one per tile that first uses it; such a tile
    // takes the longer of its compute and its A and B loads together.
    const double a_block_bytes = double(t.tm * t.tk) * bytes;
    const double a_tiles_per_core = std::ceil(a_resident_bytes * double(instances) / double(active_cores) / a_block_bytes);
    per_core_s += a_tiles_per_core * (tile_time(tile_load_s + a_block_bytes / core_bw) - tile_s);
  }

  // All cores together cannot beat the chip's HBM bandwidth.
  const double memory_s =
      double(t.hbm_read_bytes + t.hbm_write_bytes) * double(instances) / double(chip.hbm.bandwidth_Bps);
  // N tiles in a two-stage pipeline take N max(c, l) + min(c, l): the first load or the
  // last tile's compute is not overlapped; the last block's store and the array's fill
  // and drain come on top.
  return std::max(per_core_s, memory_s) + std::min(tile_compute_s, tile_load_s) + store_s +
         latency_s + double(array.fill_drain_cycles()) / f;
}

}  // namespace

std::uint32_t mxu_passes(const HardwareSpec& hw, DType dtype) {
  switch (dtype) {
    case DType::int8: return hw.chip.mxu.passes_int8;
    case DType::fp8: return hw.chip.mxu.passes_fp8;
    case DType::bf16: return hw.chip.mxu.passes_bf16;
    case DType::fp16: return hw.chip.mxu.passes_fp16;
    case DType::fp32: return hw.chip.mxu.passes_fp32;
    case DType::int4: return 0;  // storage only: dequantized before the MXUs (dtype.h)
  }
  return 1;
}

MxuRate mxu_rate(const HardwareSpec& hw, DType dtype) {
  MxuRate r;
  r.passes = mxu_passes(hw, dtype);
  r.packed = dtype == DType::int8 ? hw.chip.mxu.rate_int8 : dtype == DType::fp8 ? hw.chip.mxu.rate_fp8 : 1;
  return r;
}

SystolicArrayShape array_shape(const HardwareSpec& hw) {
  return {hw.chip.mxu.rows, hw.chip.mxu.cols, hw.chip.mxu.dataflow, hw.chip.mxu.weight_overlap};
}

namespace {

// Bytes of A block row bm (all its k blocks), read from a convolution's input.
std::uint64_t patch_row_bytes(const MatmulOp& op, const MatmulTiling& t, std::uint64_t bm, std::uint64_t kb_step = 1) {
  const std::uint64_t b = dtype_bytes(op.dtype);
  const std::uint64_t m0 = bm * t.tm, rows = std::min(t.tm, op.m - m0);
  std::uint64_t sum = 0, sampled = 0;
  for (std::uint64_t kb = 0; kb < t.blocks_k; kb += kb_step, ++sampled)
    sum += patch_block(*op.patches, b, m0, rows, kb * t.tk, std::min(t.tk, op.k - kb * t.tk));
  return kb_step == 1 ? sum : sum * t.blocks_k / sampled;
}

// A bytes per block row: exact, or (to rank candidate tilings quickly) from a sample of
// at most 8 block rows and 8 block columns, scaled up.
std::vector<std::uint64_t> patch_rows(const MatmulOp& op, const MatmulTiling& t, bool exact) {
  std::vector<std::uint64_t> rows(t.blocks_m, 0);
  if (exact) {
    for (std::uint64_t bm = 0; bm < t.blocks_m; ++bm) rows[bm] = patch_row_bytes(op, t, bm);
    return rows;
  }
  const std::uint64_t step_m = std::max<std::uint64_t>(1, t.blocks_m / 8), step_k = std::max<std::uint64_t>(1, t.blocks_k / 8);
  std::uint64_t sum = 0, sampled = 0;
  for (std::uint64_t bm = 0; bm < t.blocks_m; bm += step_m, ++sampled) sum += patch_row_bytes(op, t, bm, step_k);
  std::fill(rows.begin(), rows.end(), sum / sampled);
  return rows;
}

}  // namespace

std::uint64_t padded_weight_k(const MatmulOp& op, const HardwareSpec& hw) {
  return hw.chip.mxu.padded_weight_tiles ? ceil_div(op.k, hw.chip.mxu.rows) * hw.chip.mxu.rows : op.k;
}
std::uint64_t padded_weight_n(const MatmulOp& op, const HardwareSpec& hw) {
  return hw.chip.mxu.padded_weight_tiles ? ceil_div(op.n, hw.chip.mxu.cols) * hw.chip.mxu.cols : op.n;
}

MatmulTiling make_matmul_tiling(const MatmulOp& op, const HardwareSpec& hw, std::uint64_t tm,
                                std::uint64_t tk, std::uint64_t tn, bool a_resident, bool exact,
                                OnchipOperands onchip, std::uint32_t cores) {
  MatmulTiling t;
  t.cores = std::max(1u, cores == 0 ? hw.chip.tensor_cores : std::min(cores, hw.chip.tensor_cores));
  t.tm = tm;
  t.tk = tk;
  t.tn = tn;
  t.blocks_m = ceil_div(op.m, tm);
  t.blocks_k = ceil_div(op.k, tk);
  t.blocks_n = ceil_div(op.n, tn);
  const std::uint64_t b = dtype_bytes(op.dtype);
  const std::uint64_t acc = hw.chip.mxu.accumulator_bits / 8;
  // With a weight FIFO the B tile streams from memory to the array: no vmem buffer.
  const std::uint64_t weight_buffer = hw.chip.mxu.weight_fifo_depth > 0 ? 0 : tk * tn;
  // Quantized weights: the stored tiles in the operand buffers, and the tile being
  // dequantized to the op's dtype for the MXUs.
  const std::uint64_t dequantized = op.dequantizes() ? tk * tn * b : 0;
  t.a_resident = a_resident;
  // A convolution's patches: the bytes of each A block row, read from its input.
  const std::vector<std::uint64_t> patch = op.patches ? patch_rows(op, t, exact) : std::vector<std::uint64_t>{};
  std::uint64_t patch_total = 0;
  for (auto x : patch) patch_total += x;
  if (onchip.any()) {
    // A (or a convolution's input) and/or C are in vector memory already.
    const std::uint64_t a_bytes = op.patches ? input_bytes(*op.patches, b) : op.m * op.k * b;
    const std::uint64_t a_traffic = op.patches ? patch_total : op.m * op.k * b;
    t.a_onchip = onchip.a;
    t.c_onchip = onchip.c;
    t.onchip_by_row_block = onchip.by_row_block;
    t.onchip_activation_bytes = (onchip.a ? a_bytes : 0) + (onchip.c ? op.m * op.n * b : 0);
    // A fused kernel's step holds the row block it works on (tm rows of A and of C).
    const std::uint64_t held = onchip.by_row_block && !op.patches
                                   ? ((onchip.a ? tm * op.k : 0) + (onchip.c ? tm * op.n : 0)) * b
                                   : t.onchip_activation_bytes;
    t.vmem_bytes = held +
                   hw.chip.vmem_operand_buffers * ((onchip.a ? 0 : tm * tk) * b + op.weight_bytes(weight_buffer)) +
                   dequantized + 2 * tm * tn * acc;
    t.hbm_read_bytes =
        (onchip.a ? 0 : a_traffic * t.blocks_n) + op.weight_bytes(padded_weight_k(op, hw) * padded_weight_n(op, hw)) * t.blocks_m;
    t.hbm_write_bytes = onchip.c ? 0 : op.m * op.n * b;
    t.estimated_seconds = estimate_seconds(op, hw, t);
    return t;
  }
  if (!a_resident) {
    t.vmem_bytes = hw.chip.vmem_operand_buffers * (tm * tk * b + op.weight_bytes(weight_buffer)) + dequantized +
                   2 * tm * tn * acc;
    t.hbm_read_bytes = (op.patches ? patch_total : op.m * op.k * b) * t.blocks_n + op.weight_bytes(padded_weight_k(op, hw) * padded_weight_n(op, hw)) * t.blocks_m;
  } else {
    t.vmem_bytes = op.m * op.k * b + hw.chip.vmem_operand_buffers * op.weight_bytes(weight_buffer) + dequantized +
                   2 * tm * tn * acc;
    // Each core reads the A rows of every block row it has a block in, once. Output blocks
    // are dealt round-robin in row-major order, so a block row's blocks_n consecutive blocks
    // reach min(cores, blocks_n) cores (consecutive indices have distinct residues), and
    // every block row's A bytes are read that many times. (Until 2026-12-07 this walked
    // every output block with a division each: 10 % of a `podsim plan` of GPT-3.)
    const std::uint64_t a_bytes_once = op.patches ? patch_total : op.m * op.k * b;
    const std::uint64_t a_read = std::min<std::uint64_t>(t.cores, t.blocks_n) * a_bytes_once;
    t.hbm_read_bytes = a_read + op.weight_bytes(padded_weight_k(op, hw) * padded_weight_n(op, hw)) * t.blocks_m;
  }
  t.hbm_write_bytes = op.m * op.n * b;
  t.estimated_seconds = estimate_seconds(op, hw, t);
  return t;
}

std::vector<MatmulTiling> matmul_tiling_candidates(const MatmulOp& op, const HardwareSpec& hw,
                                                   OnchipOperands onchip) {
  const auto& chip = hw.chip;
  // Rows stream one per cycle, so any tm works; multiples of 8 keep the search small.
  const auto tms = candidates(op.m, 8);
  const auto tks = candidates(op.k, chip.mxu.rows);
  const auto tns = candidates(op.n, chip.mxu.cols);
  std::vector<MatmulTiling> fitting;
  // Tilings that keep the requested activations in vector memory come first; when none
  // fits, they spill to off-chip memory.
  if (onchip.any())
    for (auto tm : tms)
      for (auto tk : tks)
        for (auto tn : tns) {
          MatmulTiling t = make_matmul_tiling(op, hw, tm, tk, tn, false, /*exact=*/false, onchip);
          if (t.vmem_bytes <= chip.vmem_bytes) fitting.push_back(t);
        }
  if (fitting.empty())
    for (auto tm : tms)
      for (auto tk : tks)
        for (auto tn : tns) {
          for (bool resident : {false, true}) {
            if (resident && op.m * op.k * dtype_bytes(op.dtype) > chip.vmem_bytes) continue;
            MatmulTiling t = make_matmul_tiling(op, hw, tm, tk, tn, resident, /*exact=*/false);
            if (t.vmem_bytes <= chip.vmem_bytes) fitting.push_back(t);
          }
        }
  return fitting;
}

std::optional<MatmulTiling> pinned_matmul_tiling(const MatmulOp& op, const HardwareSpec& hw, std::uint64_t tm,
                                                 std::uint64_t tk, std::uint64_t tn, OnchipOperands onchip,
                                                 std::uint32_t cores) {
  tm = std::min(tm, op.m);
  tk = std::min(tk, op.k);
  tn = std::min(tn, op.n);
  std::vector<MatmulTiling> fitting;
  if (onchip.any()) {
    MatmulTiling t = make_matmul_tiling(op, hw, tm, tk, tn, false, true, onchip, cores);
    if (t.vmem_bytes <= hw.chip.vmem_bytes) return t;
  }
  for (bool resident : {false, true}) {
    MatmulTiling t = make_matmul_tiling(op, hw, tm, tk, tn, resident, true, {}, cores);
    if (t.vmem_bytes <= hw.chip.vmem_bytes) fitting.push_back(t);
  }
  if (fitting.empty()) return std::nullopt;
  return fitting.size() == 2 && fitting[1].estimated_seconds < fitting[0].estimated_seconds ? fitting[1] : fitting[0];
}

MatmulTiling choose_matmul_tiling(const MatmulOp& op, const HardwareSpec& hw,
                                  const SourceLocation& where, OnchipOperands onchip) {
  const auto& chip = hw.chip;
  const std::vector<MatmulTiling> fitting = matmul_tiling_candidates(op, hw, onchip);
  const bool found = !fitting.empty();
  MatmulTiling best;
  if (found) {
    // Estimates within 2% of the lowest count as equal (the model is not that exact);
    // among those, the fewest tiles win (bigger tiles leave more slack for DMA latency),
    // then the first in search order: deterministic.
    double lowest = fitting.front().estimated_seconds;
    for (const auto& t : fitting) lowest = std::min(lowest, t.estimated_seconds);
    std::uint64_t best_tiles = std::numeric_limits<std::uint64_t>::max();
    for (const auto& t : fitting) {
      const std::uint64_t tiles = t.output_blocks() * t.blocks_k;
      if (t.estimated_seconds <= lowest * 1.02 && tiles < best_tiles) {
        best = t;
        best_tiles = tiles;
      }
    }
  }
  // The winner's bytes exactly (candidates were ranked on sampled patch bytes).
  if (found && op.patches)
    best = make_matmul_tiling(op, hw, best.tm, best.tk, best.tn, best.a_resident, true, best.onchip());
  if (!found) {
    const MatmulTiling smallest = make_matmul_tiling(op, hw, std::min<std::uint64_t>(op.m, 8),
                                                     std::min<std::uint64_t>(op.k, chip.mxu.rows),
                                                     std::min<std::uint64_t>(op.n, chip.mxu.cols));
    throw ConfigError(where, "chip.vmem.capacity",
                      fmt::format("too small for this {}: the smallest tiling ({} x {} x {}) needs "
                                  "{} bytes of vector memory with double buffering, the chip has {}",
                                  "matmul", smallest.tm, smallest.tk, smallest.tn,
                                  smallest.vmem_bytes, chip.vmem_bytes));
  }
  return best;
}

MatmulTileSequence::MatmulTileSequence(const MatmulOp& op, const MatmulTiling& tiling,
                                       std::uint32_t core, std::uint32_t cores, std::uint64_t instances)
    : op_(op), tiling_(tiling), core_(core), cores_(cores) {
  const std::uint64_t total = tiling.output_blocks() * instances;
  // A core beyond those the tiling deals its blocks over gets none.
  blocks_ = core < cores && total > core ? ceil_div(total - core, cores) : 0;
}

MatmulTile MatmulTileSequence::at(std::uint64_t index) const {
  const std::uint64_t local_block = index / tiling_.blocks_k;
  const std::uint64_t kb = index % tiling_.blocks_k;
  const std::uint64_t global = core_ + local_block * cores_;
  const std::uint64_t block = global % tiling_.output_blocks();
  const std::uint64_t bm = block / tiling_.blocks_n;
  const std::uint64_t bn = block % tiling_.blocks_n;
  MatmulTile t;
  t.block = block;
  t.instance = global / tiling_.output_blocks();
  t.m0 = bm * tiling_.tm;
  t.tm = std::min(tiling_.tm, op_.m - t.m0);
  t.k0 = kb * tiling_.tk;
  t.tk = std::min(tiling_.tk, op_.k - t.k0);
  t.n0 = bn * tiling_.tn;
  t.tn = std::min(tiling_.tn, op_.n - t.n0);
  t.first_k = kb == 0;
  t.last_k = kb + 1 == tiling_.blocks_k;
  return t;
}

}  // namespace podsim
