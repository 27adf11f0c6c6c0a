// `podsim selftest memory`: standard access patterns, or a user's trace, against the chip's
// memory model.
#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "podsim/arch/hbm_model.h"
#include "podsim/config/config_error.h"
#include "podsim/config/units.h"
#include "podsim/sim/memory_selftest.h"
#include "podsim/sim/memory_trace.h"

namespace podsim::cli {
namespace {

void print_header(const HardwareSpec& hw) {
  const HbmModel probe(hw.chip.hbm);
  if (const DramDevice* d = probe.device())
    fmt::print("podsim selftest memory: '{}', {} x {} pseudo-channels of {}-bit {} at {:.0f} MT/s\n"
               "  peak = pseudo-channels x bus bytes x data rate = {} x {} B x {:.4g} GT/s = {:.1f} GB/s\n",
               hw.name, hw.chip.hbm.channels, d->pseudo_channels, d->bus_bits, d->name, double(d->data_rate) * 1e-6,
               probe.channel_count(), d->bus_bits / 8, double(d->data_rate) * 1e-9, double(probe.peak_Bps()) * 1e-9);
  else
    fmt::print("podsim selftest memory: '{}', ideal memory: {} channels, peak = {:.1f} GB/s\n", hw.name,
               hw.chip.hbm.channels, double(probe.peak_Bps()) * 1e-9);
}

// The full account of one replayed trace: latency distribution, row outcomes, commands.
void print_details(const MemoryPatternResult& r) {
  fmt::print("\n  {}: {} requests ({} reads, {} writes), {} bytes in {:.3f} us\n", r.name, r.requests, r.reads,
             r.writes, r.bytes, r.elapsed_s * 1e6);
  fmt::print("  latency ns: mean {:.1f}, p50 {:.1f}, p99 {:.1f}, max {:.1f}\n", r.mean_latency_ns, r.p50_latency_ns,
             r.p99_latency_ns, r.max_latency_ns);
  std::uint64_t most = 0;
  for (auto c : r.latency_histogram) most = std::max(most, c);
  for (std::size_t i = 0; i < r.latency_histogram.size(); ++i) {
    if (r.latency_histogram[i] == 0) continue;
    const double lo = i == 0 ? 0.0 : double(1ull << (i - 1)), hi = double(1ull << i);
    fmt::print("    [{:>7.0f}, {:>7.0f}) ns {:>9}  {}\n", lo, hi, r.latency_histogram[i],
               std::string(std::size_t(40.0 * double(r.latency_histogram[i]) / double(std::max<std::uint64_t>(most, 1))), '#'));
  }
  fmt::print("  rows: {} hits, {} misses, {} conflicts; {} reads forwarded from the write queue\n", r.row_hits,
             r.row_misses, r.row_conflicts, r.forwarded_reads);
  if (!r.commands.empty()) {
    fmt::print("  commands:");
    for (const auto& [kind, n] : r.commands) fmt::print(" {} {}", kind, n);
    fmt::print("\n");
  }
  if (!r.bank_acts.empty()) {
    const auto [lo, hi] = std::minmax_element(r.bank_acts.begin(), r.bank_acts.end());
    std::uint64_t sum = 0;
    for (auto a : r.bank_acts) sum += a;
    fmt::print("  ACTs per bank ({} banks): min {}, mean {:.1f}, max {} (all in the JSON report)\n", r.bank_acts.size(),
               *lo, double(sum) / double(r.bank_acts.size()), *hi);
  }
}

// A size option: plain bytes ("4096") or with a unit ("4 KiB"); empty leaves `out` as it
// is. Prints the error and returns false for anything else or a value outside [lo, hi].
bool parse_size_option(const char* option, const std::string& text, std::uint64_t lo, std::uint64_t hi,
                       std::uint64_t* out) {
  if (text.empty()) return true;
  std::string why = "expected a size such as 4096 or '4 KiB'";
  std::optional<ParsedQuantity> q;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) && text.size() <= 18)
    q = ParsedQuantity{std::stoull(text)};
  else
    q = parse_quantity(text, UnitKind::size, &why);
  if (!q) {
    fmt::print(stderr, "error: {}: '{}': {}\n", option, text, why);
    return false;
  }
  if (q->value < lo || q->value > hi) {
    fmt::print(stderr, "error: {}: {} bytes is outside [{}, {}]\n", option, q->value, lo, hi);
    return false;
  }
  *out = q->value;
  return true;
}

