#include <gtest/gtest.h>

#include "podsim/arch/clock.h"
#include "podsim/compiler/systolic_timing.h"

namespace podsim {
namespace {

SystolicPipeline array(std::uint32_t r, std::uint32_t c, bool overlap, Dataflow d = Dataflow::ws) {
  return SystolicPipeline(SystolicArrayShape{r, c, d, overlap});
}

TEST(SystolicTiming, OneFoldWithoutOverlapIsScaleSimsFormula) {
  auto p = array(128, 128, false);
  const FoldRunTiming t = p.run(0, 1, 4096);
  // 2R + C + T - 2 = 256 + 128 + 4096 - 2 = 4478
  EXPECT_EQ(t.done, 4478u);
  EXPECT_EQ(t.first_inject, 128u);  // after the R-cycle weight load
  EXPECT_EQ(p.breakdown().active, 4096u);
}

TEST(SystolicTiming, ScaleSimWholeMatmul) {
  // 256^3 on 128x128: ceil(256/128) x ceil(256/128) = 4 folds of
  // 2*128 + 128 + 256 - 2 = 638 cycles = 2552 cycles.
  EXPECT_EQ(scalesim_cycles({128, 128, Dataflow::ws, false}, 256, 256, 256), 2552u);
  auto p = array(128, 128, false);
  EXPECT_EQ(p.run(0, 4, 256).done, 2552u);
  // Non-square array and partial folds: 100 x 300 x 50 on 64 rows x 32 cols:
  // ceil(300/64)=5 x ceil(50/32)=2 = 10 folds of 128 + 32 + 100 - 2 = 258 -> 2580.
  EXPECT_EQ(scalesim_cycles({64, 32, Dataflow::ws, false}, 100, 300, 50), 2580u);
  auto q = array(64, 32, false);
  EXPECT_EQ(q.run(0, 10, 100).done, 2580u);
}

TEST(SystolicTiming, OverlapStreamsFoldsBackToBack) {
  auto p = array(128, 128, true);
  const FoldRunTiming t = p.run(0, 4, 256);
  // First load 0..128, then folds stream every max(W=128, T=256) = 256 cycles:
  // last inject = 128 + 3*256 = 896, stream end = 896 + 256 = 1152,
  // done = 1152 + R + C - 2 = 1152 + 254 = 1406.
  EXPECT_EQ(t.first_inject, 128u);
  EXPECT_EQ(t.stream_end, 1152u);
  EXPECT_EQ(t.done, 1406u);
  // Only the first load stalls the port (nothing streams yet to hide it under).
  EXPECT_EQ(p.breakdown().weight_shift, 128u);
  EXPECT_EQ(p.breakdown().active, 1024u);
}

TEST(SystolicTiming, ShortStreamsWaitForWeightLoads) {
  auto p = array(128, 128, true);
  const FoldRunTiming t = p.run(0, 3, 8);
  // T = 8 < W = 128: folds start 128 cycles apart. Last inject = 128 + 2*128 = 384,
  // stream end = 392, done = 392 + 254 = 646; the port idles for the first load (128)
  // and 128 - 8 = 120 cycles between folds, twice: 128 + 240 = 368 stall cycles.
  EXPECT_EQ(t.stream_end, 392u);
  EXPECT_EQ(t.done, 646u);
  EXPECT_EQ(p.breakdown().weight_shift, 368u);
}

TEST(SystolicTiming, ConsecutiveRunsContinueTheStream) {
  auto p = array(128, 128, true);
  const FoldRunTiming a = p.run(0, 1, 256);
  // a: inject 128, stream end 384. The next run's weights load from cycle 128 (when a
  // starts streaming) to 256, and it streams as soon as the port frees at 384.
  const FoldRunTiming b = p.run(0, 1, 256);
  EXPECT_EQ(a.stream_end, 384u);
  EXPECT_EQ(b.first_inject, 384u);
  EXPECT_EQ(b.stream_end, 640u);
  EXPECT_EQ(b.done, 640u + 254u);
  EXPECT_EQ(p.breakdown().weight_shift, 128u);  // only a's first load
}

TEST(SystolicTiming, LateOperandsRestartTheStream) {
  auto p = array(128, 128, true);
  p.run(0, 1, 256);  // port free at 384
  const FoldRunTiming b = p.run(5000, 1, 256);
  // Weights cannot load before the data is there: 5000 + 128 = 5128; done = 5128 + 256 + 254.
  EXPECT_EQ(b.first_inject, 5128u);
  EXPECT_EQ(b.done, 5638u);
  EXPECT_EQ(p.breakdown().input_stall, 5000u - 384u);  // port idle until the data came
  EXPECT_EQ(p.breakdown().weight_shift, 128u + 128u);    // a's and b's loads
}

FoldBatch one_fold(std::uint64_t rows, std::uint64_t inputs_ready, std::uint64_t weights_ready) {
  FoldBatch b;
  b.folds = 1;
  b.rows = rows;
  b.inputs_ready = inputs_ready;
  b.weights_ready = weights_ready;
  return b;
}

TEST(SystolicTiming, TheStationaryBlockShiftsInWhileTheStreamIsOnItsWay) {
  // Double-buffered weights (TPU v1's weight FIFO feeding shadow registers): a block that
  // is here shifts in while the streaming operand is still being fetched, so the first row
  // streams the moment the operand arrives, not W = 128 cycles later.
  auto p = array(128, 128, true);
  const FoldRunTiming t = p.run(one_fold(256, /*inputs_ready=*/1000, /*weights_ready=*/0));
  EXPECT_EQ(t.load_start, 0u);
  EXPECT_EQ(t.first_inject, 1000u);
  EXPECT_EQ(t.done, 1000u + 256u + 254u);
  EXPECT_EQ(p.breakdown().input_stall, 1000u);
  EXPECT_EQ(p.breakdown().weight_shift, 0u);
}

TEST(SystolicTiming, ALateStationaryBlockStillShiftsInBeforeStreaming) {
  // The other way round: the block arrives at 1000 and needs W = 128 cycles to shift in.
  auto p = array(128, 128, true);
  const FoldRunTiming t = p.run(one_fold(256, /*inputs_ready=*/0, /*weights_ready=*/1000));
  EXPECT_EQ(t.load_start, 1000u);
  EXPECT_EQ(t.first_inject, 1128u);
  EXPECT_EQ(p.breakdown().weight_load_stall, 1000u);
  EXPECT_EQ(p.breakdown().weight_shift, 128u);
}

TEST(SystolicTiming, PassesMultiplyTheStream) {
  auto p = array(128, 128, false);
  // fp32 as 6 bf16 passes: stream 100 x 6 = 600; 128 + 600 + 254 = 982.
  EXPECT_EQ(p.run(0, 1, 100, MxuRate{6, 1}).done, 982u);
}

TEST(SystolicTiming, PackedRowsDivideTheStreamAndNothingElse) {
  // int8 at twice the rate: 100 rows stream in 50 cycles; shift-in (128) and fill/drain
  // (254) as before: 128 + 50 + 254 = 432. An odd count rounds up: 101 rows take 51.
  EXPECT_EQ(array(128, 128, false).run(0, 1, 100, MxuRate{1, 2}).done, 432u);
  EXPECT_EQ(array(128, 128, false).run(0, 1, 101, MxuRate{1, 2}).done, 433u);
  // Overlapped, long streams: 8 folds of 1024 rows step every max(128, 512) cycles;
  // 128 + 7 x 512 + 512 + 254 = 4478, against 128 + 8 x 1024 + 254 = 8574 at full width.
  EXPECT_EQ(array(128, 128, true).run(0, 8, 1024, MxuRate{1, 2}).done, 4478u);
  EXPECT_EQ(array(128, 128, true).run(0, 8, 1024, MxuRate{1, 1}).done, 8574u);
}

TEST(SystolicTiming, EmptyRunIsFree) {
  auto p = array(8, 8, true);
  const FoldRunTiming t = p.run(42, 0, 10);
  EXPECT_EQ(t.done, 42u);
  EXPECT_EQ(p.breakdown().active, 0u);
}

TEST(Clock, CyclesAndPicosecondsConvertExactly) {
  const ClockDomain c(940'000'000);
  EXPECT_EQ(c.cycle_at(1'000'000), 940u);    // 1 us at 940 MHz
  EXPECT_EQ(c.ps_of(940), 1'000'000u);
  EXPECT_EQ(c.ps_of(1), 1064u);              // 1063.83 ps, rounded up
  EXPECT_EQ(c.cycle_at(1064), 1u);           // cycle 1's boundary is at 1064 ps (rounded up) ...
  EXPECT_EQ(c.cycle_at(1065), 2u);           // ... and 1065 ps is just past it
  // Round trip on a clock whose period is no whole number of ps (tpu-v3's DRAM clock,
  // 1.1378 ns): a time on a boundary is that boundary, not the next (it was one cycle late).
  const ClockDomain dram(878'906'250);
  for (std::uint64_t cycle : {1ull, 2ull, 999ull, 10'000ull, 123'456'789ull}) {
    EXPECT_EQ(dram.cycle_at(dram.ps_of(cycle)), cycle);
    EXPECT_EQ(dram.cycle_at(dram.ps_of(cycle) + 1), cycle + 1);
    EXPECT_EQ(dram.cycle_at(dram.ps_of(cycle) - 1), cycle);  // rounded up to the boundary
  }
  EXPECT_EQ(transfer_ps(900, 900'000'000'000), 1000u);  // 900 B at 900 GB/s = 1 ns
  EXPECT_EQ(transfer_ps(1, 3), 333'333'333'334u);        // rounded up
}

TEST(SplitOverMxus, AShortStreamKeepsEachArrayOnItsOwnColumns) {
  // A 8 x 256 x 256 tile on four 128 x 128 arrays (ws, overlapped): 2 row folds x 2 column
  // folds. By columns, two arrays take one column fold each: 2 folds x max(8, W = 128) =
  // 256 cycles. By rows, every array takes all 4 folds with 2 rows: 4 x 128 = 512.
  const SystolicArrayShape shape{128, 128, Dataflow::ws, true};
  const MxuSplit s = split_over_mxus(shape, 4, fold_grid(shape, 8, 256, 256), MxuRate{});
  EXPECT_TRUE(s.by_columns);
  EXPECT_EQ(s.folds_per_mxu, 2u);
  EXPECT_EQ(s.cycles, 256u);
}

TEST(SplitOverMxus, ALongStreamIsSharedByRows) {
  // 4096 x 256 x 256 on four arrays: by columns 2 folds x 4096 rows = 8192 cycles on the
  // two busy arrays; by rows 4 folds x 1024 rows = 4096 on each of the four.
  const SystolicArrayShape shape{128, 128, Dataflow::ws, true};
  const MxuSplit s = split_over_mxus(shape, 4, fold_grid(shape, 4096, 256, 256), MxuRate{});
  EXPECT_FALSE(s.by_columns);
  EXPECT_EQ(s.rows_per_fold, 1024u);
  EXPECT_EQ(s.cycles, 4096u);
  // Enough column folds for every array: always by columns (2 folds each).
  const MxuSplit wide = split_over_mxus(shape, 4, fold_grid(shape, 4096, 256, 1024), MxuRate{});
  EXPECT_TRUE(wide.by_columns);
  EXPECT_EQ(wide.folds_per_mxu, 4u);
  EXPECT_EQ(wide.cycles, 4u * 4096u);
}

}  // namespace
}  // namespace podsim
