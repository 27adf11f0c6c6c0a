#include "podsim/stats/trace_recorder.h"

namespace podsim {

int TraceRecorder::track(const std::string& name) {
  auto it = ids_.find(name);
  if (it != ids_.end()) return it->second;
  const int id = int(names_.size());
  ids_.emplace(name, id);
  names_.push_back(name);
  tracks_.emplace_back();
  return id;
}

void TraceRecorder::slice(int track, std::uint64_t start_ps, std::uint64_t end_ps, const std::string& name,
                          std::uint64_t bytes) {
  auto& t = tracks_[std::size_t(track)];
  if (!t.empty() && t.back().name == name && start_ps >= t.back().start_ps && start_ps <= t.back().end_ps + gap_ps_) {
    TraceSlice& last = t.back();
    last.end_ps = std::max(last.end_ps, end_ps);
    last.count += 1;
    last.bytes += bytes;
    return;
  }
  t.push_back({start_ps, end_ps, name, 1, bytes});
  if (++total_ > kMaxSlices) remerge();
}

void TraceRecorder::remerge() {
  while (total_ > kMaxSlices / 2) {
    gap_ps_ = gap_ps_ ? gap_ps_ * 2 : 1000;  // start at 1 ns
    total_ = 0;
    for (auto& t : tracks_) {
      std::vector<TraceSlice> merged;
      for (const auto& s : t) {
        if (!merged.empty() && merged.back().name == s.name && s.start_ps <= merged.back().end_ps + gap_ps_) {
          merged.back().end_ps = std::max(merged.back().end_ps, s.end_ps);
          merged.back().count += s.count;
          merged.back().bytes += s.bytes;
        } else {
          merged.push_back(s);
        }
      }
      t = std::move(merged);
      total_ += t.size();
    }
  }
}

}  // namespace podsim
