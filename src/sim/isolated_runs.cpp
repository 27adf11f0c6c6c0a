#include "podsim/sim/isolated_runs.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "podsim/io/child_process.h"

namespace podsim {
namespace {

using nlohmann::json;

// What a child hands back: enough of its RunResult for the composition.
json summary_of(const RunResult& r) {
  json j;
  j["completed"] = r.completed;
  j["invariants_ok"] = r.invariants_hold();
  std::string failed;
  for (const auto& i : r.invariants)
    if (!i.ok) failed += i.name + ": " + i.detail + "; ";
  j["failed"] = failed + (r.completed ? "" : r.stall_report);
  j["hbm_peak_Bps"] = r.hbm_peak_Bps;
  j["end_ps"] = r.end_ps;
  json ops = json::array();
  for (const OpResult& o : r.ops)
    ops.push_back({o.name, o.start_ps, o.end_ps, o.macs, o.hbm_read_bytes, o.hbm_write_bytes, o.padded_macs,
                   o.mxu_active_cycles, o.dtype, o.vpu_busy_cycles, o.onchip_bytes, o.dram_acts, o.dram_refreshes,
                   o.dram_bank_refreshes});  // from dtype on: energy
  j["ops"] = std::move(ops);
  return j;
}

RunResult result_of(const json& j, const HardwareSpec& hw) {
  RunResult r;
  r.hw = hw;
  r.completed = j["completed"].get<bool>();
  r.invariants.push_back({"chip_invariants", j["invariants_ok"].get<bool>(), j["failed"].get<std::string>()});
  r.hbm_peak_Bps = j["hbm_peak_Bps"].get<std::uint64_t>();
  r.end_ps = j["end_ps"].get<std::uint64_t>();
  for (const auto& o : j["ops"]) {
    OpResult op;
    op.name = o[0].get<std::string>();
    op.start_ps = o[1].get<std::uint64_t>();
    op.end_ps = o[2].get<std::uint64_t>();
    op.macs = o[3].get<std::uint64_t>();
    op.hbm_read_bytes = o[4].get<std::uint64_t>();
    op.hbm_write_bytes = o[5].get<std::uint64_t>();
    op.padded_macs = o[6].get<std::uint64_t>();
    op.mxu_active_cycles = o[7].get<std::uint64_t>();
    op.dtype = o[8].get<std::string>();
    op.vpu_busy_cycles = o[9].get<std::uint64_t>();
    op.onchip_bytes = o[10].get<std::uint64_t>();
    op.dram_acts = o[11].get<std::uint64_t>();
    op.dram_refreshes = o[12].get<std::uint64_t>();
    op.dram_bank_refreshes = o[13].get<std::uint64_t>();
    r.macs += op.macs;
    r.ops.push_back(std::move(op));
  }
  return r;
}

}  // namespace

std::vector<RunResult> simulate_in_children(const HardwareSpec& hw, const std::vector<WorkloadSpec>& programs,
                                            const SimulateOptions& options, unsigned jobs, std::size_t first) {
  return simulate_in_children(hw, programs, std::vector<SimulateOptions>(programs.size(), options), jobs, first);
}

std::vector<RunResult> simulate_in_children(const HardwareSpec& hw, const std::vector<WorkloadSpec>& programs,
                                            const std::vector<SimulateOptions>& options, unsigned jobs,
                                            std::size_t first, std::vector<std::string>* errors) {
  std::vector<RunResult> out(programs.size());
  if (errors) errors->assign(programs.size(), "");
  jobs = std::max(1u, jobs);
  struct Child {
    pid_t pid;
    std::size_t program;
    std::string path;
  };
  std::vector<Child> running;
  std::string failure;
  auto reap_one = [&]() {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    for (std::size_t k = 0; k < running.size(); ++k) {
      if (running[k].pid != pid) continue;
      const Child c = running[k];
      running.erase(running.begin() + std::ptrdiff_t(k));
      std::ifstream in(c.path);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !in) {
        const std::string why = WIFEXITED(status) && WEXITSTATUS(status) == 5 ? read_text_file(c.path, 2000) : "";
        const std::string message = fmt::format("the simulation of chip program {} failed ({})", c.program,
                                                why.empty() ? fmt::format("exit status {}", status) : why);
        if (errors) (*errors)[c.program] = why.empty() ? message : why;
        else if (failure.empty()) failure = message;
      } else {
        out[c.program] = result_of(json::parse(in), hw);
      }
      std::remove(c.path.c_str());
      return;
    }
  };
  std::fflush(nullptr);  // nothing buffered is written twice
  for (std::size_t p = first; p < programs.size(); ++p) {
    while (running.size() >= jobs) reap_one();
    char path[] = "/tmp/podsim-chip-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) throw std::runtime_error("cannot create a temporary file for a chip simulation");
    close(fd);
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("cannot fork a chip simulation");
    if (pid == 0) {  // the child: one elaboration of its own, then out without destructors
      int code = 0;
      try {
        SimulateOptions alone = options[p];
        alone.trace = false;  // only chip 0's program is traced
        const RunResult r = simulate(hw, programs[p], alone);
        std::ofstream f(path, std::ios::trunc);
        f << summary_of(r).dump();
        code = f ? 0 : 4;
      } catch (const std::exception& e) {  // the parent names it
        std::ofstream(path, std::ios::trunc) << e.what();
        code = 5;
      } catch (...) {
        code = 5;
      }
      _exit(code);
    }
    running.push_back({pid, p, path});
  }
  while (!running.empty()) reap_one();
  if (!failure.empty()) throw std::runtime_error(failure);
  return out;
}

std::vector<RunResult> simulate_isolated(const HardwareSpec& hw, const std::vector<WorkloadSpec>& programs,
                                         const SimulateOptions& options, unsigned jobs) {
  if (programs.empty()) return {};
  std::vector<RunResult> out = simulate_in_children(hw, programs, options, jobs, 1);
  out[0] = simulate(hw, programs[0], options);
  return out;
}

}  // namespace podsim
