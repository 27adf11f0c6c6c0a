#include "podsim/arch/dma_engine.h"

#include <algorithm>

namespace podsim {

using sc_core::sc_time;

namespace {
std::uint64_t now_ps() { return sc_core::sc_time_stamp().value(); }
}  // namespace

DmaEngine::DmaEngine(sc_core::sc_module_name name, const DmaSpec& spec, HbmModel& hbm,
                     BandwidthServer& port, SimCounters& counters)
    : sc_module(name), spec_(spec), hbm_(hbm), port_(port), counters_(counters) {
  SC_HAS_PROCESS(DmaEngine);
  SC_THREAD(run);
}

void DmaEngine::submit(DmaJob& job) {
  job.submitted_ps = now_ps();
  job.finished = false;
  job.completed_bytes = 0;
  job.next_region = 0;
  job.next_offset = 0;
  job.total_bytes = 0;
  for (const auto& r : job.regions) job.total_bytes += r.bytes();
  bytes_requested_ += job.total_bytes;
  if (job.total_bytes == 0) {
    job.finished = true;
    job.done_ps = sc_core::sc_time_stamp().value();
    job.done.notify();
    return;
  }
  queue_.push_back(&job);
  work_.notify();
}

bool DmaEngine::has_chunk_to_issue() {
  while (!queue_.empty()) {
    DmaJob* job = queue_.front();
    if (job->next_region < job->regions.size()) return true;
    queue_.pop_front();  // every chunk of this job is issued
  }
  return false;
}

void DmaEngine::issue_chunk(std::uint64_t now) {
  DmaJob& job = *queue_.front();
  std::uint64_t budget = spec_.chunk_bytes;
  std::uint64_t chunk_bytes = 0;
  segments_.clear();
  // Walk the job's byte stream row segment by row segment until the chunk is full.
  while (budget > 0 && job.next_region < job.regions.size()) {
    const DmaRegion& r = job.regions[job.next_region];
    const std::uint64_t row = job.next_offset / r.row_bytes;
    const std::uint64_t col = job.next_offset % r.row_bytes;
    // Rows laid end to end (stride = row bytes) are one contiguous stretch.
    const std::uint64_t contiguous = r.stride == r.row_bytes ? r.bytes() - job.next_offset : r.row_bytes - col;
    const std::uint64_t take = std::min(budget, contiguous);
    const std::uint64_t addr = r.addr + row * r.stride + col;
    if (!segments_.empty() && segments_.back().addr + segments_.back().bytes == addr)
      segments_.back().bytes += take;  // continues the previous segment
    else
      segments_.push_back({addr, take});
    budget -= take;
    chunk_bytes += take;
    job.next_offset += take;
    if (job.next_offset == r.bytes()) {
      ++job.next_region;
      job.next_offset = 0;
    }
  }
  // The chunk's requests reach the memory together (its controller may reorder them),
  // and cross this core's crossbar port; both links stream concurrently.
  const std::uint64_t completion = std::max(hbm_.serve_batch(now, segments_, job.is_write), port_.reserve(now, chunk_bytes));
  in_flight_.push({completion, sequence_++, &job, chunk_bytes});
  ++chunks_;
}

void DmaEngine::retire_until(std::uint64_t now) {
  while (!in_flight_.empty() && in_flight_.top().completion_ps <= now) {
    InFlight done = in_flight_.top();
    in_flight_.pop();
    done.job->completed_bytes += done.bytes;
    bytes_completed_ += done.bytes;
    if (done.job->completed_bytes == done.job->total_bytes) {
      done.job->finished = true;
      done.job->done_ps = now;
      if (trace_)
        trace_->slice(trace_track_, done.job->submitted_ps, now, done.job->label, done.job->total_bytes);
      done.job->done.notify();
    }
  }
}

void DmaEngine::run() {
  for (;;) {
    const std::uint64_t now = now_ps();
    retire_until(now);
    while (in_flight_.size() < spec_.outstanding && has_chunk_to_issue()) issue_chunk(now);
    if (in_flight_.empty()) {
      wait(work_);
    } else {
      const sc_time until = sc_time::from_value(in_flight_.top().completion_ps - now);
      // With a free slot, new work may arrive before the next completion.
      if (in_flight_.size() < spec_.outstanding)
        wait(until, work_);
      else
        wait(until);
    }
    ++counters_.wakeups;
  }
}

}  // namespace podsim
