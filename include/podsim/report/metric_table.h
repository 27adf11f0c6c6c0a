// The numbers `podsim compare` compares: every numeric summary field of a run report, or
// of each point of a sweep's results.jsonl, named by the point's parameters
// ("[batch=8, chip.clock=1GHz] time_s"; by its id, "point 3 time_s", for a record without
// them), so points match whatever order a grid lists them in. Parsing is separate from
// reading the file, so the fuzzer drives it on bytes.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace podsim {

// metric name (prefixed with the point id for sweeps) -> value
using MetricTable = std::map<std::string, double>;

// What a report was run on (empty for sweep results, whose points carry their own).
struct MetricSource {
  std::string workload, hardware;
};

// Parses a report (`jsonl` false) or sweep results (true) named `label` in errors; keeps
// the metrics in `only` (all when empty). False with `why` on anything malformed.
// With `with_ops`, a report's ops add their time, "op <name> time_s" (an op repeated by
// name, as in a pod report, is summed).
bool parse_metric_table(const std::string& text, bool jsonl, const std::string& label,
                        const std::vector<std::string>& only, MetricTable* out, std::string* why,
                        MetricSource* source = nullptr, bool with_ops = false);

// Reads `path` (a report, a results.jsonl, or a sweep folder holding one).
bool load_metric_table(const std::string& path, const std::vector<std::string>& only, MetricTable* out,
                       std::string* why, MetricSource* source = nullptr, bool with_ops = false);

}  // namespace podsim
