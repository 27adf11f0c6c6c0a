// Lowering of a matmul onto a chip: tile sizes that fit vector memory with double
// buffering, output blocks spread over the TensorCores, and the HBM traffic that implies.
//
// Loop nest on each core (output-stationary in vector memory):
//   for each output block (bm, bn) assigned to this core (round robin over cores):
//     for kb in 0 .. blocks_k-1:
//       DMA  A[bm, kb] (tm x tk) and B[kb, bn] (tk x tn)  -> a free operand buffer
//       MXUs accumulate A x B into the fp32/int32 accumulator block (tm x tn)
//     DMA  C[bm, bn] (tm x tn, op dtype) -> HBM
// Vector memory holds B operand buffers (chip.vmem.operand_buffers; 2 = double
// buffering: the DMA of tile i+1 overlaps the MXU work of tile i) and 2 accumulator
// blocks (the store of one block overlaps the next block's work):
//   vmem = B (tm tk + tk tn) bytes(dtype) + 2 tm tn bytes(accumulator)
// (without the tk tn weight buffers when a weight FIFO streams B straight to the array)
// HBM reads:  A is read once per block column, B once per block row:
//   read = M K b blocks_n + K N b blocks_m;   write = M N b.
// (For a convolution's patches, M K b is the bytes its A tiles read from the input:
// compiler/implicit_conv.h.)
// Activations on chip (chip.vmem.holds_activations or fused attention, when they fit):
//   vmem = [A] + [C] + B ([tm tk] + tk tn) b + 2 tm tn bytes(accumulator);
//   read = [M K b blocks_n] + K N b blocks_m;   write = [M N b]   (bracketed: when off chip).
// A-resident variant (when all of A fits beside the other buffers): each core loads each
// A block it needs once and keeps it, so A is read once per core that needs its rows,
// not once per block column: vmem = M K b + 2 tk tn b + 2 tm tn bytes(accumulator).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "podsim/compiler/systolic_timing.h"
#include "podsim/config/hardware_spec.h"
#include "podsim/workload/workload_spec.h"

namespace podsim {

// Which of a matmul's activations the caller wants kept in vector memory.
struct OnchipOperands {
  bool a = false, c = false;
  // Held one row block (tm rows) at a time, not whole: the op is one step of a fused kernel
  // that runs block by block (FlashAttention: a block of queries' scores at a time).
  bool by_row_block = false;
  bool any() const { return a || c; }
};

struct MatmulTiling {
  std::uint64_t tm = 0, tk = 0, tn = 0;                  // tile sizes (edge tiles smaller)
  // The TensorCores the output blocks are dealt over: the chip's all unless the mapping
  // leaves some idle (a small or memory-bound op split over two cores reads its weights,
  // or its input, once per core; one core reads them once). 0: every core (a tiling not
  // made by make_matmul_tiling).
  std::uint32_t cores = 0;
  bool a_resident = false;                               // A stays in vector memory once loaded
  // A (the op's input) and C (its output) live in vector memory before and after the op
  // (chip.vmem.holds_activations, or inside fused attention): no off-chip bytes for them;
  // vmem holds all of each beside the tiles, or one row block of each (by_row_block).
  bool a_onchip = false, c_onchip = false;
  bool onchip_by_row_block = false;                      // OnchipOperands::by_row_block
  std::uint64_t onchip_activation_bytes = 0;             // A and C bytes that stayed on chip
  OnchipOperands onchip() const { return {a_onchip, c_onchip, onchip_by_row_block}; }
  bool activations_onchip() const { return a_onchip && c_onchip; }
  std::uint64_t blocks_m = 0, blocks_k = 0, blocks_n = 0;
  std::uint64_t vmem_bytes = 0;                          // footprint per core
  std::uint64_t hbm_read_bytes = 0;
  std::uint64_t hbm_write_bytes = 0;
  double estimated_seconds = 0;                          // the mapper's cost estimate

