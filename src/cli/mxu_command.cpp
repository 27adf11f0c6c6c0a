// `podsim mxu`: one matmul on a bare array, for architects and labs.
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "podsim/sim/mxu_experiment.h"
#include "podsim/sim/pe_waveform.h"

namespace podsim::cli {
namespace {

// The PE model costs about one step per PE per cycle; beyond this it would run for
// minutes. The tile model answers any size at once.
constexpr double kMaxPeSteps = 2e10;
// --frames: bytes per recorded PE entry (PeFrame entry and its JSON text), and the limit.
constexpr double kBytesPerFramePe = 32;  // measured: 8.2 GB for 1000 frames of 512 x 512
constexpr double kMaxFrameBytes = double(2ull << 30);


nlohmann::ordered_json frames_json(const MxuExperimentOptions& o, const PeArrayResult& pe) {
  nlohmann::ordered_json j;
  j["rows"] = o.shape.rows;
  j["cols"] = o.shape.cols;
  j["dataflow"] = dataflow_name(o.shape.dataflow);
  j["legend"] = "each pe: [row, col, input, stationary, partial]; only PEs with an input this cycle";
  nlohmann::ordered_json frames = nlohmann::ordered_json::array();
  for (const PeFrame& f : pe.frames) {
    nlohmann::ordered_json pes = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < f.pes.size(); ++i) {
      const PeState& s = f.pes[i];
      if (!s.has_input) continue;
      pes.push_back({i / o.shape.cols, i % o.shape.cols, s.input, s.stationary, s.partial});
    }
    frames.push_back({{"cycle", f.cycle}, {"pes", std::move(pes)}});
  }
  j["frames"] = std::move(frames);
  return j;
}

}  // namespace

