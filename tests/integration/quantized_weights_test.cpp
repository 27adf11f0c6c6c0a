// Quantized weights (MatmulOp::weight_dtype): B moves in its stored type and each tile is
// dequantized on the vector unit before the MXUs. Expected times are closed forms from
// the tpu-v4 preset: 1200 GB/s of HBM; per core 128 lanes x 8 sublanes of vector work per
// cycle at 1050 MHz, 2 cores; dequantization costs 2 vector ops per element (int4: 3).
#include <gtest/gtest.h>

#include "podsim/compiler/workload_plan.h"
#include "podsim/config/config_error.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/config/workload_loader.h"
#include "podsim/report/op_metrics.h"
#include "podsim/sim/simulate.h"

namespace podsim {
namespace {

RunResult gemv(const std::string& weight_dtype) {
  return simulate(load_hardware("tpu-v4"),
                  load_workload_text("workload:\n  ops:\n    - {op: matmul, name: g, m: 8, k: 4096, n: 4096, dtype: bf16, "
                                     "weight_dtype: " + weight_dtype + "}\n",
                                     "q.yaml"));
}

constexpr double kWeights = 4096.0 * 4096;
constexpr double kABytesEachCore = 8.0 * 4096 * 2;  // each core reads A once per block row

TEST(QuantizedWeights, Int8GemvReadsHalfTheWeightBytesAndBeatsAnyBf16Run) {
  const RunResult r = gemv("int8");
  const OpResult& o = r.ops.at(0);
  EXPECT_EQ(o.weight_dtype, "int8");
  EXPECT_GE(double(o.hbm_read_bytes), kWeights);
  EXPECT_LE(double(o.hbm_read_bytes), kWeights + 4 * kABytesEachCore);
  // bf16 weights alone take 33.6 MB / 1200 GB/s = 28.0 us; int8 must beat that bound.
  EXPECT_LT(r.time_s(), kWeights * 2 / 1200e9);
  // Nothing beats the dequantization: 16.8 M x 2 ops / (1024 x 2 cores) = 16,384 cycles.
  EXPECT_GE(r.time_s(), 16384 / 1.05e9);
}

TEST(QuantizedWeights, Int4GemvIsBoundByDequantizingOnTheVectorUnit) {
  // 8.4 MB of int4 weights take 7.0 us of HBM time, but unpacking, converting and scaling
  // 16.8 M weights on the vector units takes 16.8 M x 3 / 2048 = 24,576 cycles = 23.4 us.
  const RunResult r = gemv("int4");
  const OpResult& o = r.ops.at(0);
  EXPECT_GE(double(o.hbm_read_bytes), kWeights / 2);
  EXPECT_LE(double(o.hbm_read_bytes), kWeights / 2 + 4 * kABytesEachCore);
  const double bound_s = 24576 / 1.05e9;
  EXPECT_GE(r.time_s(), bound_s);
  EXPECT_LE(r.time_s(), 1.15 * bound_s) << r.time_s() * 1e6 << " us";
  EXPECT_EQ(op_metrics(r, o).bound, "vector");
}

TEST(QuantizedWeights, AWeightFifoHasNoVectorUnitToDequantizeThem) {
  // TPU v1 streams weights from DDR3 through its weight FIFO straight into the array.
  const WorkloadSpec w = load_workload_text(
      "workload:\n  ops:\n    - {op: matmul, name: g, m: 8, k: 256, n: 256, dtype: int8, weight_dtype: int4}\n", "q.yaml");
  try {
    plan_workload(w, load_hardware("tpu-v1"));
    ADD_FAILURE() << "planned";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "workload.ops[0].weight_dtype");
  }
}

}  // namespace
}  // namespace podsim
