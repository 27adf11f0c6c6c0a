#include <algorithm>
#include <cmath>
#include <filesystem>
#include <cctype>
#include <set>

#include <fmt/format.h>

#include "podsim/config/hardware_loader.h"
#include "podsim/config/hardware_params.h"
#include "podsim/config/sweep_spec.h"
#include "podsim/config/workload_loader.h"
#include "podsim/serving/serve_spec.h"
#include "yaml_util.h"

namespace podsim {
namespace {

using detail::location_of;
namespace fs = std::filesystem;

std::string resolve(const std::string& sweep_file, const std::string& relative) {
  if (fs::path(relative).is_absolute()) return relative;
  return (fs::path(sweep_file).parent_path() / relative).lexically_normal().string();
}

// Values of one axis: a list, or a range {from, to, step} / {from, to, mul}.
std::vector<std::string> axis_values(const YAML::Node& node, const std::string& key_path, const std::string& file) {
  std::vector<std::string> values;
  if (node.IsSequence()) {
    if (node.size() == 0) throw ConfigError(location_of(node, file), key_path, "expected at least one value");
    for (std::size_t i = 0; i < node.size(); ++i)
      values.push_back(detail::scalar_text(node[i], fmt::format("{}[{}]", key_path, i), file));
    return values;
  }
  if (node.IsMap()) {
    detail::reject_unknown_keys(node, {"from", "to", "step", "mul"}, key_path, file);
    auto number = [&](const char* k) {
      const YAML::Node v = node[k];
      if (!v) throw ConfigError(location_of(node, file), key_path + "." + k, "missing");
      try {
        return std::stod(detail::scalar_text(v, key_path + "." + k, file));
      } catch (const std::exception&) {
        throw ConfigError(location_of(v, file), key_path + "." + k, "expected a number");
      }
    };
    const double from = number("from"), to = number("to");
    const bool mul = bool(node["mul"]);
    if (mul == bool(node["step"]))
      throw ConfigError(location_of(node, file), key_path, "a range takes exactly one of step or mul");
    const double by = number(mul ? "mul" : "step");
    if ((mul && by <= 1) || (!mul && by <= 0) || to < from)
      throw ConfigError(location_of(node, file), key_path,
                        "expected from <= to and a step > 0 (or mul > 1)");
    // 15 significant digits: exact for integers up to 10^15 (1000003 stays 1000003, where
    // {:g} made it 1e+06), while float noise from the steps (0.30000000000000004) is cut.
    constexpr std::size_t kMaxValues = 100000;
    for (double v = from; v <= to * (1 + 1e-12); v = mul ? v * by : v + by) {
      if (values.size() == kMaxValues)
        throw ConfigError(location_of(node, file), key_path,
                          fmt::format("the range gives more than {} values; use a larger step", kMaxValues));
      values.push_back(fmt::format("{:.15g}", v));
    }
    return values;
  }
  return {detail::scalar_text(node, key_path, file)};
}

void check_axis(SweepAxis& axis, const std::string& workload, const std::string& serve, const std::string& file) {
  if (axis.path == "hardware") {  // whole chips: preset names or hardware files
    const auto presets = preset_names();
    for (auto& v : axis.values) {
      const std::string resolved = std::find(presets.begin(), presets.end(), v) != presets.end() ? v : resolve(file, v);
      try {
        load_hardware(resolved);
      } catch (const ConfigError& e) {
        throw ConfigError(axis.where, axis.path, fmt::format("value '{}': {}", v, e.what()));
      }
      v = resolved;
    }
    return;
  }
  if (const HardwareParam* p = find_hardware_param(axis.path)) {
    for (const auto& v : axis.values) {
      std::string why;
      if (!parse_param_value(*p, v, &why)) throw ConfigError(axis.where, axis.path, why);
    }
    return;
  }
  // Each value set in its file and the file checked in full; an error names the value.
  auto each_value_loads = [&](const auto& load) {
    for (const auto& v : axis.values) {
      try {
        load(axis.path + "=" + v);
      } catch (const ConfigError& e) {
        throw ConfigError(axis.where, axis.path, fmt::format("value '{}': {}", v, e.what()));
      }
    }
  };
  if (!serve.empty() && is_serve_path(axis.path))
    return each_value_loads([&](const std::string& o) { load_serve_spec(serve, {o}); });
  if (!serve.empty() && is_workload_path(axis.path))
    throw ConfigError(axis.where, axis.path,
                      "a serve sweep sets fields of the serve file (serve.requests.rate, serve.scheduler.max_batch); "
                      "the model is the serve file's serve.workload");
  if (serve.empty() && is_serve_path(axis.path))
    throw ConfigError(axis.where, axis.path, "serve.* axes need a serve sweep: sweep.serve: <serve file> instead of sweep.workload");
  if (is_workload_path(axis.path))
    return each_value_loads([&](const std::string& o) { load_workload(workload, {o}); });
  std::vector<std::string> all;
  for (const auto& p : hardware_params()) all.push_back(p.path);
  const std::string hint = suggest_nearest(axis.path, all);
  (void)file;
  throw ConfigError(axis.where, axis.path,
                    "not a parameter path (see 'podsim params', workload.ops[i].<field>, or hardware: a list of "
                    "presets or hardware files)" +
                        (hint.empty() ? std::string() : "; " + hint));
}

std::vector<SweepAxis> read_axes(const YAML::Node& map, const std::string& prefix, const std::string& file) {
  detail::expect_map(map, prefix, file);
  std::vector<SweepAxis> axes;
  for (auto it = map.begin(); it != map.end(); ++it) {
    SweepAxis a;
    a.path = it->first.Scalar();
    a.where = location_of(it->first, file);
    a.values = axis_values(it->second, prefix + "." + a.path, file);
    axes.push_back(std::move(a));
  }
  return axes;
}

SweepConstraint parse_constraint(const YAML::Node& node, const std::string& key_path, const std::string& file) {
  SweepConstraint c;
  c.text = detail::scalar_text(node, key_path, file);
  c.where = location_of(node, file);
  for (const char* op : {"<=", ">=", "==", "!=", "<", ">"}) {
    const auto at = c.text.find(op);
    if (at == std::string::npos) continue;
    auto trim = [](std::string s) {
      const auto b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
      return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
    };
    c.lhs = trim(c.text.substr(0, at));
    c.op = op;
    c.rhs = trim(c.text.substr(at + std::string(op).size()));
    if (c.lhs.empty() || c.rhs.empty()) break;
    return c;
  }
  throw ConfigError(c.where, key_path, "expected '<path or value> <op> <path or value>' with op one of <= < >= > == !=");
}

// A constraint must be decidable for every point: each side a numeric hardware parameter,
// an axis of the sweep, or a number (in the unit of the parameter on the other side). A
// mistake here used to make every point "skipped" and the sweep exit 0.
void check_constraint(const SweepConstraint& c, const SweepSpec& s, const std::string& key_path) {
  auto is_axis = [&](const std::string& t) {
    for (const SweepAxis* a : s.axes())
      if (a->path == t) return true;
    return false;
  };
  auto numeric_param = [](const HardwareParam* p) {
    return p && (p->type == ParamType::integer || p->type == ParamType::quantity || p->type == ParamType::boolean);
  };
  const HardwareParam* lp = find_hardware_param(c.lhs);
  const HardwareParam* rp = find_hardware_param(c.rhs);
  auto check_side = [&](const std::string& t, const HardwareParam* self, const HardwareParam* other) {
    if (self) {
      if (!numeric_param(self))
        throw ConfigError(c.where, key_path,
                          fmt::format("'{}' is a {} parameter; constraints compare numbers", t,
                                      param_type_name(self->type, self->unit)));
      return;
    }
    if (is_axis(t)) return;
    std::string why;
    if (numeric_param(other) && other->type != ParamType::boolean) {
      if (!parse_param_value(*other, t, &why))
        throw ConfigError(c.where, key_path, fmt::format("'{}' is not a value of {}: {}", t, other->path, why));
      return;
    }
    try {
      std::size_t used = 0;
      (void)std::stod(t, &used);
      if (used == t.size()) return;
    } catch (...) {
    }
    std::vector<std::string> known;
    for (const auto& p : hardware_params()) known.push_back(p.path);
    for (const SweepAxis* a : s.axes()) known.push_back(a->path);
    const std::string hint = suggest_nearest(t, known);
    throw ConfigError(c.where, key_path,
                      fmt::format("'{}' is neither a hardware parameter, an axis of this sweep nor a number{}",
                                  t.size() > 40 ? t.substr(0, 40) + "..." : t, hint.empty() ? "" : "; " + hint));
  };
  check_side(c.lhs, lp, rp);
  check_side(c.rhs, rp, lp);
  if (!lp && !rp && !is_axis(c.lhs) && !is_axis(c.rhs))
    throw ConfigError(c.where, key_path, "compares two numbers; name a parameter or an axis on one side");
}

SweepBudget parse_budget(const YAML::Node& node, const std::string& key_path, const std::string& file,
                         const std::vector<std::string>& names) {
  SweepBudget b;
  b.text = detail::scalar_text(node, key_path, file);
  b.where = location_of(node, file);
  for (const char* op : {"<=", ">=", "<", ">"}) {
    const auto at = b.text.find(op);
    if (at == std::string::npos) continue;
    auto trim = [](std::string s) {
      const auto f = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
      return f == std::string::npos ? std::string() : s.substr(f, e - f + 1);
    };
    b.metric = trim(b.text.substr(0, at));
    b.op = op;
    const std::string limit = trim(b.text.substr(at + std::string(op).size()));
    if (std::find(names.begin(), names.end(), b.metric) == names.end()) {
      const std::string hint = suggest_nearest(b.metric, names);
      throw ConfigError(b.where, key_path,
                        fmt::format("'{}' is not a summary metric{}; a budget limits one of: {}", b.metric,
                                    hint.empty() ? "" : " (" + hint + ")", fmt::join(names, ", ")));
    }
    std::size_t used = 0;
    try {
      b.limit = std::stod(limit, &used);
    } catch (...) {
      used = 0;
    }
    if (limit.empty() || used != limit.size() || !std::isfinite(b.limit))
      throw ConfigError(b.where, key_path, fmt::format("'{}' is not a number; a budget is '<metric> <op> <number>'", limit));
    return b;
  }
  throw ConfigError(b.where, key_path, "expected '<summary metric> <op> <number>' with op one of <= < >= >, like 'average_power_w <= 200'");
}

}  // namespace

std::vector<std::string> serve_metric_names() {
  std::vector<std::string> out = {"requests", "prompt_tokens", "output_tokens", "makespan_s", "steps", "busy_s",
                                  "requests_per_s", "output_tokens_per_s", "tokens_per_s"};
  for (const char* latency : {"ttft_s", "tpot_s", "e2e_s"})
    for (const char* stat : {"mean", "p50", "p90", "p99", "max"}) out.push_back(fmt::format("{}.{}", latency, stat));
  for (const char* k : {"slo_ttft_s", "slo_tpot_s", "met_slo", "goodput_requests_per_s", "kv_blocks", "kv_peak_blocks",
                        "kv_mean_occupancy", "kv_peak_occupancy", "preemptions", "max_batch", "prefix_hit_rate",
                        "prefix_tokens_saved", "energy_j", "joules_per_output_token", "average_power_w"})
    out.push_back(k);
  return out;
}

std::vector<std::string> summary_metric_names() {
  return {"time_s", "cycles", "flops", "achieved_tflops", "peak_tflops", "mxu_utilization", "hbm_read_bytes",
          "hbm_write_bytes", "hbm_bandwidth_gbps", "hbm_peak_gbps", "macs", "padded_macs", "chips", "ici_bytes",
          "exposed_comm_s", "contention_s", "energy_j", "average_power_w", "peak_power_w", "tops_per_w", "end_to_end_time_s",
          "cmem_read_bytes", "cmem_write_bytes", "area_mm2", "tflops_per_mm2", "samples_per_step", "samples_per_s",
          "joules_per_sample"};
}

std::vector<std::string> op_metric_keys() {
  return {"name", "kind", "shape", "dtype", "repeat", "flops", "start_s", "end_s", "time_s", "cycles",
          "achieved_tflops", "mxu_utilization", "hbm_read_bytes", "hbm_write_bytes", "hbm_bandwidth_gbps", "bound",
          "padded_macs", "engine", "vector_unit_cycles", "onchip_bytes", "activations_onchip",
          "onchip_activation_bytes", "replayed_tiles", "energy_j"};
}

const std::vector<StatsGroupSchema>& stats_metric_schema() {
  static const std::vector<StatsGroupSchema> schema = {
      {"chip", {"time", "cycles", "macs", "padded_macs"}},
      {"chip.core#.mxu#",
       {"active_cycles", "input_stall_cycles", "weight_load_stall_cycles", "weight_shift_cycles", "folds", "macs",
        "padded_macs", "utilization"}},
      {"chip.core#.read_dma", {"bytes", "chunks"}},
      {"chip.core#.write_dma", {"bytes", "chunks"}},
      {"chip.core#.weight_dma", {"bytes", "chunks"}},
      {"chip.core#.noc_port", {"bytes", "utilization"}},
      {"chip.hbm.ch#",
       {"read_bytes", "write_bytes", "requests", "utilization", "row_hits", "row_misses", "row_conflicts", "refreshes",
        "forwarded_reads", "streamed_requests", "mean_queue_depth"}},
      {"sim", {"process_wakeups", "ops_replayed", "tiles_replayed"}},
      {"pod", {"chips", "ici_bytes", "exposed_comm", "idle", "network_events"}},
  };
  return schema;
}

namespace {
// "chip.core12.mxu0" -> "chip.core#.mxu#": each run of digits after a letter becomes '#'.
std::string group_pattern(const std::string& group) {
  std::string out;
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(group[i])) && i > 0 && std::isalpha(static_cast<unsigned char>(group[i - 1]))) {
      while (i + 1 < group.size() && std::isdigit(static_cast<unsigned char>(group[i + 1]))) ++i;
      out += '#';
      continue;
    }
    out += group[i];
  }
  return out;
}
std::string example_group(const std::string& pattern) {
  std::string out = pattern;
  for (auto& c : out)
    if (c == '#') c = '0';
  return out;
}
}  // namespace

