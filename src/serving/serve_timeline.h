// What both serving schedulers (batch_scheduler.cpp, disaggregated_scheduler.cpp) do to
// their ServeTimeline alike: start it from the requests, refusing one that could never fit
// a chip's KV cache, and sample the cache and queues after a step.
#pragma once

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "podsim/serving/batch_scheduler.h"

namespace podsim {

inline std::uint64_t serve_ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// The timeline with every request's outcome started and the cache's blocks counted. The
// last token comes out of a decode step and is never fed back: the cache holds at most
// prompt + output - 1 tokens of a request; more than the cache holds is an input error.
inline ServeTimeline start_timeline(const std::vector<ServeRequest>& requests, std::uint64_t block,
                                    std::uint64_t kv_capacity_tokens, const SourceLocation& capacity_where) {
  ServeTimeline out;
  out.kv_blocks_total = kv_capacity_tokens / block;
  out.requests.resize(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const ServeRequest& r = requests[i];
    const std::uint64_t peak = serve_ceil_div(r.prompt_tokens + r.output_tokens - 1, block);
    if (peak > out.kv_blocks_total)
      throw ConfigError(capacity_where, "serve.scheduler.kv_capacity_tokens",
                        fmt::format("request {} needs {} tokens of KV cache ({} prompt + {} output - 1, in blocks of {}); "
                                    "the cache holds {} blocks ({} tokens)",
                                    i, peak * block, r.prompt_tokens, r.output_tokens, block, out.kv_blocks_total,
                                    out.kv_blocks_total * block));
    out.requests[i] = {r.arrival_s, 0, 0, r.prompt_tokens, r.output_tokens, 0};
  }
  return out;
}

// Counts a step and keeps every sample_stride-th one; when the samples are full, every
// other goes and the stride doubles (deterministic, whatever the run's length).
inline void record_step(ServeTimeline& out, const ServeSample& sample) {
  if (out.steps % out.sample_stride == 0) {
    if (out.samples.size() == ServeTimeline::kMaxSamples) {
      for (std::size_t k = 0; k < out.samples.size() / 2; ++k) out.samples[k] = out.samples[2 * k];
      out.samples.resize(out.samples.size() / 2);
      out.sample_stride *= 2;
    }
    if (out.steps % out.sample_stride == 0) out.samples.push_back(sample);
  }
  ++out.steps;
}

}  // namespace podsim
