// How a swept parameter appears in results.csv and pareto.csv: a hardware quantity as a
// number in its SI unit with the unit in the header ("chip.hbm.bandwidth [B/s]",
// 900000000000), so pandas reads a numeric column; anything else (counts, flags, choices,
// workload fields, presets) as written. results.jsonl and the point records keep every
// value as written.
#pragma once

#include <string>

namespace podsim {

std::string sweep_param_header(const std::string& path);
std::string sweep_param_cell(const std::string& path, const std::string& value);

}  // namespace podsim