// The generator parameters into the options, each checked; false after printing an error.
bool generator_parameters(const SelftestOptions& o, const HardwareSpec& hw, MemorySelftestOptions* opt) {
  const bool any = !o.request_bytes.empty() || !o.footprint.empty() || !o.stride.empty() || o.requests > 0 ||
                   o.write_fraction >= 0 || o.zipf_s >= 0;
  if (any && !o.trace_path.empty()) {
    fmt::print(stderr, "error: --request-bytes, --footprint, --stride, --requests, --write-fraction and --zipf-s "
                       "shape the built-in patterns; a --trace has its own requests\n");
    return false;
  }
  const std::uint64_t capacity = hw.chip.hbm.capacity_bytes;
  if (!parse_size_option("--request-bytes", o.request_bytes, 1, 64ull << 20, &opt->request_bytes) ||
      !parse_size_option("--footprint", o.footprint, std::max<std::uint64_t>(1, opt->request_bytes), capacity,
                         &opt->footprint) ||
      !parse_size_option("--stride", o.stride, 1, capacity, &opt->stride))
    return false;
  // A zipf table is one double per row in memory: at most 2^24 rows (128 MiB).
  const std::uint64_t row = opt->request_bytes ? opt->request_bytes : 256;
  const bool zipf = o.patterns.empty() || std::count(o.patterns.begin(), o.patterns.end(), "zipf_gather_256B");
  if (zipf && opt->footprint / row > (1ull << 24)) {
    fmt::print(stderr, "error: --footprint: a zipf table of {} rows of {} B is more than 2^24 rows; give a smaller "
                       "footprint, larger --request-bytes, or --pattern without zipf_gather_256B\n",
               opt->footprint / row, row);
    return false;
  }
  if (o.requests > 0) opt->random_requests = o.requests;
  opt->write_fraction = o.write_fraction;
  opt->zipf_s = o.zipf_s;
  return true;
}

nlohmann::ordered_json to_json(const MemoryPatternResult& r) {
  nlohmann::ordered_json commands = nlohmann::ordered_json::object();
  for (const auto& [kind, n] : r.commands) commands[kind] = n;
  return {{"name", r.name},
          {"achieved_gbps", r.achieved_gbps},
          {"peak_gbps", r.peak_gbps},
          {"mean_latency_ns", r.mean_latency_ns},
          {"p50_latency_ns", r.p50_latency_ns},
          {"p99_latency_ns", r.p99_latency_ns},
          {"max_latency_ns", r.max_latency_ns},
          {"latency_histogram_log2_ns", r.latency_histogram},
          {"row_hit_rate", r.row_hit_rate},
          {"row_hits", r.row_hits},
          {"row_misses", r.row_misses},
          {"row_conflicts", r.row_conflicts},
          {"forwarded_reads", r.forwarded_reads},
          {"requests", r.requests},
          {"reads", r.reads},
          {"writes", r.writes},
          {"bytes", r.bytes},
          {"elapsed_s", r.elapsed_s},
          {"commands", commands},
          {"bank_acts", r.bank_acts},
          {"timing_violations", r.timing_violations}};
}

}  // namespace

