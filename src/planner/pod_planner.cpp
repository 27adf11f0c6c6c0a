#include "podsim/planner/pod_planner.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <set>

#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "podsim/compiler/workload_plan.h"
#include "podsim/config/config_error.h"
#include "podsim/planner/step_composer.h"
#include "podsim/sim/collective_contention.h"
#include "podsim/sim/collective_experiment.h"
#include "podsim/sim/isolated_runs.h"
#include "podsim/sim/pod_schedule.h"
#include "podsim/sim/pod_simulate.h"
#include "podsim/sim/simulate.h"
#include "podsim/workload/composite.h"
#include "podsim/workload/parallelism.h"

namespace podsim {

WorkloadSpec with_plan(const WorkloadSpec& workload, const PlanCandidate& c) {
  WorkloadSpec w = workload;
  ParallelismSpec& p = w.parallelism;
  p.given = true;
  p.data = c.data;
  p.tensor = c.tensor;
  p.pipeline = c.pipeline;
  p.microbatches = c.microbatches;
  p.one_f_one_b = c.one_f_one_b;
  p.expert = c.expert;
  if (c.bucket_bytes) p.gradient_bucket_bytes = c.bucket_bytes;
  p.zero = c.zero;
  w.training.recompute = c.recompute;
  for (Op& op : w.ops)
    if (auto* t = std::get_if<TemplateOp>(&op.body)) t->batch = c.micro_batch;
  return w;
}

namespace {

std::vector<std::uint64_t> divisors(std::uint64_t n, std::uint64_t limit) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t d = 1; d <= n && d <= limit; ++d)
    if (n % d == 0) out.push_back(d);
  return out;
}

// What a (tensor, pipeline, microbatch size, recompute, expert) choice gives, whatever the
// microbatch count and schedule.
struct LayoutInfo {
  std::string error;  // cannot be laid out, or a program does not fit the chip
  std::vector<StageInfo> stages;
  std::vector<TrainingFootprint> footprint;  // per stage, one microbatch's activations
};

class Planner {
 public:
  Planner(const HardwareSpec& hw, const WorkloadSpec& w, const PlanOptions& o) : hw_(hw), w_(w), o_(o) {}

  PlanResult run() {
    check_workload();
    PlanResult r;
    r.workload = w_.name;
    r.hardware = hw_.name;
    r.chips = chips_;
    r.dims = hw_.pod.dims;
    r.global_batch = global_batch_;
    r.hbm_capacity = hw_.chip.hbm.capacity_bytes;
    std::vector<PlanCandidate> fit;
    for (PlanCandidate& c : enumerate()) {
      ++r.candidates;
      check_memory(c);
      (c.rejected.empty() ? fit : r.rejected).push_back(std::move(c));
    }
    std::stable_sort(fit.begin(), fit.end(),
                     [](const PlanCandidate& a, const PlanCandidate& b) { return a.lower_bound_s < b.lower_bound_s; });
    branch_and_bound(fit, r);
    r.programs_simulated = programs_simulated_;
    r.collectives_modelled = composer_.collectives_modelled();
    rank_as_written(fit, r);
    return r;
  }

 private:
  // -- the space ---------------------------------------------------------------------
  void check_workload() {
    if (!w_.training.enabled)
      throw ConfigError(w_.parallelism.where, "workload.training",
                        "podsim plan plans a training step: give the workload a `training:` mapping");
    heads_gcd_ = 0;
    layers_ = 0;
    for (const Op& op : w_.ops) {
      const auto* t = std::get_if<TemplateOp>(&op.body);
      if (!t)
        throw ConfigError(op.where, "workload.ops",
                          fmt::format("podsim plan rescales the batch of template ops; op '{}' is a {}, not a template",
                                      op.name, op.kind()));
      if (batch_ == 0) batch_ = t->batch;
      if (t->batch != batch_)
        throw ConfigError(op.where, "workload.ops.batch",
                          fmt::format("podsim plan needs one batch for every template; op '{}' has {}, an earlier one {}",
                                      op.name, t->batch, batch_));
      if (t->heads) heads_gcd_ = std::gcd(heads_gcd_, t->heads);
      layers_ += std::max<std::uint64_t>(1, t->layers);
    }
    if (w_.ops.empty()) throw ConfigError(w_.parallelism.where, "workload.ops", "podsim plan needs at least one op");
    chips_ = std::uint32_t(hw_.pod.chips());
    const PodLayout written = resolve_layout(w_.parallelism, chips_);
    global_batch_ = o_.global_batch ? o_.global_batch : batch_ * written.microbatches * written.data;
    written_ = written;
    written_.one_f_one_b = w_.parallelism.one_f_one_b;
    for (const Op& op : expand_templates(w_).ops) has_moe_ = has_moe_ || std::holds_alternative<MoeOp>(op.body);
  }

