// Timeline recording for `podsim run --trace`: slices on named tracks (an MXU, a DMA
// engine, the op sequence) and counters (bandwidth per HBM channel), written as Chrome
// trace-event JSON that Perfetto UI and chrome://tracing open.
//
// Bounded size: neighbouring slices of the same name on a track closer than the merge gap
// are joined into one (its args say how many); when the trace passes kMaxSlices the gap
// doubles and every track is merged again. The file states the final gap.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace podsim {

struct TraceSlice {
  std::uint64_t start_ps = 0, end_ps = 0;
  std::string name;
  std::uint64_t count = 1;  // slices merged into this one
  std::uint64_t bytes = 0;  // for DMA slices
};

class TraceRecorder {
 public:
  static constexpr std::size_t kMaxSlices = 200'000;

  // Track ids are handed out in the order tracks are first named: deterministic.
  int track(const std::string& name);
  void slice(int track, std::uint64_t start_ps, std::uint64_t end_ps, const std::string& name, std::uint64_t bytes = 0);

  const std::vector<std::string>& track_names() const { return names_; }
  const std::vector<std::vector<TraceSlice>>& slices() const { return tracks_; }
  std::uint64_t merge_gap_ps() const { return gap_ps_; }
  std::size_t size() const { return total_; }

 private:
  void remerge();

  std::map<std::string, int> ids_;
  std::vector<std::string> names_;
  std::vector<std::vector<TraceSlice>> tracks_;
  std::uint64_t gap_ps_ = 0;
  std::size_t total_ = 0;
};

}  // namespace podsim
