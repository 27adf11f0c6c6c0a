// Lowering of the vector unit's ops (elementwise, softmax, layer/RMS norm, embedding
// lookups): row tiles that fit vector memory, their HBM traffic, and the closed-form cost
// of a tile on the vector unit.
//
// The vector unit of a TensorCore does lanes x sublanes element operations per cycle
// (chip.vector.lanes, chip.vector.sublanes; TPU v2-v4: 128 x 8) and transcendentals (exp,
// tanh, rsqrt, reciprocal) at chip.vector.transcendentals_per_cycle. An op's cost per
// element (vector_cost) counts both; a tile of r rows x c columns takes
//   ceil(r c vpu / (lanes x sublanes)) + ceil((r c eup + r eup_per_row) / transcendentals)
// cycles, tiles back to back on the core's vector unit.
#pragma once

#include <cstdint>
#include <vector>

#include "podsim/config/config_error.h"
#include "podsim/config/hardware_spec.h"
#include "podsim/workload/workload_spec.h"

namespace podsim {

struct VectorCost {
  std::uint32_t vpu_per_element = 1;  // adds, multiplies, compares, selects
  std::uint32_t eup_per_element = 0;  // transcendentals
  std::uint32_t eup_per_row = 0;      // e.g. one reciprocal or rsqrt per row
};
VectorCost vector_cost(VectorFn fn);
// Dequantizing one stored weight (or K/V) element to the compute dtype: convert and scale
// (2 VPU ops), and for int4 an unpack (shift and mask) first (3). An assumption: the TPU's
// conversion throughput is unpublished (docs/timing.md, "Quantized weights").
VectorCost dequantize_cost(DType stored);

std::uint64_t vector_tile_cycles(const HardwareSpec& hw, const VectorCost& cost, std::uint64_t rows,
                                 std::uint64_t cols);

// Output (or side-input) row where input row `row` of `rows` maps to, of `to_rows`.
std::uint64_t mapped_row(std::uint64_t row, std::uint64_t rows, std::uint64_t to_rows);
// How many rows of a tensor with `to_rows` rows the op's input rows [first, first + rows)
// map to (its output's, or its side input's).
std::uint64_t mapped_span(const VectorOp& op, std::uint64_t first, std::uint64_t rows, std::uint64_t to_rows);

// Cycles of the vector unit for input rows [first, first + rows) of the op: the cost
// above, per output element for pooling and broadcasts (window^2 work each).
std::uint64_t vector_op_tile_cycles(const HardwareSpec& hw, const VectorOp& op, std::uint64_t first,
                                    std::uint64_t rows);

struct VectorTiling {
  std::uint64_t tile_rows = 0;  // rows (or samples, for embeddings) per tile
  std::uint64_t tiles = 0;
  std::uint64_t vmem_bytes = 0;
  std::uint64_t hbm_read_bytes = 0, hbm_write_bytes = 0;
  bool fused = false;  // fused into its producer: its first input is in vector memory, nothing is stored
  // Inputs, side input and outputs all live in vector memory (chip.vmem.holds_activations):
  // nothing is loaded or stored off chip.
  bool activations_onchip = false;
  std::uint64_t onchip_activation_bytes = 0;
};

// Tiles of whole rows: as many rows as fit the operand buffers and two output buffers,
// but at least 4 tiles per core when there are rows enough (so loads overlap compute).
VectorTiling plan_vector(const VectorOp& op, const HardwareSpec& hw, bool fused, const SourceLocation& where);
// The same op with all its tensors kept in vector memory (no off-chip bytes).
VectorTiling keep_onchip(VectorTiling t, const VectorOp& op);
VectorTiling plan_embedding(const EmbeddingOp& op, const HardwareSpec& hw, const SourceLocation& where);

// The table row of lookup j of sample s: from the op's index file, uniform, or Zipf with
// ids scattered over the table; deterministic for the op's seed.
std::uint64_t embedding_row(const EmbeddingOp& op, std::uint64_t sample, std::uint64_t j);
// The probability that one lookup draws rank k (1-based) under embedding_row's law
// (1 / table_rows for uniform indices).
double embedding_rank_probability(const EmbeddingOp& op, std::uint64_t k);

}  // namespace podsim
