// libFuzzer: compare's report reader, both as a run report (with its ops and the workload
// and hardware names) and as sweep results.jsonl (points named by their parameters).
#include <cstdint>
#include <string>

#include "podsim/report/metric_table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (bool jsonl : {false, true}) {
    podsim::MetricTable table;
    podsim::MetricSource source;
    std::string why;
    (void)podsim::parse_metric_table(text, jsonl, "fuzz", {}, &table, &why, &source, /*with_ops=*/true);
  }
  return 0;
}
