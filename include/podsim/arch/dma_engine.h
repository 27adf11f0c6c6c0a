// A DMA engine: moves 2D strided regions between HBM and vector memory in chunks, with
// up to `outstanding` chunks in flight. One simulation event per chunk: the engine wakes
// when its earliest chunk completes, retires it, and issues the next.
#pragma once

#include <cstdint>
#include <deque>
#include <queue>
#include <string>
#include <vector>

#include <systemc>

#include "podsim/arch/bandwidth_server.h"
#include "podsim/arch/hbm_model.h"
#include "podsim/arch/sim_counters.h"
#include "podsim/config/hardware_spec.h"
#include "podsim/stats/trace_recorder.h"

namespace podsim {

// `rows` rows of `row_bytes` bytes, `stride` bytes apart, starting at `addr` (a tile of a
// row-major matrix).
struct DmaRegion {
  std::uint64_t addr = 0;
  std::uint64_t rows = 0;
  std::uint64_t row_bytes = 0;
  std::uint64_t stride = 0;
  std::uint64_t bytes() const { return rows * row_bytes; }
};

// One transfer request: several regions moved as one stream. The submitter owns it and
// waits on `done` (or polls `finished`).
struct DmaJob {
  std::vector<DmaRegion> regions;
  bool is_write = false;

  sc_core::sc_event done;
  bool finished = false;
  std::uint64_t done_ps = 0;       // when the last byte arrived
  std::uint64_t submitted_ps = 0;  // when it was handed to the engine
  const char* label = "dma";       // the trace slice's name

  // Progress, kept by the engine.
  std::uint64_t total_bytes = 0;
  std::uint64_t completed_bytes = 0;
  std::size_t next_region = 0;
  std::uint64_t next_offset = 0;  // bytes into regions[next_region]

  void reset(bool write) {
    regions.clear();
    is_write = write;
    finished = false;
    total_bytes = completed_bytes = next_offset = 0;
    next_region = 0;
  }
};

class DmaEngine : public sc_core::sc_module {
 public:
  DmaEngine(sc_core::sc_module_name name, const DmaSpec& spec, HbmModel& hbm,
            BandwidthServer& port, SimCounters& counters);

  // Queues `job`; the engine starts it after the jobs before it (chunks of consecutive
  // jobs stream back to back). `job` must stay alive until it is finished.
  void submit(DmaJob& job);

  // Record each finished job as a slice on `track` (nullptr: no trace).
  void set_trace(TraceRecorder* trace, int track) {
    trace_ = trace;
    trace_track_ = track;
  }

  std::uint64_t bytes_requested() const { return bytes_requested_; }
  std::uint64_t bytes_completed() const { return bytes_completed_; }
  std::uint64_t chunks() const { return chunks_; }
  std::size_t in_flight() const { return in_flight_.size(); }
  std::size_t queued_jobs() const { return queue_.size(); }
  // The byte counters among list_counters' (a steady-state skip credits them exactly).
  const std::uint64_t* requested_counter() const { return &bytes_requested_; }
  const std::uint64_t* completed_counter() const { return &bytes_completed_; }
  void list_counters(std::vector<std::uint64_t*>& out) {
    out.insert(out.end(), {&bytes_requested_, &bytes_completed_, &chunks_});
  }

 private:
  struct InFlight {
    std::uint64_t completion_ps;
    std::uint64_t sequence;  // ties complete in issue order: deterministic
    DmaJob* job;
    std::uint64_t bytes;
    bool operator>(const InFlight& o) const {
      return completion_ps != o.completion_ps ? completion_ps > o.completion_ps : sequence > o.sequence;
    }
  };

  void run();
  bool has_chunk_to_issue();
  void issue_chunk(std::uint64_t now_ps);
  void retire_until(std::uint64_t now_ps);

  DmaSpec spec_;
  HbmModel& hbm_;
  BandwidthServer& port_;
  SimCounters& counters_;
  std::deque<DmaJob*> queue_;  // jobs with chunks not yet issued
  std::vector<HbmModel::Segment> segments_;  // scratch: the chunk being issued
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<InFlight>> in_flight_;
  sc_core::sc_event work_;
  std::uint64_t sequence_ = 0;
  std::uint64_t bytes_requested_ = 0;
  std::uint64_t bytes_completed_ = 0;
  std::uint64_t chunks_ = 0;
  TraceRecorder* trace_ = nullptr;
  int trace_track_ = 0;
};

}  // namespace podsim
