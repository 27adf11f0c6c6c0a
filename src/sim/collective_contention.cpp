#include "podsim/sim/collective_contention.h"

#include <algorithm>

namespace podsim {

std::uint64_t collective_hbm_bytes(std::uint64_t sent, std::uint64_t received, std::uint64_t reduced) {
  return sent + received + 3 * reduced;
}

std::uint64_t collective_reduced_bytes(CollectiveKind kind, std::uint64_t bytes, std::uint32_t chips) {
  if (chips < 2) return 0;
  if (kind != CollectiveKind::all_reduce && kind != CollectiveKind::reduce_scatter) return 0;
  return bytes / chips * (chips - 1) + bytes % chips * (chips - 1) / chips;  // no overflow
}

namespace {

// The share of `amount`, spread evenly over [begin, end), that falls inside [lo, hi).
// A load of zero length counts whole if its instant lies in the window.
double share_in(std::uint64_t amount, std::uint64_t begin, std::uint64_t end, std::uint64_t lo, std::uint64_t hi) {
  if (amount == 0) return 0;
  if (end <= begin) return begin >= lo && begin < hi ? double(amount) : 0.0;
  const std::uint64_t a = std::max(begin, lo), b = std::min(end, hi);
  if (b <= a) return 0;
  return double(amount) * double(b - a) / double(end - begin);
}

}  // namespace

std::uint64_t contention_extra_ps(const OpWindow& op, const std::vector<CollectiveLoad>& loads, std::uint64_t hbm_Bps) {
  double bytes = 0, vpu = 0;
  for (const CollectiveLoad& l : loads) {
    bytes += share_in(l.hbm_bytes, l.begin_ps, l.end_ps, op.start_ps, op.end_ps);
    vpu += share_in(l.vpu_ps, l.begin_ps, l.end_ps, op.start_ps, op.end_ps);
  }
  if (bytes == 0 && vpu == 0) return 0;
  double need = 0;
  if (hbm_Bps > 0) need = (double(op.hbm_bytes) + bytes) / double(hbm_Bps) * 1e12;
  need = std::max(need, double(op.vpu_ps) + vpu);
  const double extra = need - double(op.alone_ps);
  // Whole picoseconds, rounded down so an op at exactly its bound is not stretched.
  return extra > 0 ? static_cast<std::uint64_t>(extra) : 0;
}

}  // namespace podsim