  std::uint64_t output_blocks() const { return blocks_m * blocks_n; }
};

// Chooses the tiling with the lowest estimated time (a closed-form model of compute,
// memory and pipeline fill) among power-of-two multiples of the array size. Throws
// ConfigError (key chip.vmem.capacity) when not even the smallest tile fits.
// With `onchip` set, tilings that keep those operands in vector memory are tried first;
// when none fits, the operands use off-chip memory (a spill: MatmulTiling says which).
MatmulTiling choose_matmul_tiling(const MatmulOp& op, const HardwareSpec& hw,
                                  const SourceLocation& where, OnchipOperands onchip = {});

// Every tiling the search considers that fits vector memory, in search order (those that
// keep `onchip` operands first; when none of those fits, the off-chip ones), each with its
// estimate: what choose_matmul_tiling picks from, and what `podsim map` ranks.
std::vector<MatmulTiling> matmul_tiling_candidates(const MatmulOp& op, const HardwareSpec& hw,
                                                   OnchipOperands onchip = {});

// A tiling of these sizes (clipped to the op's dimensions), as the workload pins it with an
// op's `tile: [tm, tk, tn, cores]`: keeping `onchip` operands if that fits, else the A-resident or
// streaming variant with the lower estimate; nullopt when no variant fits vector memory.
// `cores` 0: every TensorCore of the chip (more than the chip has: ConfigError from the caller).
std::optional<MatmulTiling> pinned_matmul_tiling(const MatmulOp& op, const HardwareSpec& hw, std::uint64_t tm,
                                                 std::uint64_t tk, std::uint64_t tn, OnchipOperands onchip = {},
                                                 std::uint32_t cores = 0);

// The same bookkeeping for given tile sizes (for tests and for forcing a tiling). A
// convolution's patch bytes (op.patches) are summed over every block unless `exact` is
// false (a sample, to rank candidates).
// `cores` 0: every TensorCore of the chip.
MatmulTiling make_matmul_tiling(const MatmulOp& op, const HardwareSpec& hw, std::uint64_t tm,
                                std::uint64_t tk, std::uint64_t tn, bool a_resident = false, bool exact = true,
                                OnchipOperands onchip = {}, std::uint32_t cores = 0);

// The weight matrix's K and N as laid out off-chip: rounded up to whole array tiles with
// chip.mxu.padded_weight_tiles, else as they are. B is read as padded_k x padded_n.
std::uint64_t padded_weight_k(const MatmulOp& op, const HardwareSpec& hw);
std::uint64_t padded_weight_n(const MatmulOp& op, const HardwareSpec& hw);

// Array passes per MAC for the op's dtype on this chip (0: the chip does not support it).
std::uint32_t mxu_passes(const HardwareSpec& hw, DType dtype);
// Passes and packing together: how fast the arrays stream the dtype.
MxuRate mxu_rate(const HardwareSpec& hw, DType dtype);

// The chip's MXU as the timing model sees it.
SystolicArrayShape array_shape(const HardwareSpec& hw);

// One tile of the loop nest above, in element coordinates.
struct MatmulTile {
  std::uint64_t m0 = 0, tm = 0;
  std::uint64_t k0 = 0, tk = 0;
  std::uint64_t n0 = 0, tn = 0;
  std::uint64_t block = 0;     // output block index, bm * blocks_n + bn
  std::uint64_t instance = 0;  // which of a batched op's independent instances
  bool first_k = false;     // starts a fresh accumulator block
  bool last_k = false;      // completes the block: store C afterwards
};

// The tiles one core runs, generated on demand (a big matmul has millions of tiles). With
// `instances` > 1 (a batched matmul: attention heads, convolution groups) the output
// blocks of all instances are dealt round-robin to the cores as one list, instance by
// instance, so the instances flow through each core's pipeline back to back.
class MatmulTileSequence {
 public:
  MatmulTileSequence(const MatmulOp& op, const MatmulTiling& tiling, std::uint32_t core,
                     std::uint32_t cores, std::uint64_t instances = 1);
  std::uint64_t size() const { return blocks_ * tiling_.blocks_k; }
  MatmulTile at(std::uint64_t index) const;

 private:
  MatmulOp op_;
  MatmulTiling tiling_;
  std::uint32_t core_, cores_;
  std::uint64_t blocks_ = 0;  // output blocks owned by this core
};

}  // namespace podsim
