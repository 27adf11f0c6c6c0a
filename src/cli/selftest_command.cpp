// `podsim selftest memory`: standard access patterns against the chip's memory model.
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "podsim/arch/hbm_model.h"
#include "podsim/sim/memory_selftest.h"

namespace podsim::cli {

int selftest_command(const SelftestOptions& o) {
  const std::optional<HardwareSpec> loaded = load_hardware_or_report(o.hardware, o.overrides);
  if (!loaded) return kInputError;
  const HardwareSpec& hw = *loaded;
  for (const auto& p : o.patterns) {
    const auto names = memory_pattern_names();
    if (std::find(names.begin(), names.end(), p) == names.end()) {
      fmt::print(stderr, "error: --pattern: unknown pattern '{}'; expected one of {}\n", p, fmt::join(names, ", "));
      return kInputError;
    }
  }
  MemorySelftestOptions opt;
  opt.only = o.patterns;
  opt.check_timing = o.check_timing;
  if (o.quick) {
    opt.stream_bytes = 16 << 20;
    opt.random_requests = 20'000;
  }
  const auto results = run_memory_selftest(hw, opt);

  const HbmModel probe(hw.chip.hbm);
  if (const DramDevice* d = probe.device())
    fmt::print("podsim selftest memory: '{}', {} x {} pseudo-channels of {}-bit {} at {:.0f} MT/s\n"
               "  peak = pseudo-channels x bus bytes x data rate = {} x {} B x {:.4g} GT/s = {:.1f} GB/s\n",
               hw.name, hw.chip.hbm.channels, d->pseudo_channels, d->bus_bits, d->name, double(d->data_rate) * 1e-6,
               probe.channel_count(), d->bus_bits / 8, double(d->data_rate) * 1e-9, double(probe.peak_Bps()) * 1e-9);
  else
    fmt::print("podsim selftest memory: '{}', ideal memory: {} channels, peak = {:.1f} GB/s\n", hw.name,
               hw.chip.hbm.channels, double(probe.peak_Bps()) * 1e-9);
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

  if (!o.json_path.empty()) {
    nlohmann::ordered_json j;
    j["schema"] = "podsim.selftest.memory/1";
    j["hardware"] = hw.name;
    j["device"] = hw.chip.hbm.device;
    j["peak_formula"] = probe.device() ? "pseudo_channels * bus_bits / 8 * data_rate" : "chip.hbm.bandwidth";
    nlohmann::ordered_json patterns = nlohmann::ordered_json::array();
    for (const auto& r : results)
      patterns.push_back({{"name", r.name},
                          {"achieved_gbps", r.achieved_gbps},
                          {"peak_gbps", r.peak_gbps},
                          {"mean_latency_ns", r.mean_latency_ns},
                          {"p99_latency_ns", r.p99_latency_ns},
                          {"row_hit_rate", r.row_hit_rate},
                          {"requests", r.requests},
                          {"bytes", r.bytes},
                          {"timing_violations", r.timing_violations}});
    j["patterns"] = std::move(patterns);
    std::ofstream out(o.json_path, std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out) {
      fmt::print(stderr, "error: {}: cannot write\n", o.json_path);
      return kInputError;
    }
  }
  if (violations > 0) {
    fmt::print(stderr, "error: the timing checker found {} violations\n", violations);
    return kSimulationError;
  }
  return kOk;
}

}  // namespace podsim::cli
