#include "podsim/compiler/implicit_conv.h"

#include <algorithm>

namespace podsim {

std::uint64_t patch_tile(const ConvWindow& w, std::uint64_t b, std::uint64_t p0, std::uint64_t pixels,
                         std::uint64_t k0, std::uint64_t ks, std::vector<InputSpan>* spans) {
  if (pixels == 0 || ks == 0) return 0;
  // Kernel positions (kh, kw) the columns cover, and the channels of each pixel read.
  const std::uint64_t pos0 = k0 / w.c, pos1 = (k0 + ks - 1) / w.c;
  const std::uint64_t c_lo = pos0 == pos1 ? k0 % w.c : 0;
  const std::uint64_t c_hi = pos0 == pos1 ? (k0 + ks - 1) % w.c : w.c - 1;
  const std::uint64_t kh_lo = pos0 / w.kernel, kh_hi = pos1 / w.kernel;
  const std::uint64_t row_bytes = (c_hi - c_lo + 1) * b;

  const std::uint64_t per_image = w.h_out * w.w_out;
  const std::uint64_t first = p0, last = p0 + pixels - 1;
  std::uint64_t bytes = 0;
  for (std::uint64_t img = first / per_image; img <= last / per_image; ++img) {
    const std::uint64_t oh_first = img == first / per_image ? (first % per_image) / w.w_out : 0;
    const std::uint64_t oh_last = img == last / per_image ? (last % per_image) / w.w_out : w.h_out - 1;
    // Input rows under those output rows' windows (kernel rows kh_lo..kh_hi), in the image.
    const std::int64_t top = std::int64_t(oh_first * w.stride + kh_lo * w.dilation) - std::int64_t(w.padding);
    const std::int64_t bottom = std::int64_t(oh_last * w.stride + kh_hi * w.dilation) - std::int64_t(w.padding);
    const std::int64_t lo = std::max<std::int64_t>(0, top), hi = std::min<std::int64_t>(std::int64_t(w.h) - 1, bottom);
    if (lo > hi) continue;  // only padding
    const std::uint64_t count = std::uint64_t(hi - lo + 1) * w.w;  // pixels
    bytes += count * row_bytes;
    if (spans)
      spans->push_back({((img * w.h + std::uint64_t(lo)) * w.w * w.c + c_lo) * b, count, row_bytes, w.c * b});
  }
  return bytes;
}

}  // namespace podsim
