#include "podsim/sweep/sweep_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "podsim/config/hardware_params.h"
#include "podsim/config/workload_loader.h"
#include "podsim/sim/simulate.h"
#include "podsim/io/child_process.h"
#include "podsim/io/csv_field.h"
#include "podsim/io/output_file.h"
#include "podsim/sweep/sweep_columns.h"
#include "podsim/sweep/sweep_points.h"

extern char** environ;

namespace podsim {
namespace {

namespace fs = std::filesystem;
using nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

std::string read_text(const fs::path& p) { return read_text_file(p.string()); }

// Readers see the old file or the new one (io/output_file.h: an exclusive temporary file,
// then a rename; a device or symlink planted in the results folder is never followed).
void write_atomically(const fs::path& p, const std::string& text) {
  const std::string why = write_output_file(p.string(), text);
  if (!why.empty()) throw std::runtime_error("cannot write " + p.string() + ": " + why);
}

// A metric from a report: a summary key, ops.<index or name>.<key>, stats.<group>.<name>.
ordered_json metric_of(const ordered_json& report, const std::string& name) {
  if (name.rfind("ops.", 0) == 0) {
    const std::string rest = name.substr(4);
    const auto dot = rest.rfind('.');
    if (dot == std::string::npos) return nullptr;
    const std::string which = rest.substr(0, dot), key = rest.substr(dot + 1);
    for (std::size_t i = 0; i < report["ops"].size(); ++i) {
      const auto& op = report["ops"][i];
      if (which == std::to_string(i) || op.value("name", "") == which) return op.contains(key) ? op[key] : nullptr;
    }
    return nullptr;
  }
  if (name.rfind("stats.", 0) == 0) {
    const std::string rest = name.substr(6);
    const auto dot = rest.rfind('.');
    if (dot == std::string::npos) return nullptr;
    const auto& stats = report["stats"];
    const std::string group = rest.substr(0, dot), key = rest.substr(dot + 1);
    if (stats.contains(group) && stats[group].contains(key)) return stats[group][key]["value"];
    return nullptr;
  }
  if (report["summary"].contains(name)) return report["summary"][name];
  // A serve report's latency statistics: ttft_s.p99 is summary.ttft_s.p99.
  const auto dot = name.find('.');
  if (dot != std::string::npos && report["summary"].contains(name.substr(0, dot))) {
    const ordered_json& inner = report["summary"][name.substr(0, dot)];
    const std::string key = name.substr(dot + 1);
    if (inner.is_object() && inner.contains(key)) return inner[key];
  }
  return nullptr;
}

ordered_json record(const SweepPoint& p, const std::vector<std::string>& metrics, const ordered_json* report,
                    const std::string& status, const std::string& error) {
  ordered_json r;
  r["point"] = p.id;
  ordered_json params = ordered_json::object();
  for (const auto& [k, v] : p.params) params[k] = v;
  r["params"] = std::move(params);
  ordered_json m = ordered_json::object();
  for (const auto& name : metrics) m[name] = report ? metric_of(*report, name) : ordered_json(nullptr);
  r["metrics"] = std::move(m);
  r["status"] = status;
  r["error"] = error;
  return r;
}

std::string fingerprint(const SweepSpec& s) {
  std::string f = s.hardware + "|" + s.workload + "|" + (s.serve.empty() ? "" : "serve " + s.serve + "|");
  for (const SweepAxis* a : s.axes()) {
    f += a->path + "=";
    for (const auto& v : a->values) f += v + ",";
    f += ";";
  }
  f += fmt::format("random={}/{}|", s.random_samples, s.random_seed);
  for (const auto& c : s.constraints) f += c.text + ";";
  for (const auto& b : s.budgets) f += "budget " + b.text + ";";
  for (const auto& m : s.metrics) f += m + ",";
  return f;
}

std::map<std::uint64_t, ordered_json> load_records(const fs::path& dir) {
  std::map<std::uint64_t, ordered_json> out;
  const fs::path points = dir / "points";
  if (!fs::is_directory(points)) return out;
  for (const auto& e : fs::directory_iterator(points)) {
    const std::string name = e.path().filename().string();
    const std::string suffix = ".result.json";
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    try {
      ordered_json r = ordered_json::parse(read_text(e.path()));
      // A record has the shape write_results() reads; anything else is not ours.
      const bool shaped = r.is_object() && r.contains("point") && r["point"].is_number_unsigned() &&
                          r.contains("params") && r["params"].is_object() && r.contains("metrics") &&
                          r["metrics"].is_object() && r.contains("status") && r["status"].is_string() &&
                          r.contains("error") && r["error"].is_string();
      if (!shaped) throw std::runtime_error("missing point, params, metrics, status or error");
      const std::uint64_t id = r["point"].get<std::uint64_t>();  // before r is moved from
      out[id] = std::move(r);
    } catch (const std::exception& ex) {
      // Records are written atomically; one that does not parse or lacks a field is not
      // one of ours: left out of the tables, and said so.
      spdlog::warn("{}: ignored, not a sweep point record ({})", e.path().string(), ex.what());
    }
  }
  return out;
}

void write_results(const fs::path& dir, const ordered_json& manifest, const std::map<std::uint64_t, ordered_json>& records) {
  std::string csv = "point";
  for (const auto& p : manifest["params"]) csv += "," + csv_field(sweep_param_header(p.get<std::string>()));
  for (const auto& m : manifest["metrics"]) csv += "," + csv_field(m.get<std::string>());
  csv += ",status,error\n";
  std::string jsonl;
  for (const auto& [id, r] : records) {
    csv += std::to_string(id);
    // r is const: operator[] on a missing key would be undefined; look keys up with find().
    const auto params = r.find("params"), metrics = r.find("metrics");
    for (const auto& p : manifest["params"]) {
      const auto v = params != r.end() ? params->find(p.get<std::string>()) : r.end();
      csv += "," + (params != r.end() && v != params->end() && v->is_string()
                        ? csv_field(sweep_param_cell(p.get<std::string>(), v->get<std::string>()))
                        : std::string());
    }
    for (const auto& m : manifest["metrics"]) {
      const auto v = metrics != r.end() ? metrics->find(m.get<std::string>()) : r.end();
      if (metrics == r.end() || v == metrics->end() || v->is_null()) {
        csv += ",";
        continue;
      }
      csv += "," + csv_field(v->is_string() ? v->get<std::string>() : v->dump());
    }
    csv += "," + csv_field(r.value("status", "")) + "," + csv_field(r.value("error", "")) + "\n";
    jsonl += r.dump() + "\n";
  }
  write_atomically(dir / "results.csv", csv);
  write_atomically(dir / "results.jsonl", jsonl);
}

struct Child {
  pid_t pid;
  SweepPoint point;
  Clock::time_point started;
};

pid_t spawn_point(const SweepSpec& spec, const SweepPoint& p, const SweepRunOptions& o, const fs::path& dir) {
  // Options as --name=value and the workload after "--": a path or value that starts with
  // '-' is never read as an option.
  const bool serve = !spec.serve.empty();
  std::vector<std::string> args = {o.podsim_binary, serve ? "serve" : "run", "-q", "--hw=" + point_hardware(spec, p),
                                   "--json=" + (dir / "points" / fmt::format("{}.json", p.id)).string()};
  if (serve) args.push_back("--jobs=1");  // the sweep's -j runs points side by side
  for (const auto& [k, v] : p.params) {
    if (k == "hardware") continue;  // the --hw above
    args.push_back((find_hardware_param(k) ? "--set=" : serve ? "--sset=" : "--wset=") + k + "=" + v);
  }
  args.push_back("--");
  args.push_back(serve ? spec.serve : spec.workload);
  return spawn_child(args, (dir / "points" / fmt::format("{}.log", p.id)).string());
}

std::string last_lines(const fs::path& log) { return last_log_line(log.string()); }

// The first budget the report's result breaks, worded; "" when it keeps them all.
std::string broken_budget(const SweepSpec& spec, const ordered_json& report) {
  for (const SweepBudget& b : spec.budgets) {
    const ordered_json v = metric_of(report, b.metric);
    if (!v.is_number()) return fmt::format("budget '{}': the report has no number {}", b.text, b.metric);
    const double x = v.get<double>();
    const bool ok = b.op == "<=" ? x <= b.limit : b.op == "<" ? x < b.limit : b.op == ">=" ? x >= b.limit : x > b.limit;
    if (!ok) return fmt::format("budget '{}' not met: {} = {:.6g}", b.text, b.metric, x);
  }
  return "";
}

}  // namespace

void check_op_metrics(const SweepSpec& spec) {
  if (!spec.serve.empty()) return;  // a serve sweep's metrics are the serve summary's (checked at load)
  std::vector<std::string> names;
  bool loaded = false;
  for (std::size_t i = 0; i < spec.metrics.size(); ++i) {
    const std::string& m = spec.metrics[i];
    if (m.rfind("ops.", 0) != 0) continue;
    if (!loaded) {  // the ops a report of the base workload lists
      for (const Op& op : without_collectives(expand_workload(load_workload(spec.workload))).ops) names.push_back(op.name);
      loaded = true;
    }
    const std::string which = m.substr(4, m.rfind('.') - 4);
    if (std::find(names.begin(), names.end(), which) != names.end()) continue;
    if (!which.empty() && which.find_first_not_of("0123456789") == std::string::npos && which.size() < 10 &&
        std::stoull(which) < names.size())
      continue;
    const std::string near = suggest_nearest(which, names);
    const SourceLocation where = i < spec.metric_where.size() ? spec.metric_where[i] : SourceLocation{spec.source, 0, 0};
    throw ConfigError(where, fmt::format("sweep.metrics[{}]", i),
                      fmt::format("no op '{}' in {} ({} ops: an index 0 to {} or a name{}{})", which, spec.workload,
                                  names.size(), names.size() ? names.size() - 1 : 0, near.empty() ? "" : "; ", near));
  }
}

SweepSummary run_sweep(const SweepSpec& spec, const SweepRunOptions& o) {
  check_op_metrics(spec);
  const fs::path dir(o.out_dir);
  fs::create_directories(dir / "points");
  // The points are streamed (sweep_points.h), twice: once to count and record, once to run.

  ordered_json manifest;
  manifest["schema"] = "podsim.sweep/1";
  manifest["sweep"] = spec.source;
  manifest["fingerprint"] = fingerprint(spec);
  manifest["points"] = SweepPointStream(spec).size();
  manifest["params"] = ordered_json::array();
  for (const SweepAxis* a : spec.axes()) manifest["params"].push_back(a->path);
  manifest["metrics"] = spec.metrics;
  const fs::path manifest_path = dir / "sweep.json";
  if (fs::exists(manifest_path)) {
    const ordered_json old = ordered_json::parse(read_text(manifest_path));
    if (old.value("fingerprint", "") != manifest["fingerprint"])
      throw std::runtime_error(fmt::format("{} holds the results of a different sweep; use another --out", dir.string()));
  } else {
    write_atomically(manifest_path, manifest.dump(2) + "\n");
  }

  std::map<std::uint64_t, ordered_json> records = load_records(dir);
  SweepSummary sum;
  auto finished_before = [&](const SweepPoint& p) {
    auto it = records.find(p.id);
    if (it == records.end()) return false;
    const std::string st = it->second["status"].get<std::string>();
    return st == "ok" || st == "skipped" || st == "over_budget";
  };
  std::uint64_t todo = 0;
  {
    SweepPointStream stream(spec);
    SweepPoint p;
    while (stream.next(&p)) {
      if (p.id % o.shard_count != o.shard_index) continue;
      ++sum.points;
      if (finished_before(p)) {
        ++sum.skipped_done;
        continue;
      }
      if (!p.skip_reason.empty()) {
        ordered_json r = record(p, spec.metrics, nullptr, "skipped", p.skip_reason);
        write_atomically(dir / "points" / fmt::format("{}.result.json", p.id), r.dump(2) + "\n");
        records[p.id] = std::move(r);
        ++sum.constrained;
        continue;
      }
      ++todo;
    }
  }
  // The points to run, pulled from a second stream as places free up (the constrained
  // points now have their records, so finished_before() passes them by).
  SweepPointStream to_run(spec);
  auto next_to_run = [&](SweepPoint* p) {
    while (to_run.next(p))
      if (p->id % o.shard_count == o.shard_index && !finished_before(*p) && p->skip_reason.empty()) return true;
    return false;
  };

  const bool tty = o.show_progress && isatty(2);
  const auto start = Clock::now();
  auto last_write = start;
  std::vector<Child> running;
  std::uint64_t started = 0, done = 0;
  std::set<std::string> missing_said;
  auto finish = [&](const Child& c, int status, bool timed_out) {
    const fs::path report_path = dir / "points" / fmt::format("{}.json", c.point.id);
    ordered_json r;
    if (timed_out) {
      r = record(c.point, spec.metrics, nullptr, "timeout", fmt::format("no result within {} s", o.point_timeout_s));
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && fs::exists(report_path)) {
      const ordered_json report = ordered_json::parse(read_text(report_path));
      const std::string over = broken_budget(spec, report);
      r = record(c.point, spec.metrics, &report, over.empty() ? "ok" : "over_budget", over);
      // A metric valid at load may still be absent from a point's report (a core, MXU or
      // channel number past the chip's, DRAM stats on ideal memory, peak power on a pod):
      // its cell stays empty, and stderr says so once per metric.
      for (const auto& name : spec.metrics)
        if (r["metrics"][name].is_null() && missing_said.insert(name).second)
          spdlog::warn("sweep: metric '{}' is not in point {}'s report (its hardware has no such group or "
                       "stat); its cells stay empty where it is missing",
                       name, c.point.id);
    } else {
      const std::string why = last_lines(dir / "points" / fmt::format("{}.log", c.point.id));
      r = record(c.point, spec.metrics, nullptr, "failed",
                 why.empty() ? fmt::format("exit status {}", WIFEXITED(status) ? WEXITSTATUS(status) : -1) : why);
    }
    const bool ok = r["status"] == "ok" || r["status"] == "over_budget";
    if (r["status"] == "over_budget") ++sum.over_budget;
    write_atomically(dir / "points" / fmt::format("{}.result.json", c.point.id), r.dump(2) + "\n");
    records[c.point.id] = std::move(r);
    ++sum.ran;
    (ok ? sum.ok : sum.failed)++;
    ++done;
    if (o.show_progress) {
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      const double rate = elapsed > 0 ? double(done) / elapsed : 0;
      const double eta = rate > 0 ? double(todo - done) / rate : 0;
      if (tty)
        fmt::print(stderr, "\r[{}/{}] {:.1f} points/s, ETA {:.0f} s, {} failed   ", done, todo, rate, eta, sum.failed);
      else
        fmt::print(stderr, "sweep: point {} {} ({}/{})\n", c.point.id, ok ? "ok" : "FAILED", done, todo);
    }
  };
  SweepPoint pending;
  bool have_pending = started < todo && next_to_run(&pending);
  while (have_pending || !running.empty()) {
    while (running.size() < std::max(1u, o.jobs) && have_pending) {
      running.push_back({spawn_point(spec, pending, o, dir), pending, Clock::now()});
      ++started;
      have_pending = started < todo && next_to_run(&pending);
    }
    bool progressed = false;
    for (std::size_t i = 0; i < running.size();) {
      int status = 0;
      const pid_t r = waitpid(running[i].pid, &status, WNOHANG);
      const bool timed_out = r == 0 && o.point_timeout_s > 0 &&
                             std::chrono::duration<double>(Clock::now() - running[i].started).count() > o.point_timeout_s;
      if (timed_out) {
        kill(running[i].pid, SIGKILL);
        waitpid(running[i].pid, &status, 0);
      }
      if (r != 0 || timed_out) {
        finish(running[i], status, timed_out);
        running.erase(running.begin() + std::ptrdiff_t(i));
        progressed = true;
      } else {
        ++i;
      }
    }
    if (Clock::now() - last_write > std::chrono::seconds(2)) {
      write_results(dir, manifest, records);
      last_write = Clock::now();
    }
    if (!progressed) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (tty) fmt::print(stderr, "\n");
  write_results(dir, manifest, records);
  return sum;
}

std::uint64_t merge_sweeps(const std::vector<std::string>& dirs, const std::string& out_dir) {
  if (dirs.empty()) throw std::runtime_error("nothing to merge");
  const ordered_json manifest = ordered_json::parse(read_text(fs::path(dirs.front()) / "sweep.json"));
  std::map<std::uint64_t, ordered_json> records;
  for (const auto& d : dirs) {
    const fs::path m = fs::path(d) / "sweep.json";
    if (!fs::exists(m)) throw std::runtime_error(d + " is not a sweep output folder (no sweep.json)");
    if (ordered_json::parse(read_text(m)).value("fingerprint", "") != manifest["fingerprint"])
      throw std::runtime_error(d + " holds a different sweep than " + dirs.front());
    for (auto& [id, r] : load_records(d)) records[id] = std::move(r);
  }
  const fs::path out(out_dir);
  fs::create_directories(out / "points");
  for (const auto& [id, r] : records)
    write_atomically(out / "points" / fmt::format("{}.result.json", id), r.dump(2) + "\n");
  write_atomically(out / "sweep.json", manifest.dump(2) + "\n");
  write_results(out, manifest, records);
  return records.size();
}

}  // namespace podsim
