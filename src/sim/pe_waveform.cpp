#include "podsim/sim/pe_waveform.h"

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <fmt/format.h>
#include <systemc>

namespace podsim {
namespace {

// One signal per PE and field, traced; a thread runs the PE model and, for each cycle it
// reports, writes the signals and waits a nanosecond, so the trace file samples them.
class PeWaveform : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(PeWaveform);
  PeWaveform(sc_core::sc_module_name name, MxuExperimentOptions options, sc_core::sc_trace_file* trace)
      : sc_module(name), options_(std::move(options)) {
    const std::uint32_t R = options_.shape.rows, C = options_.shape.cols;
    for (std::uint32_t r = 0; r < R; ++r)
      for (std::uint32_t c = 0; c < C; ++c) {
        const std::string pe = fmt::format("pe_{}_{}", r, c);
        valid_.push_back(std::make_unique<sc_core::sc_signal<bool>>((pe + "_valid").c_str()));
        input_.push_back(std::make_unique<sc_core::sc_signal<double>>((pe + "_input").c_str()));
        stationary_.push_back(std::make_unique<sc_core::sc_signal<double>>((pe + "_stationary").c_str()));
        partial_.push_back(std::make_unique<sc_core::sc_signal<double>>((pe + "_partial").c_str()));
        sc_core::sc_trace(trace, *valid_.back(), pe + ".valid");
        sc_core::sc_trace(trace, *input_.back(), pe + ".input");
        sc_core::sc_trace(trace, *stationary_.back(), pe + ".stationary");
        sc_core::sc_trace(trace, *partial_.back(), pe + ".partial");
      }
    SC_THREAD(run);
  }
  MxuExperimentResult result;

 private:
  void run() {
    options_.sink = [this](const PeFrame& f) {
      for (std::size_t i = 0; i < f.pes.size() && i < valid_.size(); ++i) {
        valid_[i]->write(f.pes[i].has_input);
        input_[i]->write(f.pes[i].input);
        stationary_[i]->write(f.pes[i].stationary);
        partial_[i]->write(f.pes[i].partial);
      }
      wait(1, sc_core::SC_NS);  // one array cycle per time step
    };
    result = run_mxu_experiment(options_);
  }

  MxuExperimentOptions options_;
  std::vector<std::unique_ptr<sc_core::sc_signal<bool>>> valid_;
  std::vector<std::unique_ptr<sc_core::sc_signal<double>>> input_, stationary_, partial_;
};

}  // namespace

MxuExperimentResult run_mxu_with_waveform(MxuExperimentOptions o, const std::string& path) {
  if (!o.pe_model) throw std::logic_error("run_mxu_with_waveform: the PE model only");
  namespace fs = std::filesystem;
  // SystemC names the file <base>.vcd: trace to a temporary base beside the target.
  const std::string base = fmt::format("{}.tmp-{}", path, getpid());
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);  // no banner about the time unit
  sc_core::sc_trace_file* trace = sc_core::sc_create_vcd_trace_file(base.c_str());
  if (!trace) throw std::runtime_error(fmt::format("cannot write the waveform {}", path));
  trace->set_time_unit(1, sc_core::SC_NS);
  auto wave = std::make_unique<PeWaveform>("mxu", o, trace);
  sc_core::sc_start();
  sc_core::sc_close_vcd_trace_file(trace);
  std::error_code ec;
  fs::rename(base + ".vcd", path, ec);
  if (ec) {
    fs::remove(base + ".vcd", ec);
    throw std::runtime_error(fmt::format("cannot write the waveform {}", path));
  }
  return wave->result;
}

}  // namespace podsim
