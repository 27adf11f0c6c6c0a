#include "podsim/sim/mxu_experiment.h"

#include <cmath>
#include <random>

#include <Eigen/Dense>

namespace podsim {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

Eigen::Map<const RowMatrix> view(const std::vector<double>& v, std::uint64_t rows, std::uint64_t cols) {
  return Eigen::Map<const RowMatrix>(v.data(), Eigen::Index(rows), Eigen::Index(cols));
}

// Uniform values in [-1, 1), held as fp32 (the "full precision" data).
std::vector<double> random_fp32(std::uint64_t count, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<double> v(count);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Quantizes to the dtype: floats round to nearest; int8 scales the tensor so its largest
// magnitude maps to 127 (symmetric per-tensor quantization). Returns the scale.
double quantize(std::vector<double>& v, DType t) {
  if (t != DType::int8) {
    for (auto& x : v) x = round_to_dtype(x, t);
    return 1.0;
  }
  double peak = 0;
  for (double x : v) peak = std::max(peak, std::fabs(x));
  const double scale = peak > 0 ? 127.0 / peak : 1.0;
  for (auto& x : v) x = round_to_dtype(x * scale, DType::int8);
  return scale;
}

}  // namespace

MxuExperimentResult run_mxu_experiment(const MxuExperimentOptions& o) {
  MxuExperimentResult r;
  const FoldGrid grid = fold_grid(o.shape, o.m, o.k, o.n);
  r.folds = grid.folds();
  r.scalesim_cycles = scalesim_cycles(o.shape, o.m, o.k, o.n);
  if (!o.pe_model) {
    SystolicPipeline array(o.shape);
    r.cycles = array.run(0, grid.folds(), grid.stream).done;
  } else {
    std::mt19937_64 rng(o.seed);
    const std::vector<double> a_full = random_fp32(o.m * o.k, rng);
    const std::vector<double> b_full = random_fp32(o.k * o.n, rng);
    std::vector<double> a = a_full, b = b_full;
    const double scale = quantize(a, o.dtype) * quantize(b, o.dtype);
    r.pe = run_pe_array(o.shape, o.dtype, o.m, o.k, o.n, a, b, o.frames, o.sink);
    r.cycles = r.pe.cycles;

    // The array's own error: against fp64 on exactly the operands it was given.
    const RowMatrix exact = view(a, o.m, o.k) * view(b, o.k, o.n);
    const RowMatrix magnitude = view(a, o.m, o.k).cwiseAbs() * view(b, o.k, o.n).cwiseAbs();
    const auto got = view(r.pe.c, o.m, o.n);
    r.has_numerics = true;
    r.max_abs_error = (got - exact).cwiseAbs().maxCoeff();
    r.error_bound = dtype_is_integer(o.dtype) ? 0.0 : double(o.k + 2) * std::ldexp(1.0, -24) * magnitude.maxCoeff();
    // The precision's error: against fp64 on the original fp32 data.
    const RowMatrix truth = view(a_full, o.m, o.k) * view(b_full, o.k, o.n);
    const double norm = truth.norm();
    r.quantization_rel_error = norm > 0 ? (got / scale - truth).norm() / norm : 0.0;
  }
  const double slots = double(r.cycles) * o.shape.rows * o.shape.cols;
  r.utilization = slots > 0 ? double(o.m * o.k * o.n) / slots : 0.0;
  return r;
}

}  // namespace podsim