int selftest_command(const SelftestOptions& o) {
  const std::optional<HardwareSpec> loaded = load_hardware_or_report(o.hardware, o.overrides);
  if (!loaded) return kInputError;
  const HardwareSpec& hw = *loaded;
  const auto names = memory_pattern_names();
  for (const auto& p : o.patterns) {
    if (std::find(names.begin(), names.end(), p) == names.end()) {
      fmt::print(stderr, "error: --pattern: unknown pattern '{}'; expected one of {}\n", p, fmt::join(names, ", "));
      return kInputError;
    }
  }
  if (!o.trace_path.empty() && (!o.patterns.empty() || !o.write_trace_path.empty())) {
    fmt::print(stderr, "error: --trace replays a trace; it does not combine with --pattern or --write-trace\n");
    return kInputError;
  }
  if (!o.write_trace_path.empty() && o.patterns.size() != 1) {
    fmt::print(stderr, "error: --write-trace writes the requests of one pattern; give exactly one --pattern\n");
    return kInputError;
  }
  if (o.open_loop && o.trace_path.empty()) {
    fmt::print(stderr, "error: --open-loop replays a trace at its cycles; give --trace FILE\n");
    return kInputError;
  }
  MemorySelftestOptions opt;
  opt.only = o.patterns;
  opt.check_timing = o.check_timing;
  if (o.quick) {
    opt.stream_bytes = 16 << 20;
    opt.random_requests = 20'000;
  }
  if (!generator_parameters(o, hw, &opt)) return kInputError;

  std::vector<MemoryPatternResult> results;
  if (!o.trace_path.empty()) {
    std::vector<MemoryRequest> trace;
    try {
      trace = load_memory_trace(o.trace_path);
    } catch (const ConfigError& e) {
      fmt::print(stderr, "error: {}\n", e.what());
      return kInputError;
    }
    if (o.open_loop && trace.front().cycle < 0) {
      fmt::print(stderr, "error: {}: --open-loop needs an issue CYCLE on every line\n", o.trace_path);
      return kInputError;
    }
    MemoryReplayOptions replay;
    replay.outstanding = o.outstanding;
    replay.open_loop = o.open_loop;
    replay.check_timing = o.check_timing;
    results.push_back(replay_memory_trace(hw, trace, replay, "trace"));
  } else if (!o.write_trace_path.empty()) {
    MemoryReplayOptions replay;
    const auto trace = memory_pattern_trace(hw, o.patterns.front(), opt, &replay.outstanding);
    if (!write_file(o.write_trace_path, format_memory_trace(trace), "the trace")) return kInputError;
    replay.check_timing = o.check_timing;
    results.push_back(replay_memory_trace(hw, trace, replay, o.patterns.front()));
  } else {
    results = run_memory_selftest(hw, opt);
  }

  print_header(hw);
  // The patterns keep their names; say what the generator parameters changed.
  std::vector<std::string> given;
  if (opt.request_bytes) given.push_back(fmt::format("requests of {} B", opt.request_bytes));
  if (opt.footprint) given.push_back(fmt::format("footprint {}", format_quantity(opt.footprint, UnitKind::size)));
  if (opt.stride) given.push_back(fmt::format("stride {}", format_quantity(opt.stride, UnitKind::size)));
  if (o.requests) given.push_back(fmt::format("{} requests", o.requests));
  if (opt.write_fraction >= 0) given.push_back(fmt::format("write fraction {}", opt.write_fraction));
  if (opt.zipf_s >= 0) given.push_back(fmt::format("zipf s = {}", opt.zipf_s));
  if (!given.empty()) fmt::print("  generator: {}\n", fmt::join(given, ", "));
  fmt::print("  {:<18} {:>10} {:>8} {:>12} {:>12} {:>9}\n", "pattern", "GB/s", "% peak", "mean lat ns", "p99 lat ns",
             "row hits");
  std::uint64_t violations = 0;
  for (const auto& r : results) {
    fmt::print("  {:<18} {:>10.1f} {:>8.1f} {:>12.1f} {:>12.1f} {:>8.1f}%", r.name, r.achieved_gbps,
               100 * r.achieved_gbps / r.peak_gbps, r.mean_latency_ns, r.p99_latency_ns, 100 * r.row_hit_rate);
    if (o.check_timing) fmt::print("   {} commands checked, {} violations", r.commands_checked, r.timing_violations);
    fmt::print("\n");
    violations += r.timing_violations;
  }
  if (results.size() == 1) print_details(results.front());

  if (!o.json_path.empty()) {
    const HbmModel probe(hw.chip.hbm);
    nlohmann::ordered_json j;
    j["schema"] = "podsim.selftest.memory/2";
    j["hardware"] = hw.name;
    j["device"] = hw.chip.hbm.device;
    j["peak_formula"] = probe.device() ? "pseudo_channels * bus_bits / 8 * data_rate" : "chip.hbm.bandwidth";
    if (!o.trace_path.empty())
      j["trace"] = {{"file", o.trace_path}, {"mode", o.open_loop ? "open_loop" : "closed_loop"},
                    {"outstanding", o.open_loop ? 0 : o.outstanding}};
    if (!given.empty()) {  // only the parameters given; the rest are the patterns' own
      nlohmann::ordered_json g = nlohmann::ordered_json::object();
      if (opt.request_bytes) g["request_bytes"] = opt.request_bytes;
      if (opt.footprint) g["footprint_bytes"] = opt.footprint;
      if (opt.stride) g["stride_bytes"] = opt.stride;
      if (o.requests) g["requests"] = o.requests;
      if (opt.write_fraction >= 0) g["write_fraction"] = opt.write_fraction;
      if (opt.zipf_s >= 0) g["zipf_s"] = opt.zipf_s;
      j["generator"] = std::move(g);
    }
    nlohmann::ordered_json patterns = nlohmann::ordered_json::array();
    for (const auto& r : results) patterns.push_back(to_json(r));
    j["patterns"] = std::move(patterns);
    if (!write_file(o.json_path, j.dump(2) + "\n", "the JSON report", {o.trace_path})) return kInputError;
  }
  if (violations > 0) {
    fmt::print(stderr, "error: the timing checker found {} violations\n", violations);
    return kSimulationError;
  }
  return kOk;
}

}  // namespace podsim::cli