  std::vector<PlanCandidate> enumerate() const {
    std::vector<PlanCandidate> out;
    for (std::uint64_t t : divisors(chips_, o_.max_tensor)) {
      if (t > 1 && heads_gcd_ % t != 0) continue;  // attention splits by heads
      for (std::uint64_t p : divisors(chips_ / t, layers_)) {
        const std::uint64_t d = chips_ / (t * p);
        if (global_batch_ % d != 0) continue;
        for (std::uint64_t m : divisors(global_batch_ / d, o_.max_microbatches)) {
          for (int sched = 0; sched < (p > 1 ? 2 : 1); ++sched)
            for (int rc = 0; rc < 2; ++rc)
              for (int ex = 0; ex < (has_moe_ && d > 1 ? 2 : 1); ++ex)
                for (std::uint32_t zero : {0u, 2u, 3u}) {
                if (zero && d == 1) continue;  // nothing to shard over
                PlanCandidate c;
                c.zero = zero;
                c.data = std::uint32_t(d);
                c.tensor = std::uint32_t(t);
                c.pipeline = std::uint32_t(p);
                c.microbatches = std::uint32_t(m);
                c.micro_batch = global_batch_ / (d * m);
                c.one_f_one_b = sched == 1;
                c.recompute = rc == 1;
                c.expert = ex == 1;
                c.bucket_bytes = w_.parallelism.gradient_bucket_bytes;
                c.as_written = t == written_.tensor && p == written_.pipeline && d == written_.data &&
                               m == written_.microbatches && c.micro_batch == batch_ &&
                               (p == 1 || c.one_f_one_b == written_.one_f_one_b) &&
                               c.recompute == w_.training.recompute && c.expert == w_.parallelism.expert &&
                               (d == 1 || c.zero == w_.parallelism.zero);
                out.push_back(c);
              }
        }
      }
    }
    return out;
  }