int mxu_command(const MxuOptions& opt) {
  MxuExperimentOptions o;
  o.shape.rows = opt.rows;
  o.shape.cols = opt.cols;
  o.shape.dataflow = opt.dataflow == "os" ? Dataflow::os : opt.dataflow == "is" ? Dataflow::is : Dataflow::ws;
  o.shape.weight_overlap = !opt.no_weight_overlap;
  o.m = opt.m;
  o.k = opt.k;
  o.n = opt.n;
  o.dtype = *parse_dtype(opt.dtype);
  o.pe_model = opt.model == "pe";
  o.seed = opt.seed;
  if (!opt.frames_path.empty()) {
    if (!o.pe_model) {
      fmt::print(stderr, "error: --frames: only the PE model (--model pe) records frames\n");
      return kInputError;
    }
    o.frames = opt.max_frames;
  }
  if (!opt.vcd_path.empty()) {
    if (!o.pe_model) {
      fmt::print(stderr, "error: --vcd: only the PE model (--model pe) has PE states to trace\n");
      return kInputError;
    }
    if (!opt.frames_path.empty()) {
      fmt::print(stderr, "error: --vcd and --frames: choose one (the waveform streams the frames to disk)\n");
      return kInputError;
    }
    if (opt.vcd_path == opt.json_path) {
      fmt::print(stderr, "error: --vcd: {} is also another output of this run; name another file\n", opt.vcd_path);
      return kInputError;
    }
    std::error_code ec;
    const std::filesystem::path parent = std::filesystem::path(opt.vcd_path).parent_path();
    if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
      fmt::print(stderr, "error: --vcd: the folder {} does not exist\n", parent.string());
      return kInputError;
    }
    o.frames = opt.max_frames;
  }
  if (o.pe_model) {
    MxuExperimentOptions probe = o;
    probe.pe_model = false;
    const std::uint64_t cycles = run_mxu_experiment(probe).cycles;
    const double steps = double(cycles) * opt.rows * opt.cols;
    // A frame holds up to one entry per PE (5 numbers in memory, then about as much JSON):
    // 1000 frames of a 512 x 512 array took 8.2 GB. Refuse above 2 GiB, before recording.
    if (!opt.vcd_path.empty()) {
      // A VCD line per changed value: at most about 4 x 25 bytes per PE per cycle.
      const double vcd_bytes = double(std::min<std::uint64_t>(opt.max_frames, cycles)) * opt.rows * opt.cols * 100.0;
      if (vcd_bytes > kMaxFrameBytes) {
        fmt::print(stderr, "error: --vcd: {} cycles of a {}x{} array could write about {:.1f} GB (limit 2 GiB); lower "
                           "--max-frames (now {}) or use a smaller array\n",
                   std::min<std::uint64_t>(opt.max_frames, cycles), opt.rows, opt.cols, vcd_bytes * 1e-9,
                   opt.max_frames);
        return kInputError;
      }
    }
    if (!opt.frames_path.empty()) {
      const double frame_bytes =
          double(std::min<std::uint64_t>(opt.max_frames, cycles)) * opt.rows * opt.cols * kBytesPerFramePe;
      if (frame_bytes > kMaxFrameBytes) {
        fmt::print(stderr, "error: --frames: {} frames of a {}x{} array need about {:.1f} GB (limit 2 GiB); lower "
                           "--max-frames (now {}) or use a smaller array\n",
                   std::min<std::uint64_t>(opt.max_frames, cycles), opt.rows, opt.cols, frame_bytes * 1e-9,
                   opt.max_frames);
        return kInputError;
      }
    }
    if (steps > kMaxPeSteps) {
      fmt::print(stderr, "error: --model pe: {:.3g} PE-steps is too large for the cycle-by-cycle model "
                         "(limit {:.0e}); use --model tile, which gives the same cycle count\n",
                 steps, kMaxPeSteps);
      return kInputError;
    }
  }
  MxuExperimentResult r;
  if (opt.vcd_path.empty()) {
    r = run_mxu_experiment(o);
  } else {
    try {
      r = run_mxu_with_waveform(o, opt.vcd_path);
    } catch (const std::runtime_error& e) {
      fmt::print(stderr, "error: --vcd: {}\n", e.what());
      return kInputError;
    }
  }

  fmt::print("podsim mxu: {}x{} {} array{}, {}x{}x{} {}, {} model\n", opt.rows, opt.cols, opt.dataflow,
             SystolicPipeline(o.shape).overlapped() ? " (weight overlap)" : " (no overlap)",
             opt.m, opt.k, opt.n, opt.dtype, opt.model);
  fmt::print("  cycles                 {}\n", r.cycles);
  fmt::print("  utilization            {:.2f} %\n", 100 * r.utilization);
  fmt::print("  folds                  {}\n", r.folds);
  fmt::print("  SCALE-Sim (no overlap) {} cycles\n", r.scalesim_cycles);
  if (r.has_numerics) {
    fmt::print("  max abs error          {:.3g} vs fp64 on the same operands (bound {:.3g}: (K+2) 2^-24 max sum|a b|)\n",
               r.max_abs_error, r.error_bound);
    fmt::print("  error vs fp32 data     {:.3g} (relative, Frobenius): the cost of {}\n", r.quantization_rel_error,
               opt.dtype);
  }

  if (!opt.json_path.empty()) {
    nlohmann::ordered_json j;
    j["rows"] = opt.rows;
    j["cols"] = opt.cols;
    j["dataflow"] = opt.dataflow;
    j["weight_overlap"] = SystolicPipeline(o.shape).overlapped();
    j["m"] = opt.m;
    j["k"] = opt.k;
    j["n"] = opt.n;
    j["dtype"] = opt.dtype;
    j["model"] = opt.model;
    j["cycles"] = r.cycles;
    j["utilization"] = r.utilization;
    j["folds"] = r.folds;
    j["scalesim_cycles"] = r.scalesim_cycles;
    if (r.has_numerics) {
      j["max_abs_error"] = r.max_abs_error;
      j["error_bound"] = r.error_bound;
      j["quantization_rel_error"] = r.quantization_rel_error;
      j["seed"] = opt.seed;
    }
    if (!write_file(opt.json_path, j.dump(2) + "\n", "the JSON report")) return kInputError;
  }
  if (!opt.frames_path.empty() && !write_file(opt.frames_path, frames_json(o, r.pe).dump() + "\n", "the frames"))
    return kInputError;
  return kOk;
}

}  // namespace podsim::cli
