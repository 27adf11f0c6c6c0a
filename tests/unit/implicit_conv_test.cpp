// Implicit GEMM (compiler/implicit_conv.h): the bytes a convolution's A tile reads from
// its NHWC input, against counts of input rows done by hand.
#include <gtest/gtest.h>

#include "podsim/compiler/implicit_conv.h"
#include "podsim/compiler/matmul_tiling.h"
#include "podsim/compiler/op_lowering.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/workload/training.h"

namespace podsim {
namespace {

// One 8 x 8 image of 4 channels, 3 x 3 kernels, stride 1, padding 1: 8 x 8 outputs;
// A is 64 pixels x 36 columns ((kh, kw, c), c fastest). 2-byte elements.
ConvWindow small() { return ConvWindow{1, 8, 8, 4, 8, 8, 3, 1, 1, 1, false}; }

TEST(ImplicitConv, TheWholeMatrixReadsTheInputOnce) {
  // Output rows 0..7 under kernel rows 0..2 need input rows -1..8: all 8 rows, 8 x 8 x 4 x 2 B.
  std::vector<InputSpan> spans;
  EXPECT_EQ(patch_tile(small(), 2, 0, 64, 0, 36, &spans), 8u * 8 * 4 * 2);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].offset, 0u);
  EXPECT_EQ(spans[0].row_bytes, spans[0].stride);  // all channels: one contiguous stretch
}

TEST(ImplicitConv, OneOutputRowUnderOneKernelRowReadsOneInputRow) {
  // Pixels 24..31 are output row 3; columns 0..11 are kernel positions 0..2 (kh = 0),
  // all channels: input row 3 - 1 + 0 = 2, 8 pixels x 4 channels x 2 B, from pixel 16.
  std::vector<InputSpan> spans;
  EXPECT_EQ(patch_tile(small(), 2, 24, 8, 0, 12, &spans), 8u * 4 * 2);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].offset, 2u * 8 * 4 * 2);
}

TEST(ImplicitConv, ColumnsInsideOneKernelPositionReadAChannelSlice) {
  // Columns 13..14: position 3 (kh = 1, kw = 0), channels 1..2. Output row 0 under kernel
  // row 1: input row 0. 8 pixels of 2 channels, strided by the pixel's 4 channels.
  std::vector<InputSpan> spans;
  EXPECT_EQ(patch_tile(small(), 2, 0, 8, 13, 2, &spans), 8u * 2 * 2);
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].offset, 1u * 2);  // channel 1 of pixel 0
  EXPECT_EQ(spans[0].row_bytes, 2u * 2);
  EXPECT_EQ(spans[0].stride, 4u * 2);
  EXPECT_EQ(spans[0].count, 8u);
}

TEST(ImplicitConv, RowByRowTilesReadEachInputRowOncePerWindowThatCoversIt) {
  // Tiles of one output row and all 36 columns: output row r reads input rows r-1..r+1,
  // clipped: 2 + 6 x 3 + 2 = 22 input rows of 8 x 4 x 2 B, against the 64 x 36 x 2 B of
  // the materialised im2col matrix.
  std::uint64_t total = 0;
  for (std::uint64_t r = 0; r < 8; ++r) total += patch_tile(small(), 2, r * 8, 8, 0, 36);
  EXPECT_EQ(total, 22u * 8 * 4 * 2);
  EXPECT_LT(total, 64u * 36 * 2);
}

TEST(ImplicitConv, TilesCrossingImagesReadFromEach) {
  // Two images; pixels 56..71 are image 0's output row 7 and image 1's output row 0.
  // With all columns: image 0 reads input rows 6..7 (row 8 is padding), image 1 rows 0..1.
  ConvWindow w = small();
  w.n = 2;
  std::vector<InputSpan> spans;
  EXPECT_EQ(patch_tile(w, 2, 56, 16, 0, 36, &spans), 4u * 8 * 4 * 2);
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].offset, 6u * 8 * 4 * 2);
  EXPECT_EQ(spans[1].offset, 8u * 8 * 4 * 2);
}