  // -- memory and the lower bound -------------------------------------------------------
  const LayoutInfo& layout_info(const PlanCandidate& c) {
    const std::string key = fmt::format("{}:{}:{}:{}:{}:{}:{}", c.tensor, c.pipeline, c.data, c.micro_batch,
                                        int(c.recompute), int(c.expert), c.zero);
    auto it = layouts_.find(key);
    if (it != layouts_.end()) return it->second;
    LayoutInfo info;
    try {
      const WorkloadSpec w = with_plan(w_, c);
      const PodLayout L = layout_of(c);
      // Templates expanded and sharded once per (tensor, microbatch size): the layouts
      // differ from there on only in how the ops are staged and trained.
      const std::string flat_key = fmt::format("{}:{}", c.tensor, c.micro_batch);
      auto flat = sharded_.find(flat_key);
      if (flat == sharded_.end()) flat = sharded_.emplace(flat_key, sharded_program(w, c.tensor)).first;
      const ChipPrograms progs = chip_programs(w, L, &flat->second);
      for (std::uint32_t s = 0; s < c.pipeline; ++s) {
        // Expert placement gives each data rank its own program; rank 0's stands for them
        // (their shapes differ only when routing is skewed).
        const WorkloadSpec& prog = progs.programs[progs.program_of[L.chip(s, 0, 0)]];
        StageInfo st;
        auto program = std::make_shared<StageProgram>();
        program->expanded = expand_workload(prog);
        st.sim_key = program_shape_key(program->expanded);
        st.boundary_bytes = progs.boundary_bytes[s];
        const WorkloadSpec chip = without_collectives(program->expanded);
        st.macs = chip.total_macs();
        for (const Op& op : chip.ops)
          program->op_keys.push_back(SimulatedOps::key(op));
        // Equal shapes, and equal training settings the composition reads (ZeRO's).
        const TrainingSpec& t = program->expanded.training;
        const std::string shared = fmt::format("{}|{}|{}|{}", st.sim_key, t.state_shards, t.gradient_shards, t.shard_weights);
        st.program = stage_programs_.emplace(shared, std::move(program)).first->second;
        if (!lowered_.count(st.sim_key)) {
          // ConfigError when an op does not fit the chip. Each distinct op once: a stage
          // of GPT-3 repeats its layer's ops a dozen times.
          WorkloadSpec distinct = chip;
          distinct.ops.clear();
          std::set<std::string> fresh;
          for (std::size_t i = 0; i < chip.ops.size(); ++i)
            if (!lowering_checked_.count(st.op_keys()[i]) && fresh.insert(st.op_keys()[i]).second)
              distinct.ops.push_back(chip.ops[i]);
          if (!distinct.ops.empty()) plan_workload(distinct, hw_);
          lowering_checked_.insert(fresh.begin(), fresh.end());
          lowered_.emplace(st.sim_key, chip);
          program_.emplace(st.sim_key, prog);
        }
        info.footprint.push_back(training_footprint(expand_composites(prog)));
        info.stages.push_back(std::move(st));
      }
    } catch (const ConfigError& e) {
      info.error = fmt::format("{}: {}", e.key_path(), e.problem());
    }
    return layouts_.emplace(key, std::move(info)).first->second;
  }

  PodLayout layout_of(const PlanCandidate& c) const {
    PodLayout L;
    L.chips = chips_;
    L.data = c.data;
    L.tensor = c.tensor;
    L.pipeline = c.pipeline;
    L.microbatches = c.microbatches;
    L.one_f_one_b = c.one_f_one_b;
    L.expert = c.expert;
    return L;
  }

  void check_memory(PlanCandidate& c) {
    const LayoutInfo& info = layout_info(c);
    if (!info.error.empty()) {
      c.rejected = info.error;
      return;
    }
    // The fullest chip (sim/pod_simulate.cpp, held_at_peak).
    bool first = true;
    const PodLayout L = layout_of(c);
    for (std::uint32_t s = 0; s < c.pipeline; ++s) {
      TrainingFootprint f = info.footprint[s];
      f.microbatches_in_flight = L.microbatches_in_flight(s);
      f.stashed_activation_bytes *= f.microbatches_in_flight;
      if (first || f.peak_bytes() > c.memory.peak_bytes()) c.memory = f;
      first = false;
    }
    const std::uint64_t cap = hw_.chip.hbm.capacity_bytes;
    if (c.memory.peak_bytes() > cap)
      c.rejected = fmt::format("does not fit: {:.1f} GiB per chip of {:.1f} GiB HBM", double(c.memory.peak_bytes()) / (1ULL << 30),
                               double(cap) / (1ULL << 30));
    // No faster than every MAC at the MXUs' peak (the fastest dtype's), with the bubble.
    const double macs_per_s = hw_.peak_flops() / 2 * fastest_rate();
    std::uint64_t sum = 0, most = 0;
    for (const StageInfo& st : info.stages) {
      sum += st.macs;
      most = std::max(most, st.macs);
    }
    // And the first stage's optimizer update, which runs after its last backward: it reads
    // and writes every master weight and optimizer moment, from HBM beyond what on-chip
    // memory could hold.
    const TrainingFootprint& f0 = info.footprint[0];
    const double onchip = double(hw_.chip.vmem_bytes) * hw_.chip.tensor_cores;
    const double update_bytes = std::max(0.0, 2.0 * double(f0.weights_bytes + f0.optimizer_state_bytes) - onchip);
    c.lower_bound_s = (double(sum) + double(c.microbatches - 1) * double(most)) / macs_per_s +
                      update_bytes / double(hw_.chip.hbm.bandwidth_Bps);
  }

