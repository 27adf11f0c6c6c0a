#include "podsim/sweep/pareto.h"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "podsim/io/child_process.h"
#include "podsim/io/csv_field.h"
#include "podsim/io/output_file.h"
#include "podsim/sweep/sweep_columns.h"

namespace podsim {
namespace {

using nlohmann::ordered_json;
namespace fs = std::filesystem;

}  // namespace

bool parse_pareto_objectives(const std::string& text, std::vector<ParetoObjective>* out, std::string* why) {
  out->clear();
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    ParetoObjective o;
    const auto colon = item.find(':');
    o.metric = item.substr(0, colon);
    if (colon != std::string::npos) {
      const std::string sense = item.substr(colon + 1);
      if (sense != "min" && sense != "max") {
        *why = fmt::format("'{}': the sense after ':' is min or max", item);
        return false;
      }
      o.maximize = sense == "max";
    }
    if (o.metric.empty()) {
      *why = "an empty objective: expected metric names joined by commas, like time_s,energy_j";
      return false;
    }
    for (const auto& seen : *out)
      if (seen.metric == o.metric) {
        *why = fmt::format("'{}' appears twice", o.metric);
        return false;
      }
    out->push_back(o);
  }
  if (out->size() < 2) {
    *why = "a Pareto front needs at least two objectives, like time_s,energy_j";
    return false;
  }
  return true;
}

std::vector<std::size_t> pareto_front(const std::vector<std::vector<double>>& values,
                                      const std::vector<ParetoObjective>& objectives) {
  // b is at least as good as a on objective k.
  auto no_worse = [&](const std::vector<double>& b, const std::vector<double>& a, std::size_t k) {
    return objectives[k].maximize ? b[k] >= a[k] : b[k] <= a[k];
  };
  std::vector<std::size_t> front;
  for (std::size_t i = 0; i < values.size(); ++i) {
    bool dominated = false;
    for (std::size_t j = 0; j < values.size() && !dominated; ++j) {
      if (j == i) continue;
      bool all = true, better = false;
      for (std::size_t k = 0; k < objectives.size(); ++k) {
        all = all && no_worse(values[j], values[i], k);
        better = better || values[j][k] != values[i][k];
      }
      dominated = all && better;
    }
    if (!dominated) front.push_back(i);
  }
  return front;
}

std::size_t write_pareto(const std::string& dir_text, const std::vector<ParetoObjective>& objectives) {
  const fs::path dir(dir_text);
  const ordered_json manifest = ordered_json::parse(read_text_file((dir / "sweep.json").string()));
  for (const auto& o : objectives) {
    bool collected = false;
    for (const auto& m : manifest["metrics"]) collected = collected || m.get<std::string>() == o.metric;
    if (!collected)
      throw std::runtime_error(fmt::format("--pareto: '{}' is not among the sweep's metrics ({}); add it to sweep.metrics",
                                           o.metric, manifest["metrics"].dump()));
  }
  std::vector<ordered_json> candidates;
  std::vector<std::vector<double>> values;
  std::stringstream lines(read_text_file((dir / "results.jsonl").string()));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    ordered_json r = ordered_json::parse(line);
    if (r.value("status", "") != "ok") continue;
    std::vector<double> v;
    for (const auto& o : objectives) {
      const auto m = r["metrics"].find(o.metric);
      if (m == r["metrics"].end() || !m->is_number()) break;
      v.push_back(m->get<double>());
    }
    if (v.size() != objectives.size()) continue;
    candidates.push_back(std::move(r));
    values.push_back(std::move(v));
  }
  const std::vector<std::size_t> front = pareto_front(values, objectives);
  std::string csv = "point";
  for (const auto& p : manifest["params"]) csv += "," + csv_field(sweep_param_header(p.get<std::string>()));
  for (const auto& m : manifest["metrics"]) csv += "," + csv_field(m.get<std::string>());
  csv += "\n";
  std::string jsonl;
  for (std::size_t i : front) {
    const ordered_json& r = candidates[i];
    csv += std::to_string(r["point"].get<std::uint64_t>());
    for (const auto& p : manifest["params"]) {
      const auto v = r["params"].find(p.get<std::string>());
      csv += "," + (v != r["params"].end() && v->is_string()
                        ? csv_field(sweep_param_cell(p.get<std::string>(), v->get<std::string>()))
                        : std::string());
    }
    for (const auto& m : manifest["metrics"]) {
      const auto v = r["metrics"].find(m.get<std::string>());
      csv += "," + (v == r["metrics"].end() || v->is_null() ? std::string()
                                                             : csv_field(v->is_string() ? v->get<std::string>() : v->dump()));
    }
    csv += "\n";
    jsonl += r.dump() + "\n";
  }
  for (const auto& [name, text] : {std::pair<std::string, std::string>{"pareto.csv", csv}, {"pareto.jsonl", jsonl}}) {
    const std::string why = write_output_file((dir / name).string(), text);
    if (!why.empty()) throw std::runtime_error("cannot write " + (dir / name).string() + ": " + why);
  }
  return front.size();
}

}  // namespace podsim
