// `podsim sweep`: run a design sweep, or merge shard outputs.
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "commands.h"
#include "podsim/config/config_error.h"
#include "podsim/sweep/pareto.h"
#include "podsim/sweep/sweep_runner.h"

namespace podsim::cli {
namespace {

std::string self_path() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, std::size_t(n)) : std::string("podsim");
}

}  // namespace

int sweep_command(const SweepOptions& o) {
  try {
    if (!o.merge.empty()) {
      if (o.out_dir.empty()) {
        fmt::print(stderr, "error: --merge needs --out DIR for the joined results\n");
        return kInputError;
      }
      const auto n = merge_sweeps(o.merge, o.out_dir);
      fmt::print("merged {} points from {} folders into {}\n", n, o.merge.size(), o.out_dir);
      return kOk;
    }
    if (o.file.empty()) {
      fmt::print(stderr, "error: give a sweep file, or --merge DIR...\n");
      return kInputError;
    }
    SweepRunOptions r;
    r.out_dir = o.out_dir.empty() ? std::filesystem::path(o.file).stem().string() + "-results" : o.out_dir;
    r.jobs = o.jobs;
    r.point_timeout_s = o.point_timeout_s;
    r.podsim_binary = self_path();
    if (!o.shard.empty()) {
      std::uint64_t i = 0, n = 0;
      char slash = 0;
      if (std::sscanf(o.shard.c_str(), "%lu%c%lu", &i, &slash, &n) != 3 || slash != '/' || n == 0 || i >= n) {
        fmt::print(stderr, "error: --shard: expected I/N with 0 <= I < N, got '{}'\n", o.shard);
        return kInputError;
      }
      r.shard_index = i;
      r.shard_count = n;
    }
    const SweepSpec spec = load_sweep(o.file);
    std::vector<ParetoObjective> objectives;
    if (!o.pareto.empty()) {
      std::string why;
      if (!parse_pareto_objectives(o.pareto, &objectives, &why)) {
        fmt::print(stderr, "error: --pareto: {}\n", why);
        return kInputError;
      }
      for (const auto& obj : objectives)
        if (std::find(spec.metrics.begin(), spec.metrics.end(), obj.metric) == spec.metrics.end()) {
          fmt::print(stderr, "error: --pareto: '{}' is not among the sweep's metrics ({}); add it to sweep.metrics in {}\n",
                     obj.metric, fmt::join(spec.metrics, ", "), o.file);
          return kInputError;
        }
    }
    const SweepSummary s = run_sweep(spec, r);
    fmt::print("sweep: {} points in this run: {} ran ({} ok, {} failed{}), {} already done, {} skipped by constraints; "
               "results in {}/results.csv\n",
               s.points, s.ran, s.ok, s.failed, s.over_budget ? fmt::format(", {} over budget", s.over_budget) : "",
               s.skipped_done, s.constrained, r.out_dir);
    if (!objectives.empty())
      fmt::print("pareto: {} points on the front of {}; in {}/pareto.csv\n", write_pareto(r.out_dir, objectives), o.pareto,
                 r.out_dir);
    return s.failed > 0 ? 1 : kOk;
  } catch (const ConfigError& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return kInputError;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return kInputError;
  }
}

}  // namespace podsim::cli
