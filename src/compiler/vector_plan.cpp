#include "podsim/compiler/vector_plan.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace podsim {
namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Rows per tile: the most that fit, capped so every core gets several tiles.
std::uint64_t tile_rows(std::uint64_t rows, std::uint64_t bytes_per_row, std::uint64_t vmem, std::uint32_t cores) {
  const std::uint64_t fit = bytes_per_row ? vmem / bytes_per_row : rows;
  const std::uint64_t spread = std::max<std::uint64_t>(1, ceil_div(rows, 4ULL * cores));
  return std::max<std::uint64_t>(1, std::min({rows, fit, spread}));
}

}  // namespace

VectorCost dequantize_cost(DType stored) { return {stored == DType::int4 ? 3u : 2u, 0, 0}; }

VectorCost vector_cost(VectorFn fn) {
  switch (fn) {
    case VectorFn::add:
    case VectorFn::mul:
    case VectorFn::scale:
    case VectorFn::relu: return {1, 0, 0};
    case VectorFn::gelu: return {8, 1, 0};     // tanh approximation: polynomial + one tanh
    case VectorFn::sigmoid: return {2, 1, 0};  // 1 / (1 + exp(-x))
    case VectorFn::tanh:
    case VectorFn::exp: return {1, 1, 0};
    case VectorFn::softmax: return {4, 1, 1};    // max, subtract, sum, scale; exp; 1 reciprocal per row
    case VectorFn::softmax_grad: return {4, 0, 0};  // Y dY, its row sum, dY minus it, times Y
    case VectorFn::layernorm: return {7, 0, 1};  // mean, centre, square, sum, scale, gamma, beta; rsqrt per row
    case VectorFn::rmsnorm: return {5, 0, 1};    // square, sum, scale, gamma; rsqrt per row
    // Per channel (column): mean, centre, square, sum, scale, gamma, beta; the per-channel
    // rsqrt is negligible beside the rows.
    case VectorFn::batchnorm: return {7, 0, 0};
    case VectorFn::sgd: return {2, 0, 0};        // w -= lr g
    case VectorFn::momentum: return {4, 0, 0};   // v = mu v + g; w -= lr v
    case VectorFn::adam: return {12, 1, 0};      // two moments, bias corrections, 1 / (sqrt(v) + eps)
    case VectorFn::reduce_sum:
    case VectorFn::reduce_mean:
    case VectorFn::reduce_max: return {1, 0, 0};  // one add or compare per element (mean: a scale per row)
    case VectorFn::transpose: return {1, 0, 0};   // through the cross-lane unit, one element per lane a cycle
    case VectorFn::broadcast: return {1, 0, 0};   // per output element, see vector_op_tile_cycles
    case VectorFn::maxpool:
    case VectorFn::avgpool:
    case VectorFn::unpool: return {0, 0, 0};      // per window element, see vector_op_tile_cycles
    case VectorFn::copy: return {0, 0, 0};        // DMA in, DMA out: the vector unit idles
    // Per output element: SiLU = x sigmoid(x) (sigmoid's 2 + 1 transcendental, a multiply),
    // then times up; GELU's 8 + 1, then times up. See vector_op_tile_cycles.
    case VectorFn::swiglu: return {4, 1, 0};
    case VectorFn::geglu: return {9, 1, 0};
    // x cos + rotate_half(x) sin: two multiplies, an add and a lane permute per element;
    // the cos/sin table stays in vector memory (seq x head_dim, small).
    case VectorFn::rope: return {4, 0, 0};
  }
  return {1, 0, 0};
}

std::uint64_t vector_tile_cycles(const HardwareSpec& hw, const VectorCost& c, std::uint64_t rows, std::uint64_t cols) {
  const auto& v = hw.chip.vector;
  const std::uint64_t elements = rows * cols;
  return ceil_div(elements * c.vpu_per_element, std::uint64_t(v.lanes) * v.sublanes) +
         ceil_div(elements * c.eup_per_element + rows * c.eup_per_row, v.transcendentals_per_cycle);
}

