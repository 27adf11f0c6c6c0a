#include "podsim/serving/serve_report.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace podsim {
namespace {

using nlohmann::ordered_json;

ordered_json stats_json(const LatencyStats& s) {
  return {{"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90}, {"p99", s.p99}, {"max", s.max}};
}

ordered_json rows_json(const std::vector<CostRow>& rows, const char* at) {
  ordered_json out = ordered_json::array();
  for (const CostRow& r : rows)
    for (std::size_t i = 0; i < r.kv_len.size(); ++i)
      out.push_back({{at, r.at}, {"kv_len", r.kv_len[i]}, {"time_s", r.seconds[i]}, {"dynamic_j", r.joules[i]}});
  return out;
}

std::string ms(double s) { return fmt::format("{:.2f} ms", s * 1e3); }

bool speculating(const ServeRun& run) { return run.spec->scheduler.speculative.tokens > 0; }

// Tokens a decoding sequence gained per step: 1 without speculation; with it, the accepted
// draft tokens plus the served model's own.
double tokens_per_decode_step(const ServeTimeline& t) {
  return t.decode_sequence_steps ? double(t.decode_sequence_steps + t.accepted) / double(t.decode_sequence_steps) : 0.0;
}

}  // namespace

LatencyStats latency_stats(std::vector<double> v) {
  LatencyStats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / double(v.size());
  auto rank = [&](double p) {
    const std::size_t r = static_cast<std::size_t>(std::ceil(p / 100.0 * double(v.size())));
    return v[std::max<std::size_t>(r, 1) - 1];
  };
  s.p50 = rank(50);
  s.p90 = rank(90);
  s.p99 = rank(99);
  s.max = v.back();
  return s;
}

ServeSummary summarize(const ServeSpec& spec, const ServeTimeline& t) {
  ServeSummary s;
  s.requests = t.requests.size();
  std::vector<double> ttft, tpot, e2e;
  double first = t.requests.empty() ? 0 : t.requests.front().arrival_s, last = first;
  for (const RequestOutcome& r : t.requests) {
    s.prompt_tokens += r.prompt_tokens;
    s.output_tokens += r.output_tokens;
    last = std::max(last, r.finish_s);
    ttft.push_back(r.ttft_s());
    e2e.push_back(r.e2e_s());
    if (r.output_tokens > 1) tpot.push_back(r.tpot_s());
    const bool ok = (spec.slo_ttft_s == 0 || r.ttft_s() <= spec.slo_ttft_s) &&
                    (spec.slo_tpot_s == 0 || r.output_tokens < 2 || r.tpot_s() <= spec.slo_tpot_s);
    s.met_slo += ok ? 1 : 0;
  }
  s.makespan_s = last - first;
  if (s.makespan_s > 0) {
    s.requests_per_s = double(s.requests) / s.makespan_s;
    s.output_tokens_per_s = double(s.output_tokens) / s.makespan_s;
    s.tokens_per_s = double(s.output_tokens + s.prompt_tokens) / s.makespan_s;
    s.goodput_requests_per_s = double(s.met_slo) / s.makespan_s;
  }
  s.ttft = latency_stats(ttft);
  s.tpot = latency_stats(tpot);
  s.e2e = latency_stats(e2e);
  // Disaggregated: the decode chips' caches, over the decode steps (each chip's own blocks).
  // Replicas: every chip's cache over its own steps (the total is the chips' sum).
  const bool disaggregated = spec.scheduler.disaggregation.prefill_chips > 0;
  const double kv_busy = disaggregated ? t.decode_busy_s : t.busy_s;
  const double per_chip = t.replicas.empty() ? double(t.kv_blocks_total) : double(t.kv_blocks_total) / double(t.chips);
  if (kv_busy > 0 && per_chip > 0) s.kv_mean_occupancy = t.kv_block_seconds / kv_busy / per_chip;
  if (t.kv_blocks_total > 0) s.kv_peak_occupancy = double(t.kv_blocks_peak) / double(t.kv_blocks_total);
  return s;
}

ServeEnergy serve_energy(const ServeRun& run, const ServeSummary& s) {
  ServeEnergy e;
  e.static_known = run.static_power_w > 0;
  e.energy_j = run.timeline->dynamic_j + run.static_power_w * double(run.timeline->chips) * s.makespan_s;
  if (s.output_tokens > 0) e.joules_per_output_token = e.energy_j / double(s.output_tokens);
  if (s.makespan_s > 0) e.average_power_w = e.energy_j / s.makespan_s;
  return e;
}

std::string serve_text(const ServeRun& run) {
  const ServeSummary s = summarize(*run.spec, *run.timeline);
  const ServeTimeline& t = *run.timeline;
  std::string out;
  out += fmt::format("serve {} on {}: model '{}', {} requests\n", run.spec->name, run.hardware, run.model.name, s.requests);
  const std::uint64_t tp = run.spec->scheduler.tensor_parallel;
  if (tp > 1)
    out += fmt::format("  tensor parallel over {} chips: each chip holds its share of the weights and the cache (below), "
                       "each step ends its row-split matmuls with all-reduces over the slice\n",
                       tp);
  out += fmt::format("  weights {:.2f} GB; KV cache {} tokens ({:.2f} GB, {} B a token) in {} blocks of {}{}\n",
                     double(run.model.weights_bytes) * 1e-9, run.kv_capacity_tokens,
                     double(run.kv_capacity_tokens * run.model.kv_bytes_per_token) * 1e-9, run.model.kv_bytes_per_token,
                     t.kv_blocks_total, run.spec->scheduler.kv_block_tokens, tp > 1 ? ", per chip" : "");
  out += fmt::format("  makespan {:.3f} s, {} steps, chip busy {:.1f} %{}\n", s.makespan_s, t.steps,
                     s.makespan_s > 0 ? 100.0 * t.busy_s / (double(t.chips) * s.makespan_s) : 0.0,
                     t.chips > 1 ? fmt::format(" (of {} {})", t.chips, tp > 1 ? fmt::format("slices of {} chips", tp) : "chips")
                                 : "");
  if (run.spec->scheduler.disaggregation.prefill_chips > 0) {
    const Disaggregation& d = run.spec->scheduler.disaggregation;
    double n = 0;  // requests whose cache moved (a one-token request ends with its prefill)
    for (const RequestOutcome& r : t.requests) n += r.output_tokens > 1;
    out += fmt::format("  disaggregated: {} prefill chip(s) {:.1f} % busy, {} decode chip(s) {:.1f} % busy; KV caches "
                       "moved {:.3f} GB, {:.3f} ms a request over {:g} GB/s\n",
                       d.prefill_chips,
                       s.makespan_s > 0 ? 100.0 * t.prefill_busy_s / (double(d.prefill_chips) * s.makespan_s) : 0.0,
                       d.decode_chips,
                       s.makespan_s > 0 ? 100.0 * t.decode_busy_s / (double(d.decode_chips) * s.makespan_s) : 0.0,
                       double(t.kv_transfer_bytes) * 1e-9, n > 0 ? 1e3 * t.kv_transfer_s / n : 0.0, d.kv_link_Bps * 1e-9);
  }
  out += fmt::format("  throughput {:.1f} output tokens/s, {:.1f} tokens/s, {:.3f} requests/s\n", s.output_tokens_per_s,
                     s.tokens_per_s, s.requests_per_s);
  const ServeEnergy e = serve_energy(run, s);
  out += fmt::format("  energy {:.4g} J{}, {:.4g} J per output token, {:.1f} W average\n", e.energy_j,
                     e.static_known ? "" : " (dynamic only: chip.energy.static_power not set)", e.joules_per_output_token,
                     e.average_power_w);
  out += fmt::format("  {:<6} {:>11} {:>11} {:>11} {:>11} {:>11}\n", "", "mean", "p50", "p90", "p99", "max");
  for (const auto& [name, st] : {std::pair{"TTFT", s.ttft}, {"TPOT", s.tpot}, {"E2E", s.e2e}})
    out += fmt::format("  {:<6} {:>11} {:>11} {:>11} {:>11} {:>11}\n", name, ms(st.mean), ms(st.p50), ms(st.p90),
                       ms(st.p99), ms(st.max));
  if (run.spec->slo_ttft_s > 0 || run.spec->slo_tpot_s > 0)
    out += fmt::format("  SLO (TTFT <= {}, TPOT <= {}): {} of {} requests met it, goodput {:.3f} requests/s\n",
                       run.spec->slo_ttft_s > 0 ? ms(run.spec->slo_ttft_s) : "-",
                       run.spec->slo_tpot_s > 0 ? ms(run.spec->slo_tpot_s) : "-", s.met_slo, s.requests,
                       s.goodput_requests_per_s);
  out += fmt::format("  KV cache occupancy mean {:.1f} %, peak {:.1f} %; {} preemptions{}; largest batch {}\n",
                     100 * s.kv_mean_occupancy, 100 * s.kv_peak_occupancy, t.preemptions,
                     run.spec->scheduler.preemption == "swap"
                         ? fmt::format(" (swapped: {:.3f} GB over the host link, {:.3f} ms)", t.swap_bytes * 1e-9,
                                       t.swap_s * 1e3)
                         : "",
                     t.max_batch_seen);
  if (run.spec->scheduler.prefix_caching)
    out += fmt::format("  prefix cache: {} of {} admissions with a shared prefix found it cached ({:.1f} %); {} prompt "
                       "tokens not prefilled ({:.1f} % of all prompt tokens); {} evictions\n",
                       t.prefix_hits, t.prefix_lookups,
                       t.prefix_lookups ? 100.0 * double(t.prefix_hits) / double(t.prefix_lookups) : 0.0,
                       t.prefix_tokens_saved,
                       s.prompt_tokens ? 100.0 * double(t.prefix_tokens_saved) / double(s.prompt_tokens) : 0.0,
                       t.prefix_evictions);
  if (!t.replicas.empty()) {
    out += fmt::format("  {} replicas, routing {}:", t.replicas.size(), run.spec->scheduler.replicas.routing);
    for (std::size_t r = 0; r < t.replicas.size(); ++r)
      out += fmt::format("{} #{} {} requests {:.1f} % busy", r ? ";" : "", r, t.replicas[r].requests,
                         s.makespan_s > 0 ? 100.0 * t.replicas[r].busy_s / s.makespan_s : 0.0);
    out += "\n";
  }
  if (speculating(run))
    out += fmt::format("  speculative decoding: {} draft tokens a step at acceptance {:g}: {} of {} drafted accepted "
                       "({:.1f} %), {:.3f} tokens per sequence-step\n",
                       run.spec->scheduler.speculative.tokens, run.spec->scheduler.speculative.acceptance, t.accepted,
                       t.drafted, t.drafted ? 100.0 * double(t.accepted) / double(t.drafted) : 0.0,
                       tokens_per_decode_step(t));
  out += fmt::format("  step times from {} simulations of the model, interpolated (docs/serving.md)\n",
                     run.cost->simulations());
  return out;
}

std::string serve_json(const ServeRun& run) {
  const ServeSummary s = summarize(*run.spec, *run.timeline);
  const ServeTimeline& t = *run.timeline;
  const ServeScheduler& c = run.spec->scheduler;
  ordered_json j;
  j["serve"] = run.spec->name;
  j["hardware"] = run.hardware;
  j["model"] = {{"name", run.model.name},
                {"weights_bytes", run.model.weights_bytes},
                {"kv_bytes_per_token", run.model.kv_bytes_per_token}};  // per chip of a slice
  j["tensor_parallel"] = c.tensor_parallel;
  j["scheduler"] = {{"max_batch", c.max_batch},
                    {"max_tokens_per_step", c.max_tokens_per_step},
                    {"kv_block_tokens", c.kv_block_tokens},
                    {"kv_capacity_tokens", run.kv_capacity_tokens}};
  j["summary"] = {{"requests", s.requests},
                  {"prompt_tokens", s.prompt_tokens},
                  {"output_tokens", s.output_tokens},
                  {"makespan_s", s.makespan_s},
                  {"steps", t.steps},
                  {"busy_s", t.busy_s},
                  {"requests_per_s", s.requests_per_s},
                  {"output_tokens_per_s", s.output_tokens_per_s},
                  {"tokens_per_s", s.tokens_per_s},
                  {"ttft_s", stats_json(s.ttft)},
                  {"tpot_s", stats_json(s.tpot)},
                  {"e2e_s", stats_json(s.e2e)},
                  {"slo_ttft_s", run.spec->slo_ttft_s},
                  {"slo_tpot_s", run.spec->slo_tpot_s},
                  {"met_slo", s.met_slo},
                  {"goodput_requests_per_s", s.goodput_requests_per_s},
                  {"kv_blocks", t.kv_blocks_total},
                  {"kv_peak_blocks", t.kv_blocks_peak},
                  {"kv_mean_occupancy", s.kv_mean_occupancy},
                  {"kv_peak_occupancy", s.kv_peak_occupancy},
                  {"preemptions", t.preemptions},
                  {"max_batch", t.max_batch_seen},
                  {"prefix_hit_rate", t.prefix_lookups ? double(t.prefix_hits) / double(t.prefix_lookups) : 0.0},
                  {"prefix_tokens_saved", t.prefix_tokens_saved}};
  const ServeEnergy e = serve_energy(run, s);
  j["summary"]["energy_j"] = e.energy_j;
  j["summary"]["joules_per_output_token"] = e.joules_per_output_token;
  j["summary"]["average_power_w"] = e.average_power_w;
  j["summary"]["static_power_known"] = e.static_known;
  if (c.disaggregation.prefill_chips > 0)
    j["disaggregation"] = {{"prefill_chips", c.disaggregation.prefill_chips},
                           {"decode_chips", c.disaggregation.decode_chips},
                           {"kv_link_gbps", c.disaggregation.kv_link_Bps * 1e-9},
                           {"kv_latency_s", c.disaggregation.kv_latency_s},
                           {"prefill_busy_s", t.prefill_busy_s},
                           {"decode_busy_s", t.decode_busy_s},
                           {"kv_transfer_bytes", t.kv_transfer_bytes},
                           {"kv_transfer_s", t.kv_transfer_s}};
  j["preemption"] = {{"policy", c.preemption}, {"swap_bytes", t.swap_bytes}, {"swap_s", t.swap_s}};
  if (c.prefix_caching)
    j["prefix_cache"] = {{"lookups", t.prefix_lookups},
                         {"hits", t.prefix_hits},
                         {"hit_rate", t.prefix_lookups ? double(t.prefix_hits) / double(t.prefix_lookups) : 0.0},
                         {"tokens_saved", t.prefix_tokens_saved},
                         {"evictions", t.prefix_evictions}};
  if (!t.replicas.empty()) {
    ordered_json reps = ordered_json::array();
    for (const ServeReplicaStats& r : t.replicas)
      reps.push_back({{"requests", r.requests},
                      {"steps", r.steps},
                      {"busy_s", r.busy_s},
                      {"max_batch", r.max_batch},
                      {"kv_peak_blocks", r.kv_peak_blocks},
                      {"preemptions", r.preemptions}});
    j["replicas"] = {{"count", t.replicas.size()}, {"routing", c.replicas.routing}, {"chips", reps}};
    if (c.replicas.routing == "prefix_affinity") j["replicas"]["balance"] = c.replicas.balance;
  }
  if (speculating(run))
    j["speculative"] = {{"draft", run.spec->draft},
                        {"tokens", c.speculative.tokens},
                        {"acceptance", c.speculative.acceptance},
                        {"seed", c.speculative.seed},
                        {"drafted", t.drafted},
                        {"accepted", t.accepted},
                        {"decode_sequence_steps", t.decode_sequence_steps},
                        {"tokens_per_decode_step", tokens_per_decode_step(t)}};
  ordered_json samples = ordered_json::array();
  for (const ServeSample& x : t.samples)
    samples.push_back({{"t_s", x.t_s}, {"kv_blocks", x.kv_blocks}, {"running", x.running}, {"waiting", x.waiting}});
  j["timeline"] = {{"every_steps", t.sample_stride}, {"samples", samples}};
  j["step_cost"] = {{"simulations", run.cost->simulations()},
                    {"decode", rows_json(run.cost->decode_rows(), "batch")},
                    {"prefill", rows_json(run.cost->prefill_rows(), "tokens")}};
  return j.dump(2) + "\n";
}

std::string serve_requests_csv(const ServeTimeline& t) {
  std::string out =
      "request,arrival_s,prompt_tokens,output_tokens,first_token_s,finish_s,ttft_s,tpot_s,e2e_s,preemptions,cached_tokens\n";
  for (std::size_t i = 0; i < t.requests.size(); ++i) {
    const RequestOutcome& r = t.requests[i];
    out += fmt::format("{},{:.12g},{},{},{:.12g},{:.12g},{:.12g},{:.12g},{:.12g},{},{}\n", i, r.arrival_s, r.prompt_tokens,
                       r.output_tokens, r.first_token_s, r.finish_s, r.ttft_s(), r.tpot_s(), r.e2e_s(), r.preemptions,
                       r.cached_tokens);
  }
  return out;
}

}  // namespace podsim