  double fastest_rate() const {
    return std::max({1u, hw_.chip.mxu.rate_int8, hw_.chip.mxu.rate_fp8});
  }

  // -- estimates -------------------------------------------------------------------------
  void branch_and_bound(std::vector<PlanCandidate>& fit, PlanResult& r) {
    const std::size_t top = std::max<std::size_t>(1, o_.top);
    std::vector<PlanCandidate> best;
    auto cutoff = [&] { return best.size() < top ? HUGE_VAL : best[top - 1].step_s; };
    std::size_t i = 0, estimated = 0;
    while (i < fit.size() && fit[i].lower_bound_s < cutoff()) {
      // The next candidates whose programs are not simulated yet, kProgramsPerRound at once
      // (run `jobs` at a time). A fixed round, not `jobs`: the cutoff is checked between
      // rounds, so rounds of `jobs` programs simulated more programs with more jobs (GPT-3 on
      // 256 chips: 56 with -j 1, 59 with -j 2) and the report changed with -j.
      std::vector<std::string> keys;
      std::size_t j = i;
      for (; j < fit.size() && fit[j].lower_bound_s < cutoff(); ++j) {
        std::vector<std::string> missing;
        for (const StageInfo& st : layout_info(fit[j]).stages)
          if (const std::string k = needed_program(st); !k.empty() && !failed_.count(k) &&
              std::find(keys.begin(), keys.end(), k) == keys.end() && std::find(missing.begin(), missing.end(), k) == missing.end())
            missing.push_back(k);
        if (!keys.empty() && keys.size() + missing.size() > kProgramsPerRound) break;
        keys.insert(keys.end(), missing.begin(), missing.end());
      }
      simulate(keys);
      for (; i < j; ++i) {
        if (fit[i].lower_bound_s >= cutoff()) continue;
        if (const std::string why = simulation_failure(fit[i]); !why.empty()) {
          fit[i].rejected = why;
          r.rejected.push_back(fit[i]);
          continue;
        }
        estimate(fit[i]);
        ++estimated;
        best.push_back(fit[i]);
        std::stable_sort(best.begin(), best.end(), better);
        if (best.size() > top) best.pop_back();
      }
    }
    r.pruned = fit.size() - i;
    r.estimated_count = estimated;
    // Every candidate estimated beats (or ties) every pruned one; the rest are not listed.
    r.estimated = std::move(best);
  }

  std::string simulation_failure(const PlanCandidate& c) {
    for (const StageInfo& st : layout_info(c).stages)
      for (const std::string& k : {st.sim_key, kUpdatesOnly + st.sim_key, kKnownUpdatesLeftOut + st.sim_key})
        if (auto it = failed_.find(k); it != failed_.end()) return it->second;
    return "";
  }

  static bool better(const PlanCandidate& a, const PlanCandidate& b) {
    if (a.step_s != b.step_s) return a.step_s < b.step_s;
    return a.memory.peak_bytes() < b.memory.peak_bytes();
  }