std::uint64_t mapped_row(std::uint64_t row, std::uint64_t rows, std::uint64_t to_rows) {
  __extension__ typedef unsigned __int128 u128;  // row x to_rows may pass 2^64
  return std::uint64_t(u128(row) * to_rows / rows);
}

std::uint64_t mapped_span(const VectorOp& op, std::uint64_t first, std::uint64_t rows, std::uint64_t to_rows) {
  return mapped_row(first + rows, op.rows, to_rows) - mapped_row(first, op.rows, to_rows);
}

std::uint64_t vector_op_tile_cycles(const HardwareSpec& hw, const VectorOp& op, std::uint64_t first,
                                    std::uint64_t rows) {
  const std::uint64_t out = mapped_span(op, first, rows, op.output_rows()) * op.output_cols();
  const auto& v = hw.chip.vector;
  const std::uint64_t per_cycle = std::uint64_t(v.lanes) * v.sublanes;
  switch (op.fn) {
    case VectorFn::maxpool:  // window^2 compares per output element
      return ceil_div(out * op.window * op.window, per_cycle);
    case VectorFn::avgpool:  // window^2 adds and a scale per output element
      return ceil_div(out * (op.window * op.window + 1), per_cycle);
    case VectorFn::unpool: {  // each gradient element compared or added into its window
      const std::uint64_t gradient =
          op.side_rows ? mapped_span(op, first, rows, op.side_rows) * op.side_cols : rows * op.cols;
      return ceil_div(gradient * op.window * op.window, per_cycle);
    }
    case VectorFn::broadcast: return ceil_div(out, per_cycle);
    case VectorFn::swiglu:
    case VectorFn::geglu: return vector_tile_cycles(hw, vector_cost(op.fn), rows, op.output_cols());
    default: return vector_tile_cycles(hw, vector_cost(op.fn), rows, op.cols);
  }
}

VectorTiling plan_vector(const VectorOp& op, const HardwareSpec& hw, bool fused, const SourceLocation& where) {
  VectorTiling t;
  t.fused = fused;
  const std::uint64_t b = dtype_bytes(op.dtype);
  // Per input row: its share of the output and of the side input (rounded up).
  const std::uint64_t row_bytes = op.cols * b;
  const std::uint64_t out_row_bytes = ceil_div(op.output_elements(), op.rows) * b;
  const std::uint64_t side_row_bytes = ceil_div(op.side_elements(), op.rows) * b;
  // Operand buffers for each input, two output buffers.
  const std::uint64_t per_row =
      fused ? hw.chip.vmem_operand_buffers * (op.inputs - 1) * row_bytes
            : hw.chip.vmem_operand_buffers * (op.inputs * row_bytes + side_row_bytes) + 2 * op.outputs * out_row_bytes;
  if (per_row > hw.chip.vmem_bytes)
    throw ConfigError(where, "chip.vmem.capacity",
                      fmt::format("too small for one row of this {}-column op ({} bytes with buffering)", op.cols, per_row));
  t.tile_rows = tile_rows(op.rows, per_row, hw.chip.vmem_bytes, hw.chip.tensor_cores);
  t.tiles = ceil_div(op.rows, t.tile_rows);
  t.vmem_bytes = t.tile_rows * per_row;
  // Fused: the first input is the producer's output, already in vector memory.
  t.hbm_read_bytes = (op.elements() * (op.inputs - (fused ? 1 : 0)) + op.side_elements()) * b;
  t.hbm_write_bytes = fused ? 0 : op.output_elements() * b * op.outputs;
  // Activations in vector memory (TPU v1's Unified Buffer): the whole op's tensors must fit
  // there; then it moves no off-chip bytes. Otherwise it streams as above (a spill).
  const std::uint64_t tensors = (op.elements() * op.inputs + op.side_elements() + op.output_elements() * op.outputs) * b;
  if (hw.chip.vmem_holds_activations && tensors <= hw.chip.vmem_bytes) {
    t = keep_onchip(t, op);
    t.vmem_bytes = tensors;
  }
  return t;
}