std::string check_stats_metric(const std::string& group, const std::string& name) {
  const std::string pattern = group_pattern(group);
  std::vector<std::string> groups;
  for (const auto& g : stats_metric_schema()) {
    if (g.pattern == pattern) {
      for (const auto& n : g.names)
        if (n == name) return "";
      const std::string near = suggest_nearest(name, g.names);
      return fmt::format("group '{}' has no stat '{}'{}; its stats: {}", group, name, near.empty() ? "" : " (" + near + ")",
                         fmt::join(g.names, ", "));
    }
    groups.push_back(example_group(g.pattern));
  }
  const std::string near = suggest_nearest(group, groups);
  return fmt::format("no stats group '{}'{}; the groups are {} (numbers: cores, MXUs, HBM channels)", group,
                     near.empty() ? "" : " (" + near + ")", fmt::join(groups, ", "));
}

bool is_known_metric(const std::string& name) {
  for (const auto& n : summary_metric_names())
    if (n == name) return true;
  // ops.<index or name>.<key>: the op is known only once the workload is expanded, its key now.
  if (name.rfind("ops.", 0) == 0) {
    const auto dot = name.rfind('.');
    if (dot <= 4 || dot + 1 >= name.size()) return false;
    const std::string key = name.substr(dot + 1);
    for (const auto& k : op_metric_keys())
      if (k == key) return true;
    return false;
  }
  // stats.<group>.<name>
  if (name.rfind("stats.", 0) == 0) {
    const auto dot = name.rfind('.');
    return dot > 6 && dot + 1 < name.size() && check_stats_metric(name.substr(6, dot - 6), name.substr(dot + 1)).empty();
  }
  return false;
}

