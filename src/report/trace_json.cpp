#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "podsim/energy/energy_model.h"
#include "podsim/report/op_metrics.h"
#include "podsim/report/report.h"

namespace podsim {

using nlohmann::ordered_json;

namespace {

// What an op's slice on the `ops` track says about it (a replayed op's slice is named
// "<op> (replayed)"): its figures from the report, so the timeline answers "what was this".
void add_op_args(const RunResult& r, const OpResult& o, ordered_json& args) {
  args["kind"] = o.kind;
  args["shape"] = o.shape;
  args["dtype"] = o.dtype;
  args["flops"] = 2 * o.macs;
  args["hbm_read_bytes"] = o.hbm_read_bytes;
  args["hbm_write_bytes"] = o.hbm_write_bytes;
  args["bound"] = op_metrics(r, o).bound;
  if (o.plan.engine == Engine::mxu)
    args["tiling"] = fmt::format("{}x{}x{}", o.plan.tiling.tm, o.plan.tiling.tk, o.plan.tiling.tn);
  else if (o.plan.engine == Engine::vector)
    args["tiling"] = fmt::format("{} rows per tile", o.plan.vector.tile_rows);
  if (o.replayed_tiles) args["replayed_tiles"] = o.replayed_tiles;
}

}  // namespace

std::string trace_json(const RunResult& r) {
  ordered_json events = ordered_json::array();
  // pid 1: the chip's blocks, one thread (track) each; pid 2: HBM bandwidth counters.
  events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 1}, {"args", {{"name", "chip " + r.hw.name}}}});
  events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 2}, {"args", {{"name", "HBM bandwidth (GB/s)"}}}});
  if (r.trace) {
    const auto& names = r.trace->track_names();
    for (std::size_t t = 0; t < names.size(); ++t) {
      events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", t}, {"args", {{"name", names[t]}}}});
      events.push_back({{"name", "thread_sort_index"}, {"ph", "M"}, {"pid", 1}, {"tid", t}, {"args", {{"sort_index", t}}}});
    }
    std::map<std::string, const OpResult*> ops;
    for (const OpResult& o : r.ops) ops.emplace(o.name, &o);
    const std::string replayed = " (replayed)";
    for (std::size_t t = 0; t < names.size(); ++t)
      for (const TraceSlice& s : r.trace->slices()[t]) {
        ordered_json args = {{"merged_slices", s.count}};
        if (s.bytes) args["bytes"] = s.bytes;
        if (names[t] == "ops") {
          std::string op = s.name;
          if (op.size() > replayed.size() && op.compare(op.size() - replayed.size(), replayed.size(), replayed) == 0)
            op.resize(op.size() - replayed.size());
          if (const auto it = ops.find(op); it != ops.end() && s.count == 1) add_op_args(r, *it->second, args);
        }
        events.push_back({{"name", s.name},
                          {"ph", "X"},
                          {"pid", 1},
                          {"tid", t},
                          {"ts", double(s.start_ps) * 1e-6},
                          {"dur", double(s.end_ps - s.start_ps) * 1e-6},
                          {"args", std::move(args)}});
      }
  }
  // The chip's total, then each channel.
  for (std::size_t b = 0; b < r.hbm_series_bytes.size() && r.hbm_series_bucket_ps; ++b)
    events.push_back({{"name", "total"},
                      {"ph", "C"},
                      {"pid", 2},
                      {"ts", double(b * r.hbm_series_bucket_ps) * 1e-6},
                      {"args", {{"GB/s", double(r.hbm_series_bytes[b]) / (double(r.hbm_series_bucket_ps) * 1e-12) * 1e-9}}}});
  for (std::size_t c = 0; c < r.hbm_channel_series.size(); ++c) {
    const auto& cs = r.hbm_channel_series[c];
    const std::string name = "ch" + std::to_string(c);
    for (std::size_t b = 0; b < cs.bytes.size(); ++b)
      events.push_back({{"name", name},
                        {"ph", "C"},
                        {"pid", 2},
                        {"ts", double(b * cs.bucket_ps) * 1e-6},
                        {"args", {{"GB/s", double(cs.bytes[b]) / (double(cs.bucket_ps) * 1e-12) * 1e-9}}}});
  }
  // Power over time (energy/energy_model.h): a step per op boundary, single-chip runs.
  const RunEnergy energy = run_energy(r);
  if (!energy.power.empty()) {
    events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", 3}, {"args", {{"name", "power (W)"}}}});
    for (const auto& step : energy.power)
      events.push_back({{"name", "power"}, {"ph", "C"}, {"pid", 3}, {"ts", double(step.start_ps) * 1e-6},
                        {"args", {{"W", step.watts}}}});
    events.push_back({{"name", "power"}, {"ph", "C"}, {"pid", 3}, {"ts", double(r.end_ps) * 1e-6},
                      {"args", {{"W", energy.power.back().watts}}}});
  }
  ordered_json j;
  j["traceEvents"] = std::move(events);
  j["displayTimeUnit"] = "ns";
  j["otherData"] = {{"generator", std::string("podsim ") + PODSIM_VERSION},
                    {"workload", r.workload.name},
                    {"hardware", r.hw.name},
                    {"aggregation",
                     "slices of one name on one track closer than merge_gap_us are merged (args.merged_slices); "
                     "bandwidth counters are per time bucket (at most 256 per channel)"},
                    {"merge_gap_us", r.trace ? double(r.trace->merge_gap_ps()) * 1e-6 : 0.0}};
  return j.dump() + "\n";
}

}  // namespace podsim
