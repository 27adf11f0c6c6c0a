#include "podsim/report/metric_table.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace podsim {

namespace {

// "[a=1, b=x]": a sweep point's parameters, in key order (nlohmann::json keeps objects
// sorted), strings unquoted.
std::string point_name(const nlohmann::json& params) {
  std::string name = "[";
  for (auto it = params.begin(); it != params.end(); ++it) {
    if (it != params.begin()) name += ", ";
    name += it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump());
  }
  return name + "]";
}

}  // namespace

bool parse_metric_table(const std::string& text, bool jsonl, const std::string& label,
                        const std::vector<std::string>& only, MetricTable* out, std::string* why,
                        MetricSource* source, bool with_ops) {
  using nlohmann::json;
  auto wanted = [&](const std::string& m) { return only.empty() || std::find(only.begin(), only.end(), m) != only.end(); };
  try {
    if (jsonl) {  // sweep results: one record per point
      std::istringstream in(text);
      std::string line;
      int line_no = 0;
      while (std::getline(in, line)) {
        ++line_no;
        if (line.empty()) continue;
        const json r = json::parse(line);
        // A record needs a point id and a metrics object (const json: no operator[] on a
        // missing key, which is undefined behaviour).
        const auto point = r.is_object() ? r.find("point") : r.end();
        const auto metrics = r.is_object() ? r.find("metrics") : r.end();
        if (!r.is_object() || point == r.end() || !point->is_number_unsigned() || metrics == r.end() ||
            !metrics->is_object()) {
          *why = fmt::format("{}:{}: not a sweep result record (expected an object with 'point' and 'metrics')", label,
                             line_no);
          return false;
        }
        const auto params = r.find("params");
        const std::string name = params != r.end() && params->is_object() && !params->empty()
                                     ? point_name(*params)
                                     : fmt::format("point {}", point->get<std::uint64_t>());
        for (auto& [m, v] : metrics->items())
          if (v.is_number() && wanted(m)) (*out)[name + " " + m] = v.get<double>();
      }
      return true;
    }
    const json j = json::parse(text);
    // A scaling table (podsim run --chips ... --json): each pod size's numbers, named by
    // its size as a sweep point is by its parameters.
    const auto schema = j.is_object() ? j.find("schema") : j.end();
    if (schema != j.end() && schema->is_string() && schema->get<std::string>().rfind("podsim.scaling/", 0) == 0) {
      const auto runs = j.find("runs");
      if (runs == j.end() || !runs->is_array()) {
        *why = fmt::format("{}: a scaling table without its runs", label);
        return false;
      }
      for (const auto& run : *runs) {
        const auto chips = run.is_object() ? run.find("chips") : run.end();
        if (chips == run.end() || !chips->is_number_unsigned()) {
          *why = fmt::format("{}: a scaling run without its chip count", label);
          return false;
        }
        const std::string name = fmt::format("[chips={}]", chips->get<std::uint64_t>());
        for (auto& [m, v] : run.items())
          if (m != "chips" && v.is_number() && wanted(m)) (*out)[name + " " + m] = v.get<double>();
      }
      if (source) {
        const auto w = j.find("workload"), h = j.find("hardware");
        source->workload = w != j.end() && w->is_string() ? w->get<std::string>() : std::string();
        source->hardware = h != j.end() && h->is_string() ? h->get<std::string>() : std::string();
      }
      return true;
    }
    const auto summary = j.is_object() ? j.find("summary") : j.end();
    if (summary == j.end() || !summary->is_object()) {
      *why = fmt::format("{}: not a podsim report (no summary object)", label);
      return false;
    }
    for (auto& [m, v] : summary->items())
      if (v.is_number() && wanted(m)) (*out)[m] = v.get<double>();
    const auto ops = j.find("ops");
    if (with_ops && wanted("time_s") && ops != j.end() && ops->is_array())
      for (const auto& op : *ops) {
        if (!op.is_object()) continue;
        const auto name = op.find("name"), time = op.find("time_s");
        if (name == op.end() || !name->is_string() || time == op.end() || !time->is_number()) continue;
        (*out)["op " + name->get<std::string>() + " time_s"] += time->get<double>();
      }
    if (source) {
      auto name_of = [&](const char* key) {
        const auto o = j.find(key);
        if (o == j.end() || !o->is_object()) return std::string();
        const auto n = o->find("name");
        return n != o->end() && n->is_string() ? n->get<std::string>() : std::string();
      };
      source->workload = name_of("workload");
      source->hardware = name_of("hardware");
    }
    return true;
  } catch (const std::exception& e) {
    *why = fmt::format("{}: {}", label, e.what());
    return false;
  }
}

bool load_metric_table(const std::string& path, const std::vector<std::string>& only, MetricTable* out,
                       std::string* why, MetricSource* source, bool with_ops) {
  namespace fs = std::filesystem;
  fs::path p(path);
  std::error_code ec;
  if (fs::is_directory(p, ec)) p /= "results.jsonl";
  if (fs::exists(p, ec) && !fs::is_regular_file(p, ec)) {
    *why = fmt::format("{}: not a regular file", p.string());
    return false;
  }
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    *why = fmt::format("{}: cannot open", p.string());
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_metric_table(text.str(), p.extension() == ".jsonl", p.string(), only, out, why, source, with_ops);
}

}  // namespace podsim
