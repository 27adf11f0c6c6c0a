// The Pareto front of a sweep: the points no other point beats on every objective
// (`podsim sweep --pareto time_s,energy_j`). Points over a budget or without a number for
// an objective are not candidates.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace podsim {

struct ParetoObjective {
  std::string metric;     // a metric the sweep collects
  bool maximize = false;  // "tops_per_w:max"; minimized otherwise ("time_s" or "time_s:min")
};

// Parses "time_s,energy_j" or "time_s,tops_per_w:max". False and `why` on anything else.
bool parse_pareto_objectives(const std::string& text, std::vector<ParetoObjective>* out, std::string* why);

// Indices (ascending) of the rows of `values` (one value per objective) that no other row
// dominates: at least as good on every objective and better on one. Equal rows are all kept.
std::vector<std::size_t> pareto_front(const std::vector<std::vector<double>>& values,
                                      const std::vector<ParetoObjective>& objectives);

// Reads DIR/sweep.json and DIR/results.jsonl and writes DIR/pareto.csv and
// DIR/pareto.jsonl: the front of the points with status "ok", in point order. Returns
// the number of points on it; throws std::runtime_error when the files cannot be read or
// an objective is not one of the sweep's metrics.
std::size_t write_pareto(const std::string& dir, const std::vector<ParetoObjective>& objectives);

}  // namespace podsim
