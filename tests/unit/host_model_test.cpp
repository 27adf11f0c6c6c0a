// The host side of a step (host/host_model.h): bytes over the host link from op shapes,
// and the end-to-end step from the four parts, against hand arithmetic.
#include <gtest/gtest.h>

#include "podsim/host/host_model.h"
#include "podsim/sim/run_result.h"

namespace podsim {
namespace {

Op matmul(std::string name, std::uint64_t m, std::uint64_t k, std::uint64_t n, DType t) {
  MatmulOp mm;
  mm.m = m;
  mm.k = k;
  mm.n = n;
  mm.dtype = t;
  Op op;
  op.name = std::move(name);
  op.body = mm;
  return op;
}

TEST(HostTraffic, InIsTheFirstOpsActivationsOutTheLastOpsOutput) {
  WorkloadSpec w;
  w.ops.push_back(matmul("fc0", 200, 2000, 3000, DType::int8));
  w.ops.push_back(matmul("fc1", 200, 3000, 10, DType::bf16));
  const HostTraffic t = host_traffic(w);
  EXPECT_EQ(t.infeed_bytes, 200u * 2000u);     // A, int8: the weights B are not the host's
  EXPECT_EQ(t.outfeed_bytes, 200u * 10u * 2u);  // C of the last op, bf16
  EXPECT_EQ(t.infeed_op, "fc0");
  EXPECT_EQ(t.outfeed_op, "fc1");
}

TEST(HostTraffic, ConvolutionsEmbeddingsAndTraining) {
  Conv2dOp c;
  c.n = 8, c.h = 224, c.w = 224, c.c_in = 3, c.c_out = 64, c.kernel = 7, c.stride = 2, c.padding = 3;
  c.dtype = DType::bf16;
  Op conv;
  conv.name = "conv1";
  conv.body = c;
  WorkloadSpec w;
  w.ops.push_back(conv);
  // The input image, not its 7 x 7 patches: 8 x 224 x 224 x 3 x 2 bytes; out 8 x 112 x 112 x 64 x 2.
  EXPECT_EQ(host_traffic(w).infeed_bytes, 8u * 224 * 224 * 3 * 2);
  EXPECT_EQ(host_traffic(w).outfeed_bytes, 8u * 112 * 112 * 64 * 2);
  w.training.enabled = true;  // a training step sends back only its loss
  EXPECT_EQ(host_traffic(w).outfeed_bytes, 0u);

  EmbeddingOp e;
  e.table_rows = 1'000'000, e.dim = 64, e.batch = 512, e.lookups = 20;
  Op emb;
  emb.name = "emb";
  emb.body = e;
  EXPECT_EQ(op_input_bytes(emb), 512u * 20 * 4);  // int32 ids, not the table rows
  EXPECT_EQ(op_output_bytes(emb), 512u * 64 * 4);  // pooled fp32 rows

  Op heads = matmul("qk", 128, 64, 128, DType::bf16);
  heads.repeat = 16;
  EXPECT_EQ(op_input_bytes(heads), 128u * 64 * 2);  // steps of one chain read their input once
  heads.independent_repeats = true;
  EXPECT_EQ(op_input_bytes(heads), 16u * 128 * 64 * 2);  // independent heads each bring theirs
}

RunResult run_of(std::uint64_t device_ps, std::uint64_t link_Bps, std::uint64_t host_ps, bool overlap) {
  RunResult r;
  r.end_ps = device_ps;
  r.hw.chip.host.link_Bps = link_Bps;
  r.hw.chip.host.step_ps = host_ps;
  r.hw.chip.host.overlap = overlap;
  r.workload.ops.push_back(matmul("in", 1000, 1000, 500, DType::int8));  // 1 MB in, 0.5 MB out
  return r;
}

TEST(HostStep, WithoutALinkOrHostTimeTheStepIsTheChips) {
  const HostStep s = host_step(run_of(5'000'000, 0, 0, true));
  EXPECT_FALSE(s.modelled);
  EXPECT_EQ(s.step_ps, 5'000'000u);
  EXPECT_EQ(s.bound, "device");
}

TEST(HostStep, OverlappedTakesTheLongestPartSerialTheSum) {
  // 1 MB at 10 GB/s = 100 us in; 0.5 MB = 50 us out; the chip 80 us; the host 30 us.
  const HostStep o = host_step(run_of(80'000'000, 10'000'000'000ULL, 30'000'000, true));
  ASSERT_TRUE(o.modelled);
  EXPECT_EQ(o.infeed_ps, 100'000'000u);
  EXPECT_EQ(o.outfeed_ps, 50'000'000u);
  EXPECT_EQ(o.step_ps, 100'000'000u);
  EXPECT_EQ(o.bound, "infeed");
  EXPECT_DOUBLE_EQ(o.slowdown(), 1.25);
  const HostStep s = host_step(run_of(80'000'000, 10'000'000'000ULL, 30'000'000, false));
  EXPECT_EQ(s.step_ps, 30'000'000u + 100'000'000u + 80'000'000u + 50'000'000u);
  // A slow host bounds the overlapped step.
  EXPECT_EQ(host_step(run_of(80'000'000, 10'000'000'000ULL, 400'000'000, true)).bound, "host");
  // A fast link leaves the chip the limit.
  const HostStep fast = host_step(run_of(80'000'000, 1'000'000'000'000ULL, 0, true));
  EXPECT_EQ(fast.bound, "device");
  EXPECT_EQ(fast.step_ps, 80'000'000u);
}

}  // namespace
}  // namespace podsim
