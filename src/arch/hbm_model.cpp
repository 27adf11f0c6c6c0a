#include "podsim/arch/hbm_model.h"

#include <algorithm>

namespace podsim {

HbmModel::HbmModel(const HbmSpec& spec) : spec_(spec), stats_(spec.channels) {
  // The chip bandwidth is split evenly; the remainder (a few B/s at most) goes to the
  // first channels so the channels add up to the chip figure exactly.
  const std::uint64_t per = spec.bandwidth_Bps / spec.channels;
  const std::uint64_t extra = spec.bandwidth_Bps % spec.channels;
  channels_.reserve(spec.channels);
  for (std::uint32_t c = 0; c < spec.channels; ++c) channels_.emplace_back(per + (c < extra ? 1 : 0));
}

std::uint64_t HbmModel::serve(std::uint64_t now_ps, std::uint64_t addr, std::uint64_t bytes,
                              bool is_write) {
  std::uint64_t finished = now_ps;
  std::uint64_t offset = 0;
  while (offset < bytes) {
    const std::uint64_t a = addr + offset;
    const std::uint64_t stripe_left = spec_.interleave_bytes - a % spec_.interleave_bytes;
    const std::uint64_t piece = std::min(stripe_left, bytes - offset);
    const std::uint32_t c = channel_of(a);
    finished = std::max(finished, channels_[c].reserve(now_ps, piece));
    auto& s = stats_[c];
    (is_write ? s.write_bytes : s.read_bytes) += piece;
    ++s.requests;
    s.busy_ps = channels_[c].busy_ps();
    offset += piece;
  }
  served_bytes_ += bytes;
  return finished + spec_.latency_ps;
}

}  // namespace podsim
