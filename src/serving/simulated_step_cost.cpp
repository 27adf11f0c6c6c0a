#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "podsim/compiler/model_capacity.h"
#include "podsim/compiler/workload_plan.h"
#include "podsim/config/workload_loader.h"
#include "podsim/energy/energy_model.h"
#include "podsim/serving/slice_collectives.h"
#include "podsim/serving/step_cost.h"
#include "podsim/workload/parallelism.h"
#include "podsim/sim/isolated_runs.h"
#include "podsim/sim/simulate.h"

namespace podsim {
namespace {

std::uint64_t round_up(std::uint64_t x, std::uint64_t to) { return (x + to - 1) / to * to; }

// 1, 2, 4, ... below `top`, then `top`.
std::vector<std::uint64_t> powers_to(std::uint64_t top) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t p = 1; p < top; p *= 2) v.push_back(p);
  v.push_back(top);
  return v;
}

// The points, and from `from` on also the points halfway between (24 between 16 and 32).
std::vector<std::uint64_t> with_halfway(const std::vector<std::uint64_t>& points, std::uint64_t from) {
  std::vector<std::uint64_t> v;
  for (std::uint64_t p : points) {
    if (!v.empty() && v.back() >= from && v.back() * 3 / 2 < p) v.push_back(v.back() * 3 / 2);
    v.push_back(p);
  }
  return v;
}

// `count` cache lengths from `lo` to `hi`, evenly spaced, rounded up to whole blocks,
// distinct and increasing.
std::vector<std::uint64_t> lengths(std::uint64_t lo, std::uint64_t hi, std::size_t count, std::uint64_t block) {
  std::vector<std::uint64_t> v;
  for (std::size_t i = 0; i < count; ++i) {
    const double x = double(lo) + double(hi - lo) * double(i) / double(count - 1);
    std::uint64_t len = i == 0 ? lo : std::min(hi, round_up(std::uint64_t(std::llround(x)), block));
    if (v.empty() || len > v.back()) v.push_back(len);
  }
  return v;
}

double lerp_row(const CostRow& row, std::uint64_t kv_len, bool energy) {
  const auto& x = row.kv_len;
  const auto& y = energy ? row.joules : row.seconds;
  if (x.size() == 1) return y[0];
  std::size_t i = 1;  // the segment [i-1, i] that holds kv_len, or the end one
  while (i + 1 < x.size() && x[i] < kv_len) ++i;
  const double f = (double(kv_len) - double(x[i - 1])) / (double(x[i]) - double(x[i - 1]));
  return std::max(0.0, y[i - 1] + f * (y[i] - y[i - 1]));
}

}  // namespace

double interpolate_rows(const std::vector<CostRow>& rows, std::uint64_t at, std::uint64_t kv_len, bool energy) {
  std::size_t i = 0;
  while (i + 1 < rows.size() && rows[i + 1].at <= at) ++i;
  if (rows[i].at >= at || i + 1 == rows.size()) return lerp_row(rows[i], kv_len, energy);
  const double lo = lerp_row(rows[i], kv_len, energy), hi = lerp_row(rows[i + 1], kv_len, energy);
  const double f = (double(at) - double(rows[i].at)) / (double(rows[i + 1].at) - double(rows[i].at));
  return lo + f * (hi - lo);
}

WorkloadSpec serving_point(const std::string& path, const SourceLocation& where, bool decode,
                           std::uint64_t batch_or_tokens, std::uint64_t kv_len) {
  return decode ? serving_pass(path, where, true, batch_or_tokens, 1, kv_len)
                : serving_pass(path, where, false, 1, batch_or_tokens, kv_len);
}

