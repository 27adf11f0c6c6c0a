// podsim._core: the C++ simulator for Python (python/podsim/__init__.py wraps it).
//
// SystemC elaborates once per process, so every simulation runs in a forked child: the
// parent (the Python interpreter) loads and checks the inputs itself, so bad input raises
// at once with its file, line, column and key; the child simulates and hands the JSON
// report, byte for byte what `podsim run --json` writes, back through a pipe. A Python
// session can therefore run any number of simulations.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <spdlog/spdlog.h>

#include "podsim/config/config_error.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/config/workload_loader.h"
#include "podsim/compiler/workload_plan.h"
#include "podsim/mapper/op_search.h"
#include "podsim/report/report.h"
#include "podsim/serving/serve_run.h"
#include "podsim/sim/pod_simulate.h"
#include "podsim/sim/simulate.h"
#include "podsim/sweep/sweep_columns.h"
#include "podsim/workload/parallelism.h"

// libsystemc.so calls sc_main from its own main(); a Python process never runs that main,
// but the symbol must resolve for the library to load.
extern "C" __attribute__((visibility("default"))) int sc_main(int, char**) { return 0; }

namespace py = pybind11;

namespace podsim {
namespace {

// Raised as podsim.InputError (python/podsim/__init__.py gives it its attributes).
struct InputErrorInfo {
  std::string message, file, key_path;
  int line = 0, column = 0;
};

RunResult simulate_any(const HardwareSpec& hw, const WorkloadSpec& wl) {
  SimulateOptions sim;
  if (hw.pod.chips() > 1 || wl.parallelism.given) return simulate_pod(hw, wl, sim, PodSimulateOptions{});
  check_single_stage(wl);  // one chip, one stage
  return simulate(hw, wl, sim);
}

void write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(3);
    done += std::size_t(n);
  }
}

// What `make` returns, computed in a child process (it may elaborate SystemC). Throws
// std::runtime_error when it fails; input errors are raised by the caller before.
template <typename Make>
std::string in_child(Make make) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
    spdlog::set_level(spdlog::level::warn);
    int code = 0;
    std::string out;
    try {
      out = "J" + make();
    } catch (const std::exception& e) {
      out = std::string("E ") + e.what();
      code = 1;
    }
    write_all(fds[1], out);
    ::close(fds[1]);
    _exit(code);  // no Python or C++ teardown in the child
  }
  ::close(fds[1]);
  std::string text;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, std::size_t(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!text.empty() && text[0] == 'J' && WIFEXITED(status) && WEXITSTATUS(status) == 0) return text.substr(1);
  if (!text.empty() && text[0] == 'E') throw std::runtime_error("simulation failed: " + text.substr(2));
  throw std::runtime_error(WIFSIGNALED(status) ? "the simulation process died of signal " +
                                                     std::to_string(WTERMSIG(status))
                                               : "the simulation process failed");
}

// The JSON report of one run, simulated in a child process.
std::string run_json(const HardwareSpec& hw, const WorkloadSpec& wl) {
  return in_child([&] {
    const RunResult r = simulate_any(hw, wl);
    if (!r.completed) throw std::runtime_error("the simulation stopped making progress: " + r.stall_report);
    if (!r.invariants_hold()) {
      std::string why = "an invariant failed:";
      for (const auto& i : r.invariants)
        if (!i.ok) why += " " + i.name + ": " + i.detail + ";";
      throw std::runtime_error(why);
    }
    return report_json(r);
  });
}

HardwareSpec hardware_of(const std::string& hardware, bool is_text, const std::vector<std::string>& set) {
  return is_text ? load_hardware_text(hardware, "<hardware dict>", set) : load_hardware(hardware, set);
}

WorkloadSpec workload_of(const std::string& workload, bool is_text, const std::vector<std::string>& wset) {
  if (!is_text) return load_workload(workload, wset);
  if (!wset.empty()) throw ConfigError({"<workload dict>", 0, 0}, "wset", "edit the workload dict itself; wset takes a file's");
  return load_workload_text(workload, "<workload dict>");
}