TEST(ImplicitConv, StrideTwoWindowsSkipNoRowsTheyNeed) {
  // 3 x 3, stride 2, padding 1 on 8 x 8: 4 x 4 outputs. Output row 1 reads input rows
  // 1..3 (2 x 1 - 1 + 0 .. 2 x 1 - 1 + 2): 3 rows.
  const ConvWindow w{1, 8, 8, 4, 4, 4, 3, 2, 1, 1, false};
  EXPECT_EQ(patch_tile(w, 2, 4, 4, 0, 36), 3u * 8 * 4 * 2);
}

TEST(ImplicitConv, AWeightGradientReadsTheTransposeWithTheSameRows) {
  ConvWindow t = small();
  t.transposed = true;
  // A of dW is K x M: rows are columns of im2col, columns pixels.
  EXPECT_EQ(patch_block(t, 2, 0, 12, 24, 8), patch_tile(small(), 2, 24, 8, 0, 12));
}

TEST(ImplicitConv, ConvolutionsLowerWithPatchesAndTheirTilingReadsFromTheInput) {
  // ResNet-50's 3x3 bottleneck convolution at batch 32: every A tile comes from the
  // input, so A's traffic is at least the input once and far below im2col's 9 x.
  Op op;
  Conv2dOp c{32, 56, 56, 64, 64, 3, 1, 1, 1, 1, DType::bf16};
  op.body = c;
  const LoweredMatmul l = lower_to_matmul(op);
  ASSERT_TRUE(l.matmul.patches.has_value());
  const HardwareSpec hw = load_hardware("tpu-v3");
  const MatmulTiling t = choose_matmul_tiling(l.matmul, hw, {});
  const std::uint64_t input = 32u * 56 * 56 * 64 * 2, weights = 576u * 64 * 2;
  const std::uint64_t a = t.hbm_read_bytes - weights * t.blocks_m;
  EXPECT_GE(a, input * t.blocks_n);
  EXPECT_LT(a, 2 * input * t.blocks_n);
  EXPECT_LT(t.hbm_read_bytes, l.matmul.m * l.matmul.k * 2 / 4);
  // 1 x 1 convolutions need no window: their A is the input.
  op.body = Conv2dOp{32, 56, 56, 64, 256, 1, 1, 0, 1, 1, DType::bf16};
  EXPECT_FALSE(lower_to_matmul(op).matmul.patches.has_value());
}

TEST(ImplicitConv, TrainingTransposesSameSizeConvolutionsAndReadsPatchesForWeightGradients) {
  WorkloadSpec w;
  w.training.enabled = true;
  Op op;
  op.name = "c";
  op.body = Conv2dOp{8, 28, 28, 128, 64, 3, 1, 1, 1, 1, DType::bf16};
  w.ops.push_back(op);
  const WorkloadSpec t = expand_training(w);
  const Op* dx = nullptr;
  const Op* dw = nullptr;
  for (const Op& o : t.ops) {
    if (o.name == "c.dX") dx = &o;
    if (o.name == "c.dW") dw = &o;
  }
  ASSERT_TRUE(dx && dw);
  // dX: dY (64 channels) convolved back to 128 channels, padding 3 - 1 - 1 = 1; the same MACs.
  const auto& tc = std::get<Conv2dOp>(dx->body);
  EXPECT_EQ(tc.c_in, 64u);
  EXPECT_EQ(tc.c_out, 128u);
  EXPECT_EQ(tc.h_out(), 28u);
  EXPECT_EQ(tc.macs(), std::get<Conv2dOp>(op.body).macs());
  // dW = X^T dY: A is X's patches, transposed.
  const auto& mm = std::get<MatmulOp>(dw->body);
  ASSERT_TRUE(mm.patches.has_value());
  EXPECT_TRUE(mm.patches->transposed);
  EXPECT_EQ(mm.m, 3u * 3 * 128);
  EXPECT_EQ(mm.k, 8u * 28 * 28);
}

}  // namespace
}  // namespace podsim
