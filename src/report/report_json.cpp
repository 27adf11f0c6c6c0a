#include <nlohmann/json.hpp>

#include "podsim/config/hardware_loader.h"
#include "podsim/energy/block_energy.h"
#include "podsim/energy/chip_area.h"
#include "podsim/energy/energy_model.h"
#include "podsim/host/host_model.h"
#include "podsim/report/report.h"
#include "podsim/report/op_metrics.h"

namespace podsim {

using nlohmann::ordered_json;

namespace {

ordered_json stats_json(const StatsRegistry& registry) {
  ordered_json out = ordered_json::object();
  for (const auto& g : registry.groups()) {
    ordered_json group = ordered_json::object();
    for (const auto& s : g.stats) {
      ordered_json v;
      if (std::holds_alternative<std::uint64_t>(s.value)) v["value"] = std::get<std::uint64_t>(s.value);
      else v["value"] = std::get<double>(s.value);
      v["unit"] = s.unit;
      if (!s.description.empty()) v["description"] = s.description;
      group[s.name] = std::move(v);
    }
    out[g.name] = std::move(group);
  }
  return out;
}

ordered_json pod_json(const PodResult& p, std::uint64_t step_ps) {
  ordered_json j;
  j["chips"] = p.chips;
  j["topology"] = p.topology;
  j["dims"] = p.dims;
  j["data_parallel"] = p.data_parallel;
  j["tensor_parallel"] = p.tensor_parallel;
  j["pipeline_stages"] = p.pipeline_stages;
  j["microbatches"] = p.microbatches;
  j["expert_parallel"] = p.expert_parallel;
  j["folded"] = p.folded;
  j["simulated_chips"] = p.simulated_chips;
  j["symmetric_network"] = p.symmetric_network;  // chip 0's transfers stood for every chip's
  j["step_s"] = double(step_ps) * 1e-12;
  j["compute_s"] = double(p.compute_ps) * 1e-12;
  j["exposed_comm_s"] = double(p.exposed_comm_ps) * 1e-12;
  j["idle_s"] = double(p.idle_ps) * 1e-12;
  j["contention_s"] = double(p.contention_ps) * 1e-12;  // ops slowed by collectives' HBM/vector traffic
  j["collective_hbm_bytes"] = p.collective_hbm_bytes;
  j["ici_bytes"] = p.ici_bytes;
  ordered_json cs = ordered_json::array();
  for (const auto& c : p.collectives)
    cs.push_back({{"name", c.name},
                  {"kind", c.kind},
                  {"algorithm", c.algorithm},
                  {"bytes", c.bytes},
                  {"chips", c.chips},
                  {"start_s", double(c.start_ps) * 1e-12},
                  {"end_s", double(c.end_ps) * 1e-12},
                  {"time_s", double(c.end_ps - c.start_ps) * 1e-12},
                  {"bytes_sent", c.bytes_sent},
                  {"busbw_gbps", c.busbw_Bps * 1e-9}});
  j["collectives"] = std::move(cs);
  ordered_json links = ordered_json::array();
  for (const auto& l : p.links) links.push_back({{"link", l.name}, {"bytes", l.bytes}, {"utilization", l.utilization}});
  j["links"] = std::move(links);
  return j;
}

ordered_json area_json(const ChipArea& a) {
  ordered_json blocks = ordered_json::object();
  for (const AreaBlock& b : a.blocks) blocks[b.name] = {{"mm2", b.mm2}, {"counted", b.what}};
  return {{"node", a.node}, {"pe_dtype", a.pe_dtype}, {"chip_mm2", a.total_mm2}, {"blocks", std::move(blocks)}};
}

ordered_json energy_json(const RunEnergy& e) {
  const EnergyCosts& c = e.costs;
  ordered_json j;
  j["node"] = c.node;
  // Without a static power the totals are dynamic energy only (chip.energy.static_power).
  j["static_power_known"] = e.static_known;
  j["static_power_w"] = c.static_power_w;
  j["joules"] = {{"mac", e.total.mac_j},       {"vector", e.total.vector_j}, {"sram", e.total.sram_j},
                 {"dram", e.total.dram_j},     {"ici", e.total.ici_j},       {"static", e.total.static_j},
                 {"dynamic", e.total.dynamic_j()}, {"total", e.total.total_j()}};
  j["pj_per_action"] = {{"mac_int8", c.mac_int8_j * 1e12}, {"mac_fp8", c.mac_fp8_j * 1e12},
                        {"mac_bf16", c.mac_bf16_j * 1e12}, {"mac_fp16", c.mac_fp16_j * 1e12},
                        {"mac_fp32", c.mac_fp32_j * 1e12}, {"vector_op", c.vector_op_j * 1e12},
                        {"sram_byte", c.sram_byte_j * 1e12}, {"dram_bit", c.dram_bit_j * 1e12},
                        {"ici_bit", c.ici_bit_j * 1e12}};
  if (const auto& d = e.dram_commands) {  // chip.energy.dram_model=per_command
    j["dram_model"] = "per_command";
    j["dram_joules"] = {{"act", e.total.dram.act_j},         {"read", e.total.dram.read_j},
                        {"write", e.total.dram.write_j},     {"refresh", e.total.dram.refresh_j},
                        {"io", e.total.dram.io_j}};
    j["dram_pj"] = {{"act", d->act_j * 1e12},          {"read_bit", d->read_bit_j * 1e12},
                    {"write_bit", d->write_bit_j * 1e12}, {"refresh", d->refresh_j * 1e12},
                    {"bank_refresh", d->bank_refresh_j * 1e12}, {"io_bit", d->io_bit_j * 1e12},
                    {"source", d->source}};
  } else {
    j["dram_model"] = "per_bit";
  }
  return j;
}

ordered_json host_json(const HostStep& h) {
  ordered_json j;
  j["link_gbps"] = double(h.link_Bps) * 1e-9;
  j["overlap"] = h.overlap;
  j["infeed_bytes"] = h.traffic.infeed_bytes;
  j["infeed_op"] = h.traffic.infeed_op;
  j["outfeed_bytes"] = h.traffic.outfeed_bytes;
  j["outfeed_op"] = h.traffic.outfeed_op;
  j["device_s"] = double(h.device_ps) * 1e-12;
  j["infeed_s"] = double(h.infeed_ps) * 1e-12;
  j["outfeed_s"] = double(h.outfeed_ps) * 1e-12;
  j["host_s"] = double(h.host_ps) * 1e-12;
  j["step_s"] = h.step_s();
  j["bound"] = h.bound;
  j["slowdown"] = h.slowdown();
  return j;
}

}  // namespace

std::string report_json(const RunResult& r) {
  ordered_json j;
  j["schema"] = kReportSchema;
  j["podsim_version"] = PODSIM_VERSION;

  ordered_json hw;
  hw["name"] = r.hw.name;
  hw["description"] = r.hw.description;
  ordered_json params = ordered_json::object();
  for (const auto& [path, value] : resolved_hardware(r.hw)) params[path] = value;
  hw["params"] = std::move(params);
  j["hardware"] = std::move(hw);

  ordered_json wl;
  wl["name"] = r.workload.name;
  wl["source"] = r.workload.source;
  j["workload"] = std::move(wl);

  const double peak = r.peak_flops();  // the whole system's: every chip of the run
  ordered_json s;
  s["time_s"] = r.time_s();
  s["cycles"] = r.cycles;
  s["flops"] = 2 * r.macs;
  s["achieved_tflops"] = r.achieved_flops() * 1e-12;
  s["peak_tflops"] = peak * 1e-12;
  s["mxu_utilization"] = r.mxu_utilization();
  s["hbm_read_bytes"] = r.hbm_read_bytes;
  s["hbm_write_bytes"] = r.hbm_write_bytes;
  s["hbm_bandwidth_gbps"] = r.hbm_bandwidth_Bps() * 1e-9;
  s["hbm_peak_gbps"] = double(r.hbm_peak_Bps) * 1e-9;
  if (r.hw.chip.cmem.capacity_bytes > 0) {  // chip.cmem: the on-chip memory's traffic
    s["cmem_read_bytes"] = r.cmem_read_bytes;
    s["cmem_write_bytes"] = r.cmem_write_bytes;
  }
  s["macs"] = r.macs;
  s["padded_macs"] = r.padded_macs;
  s["clock_hz"] = r.hw.chip.clock_hz;
  s["chips"] = r.chips;
  s["ici_bytes"] = r.pod ? r.pod->ici_bytes : 0;
  s["exposed_comm_s"] = r.pod ? double(r.pod->exposed_comm_ps) * 1e-12 : 0.0;
  s["contention_s"] = r.pod ? double(r.pod->contention_ps) * 1e-12 : 0.0;
  const RunEnergy energy = run_energy(r);
  s["energy_j"] = energy.total.total_j();
  s["average_power_w"] = energy.average_power_w;
  if (!r.all_chips) s["peak_power_w"] = energy.peak_power_w;  // op granularity; not for pods
  s["tops_per_w"] = energy.tops_per_w;
  if (const std::uint64_t n = r.samples_per_step()) {  // workload.samples
    s["samples_per_step"] = n;
    s["sample_unit"] = r.workload.samples.unit;
    s["samples_per_s"] = r.samples_per_s();
    s["joules_per_sample"] = energy.joules_per_sample;
  }
  const ChipArea area = chip_area(r.hw);
  s["area_mm2"] = area.total_mm2;  // one chip's (energy/chip_area.h)
  s["tflops_per_mm2"] = r.achieved_flops() * 1e-12 / (area.total_mm2 * double(r.chips));
  const HostStep host = host_step(r);
  if (host.modelled) s["end_to_end_time_s"] = host.step_s();  // with the host's share (host/host_model.h)
  s["invariants_ok"] = r.invariants_hold();
  j["summary"] = std::move(s);
  j["energy"] = energy_json(energy);
  if (energy.dram_commands)
    j["energy"]["dram_commands"] = {{"acts", energy.dram_counted.acts},
                                    {"refreshes", energy.dram_counted.refreshes},
                                    {"bank_refreshes", energy.dram_counted.bank_refreshes}};
  {
    ordered_json blocks = ordered_json::object();  // energy/block_energy.h
    for (const BlockEnergy& b : energy_by_block(energy, area))
      blocks[b.block] = {{"dynamic_j", b.dynamic_j}, {"static_j", b.static_j}, {"total_j", b.total_j()}};
    j["energy"]["by_block"] = std::move(blocks);
  }
  j["area"] = area_json(area);
  if (host.modelled) j["host"] = host_json(host);
  if (r.pod) j["pod"] = pod_json(*r.pod, r.end_ps);
  if (const auto& m = r.mapper_search)
    j["mapper_search"] = {{"distinct_ops", m->distinct_ops}, {"simulations", m->simulations},
                          {"retiled_ops", m->retiled_ops}, {"heuristic_s", m->heuristic_s}, {"best_s", m->best_s},
                          {"whole_heuristic_s", m->whole_heuristic_s}, {"whole_searched_s", m->whole_searched_s},
                          {"kept", m->kept_search ? "search" : "heuristic"}};
  if (!r.workload.moe_routing.empty()) {
    ordered_json moe = ordered_json::array();
    for (const auto& m : r.workload.moe_routing)
      moe.push_back({{"op", m.op}, {"capacity", m.capacity}, {"dropped_tokens", m.dropped}, {"routed", m.routed},
                     {"processed", m.processed}});
    j["moe"] = std::move(moe);
  }
  if (r.training) {
    const TrainingFootprint& f = *r.training;
    j["memory_footprint"] = {{"parameters", f.parameters},
                             {"optimizer", optimizer_name(r.workload.training.optimizer)},
                             {"weights_bytes", f.weights_bytes},
                             {"optimizer_state_bytes", f.optimizer_state_bytes},
                             {"gradient_bytes", f.gradient_bytes},
                             {"stashed_activation_bytes", f.stashed_activation_bytes},
                             {"microbatches_in_flight", f.microbatches_in_flight},
                             {"state_shards", f.state_shards},
                             {"gradient_shards", f.gradient_shards},
                             {"weights_sharded", f.weights_sharded},
                             {"peak_bytes", f.peak_bytes()},
                             {"hbm_capacity_bytes", r.hw.chip.hbm.capacity_bytes},
                             {"fits_hbm", f.peak_bytes() <= r.hw.chip.hbm.capacity_bytes}};
  }

  if (r.model) {
    const ModelFootprint& f = *r.model;
    j["memory_footprint"] = {{"weights_bytes", f.weights_bytes},
                             {"kv_cache_bytes", f.kv_cache_bytes},
                             {"peak_bytes", f.total()},
                             {"hbm_capacity_bytes", r.hw.chip.hbm.capacity_bytes},
                             {"fits_hbm", f.total() <= r.hw.chip.hbm.capacity_bytes}};
  }

  ordered_json ops = ordered_json::array();
  for (const auto& o : r.ops) {
    const OpMetrics m = op_metrics(r, o);
    ordered_json op;
    op["name"] = o.name;
    op["kind"] = o.kind;
    op["shape"] = o.shape;
    op["dtype"] = o.dtype;
    if (!o.weight_dtype.empty()) op["weight_dtype"] = o.weight_dtype;
    op["repeat"] = o.repeat;
    op["flops"] = 2 * o.macs;
    op["start_s"] = double(o.start_ps) * 1e-12;
    op["end_s"] = double(o.end_ps) * 1e-12;
    op["time_s"] = m.time_s;
    op["cycles"] = m.cycles;
    op["achieved_tflops"] = m.achieved_flops * 1e-12;
    op["mxu_utilization"] = m.mxu_utilization;
    op["hbm_read_bytes"] = o.hbm_read_bytes;
    op["hbm_write_bytes"] = o.hbm_write_bytes;
    op["hbm_bandwidth_gbps"] = m.hbm_Bps * 1e-9;
    op["bound"] = m.bound;
    op["limiters"] = {{"mxu", m.mxu_busy},
                      {"weight_shift", m.weight_shift_busy},
                      {"vector", m.vector_busy},
                      {"memory", m.memory_busy}};
    // Summed over the chip's MXUs: the parts add up to cycles x mxus.
    op["cycle_breakdown"] = {{"mxus", r.hw.mxu_count()},
                             {"active", o.mxu_active_cycles},
                             {"weight_load_stall", o.mxu_weight_load_stall_cycles},
                             {"weight_shift", o.mxu_weight_shift_cycles},
                             {"input_stall", o.mxu_input_stall_cycles},
                             {"non_matrix", o.mxu_non_matrix_cycles}};
    op["padded_macs"] = o.padded_macs;
    op["engine"] = o.plan.engine == Engine::mxu ? "mxu" : o.plan.engine == Engine::vector ? "vector" : "embedding";
    op["vector_unit_cycles"] = o.vpu_busy_cycles;
    op["onchip_bytes"] = o.onchip_bytes;
    op["replayed_tiles"] = o.replayed_tiles;
    op["energy_j"] = energy.ops[std::size_t(&o - r.ops.data())].total_j();  // steady-state replay: tiles not simulated
    // chip.vmem.holds_activations: whether this op's activations stayed in vector memory,
    // and their bytes (what an off-chip round trip would have moved).
    const bool onchip = o.plan.engine == Engine::mxu ? o.plan.tiling.activations_onchip() : o.plan.vector.activations_onchip;
    op["activations_onchip"] = onchip;
    op["onchip_activation_bytes"] = (o.plan.engine == Engine::mxu ? o.plan.tiling.onchip_activation_bytes
                                                                  : o.plan.vector.onchip_activation_bytes) *
                                    o.repeat * (o.plan.engine == Engine::mxu ? o.plan.instances : 1);
    if (r.hw.chip.cmem.capacity_bytes > 0)  // compiler/cmem_plan.h: which activations the on-chip memory held
      op["cmem"] = {{"input", o.plan.a_in_cmem},
                    {"output", o.plan.c_in_cmem},
                    {"read_bytes", o.cmem_read_bytes},
                    {"write_bytes", o.cmem_write_bytes}};
    if (o.plan.engine != Engine::mxu) {
      op["tiling"] = {{"tile_rows", o.plan.vector.tile_rows},
                      {"tiles", o.plan.vector.tiles},
                      {"vmem_bytes", o.plan.vector.vmem_bytes},
                      {"fused", o.plan.vector.fused}};
      ops.push_back(std::move(op));
      continue;
    }
    const MatmulTiling& t = o.plan.tiling;
    op["tiling"] = {{"tm", t.tm},           {"tk", t.tk},
                    {"tn", t.tn},           {"cores", t.cores},      {"blocks_m", t.blocks_m},
                    {"blocks_k", t.blocks_k}, {"blocks_n", t.blocks_n},
                    {"vmem_bytes", t.vmem_bytes}, {"a_resident", t.a_resident},
                    {"a_onchip", t.a_onchip}, {"c_onchip", t.c_onchip}, {"mxu_passes", o.plan.rate.passes}, {"mxu_packed", o.plan.rate.packed},
                    {"dataflow", dataflow_name(r.hw.chip.mxu.dataflow)}};
    ops.push_back(std::move(op));
  }
  j["ops"] = std::move(ops);

  ordered_json kinds = ordered_json::array();
  for (const KindTotals& t : totals_by_kind(r))
    kinds.push_back({{"kind", t.kind},
                     {"ops", t.ops},
                     {"time_s", t.time_s},
                     {"time_share", t.time_share},
                     {"flops", t.flops},
                     {"hbm_read_bytes", t.hbm_read_bytes},
                     {"hbm_write_bytes", t.hbm_write_bytes},
                     {"onchip_bytes", t.onchip_bytes}});
  j["by_kind"] = std::move(kinds);

  ordered_json channels = ordered_json::array();
  for (std::size_t c = 0; c < r.channels.size(); ++c) {
    const auto& ch = r.channels[c];
    ordered_json cj = {{"channel", c},
                       {"read_bytes", ch.read_bytes},
                       {"write_bytes", ch.write_bytes},
                       {"requests", ch.requests},
                       {"utilization", r.end_ps ? double(ch.busy_ps) / double(r.end_ps) : 0.0},
                       {"bandwidth_gbps", r.end_ps ? double(ch.read_bytes + ch.write_bytes) / r.time_s() * 1e-9 : 0.0}};
    if (r.hbm_device != "ideal") {
      cj["row_hits"] = ch.row_hits;
      cj["row_misses"] = ch.row_misses;
      cj["row_conflicts"] = ch.row_conflicts;
      cj["refreshes"] = ch.refreshes;
      cj["forwarded_reads"] = ch.forwarded_reads;
      cj["streamed_requests"] = ch.streamed;
      cj["mean_queue_depth"] = ch.mean_queue_depth;
    }
    channels.push_back(std::move(cj));
  }
  j["channels"] = std::move(channels);
  ordered_json series;
  series["bucket_s"] = double(r.hbm_series_bucket_ps) * 1e-12;
  ordered_json gbps = ordered_json::array();
  for (std::uint64_t b : r.hbm_series_bytes)
    gbps.push_back(r.hbm_series_bucket_ps ? double(b) / (double(r.hbm_series_bucket_ps) * 1e-12) * 1e-9 : 0.0);
  series["gbps"] = std::move(gbps);
  j["hbm_bandwidth_series"] = std::move(series);

  ordered_json inv = ordered_json::array();
  for (const auto& i : r.invariants) inv.push_back({{"name", i.name}, {"ok", i.ok}, {"detail", i.detail}});
  j["invariants"] = std::move(inv);
  j["stats"] = stats_json(r.stats);
  return j.dump(2) + "\n";
}

}  // namespace podsim
