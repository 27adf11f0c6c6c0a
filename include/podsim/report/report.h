// Report writers: the JSON report ("schema": "podsim.report/1") and the readable summary.
// Both hold only simulated quantities, so the same inputs give byte-identical output.
#pragma once

#include <string>
#include <vector>

#include "podsim/sim/run_result.h"

namespace podsim {

constexpr const char* kReportSchema = "podsim.report/1";

std::string report_json(const RunResult& result);  // pretty-printed, ends with '\n'
// The readable summary. `top`: only the `top` longest ops in the op table, longest first
// (0: every op, in run order). `group_depth`: a table of ops grouped by the first
// `group_depth` dot-separated parts of their names ("r50.s1b1.conv1" -> "r50.s1b1" at 2;
// 0: none).
struct TextReportOptions {
  std::size_t top = 0;
  std::size_t group_depth = 0;
};
std::string report_text(const RunResult& result, const TextReportOptions& options = {});

// The same workload at several pod sizes (sim/pod_simulate.h, simulate_pod_sizes): a
// table of step time, throughput, exposed communication and weak-scaling efficiency
// (the smallest size's step time over each size's), and its JSON ("podsim.scaling/1").
std::string scaling_text(const std::vector<RunResult>& runs);
std::string scaling_json(const std::vector<RunResult>& runs);

// Chrome trace-event JSON (Perfetto UI, chrome://tracing) of a run made with
// SimulateOptions::trace: a track per MXU and DMA engine, one for the ops, and a bandwidth
// counter per HBM (pseudo-)channel.
std::string trace_json(const RunResult& result);

}  // namespace podsim