std::vector<const SweepAxis*> SweepSpec::axes() const {
  std::vector<const SweepAxis*> out;
  for (const auto* list : {&grid, &zip, &random})
    for (const auto& a : *list) out.push_back(&a);
  return out;
}

SweepSpec load_sweep_yaml(const YAML::Node& root, const std::string& path);

SweepSpec load_sweep(const std::string& path) { return load_sweep_yaml(detail::parse_yaml_file(path), path); }

SweepSpec load_sweep_text(const std::string& text, const std::string& source) {
  return load_sweep_yaml(detail::parse_yaml_text(text, source), source);
}

SweepSpec load_sweep_yaml(const YAML::Node& root, const std::string& path) {
  detail::reject_unknown_keys(root, {"sweep"}, "", path);
  const YAML::Node sw = root["sweep"];
  if (!sw) throw ConfigError({path, 1, 1}, "sweep", "missing; the file must start with 'sweep:'");
  detail::expect_map(sw, "sweep", path);
  detail::reject_unknown_keys(sw, {"hardware", "workload", "serve", "grid", "zip", "random", "constraints", "budgets", "metrics"},
                              "sweep", path);
  SweepSpec s;
  s.source = path;
  const YAML::Node hw = sw["hardware"];
  const std::string hw_text = hw ? detail::scalar_text(hw, "sweep.hardware", path) : "tpu-v3";
  const auto presets = preset_names();
  s.hardware = std::find(presets.begin(), presets.end(), hw_text) != presets.end() ? hw_text : resolve(path, hw_text);
  try {
    load_hardware(s.hardware);
  } catch (const ConfigError& e) {
    throw ConfigError(hw ? location_of(hw, path) : SourceLocation{path, 0, 0}, "sweep.hardware", e.what());
  }
  const YAML::Node wl = sw["workload"];
  if (const YAML::Node sv = sw["serve"]) {
    if (wl)
      throw ConfigError(location_of(sv, path), "sweep.serve",
                        "a sweep runs a workload (podsim run) or a serve file (podsim serve), not both");
    s.serve = resolve(path, detail::scalar_text(sv, "sweep.serve", path));
    try {
      load_serve_spec(s.serve);
    } catch (const ConfigError& e) {
      throw ConfigError(location_of(sv, path), "sweep.serve", e.what());
    }
  } else {
    if (!wl)
      throw ConfigError(location_of(sw, path), "sweep.workload", "missing; expected a workload file (or serve: a serve file)");
    s.workload = resolve(path, detail::scalar_text(wl, "sweep.workload", path));
    try {
      load_workload(s.workload);
    } catch (const ConfigError& e) {
      throw ConfigError(location_of(wl, path), "sweep.workload", e.what());
    }
  }
  if (sw["grid"]) s.grid = read_axes(sw["grid"], "sweep.grid", path);
  if (const YAML::Node z = sw["zip"]) {
    // One map of axes that move together, or a list of such groups, each group crossed
    // with the others and with the grid.
    std::vector<YAML::Node> groups;
    if (z.IsSequence()) {
      if (z.size() == 0) throw ConfigError(location_of(z, path), "sweep.zip", "an empty list: give one or more maps of axes");
      for (std::size_t g = 0; g < z.size(); ++g) groups.push_back(z[g]);
    } else {
      groups.push_back(z);
    }
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const std::string key = z.IsSequence() ? fmt::format("sweep.zip[{}]", g) : "sweep.zip";
      std::vector<SweepAxis> axes = read_axes(groups[g], key, path);
      for (const auto& a : axes)
        if (a.values.size() != axes.front().values.size())
          throw ConfigError(a.where, key + "." + a.path,
                            fmt::format("has {} values; zipped axes need the same count ({})", a.values.size(),
                                        axes.front().values.size()));
      for (auto& a : axes) {
        a.zip_group = g;
        s.zip.push_back(std::move(a));
      }
    }
  }
  if (const YAML::Node r = sw["random"]) {
    if (sw["grid"] || sw["zip"])
      throw ConfigError(location_of(r, path), "sweep.random", "random sampling replaces grid and zip; use one or the other");
    detail::expect_map(r, "sweep.random", path);
    detail::reject_unknown_keys(r, {"samples", "seed", "axes"}, "sweep.random", path);
    auto integer = [&](const char* k, std::uint64_t fallback) -> std::uint64_t {
      if (!r[k]) return fallback;
      const std::string t = detail::scalar_text(r[k], std::string("sweep.random.") + k, path);
      std::string why;
      auto q = parse_quantity(t, UnitKind::none, &why);
      if (!q) throw ConfigError(location_of(r[k], path), std::string("sweep.random.") + k, "expected a whole number: " + why);
      return q->value;
    };
    s.random_samples = integer("samples", 0);
    s.random_seed = integer("seed", 0);
    if (s.random_samples == 0 || s.random_samples > 10'000'000)
      throw ConfigError(location_of(r, path), "sweep.random.samples", "expected 1 to 10,000,000 samples");
    if (!r["axes"]) throw ConfigError(location_of(r, path), "sweep.random.axes", "missing");
    s.random = read_axes(r["axes"], "sweep.random.axes", path);
  }
  std::set<std::string> seen;
  for (const SweepAxis* a : s.axes()) {
    if (!seen.insert(a->path).second)
      throw ConfigError(a->where, a->path, "appears twice among the axes");
    check_axis(const_cast<SweepAxis&>(*a), s.workload, s.serve, path);
  }
  if (s.axes().empty()) throw ConfigError(location_of(sw, path), "sweep.grid", "no axes: give grid, zip or random");
  {
    // Every point is a process and a row: refuse a grid past the random sampler's limit
    // (10,000,000) before building it, saying how many it would be.
    constexpr double kMaxPoints = 10'000'000;
    double points = 1;
    for (const auto& a : s.grid) points *= double(a.values.size());
    for (std::size_t g = 0; !s.zip.empty() && g <= s.zip.back().zip_group; ++g)
      for (const auto& a : s.zip)
        if (a.zip_group == g) {
          points *= double(a.values.size());
          break;
        }
    if (s.random.empty() && points > kMaxPoints)
      throw ConfigError(location_of(sw["grid"] ? sw["grid"] : sw["zip"], path), sw["grid"] ? "sweep.grid" : "sweep.zip",
                        fmt::format("{:.0f} points, more than the limit of 10,000,000: sample them "
                                    "(random: {{samples: N}}) or narrow the axes",
                                    points));
  }
  if (const YAML::Node c = sw["constraints"]) {
    if (!c.IsSequence()) throw ConfigError(location_of(c, path), "sweep.constraints", "expected a list of conditions");
    for (std::size_t i = 0; i < c.size(); ++i) {
      const std::string key = fmt::format("sweep.constraints[{}]", i);
      s.constraints.push_back(parse_constraint(c[i], key, path));
      check_constraint(s.constraints.back(), s, key);
    }
  }
  if (const YAML::Node b = sw["budgets"]) {
    if (!b.IsSequence()) throw ConfigError(location_of(b, path), "sweep.budgets", "expected a list of limits, like ['average_power_w <= 200']");
    const std::vector<std::string> names = s.serve.empty() ? summary_metric_names() : serve_metric_names();
    for (std::size_t i = 0; i < b.size(); ++i)
      s.budgets.push_back(parse_budget(b[i], fmt::format("sweep.budgets[{}]", i), path, names));
  }
  const YAML::Node m = sw["metrics"];
  if (!m || !m.IsSequence() || m.size() == 0)
    throw ConfigError(m ? location_of(m, path) : location_of(sw, path), "sweep.metrics",
                      fmt::format("expected a list of report metrics, like [time_s, achieved_tflops]"));
  for (std::size_t i = 0; i < m.size(); ++i) {
    const std::string name = detail::scalar_text(m[i], fmt::format("sweep.metrics[{}]", i), path);
    if (!s.serve.empty()) {  // a serve report's summary
      const auto names = serve_metric_names();
      if (std::find(names.begin(), names.end(), name) == names.end()) {
        const std::string near = suggest_nearest(name, names);
        throw ConfigError(location_of(m[i], path), fmt::format("sweep.metrics[{}]", i),
                          fmt::format("unknown serve metric '{}'{}; a serve sweep collects the serve report's summary: {}",
                                      name, near.empty() ? "" : " (" + near + ")", fmt::join(names, ", ")));
      }
    } else if (!is_known_metric(name)) {
      std::string hint = suggest_nearest(name, summary_metric_names());
      if (name.rfind("ops.", 0) == 0 && name.rfind('.') > 4) {  // a known op key, nearest to the one given
        const std::string key = name.substr(name.rfind('.') + 1);
        const std::string near = suggest_nearest(key, op_metric_keys());
        hint = fmt::format("the op keys are {}{}", fmt::join(op_metric_keys(), ", "),
                           near.empty() ? "" : "; " + near);
      }
      if (name.rfind("stats.", 0) == 0 && name.rfind('.') > 6 && name.rfind('.') + 1 < name.size()) {
        const auto dot = name.rfind('.');
        hint = check_stats_metric(name.substr(6, dot - 6), name.substr(dot + 1));
      }
      throw ConfigError(location_of(m[i], path), fmt::format("sweep.metrics[{}]", i),
                        fmt::format("unknown metric '{}'{}; expected a summary key ({}), ops.<op>.<key> or "
                                    "stats.<group>.<name>",
                                    name, hint.empty() ? "" : " (" + hint + ")", fmt::join(summary_metric_names(), ", ")));
    }
    s.metrics.push_back(name);
    s.metric_where.push_back(location_of(m[i], path));
  }
  return s;
}

}  // namespace podsim