// `podsim serve`: the JSON report and the per-request CSV, joined by a record separator.
std::string serve(const std::string& serve_file, const std::string& hardware, bool hardware_is_text,
                  const std::vector<std::string>& set, const std::vector<std::string>& sset, unsigned jobs) {
  py::gil_scoped_release unlocked;
  const PreparedServe prepared = prepare_serve(serve_file, hardware_of(hardware, hardware_is_text, set), sset);
  return in_child([&] {
    const ServeOutcome outcome = run_serve(prepared, jobs);
    return serve_json(outcome.report(prepared)) + "\x1e" + serve_requests_csv(outcome.timeline);
  });
}

// `podsim map`: the JSON mapping report.
std::string map(const std::string& hardware, bool hardware_is_text, const std::string& workload, bool workload_is_text,
                const std::vector<std::string>& set, const std::vector<std::string>& wset, unsigned top_k,
                unsigned jobs) {
  py::gil_scoped_release unlocked;
  const HardwareSpec hw = hardware_of(hardware, hardware_is_text, set);
  const WorkloadSpec wl = workload_of(workload, workload_is_text, wset);
  plan_workload(without_collectives(expand_workload(wl)), hw);  // input errors here, in the caller's process
  return in_child([&] { return map_json(search_mappings(hw, wl, top_k, jobs)); });
}

// hardware: a preset name or a YAML file, or YAML/JSON text (`hardware_is_text`);
// workload likewise. The overrides are the CLI's --set and --wset.
std::string run(const std::string& hardware, bool hardware_is_text, const std::string& workload,
                bool workload_is_text, const std::vector<std::string>& set, const std::vector<std::string>& wset) {
  HardwareSpec hw;
  WorkloadSpec wl;
  {
    py::gil_scoped_release unlocked;  // loading and simulating need no Python
    hw = hardware_of(hardware, hardware_is_text, set);
    wl = workload_of(workload, workload_is_text, wset);
    // Input errors found while planning (a tile that does not fit) raise here, as InputError,
    // not in the child; a pod plans its chips' shards itself.
    if (hw.pod.chips() <= 1 && !wl.parallelism.given) plan_workload(without_collectives(expand_workload(wl)), hw);
    return run_json(hw, wl);
  }
}

}  // namespace
}  // namespace podsim

PYBIND11_MODULE(_core, m) {
  m.doc() = "podsim's C++ simulator (use the podsim package, not this module)";
  static py::exception<podsim::ConfigError> input_error(m, "ConfigError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const podsim::ConfigError& e) {
      // (message, file, line, column, key path): podsim.InputError unpacks them.
      py::tuple args = py::make_tuple(std::string(e.what()), e.where().file, e.where().line, e.where().column,
                                      e.key_path());
      PyErr_SetObject(input_error.ptr(), args.ptr());
    }
  });
  m.def("run", &podsim::run, py::arg("hardware"), py::arg("hardware_is_text"), py::arg("workload"),
        py::arg("workload_is_text"), py::arg("set"), py::arg("wset"),
        "Simulates one run in a child process; returns the JSON report text (as podsim run --json writes it).");
  m.def("serve", &podsim::serve, py::arg("serve_file"), py::arg("hardware"), py::arg("hardware_is_text"),
        py::arg("set"), py::arg("sset"), py::arg("jobs"),
        "Runs podsim serve in a child process; returns the JSON report and the request CSV, joined by \\x1e.");
  m.def("map", &podsim::map, py::arg("hardware"), py::arg("hardware_is_text"), py::arg("workload"),
        py::arg("workload_is_text"), py::arg("set"), py::arg("wset"), py::arg("top_k"), py::arg("jobs"),
        "Runs podsim map in a child process; returns the JSON mapping report.");
  m.def(
      "param_column",
      [](const std::string& path, const std::string& value) {
        return py::make_tuple(podsim::sweep_param_header(path), podsim::sweep_param_cell(path, value));
      },
      py::arg("path"), py::arg("value"),
      "A swept value as results.csv writes it: (header, cell); a hardware quantity is a number in its SI "
      "unit with the unit in the header.");
  m.def("version", [] { return std::string(PODSIM_VERSION); });
}