  // What to simulate for a stage whose ops lack durations. An op's duration is taken from
  // any program that ran an op of the same kind, shape, repeat and pass: the chip model
  // itself replays such an op instead of simulating it again (arch/chip.h), so only the
  // boundary between programs differs (tests bound the effect). Its whole program, or, when only
  // its optimizer updates are new (a ZeRO layout whose unsharded twin ran: the same forward
  // and backward ops, each update over 1/data of the weights), a program of just those
  // updates. Empty when covered. The updates run alone rather than after the backward
  // pass; they are streaming vector ops whose time does not depend on what ran before.
  // A whole program leaves out the updates an earlier program ran (the same tensor degree
  // and sharding: every microbatch size has the same updates). They come last in a
  // stage's program, so the ops before them run exactly as with them; and a duration
  // already known is never replaced: the plan is the same, byte for byte, without
  // simulating them again (GPT-3's Adam updates are two thirds of a stage's simulation).
  static inline const std::string kUpdatesOnly = "updates:";
  static inline const std::string kKnownUpdatesLeftOut = "without known updates:";
  static constexpr std::size_t kProgramsPerRound = 4;
  std::string needed_program(const StageInfo& st) {
    const WorkloadSpec& chip = lowered_.at(st.sim_key);
    WorkloadSpec updates = chip;
    updates.ops.clear();
    bool other = false;
    std::set<std::string> seen, known_updates;
    for (std::size_t i = 0; i < chip.ops.size(); ++i) {
      const bool update = chip.ops[i].pass == Op::Pass::update;
      if (simulated_.seconds.count(st.op_keys()[i])) {
        if (update) known_updates.insert(st.op_keys()[i]);
        continue;
      }
      if (!update) other = true;
      else if (seen.insert(st.op_keys()[i]).second) updates.ops.push_back(chip.ops[i]);
    }
    if (other) {
      if (known_updates.empty()) return st.sim_key;
      // Rebuilt on every call: more updates may be known than when it was last asked for.
      const std::string key = kKnownUpdatesLeftOut + st.sim_key;
      WorkloadSpec kept = chip;
      kept.ops.clear();
      for (std::size_t i = 0; i < chip.ops.size(); ++i)
        if (!(chip.ops[i].pass == Op::Pass::update && known_updates.count(st.op_keys()[i]))) kept.ops.push_back(chip.ops[i]);
      lowered_.insert_or_assign(key, std::move(kept));
      program_.insert_or_assign(key, program_.at(st.sim_key));
      left_out_.insert_or_assign(key, std::move(known_updates));
      return key;
    }
    if (updates.ops.empty()) return "";
    const std::string key = kUpdatesOnly + st.sim_key;
    if (!lowered_.count(key)) {
      updates.training = TrainingSpec{};  // the ops are expanded already: nothing to add
      updates.parallelism = ParallelismSpec{};
      lowered_.emplace(key, updates);
      program_.emplace(key, updates);
    }
    return key;
  }

