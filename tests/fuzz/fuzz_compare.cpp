// libFuzzer: compare's report reader, both as a run report and as sweep results.jsonl.
#include <cstdint>
#include <string>

#include "podsim/report/metric_table.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (bool jsonl : {false, true}) {
    podsim::MetricTable table;
    std::string why;
    (void)podsim::parse_metric_table(text, jsonl, "fuzz", {}, &table, &why);
  }
  return 0;
}