VectorTiling keep_onchip(VectorTiling t, const VectorOp& op) {
  const std::uint64_t b = dtype_bytes(op.dtype);
  t.activations_onchip = true;
  t.onchip_activation_bytes = (op.elements() * op.inputs + op.side_elements() + op.output_elements() * op.outputs) * b;
  t.hbm_read_bytes = 0;
  t.hbm_write_bytes = 0;
  return t;
}

VectorTiling plan_embedding(const EmbeddingOp& op, const HardwareSpec& hw, const SourceLocation& where) {
  VectorTiling t;
  const std::uint64_t b = dtype_bytes(op.dtype);
  // Per sample: its gathered rows in each operand buffer, its pooled row twice. Backward:
  // the table and optimizer-state rows, and the sample's gradient row.
  const std::uint64_t tables = 1 + op.state_tables;
  const std::uint64_t per_sample =
      op.backward ? hw.chip.vmem_operand_buffers * (tables * op.lookups * op.row_bytes() + op.dim * b)
                  : hw.chip.vmem_operand_buffers * op.lookups * op.row_bytes() + 2 * op.dim * b;
  if (per_sample > hw.chip.vmem_bytes)
    throw ConfigError(where, "chip.vmem.capacity",
                      fmt::format("too small for one sample's {} gathered rows ({} bytes with buffering)", op.lookups,
                                  per_sample));
  t.tile_rows = tile_rows(op.batch, per_sample, hw.chip.vmem_bytes, hw.chip.tensor_cores);
  t.tiles = ceil_div(op.batch, t.tile_rows);
  t.vmem_bytes = t.tile_rows * per_sample;
  if (op.backward) {  // read-modify-write of every looked-up row and its state rows
    t.hbm_read_bytes = op.batch * op.dim * b + op.batch * op.lookups * tables * op.row_bytes();
    t.hbm_write_bytes = op.batch * op.lookups * tables * op.row_bytes();
  } else {
    t.hbm_read_bytes = op.batch * op.lookups * op.row_bytes();
    t.hbm_write_bytes = op.batch * op.dim * b;
  }
  return t;
}

std::uint64_t embedding_row(const EmbeddingOp& op, std::uint64_t sample, std::uint64_t j) {
  if (op.indices) return (*op.indices)[(sample * op.lookups + j) % op.indices->size()];
  const std::uint64_t r = splitmix64(op.seed * 0x100000001B3ULL ^ splitmix64(sample * op.lookups + j));
  if (!op.zipf) return r % op.table_rows;
  // Continuous inverse transform on [1, N+1): density proportional to x^-s; rank = floor.
  const double u = double(r >> 11) * 0x1.0p-53;
  const double n1 = double(op.table_rows) + 1.0;
  const double x = op.zipf_s == 1.0 ? std::pow(n1, u)
                                    : std::pow(1.0 + u * (std::pow(n1, 1.0 - op.zipf_s) - 1.0), 1.0 / (1.0 - op.zipf_s));
  const std::uint64_t rank = std::min<std::uint64_t>(op.table_rows, std::max<std::uint64_t>(1, std::uint64_t(x)));
  // Scatter the ranks over the table (hot ids are not neighbours): a bijection when the
  // prime does not divide the table size.
  constexpr std::uint64_t kPrime = 2'147'483'647ULL;  // 2^31 - 1
  __extension__ typedef unsigned __int128 u128;  // (rank - 1) x prime overflows 64 bits
  const u128 scattered = u128(rank - 1) * kPrime % op.table_rows;
  return op.table_rows % kPrime == 0 ? rank - 1 : std::uint64_t(scattered);
}

double embedding_rank_probability(const EmbeddingOp& op, std::uint64_t k) {
  if (!op.zipf) return 1.0 / double(op.table_rows);
  const double n1 = double(op.table_rows) + 1.0;
  // P(k <= x < k + 1) under the density above (the last rank also takes x in [N, N+1)).
  auto cdf = [&](double x) {
    if (op.zipf_s == 1.0) return std::log(x) / std::log(n1);
    return (std::pow(x, 1.0 - op.zipf_s) - 1.0) / (std::pow(n1, 1.0 - op.zipf_s) - 1.0);
  };
  return cdf(double(k) + 1.0) - cdf(double(k));
}

}  // namespace podsim
