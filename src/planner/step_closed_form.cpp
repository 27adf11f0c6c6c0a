#include "podsim/planner/step_closed_form.h"

#include <algorithm>

namespace podsim {

BucketStream gradient_bucket_stream(double pass_s, const std::vector<GradientBucket>& buckets,
                                    const std::vector<OpWindow>& ops, std::uint64_t hbm_peak_Bps) {
  BucketStream out;
  std::vector<CollectiveLoad> loads;
  double free_at = 0;
  for (const GradientBucket& b : buckets) {
    const double begin = std::max(free_at, b.release_s);
    free_at = begin + b.duration_s;
    loads.push_back({std::uint64_t(begin * 1e12), std::uint64_t(free_at * 1e12), b.hbm_bytes, b.vpu_ps});
  }
  std::vector<double> extra;
  for (const OpWindow& w : ops) extra.push_back(double(contention_extra_ps(w, loads, hbm_peak_Bps)) * 1e-12);
  free_at = 0;
  std::size_t op = 0;
  for (std::size_t k = 0; k < buckets.size(); ++k) {
    for (; op < extra.size() && double(ops[op].end_ps) * 1e-12 <= buckets[k].release_s * (1 + 1e-12); ++op)
      out.stretch_s += extra[op];
    free_at = std::max(free_at, buckets[k].release_s + out.stretch_s) + double(loads[k].end_ps - loads[k].begin_ps) * 1e-12;
  }
  for (; op < extra.size(); ++op) out.stretch_s += extra[op];
  out.end_s = std::max(pass_s + out.stretch_s, free_at);
  return out;
}

void GatherPrefetch::start(std::size_t j, double at) {
  from_ = at;
  to_ = done_ = at + g_[j].duration_s;
  bytes_ = g_[j].hbm_bytes;
}

void GatherPrefetch::begin_pass(int pass) {
  from_ = to_ = bytes_ = 0;
  if (next_ < g_.size() && g_[next_].pass == pass) start(next_, 0);
}

double GatherPrefetch::before_op(std::size_t i, int pass, double clock) {
  if (next_ >= g_.size() || g_[next_].op != i) return clock;
  clock = std::max(clock, done_);
  if (next_ + 1 < g_.size() && g_[next_ + 1].pass == pass) start(next_ + 1, clock);
  ++next_;
  return clock;
}

double GatherPrefetch::stretched(double clock, double alone_s, double op_hbm_bytes) const {
  const double overlap = std::min(clock + alone_s, to_) - std::max(clock, from_);
  if (overlap <= 0 || hbm_Bps_ <= 0) return alone_s;
  return std::max(alone_s, (op_hbm_bytes + bytes_ * overlap / (to_ - from_)) / hbm_Bps_);
}

}  // namespace podsim