  void simulate(const std::vector<std::string>& keys) {
    if (keys.empty()) return;
    std::vector<WorkloadSpec> programs;
    std::vector<SimulateOptions> options(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      programs.push_back(program_.at(keys[i]));  // simulate() expands it
      if (auto it = left_out_.find(keys[i]); it != left_out_.end()) {
        const std::set<std::string> known = it->second;  // the updates to leave out
        options[i].before_planning = [known](WorkloadSpec& expanded) {
          auto& ops = expanded.ops;
          ops.erase(std::remove_if(ops.begin(), ops.end(),
                                   [&](const Op& op) { return op.pass == Op::Pass::update && known.count(SimulatedOps::key(op)); }),
                    ops.end());
        };
      }
    }
    const auto started = std::chrono::steady_clock::now();
    std::vector<std::string> errors;
    const std::vector<RunResult> out =
        simulate_in_children(hw_, programs, options, std::max(1u, o_.jobs), 0, &errors);
    spdlog::info("plan: {} stage program(s) simulated in {:.1f} s", programs.size(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (!errors[i].empty()) {  // e.g. an op whose tensors outgrow HBM: the candidates using it are rejected
        failed_.emplace(keys[i], errors[i]);
        continue;
      }
      if (!out[i].invariants_hold()) {
        std::string broken;
        for (const auto& inv : out[i].invariants)
          if (!inv.ok) broken += fmt::format("; {}: {}", inv.name, inv.detail);
        // The key lists every op, one a line: its first op and its length name it.
        const std::string& k = keys[i];
        const std::size_t ops = std::size_t(std::count(k.begin(), k.end(), '\n')) + 1;
        throw std::runtime_error(fmt::format("podsim plan: the simulation of a stage program ({} ops from '{}') failed its "
                                             "invariants{}",
                                             ops, k.substr(0, k.find('\n')), broken));
      }
      const WorkloadSpec& program = lowered_.at(keys[i]);
      if (out[i].ops.size() != program.ops.size())
        throw std::runtime_error(fmt::format("podsim plan: a stage program simulated {} ops, {} expected",
                                             out[i].ops.size(), program.ops.size()));
      for (std::size_t k = 0; k < program.ops.size(); ++k) {
        const Op& op = program.ops[k];
        const std::string key = SimulatedOps::key(op);
        simulated_.seconds.emplace(key, double(out[i].ops[k].end_ps - out[i].ops[k].start_ps) * 1e-12);
        simulated_.hbm_bytes.emplace(key, double(out[i].ops[k].hbm_read_bytes + out[i].ops[k].hbm_write_bytes));
        simulated_.vpu_s.emplace(key, double(out[i].ops[k].vpu_busy_cycles) / double(hw_.chip.clock_hz) /
                                          double(std::max(1u, hw_.chip.tensor_cores)));
        simulated_.hbm_peak_Bps = out[i].hbm_peak_Bps;
      }
      ++programs_simulated_;
    }
  }

  void estimate(PlanCandidate& c) { c = composer_.estimate(c, layout_of(c), layout_info(c).stages); }

  void rank_as_written(const std::vector<PlanCandidate>& fit, PlanResult& r) {
    for (const PlanCandidate& c : r.rejected)
      if (c.as_written) r.as_written_rank = fmt::format("the workload's own parallelism ({}) is rejected: {}", c.label(), c.rejected);
    for (std::size_t i = 0; i < r.estimated.size(); ++i)
      if (r.estimated[i].as_written) r.as_written_rank = fmt::format("the workload's own parallelism ({}) ranks {} of {} that fit", r.estimated[i].label(), i + 1, fit.size());
    if (!r.as_written_rank.empty()) return;
    for (const PlanCandidate& c : fit)
      if (c.as_written) {
        PlanCandidate e = c;
        std::vector<std::string> keys;
        for (const StageInfo& st : layout_info(e).stages)
          if (const std::string k = needed_program(st); !k.empty() && std::find(keys.begin(), keys.end(), k) == keys.end())
            keys.push_back(k);
        simulate(keys);
        estimate(e);
        r.programs_simulated = programs_simulated_;
        r.collectives_modelled = composer_.collectives_modelled();
        r.as_written_rank = fmt::format("the workload's own parallelism ({}) takes {:.4g} s per step, {:.2f}x the best",
                                        e.label(), e.step_s, r.estimated.empty() ? 1.0 : e.step_s / r.estimated[0].step_s);
      }
    if (r.as_written_rank.empty()) r.as_written_rank = "the workload's own parallelism is not in the space searched";
  }

  const HardwareSpec& hw_;
  const WorkloadSpec& w_;
  const PlanOptions& o_;
  std::uint32_t chips_ = 1;
  std::uint64_t batch_ = 0, heads_gcd_ = 0, layers_ = 0, global_batch_ = 0;
  bool has_moe_ = false;
  PodLayout written_;
  std::map<std::string, LayoutInfo> layouts_;
  std::map<std::string, std::shared_ptr<const StageProgram>> stage_programs_;  // see StageProgram
  std::map<std::string, WorkloadSpec> sharded_;  // "tensor:micro_batch" -> sharded_program
  std::set<std::string> lowering_checked_;                  // op keys that lower onto the chip
  std::map<std::string, WorkloadSpec> lowered_;            // shape key -> the ops a chip runs (expanded)
  std::map<std::string, WorkloadSpec> program_;            // shape key -> its stage program as written
  SimulatedOps simulated_;                                // what the simulations measured, per op key
  std::size_t programs_simulated_ = 0;
  std::map<std::string, std::string> failed_;              // shape key -> why its simulation failed
  std::map<std::string, std::set<std::string>> left_out_;  // kKnownUpdatesLeftOut key -> the updates' op keys
  StepComposer composer_{hw_, w_, simulated_};            // candidates' steps from simulated_
};

}  // namespace

PlanResult plan_parallelism(const HardwareSpec& hw, const WorkloadSpec& workload, const PlanOptions& options) {
  HardwareSpec sized = hw;
  if (options.chips)
    sized.pod.dims = hw.pod.topology == "ring" ? std::to_string(options.chips)
                                               : pod_dims_for(options.chips, hw.pod.dim_sizes().size());
  return Planner(sized, workload, options).run();
}

}  // namespace podsim