WorkloadSpec serving_pass(const std::string& path, const SourceLocation& where, bool decode, std::uint64_t batch,
                          std::uint64_t seq, std::uint64_t kv_len) {
  const std::string op = "workload.ops[0].";
  std::vector<std::string> set = {op + "decode=" + (decode ? "true" : "false"), op + fmt::format("kv_len={}", kv_len),
                                  op + fmt::format("batch={}", batch), op + fmt::format("seq={}", seq)};
  WorkloadSpec w;
  try {
    w = load_workload(path, set);
  } catch (const ConfigError& e) {
    if (e.where().file == path) throw;  // the model file's own error, where it is
    throw ConfigError(where, "serve.workload", e.what());
  }
  const auto* t = w.ops.size() == 1 ? std::get_if<TemplateOp>(&w.ops[0].body) : nullptr;
  if (!t || t->name != "transformer_decoder")
    throw ConfigError(where, "serve.workload",
                      fmt::format("'{}' must hold one op, a transformer_decoder template (the model served)", path));
  if (w.training.enabled || w.parallelism.given)
    throw ConfigError(where, "serve.workload",
                      fmt::format("'{}': serving runs the model for inference on one chip (no training or parallelism)", path));
  return w;
}

WorkloadSpec on_slice(const WorkloadSpec& pass, std::uint64_t tensor_parallel) {
  return tensor_parallel > 1 ? sharded_program(pass, std::uint32_t(tensor_parallel)) : pass;
}

ServedModel served_model(const std::string& path, const SourceLocation& where, std::uint64_t tensor_parallel) {
  // The KV cache is linear in its length: two lengths give the bytes per token exactly.
  // Sharded, each chip holds its own share: its heads' K and V, its slices of the weights.
  const ModelFootprint a = model_footprint(expand_workload(on_slice(serving_point(path, where, true, 1, 1), tensor_parallel)));
  const ModelFootprint b =
      model_footprint(expand_workload(on_slice(serving_point(path, where, true, 1, 1025), tensor_parallel)));
  ServedModel m;
  m.weights_bytes = a.weights_bytes;
  m.kv_bytes_per_token = (b.kv_cache_bytes - a.kv_cache_bytes) / 1024;
  m.name = load_workload(path).name;
  return m;
}

SimulatedStepCost::SimulatedStepCost(const HardwareSpec& hw, const std::string& path, const SourceLocation& where,
                                     const ServeScheduler& sch, std::uint64_t min_context,
                                     std::uint64_t max_context, std::uint64_t kv_capacity_tokens, unsigned jobs,
                                     const std::string& draft_path, const SourceLocation& draft_where)
    : draft_tokens_(sch.speculative.tokens), tensor_parallel_(sch.tensor_parallel) {
  const std::uint64_t block = sch.kv_block_tokens;
  for (std::uint64_t b : with_halfway(powers_to(sch.max_batch), 16)) {
    const std::uint64_t hi = std::max<std::uint64_t>(1, std::min(max_context, kv_capacity_tokens / b));
    // From the shortest cache a decode step sees: below it (a cache of a token or two) the
    // time is not on the same line.
    decode_.push_back({b, lengths(std::min(min_context, hi), hi, 4, block), {}, {}});
  }
  // Chunks: powers of two, and from 64 tokens up also the points halfway (96, 192, ...):
  // prefill time bends where the projections' tiles fill the arrays.
  for (std::uint64_t t : with_halfway(powers_to(sch.max_tokens_per_step), 64)) {
    const std::uint64_t hi = std::max(t, max_context);
    prefill_.push_back({t, lengths(t, hi, 3, block), {}, {}});
  }
  // Speculative decoding: the served model checking draft_tokens + 1 positions of each
  // sequence (batch B, seq q, keys to the cache's length plus q), and the draft model
  // decoding, both at the decode grid's points.
  const std::uint64_t q = draft_tokens_ + 1;
  if (draft_tokens_ > 0) {
    verify_ = decode_;
    draft_ = decode_;
  }
  std::vector<WorkloadSpec> programs;
  // Over a slice, each grid point is the sharded program (every chip runs the same one)
  // plus its all-reduces on the slice's network (slice_collectives.h).
  SliceCollectiveCost slice(hw);
  std::vector<SliceCollectives> collectives;
  auto add = [&](WorkloadSpec pass) {
    WorkloadSpec w = on_slice(pass, tensor_parallel_);
    plan_workload(without_collectives(expand_workload(w)), hw);  // an input error here, not a failed child
    collectives.push_back(slice.of(w));
    programs.push_back(std::move(w));
  };
  for (const auto* rows : {&decode_, &prefill_, &verify_, &draft_})
    for (const CostRow& r : *rows)
      for (std::uint64_t len : r.kv_len) {
        if (rows == &verify_) add(serving_pass(path, where, false, r.at, q, len + q));
        else if (rows == &draft_) add(serving_pass(draft_path, draft_where, true, r.at, 1, len));
        else add(serving_point(path, where, rows == &decode_, r.at, len));
      }
  simulations_ = programs.size();
  const std::vector<RunResult> results = simulate_isolated(hw, programs, SimulateOptions{}, jobs);
  std::size_t k = 0;
  for (auto* rows : {&decode_, &prefill_, &verify_, &draft_})
    for (CostRow& r : *rows)
      for (std::size_t i = 0; i < r.kv_len.size(); ++i) {
        if (!results[k].completed || !results[k].invariants_hold())
          throw std::runtime_error(fmt::format("serving: the simulation of grid point {} did not complete", k));
        const SliceCollectives& c = collectives[k];
        const RunEnergy e = run_energy(results[k++]);
        r.seconds.push_back(results[k - 1].time_s() + c.seconds);
        r.joules.push_back(double(tensor_parallel_) * e.total.dynamic_j() + double(c.link_bytes) * 8.0 * e.costs.ici_bit_j +
                           double(c.hbm_bytes) * 8.0 * e.costs.dram_bit_j);
      }
}

