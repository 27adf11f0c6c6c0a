// Implicit GEMM: the A tiles of a convolution's matmul fetched from the NHWC input itself.
//
// A tile covers output pixels [p0, p0 + pixels) (rows of im2col; n, oh, ow flattened)
// and receptive-field columns [k0, k0 + ks) ((kh, kw, c) flattened, c fastest). The DMA
// brings in, for each image the pixels touch, the input rows from the first output row's
// window top to the last output row's window bottom (kernel rows the columns cover only),
// whole rows of the input, and of each pixel the channels the columns cover (all of them
// when the columns span two kernel positions or more). The on-chip side forms the
// shifted windows from those rows, so an input pixel is read once per tile, not once per
// kernel position that covers it. A weight gradient's A is the transpose: rows are
// receptive-field columns, columns pixels.
#pragma once

#include <cstdint>
#include <vector>

#include "podsim/workload/workload_spec.h"

namespace podsim {

// Bytes of the input, `count` rows of `row_bytes` every `stride` bytes from `offset`.
struct InputSpan {
  std::uint64_t offset = 0, count = 0, row_bytes = 0, stride = 0;
};

// Bytes the A tile needs (elements of `element_bytes`); its spans appended when `spans`
// is not null.
std::uint64_t patch_tile(const ConvWindow& w, std::uint64_t element_bytes, std::uint64_t p0, std::uint64_t pixels,
                         std::uint64_t k0, std::uint64_t ks, std::vector<InputSpan>* spans = nullptr);

// The same for a tile of the matmul A (m x k) in matmul coordinates: rows [m0, m0 + tm),
// columns [k0, k0 + tk); pixels are the rows, or the columns when w.transposed.
inline std::uint64_t patch_block(const ConvWindow& w, std::uint64_t element_bytes, std::uint64_t m0,
                                 std::uint64_t tm, std::uint64_t k0, std::uint64_t tk,
                                 std::vector<InputSpan>* spans = nullptr) {
  return w.transposed ? patch_tile(w, element_bytes, k0, tk, m0, tm, spans)
                      : patch_tile(w, element_bytes, m0, tm, k0, tk, spans);
}

// Bytes of the whole input tensor.
inline std::uint64_t input_bytes(const ConvWindow& w, std::uint64_t element_bytes) {
  return w.n * w.h * w.w * w.c * element_bytes;
}

}  // namespace podsim
