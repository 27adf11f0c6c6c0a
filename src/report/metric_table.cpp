#include "podsim/report/metric_table.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace podsim {

bool parse_metric_table(const std::string& text, bool jsonl, const std::string& label,
                        const std::vector<std::string>& only, MetricTable* out, std::string* why) {
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
        const std::string name = fmt::format("point {}", point->get<std::uint64_t>());
        for (auto& [m, v] : metrics->items())
          if (v.is_number() && wanted(m)) (*out)[name + " " + m] = v.get<double>();
      }
      return true;
    }
    const json j = json::parse(text);
    const auto summary = j.is_object() ? j.find("summary") : j.end();
    if (summary == j.end() || !summary->is_object()) {
      *why = fmt::format("{}: not a podsim report (no summary object)", label);
      return false;
    }
    for (auto& [m, v] : summary->items())
      if (v.is_number() && wanted(m)) (*out)[m] = v.get<double>();
    return true;
  } catch (const std::exception& e) {
    *why = fmt::format("{}: {}", label, e.what());
    return false;
  }
}

bool load_metric_table(const std::string& path, const std::vector<std::string>& only, MetricTable* out,
                       std::string* why) {
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
  return parse_metric_table(text.str(), p.extension() == ".jsonl", p.string(), only, out, why);
}

}  // namespace podsim