double SimulatedStepCost::decode_seconds(std::uint64_t batch, std::uint64_t kv_len) const {
  return decode_value(batch, kv_len, false);
}

double SimulatedStepCost::prefill_seconds(std::uint64_t tokens, std::uint64_t kv_len) const {
  return prefill_value(tokens, kv_len, false);
}

double SimulatedStepCost::decode_value(std::uint64_t batch, std::uint64_t kv_len, bool energy) const {
  return batch == 0 ? 0.0 : interpolate_rows(decode_, batch, kv_len, energy);
}

double SimulatedStepCost::prefill_value(std::uint64_t tokens, std::uint64_t kv_len, bool energy) const {
  return tokens == 0 ? 0.0 : interpolate_rows(prefill_, tokens, std::max(tokens, kv_len), energy);
}

// A step that decodes and prefills runs its projections and FFNs once over all its tokens
// (the weights are read once): a prefill of decode + prefill tokens, plus what the decode
// sequences' attention adds over their KV caches (decode at their length less decode at
// one token).
double SimulatedStepCost::step_value(const StepWork& w, bool energy) const {
  const std::uint64_t b = w.decode_sequences, p = w.prefill_tokens;
  if (w.draft_tokens > 0 && b > 0) {
    // Speculative: the draft decodes its tokens one after another, then the served model
    // checks them in one pass; with prefill chunks in the step, the check's positions join
    // the chunk's tokens in one pass (as a decode's token does below).
    const double drafting = double(w.draft_tokens) * interpolate_rows(draft_, b, w.decode_context, energy);
    if (p == 0) return drafting + interpolate_rows(verify_, b, w.decode_context, energy);
    const double kv_read = std::max(0.0, decode_value(b, w.decode_context, energy) - decode_value(b, 1, energy));
    return drafting + prefill_value(p + b * (w.draft_tokens + 1), w.prefill_context, energy) + kv_read;
  }
  if (p == 0) return decode_value(b, w.decode_context, energy);
  if (b == 0) return prefill_value(p, w.prefill_context, energy);
  const double kv_read = std::max(0.0, decode_value(b, w.decode_context, energy) - decode_value(b, 1, energy));
  return prefill_value(p + b, w.prefill_context, energy) + kv_read;
}

double SimulatedStepCost::seconds(const StepWork& w) { return step_value(w, false); }

// The same combination of grid runs as the time: a mixed step's energy is a prefill of all
// its tokens plus the decode sequences' extra KV reads.
double SimulatedStepCost::joules(const StepWork& w) { return step_value(w, true); }

}  // namespace podsim
