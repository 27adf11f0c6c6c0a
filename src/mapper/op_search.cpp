#include "podsim/mapper/op_search.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "podsim/compiler/workload_plan.h"
#include "podsim/io/csv_field.h"
#include "podsim/mapper/learned_cost.h"
#include "podsim/sim/isolated_runs.h"
#include "podsim/sim/simulate.h"

namespace podsim {
namespace {

using nlohmann::ordered_json;

bool same_sizes(const MatmulTiling& a, const MatmulTiling& b) {
  return a.tm == b.tm && a.tk == b.tk && a.tn == b.tn && a.cores == b.cores;
}

// The cores are shown only when the tiling leaves some of the chip's idle (one core of
// two: [tm, tk, tn, 1], as an op's `tile:` pins it).
std::string tile_text(const MatmulTiling& t, std::uint32_t chip_cores) {
  const std::string cores = t.cores > 0 && t.cores < chip_cores ? fmt::format(", {}", t.cores) : "";
  return fmt::format("[{}, {}, {}{}]{}", t.tm, t.tk, t.tn, cores, t.a_resident ? " A-resident" : "");
}

// The best simulated time after each candidate, in the order simulated.
std::vector<double> search_curve(const OpMapping& m) {
  std::vector<double> curve;
  for (const auto& c : m.candidates) curve.push_back(curve.empty() ? c.simulated_s : std::min(curve.back(), c.simulated_s));
  return curve;
}

}  // namespace

std::string op_signature(const Op& op) {
  std::string w;
  if (const auto* m = std::get_if<MatmulOp>(&op.body); m && m->weight_dtype) w = dtype_name(*m->weight_dtype);
  return fmt::format("{}|{}|{}|{}|{}|{}|{}", op.kind(), op.shape_text(), dtype_name(op.dtype()), op.repeat,
                     op.independent_repeats, op.b_is_activation, w);
}

namespace {

CostSample sample_of(const MapResult& r, const OpMapping& m, const MappingCandidate& c) {
  CostSample s;
  s.predicted_s = c.predicted_s;
  s.simulated_s = c.simulated_s;
  s.m = m.m;
  s.k = m.k;
  s.n = m.n;
  s.dtype_bytes = m.dtype_bytes;
  s.tm = c.tiling.tm;
  s.tk = c.tiling.tk;
  s.tn = c.tiling.tn;
  s.a_resident = c.tiling.a_resident;
  s.blocks = c.tiling.blocks_m * c.tiling.blocks_k * c.tiling.blocks_n;
  s.hbm_bytes = c.tiling.hbm_read_bytes + c.tiling.hbm_write_bytes;
  // The peak the tiling can reach: a tiling that leaves cores idle has their share less.
  s.peak_flops = c.tiling.cores > 0 && r.tensor_cores > 0
                     ? r.peak_flops * double(std::min(c.tiling.cores, r.tensor_cores)) / double(r.tensor_cores)
                     : r.peak_flops;
  s.hbm_Bps = r.hbm_Bps;
  return s;
}

}  // namespace

MapResult search_mappings(const HardwareSpec& hw, const WorkloadSpec& workload, std::uint32_t top_k, unsigned jobs,
                          const BoostedTrees* model) {
  MapResult r;
  r.workload = workload.name;
  r.hardware = hw.name;
  r.top_k = top_k;
  r.peak_flops = hw.peak_flops();
  r.hbm_Bps = double(hw.chip.hbm.bandwidth_Bps);
  r.tensor_cores = hw.chip.tensor_cores;
  r.learned = model != nullptr;
  const WorkloadSpec expanded = without_collectives(expand_workload(workload));
  const std::vector<OpPlan> plans = plan_workload(expanded, hw);  // input errors here, before any child
  std::map<std::string, std::size_t> seen;
  std::vector<WorkloadSpec> programs;
  for (std::size_t i = 0; i < expanded.ops.size(); ++i) {
    const Op& op = expanded.ops[i];
    if (plans[i].engine != Engine::mxu) continue;
    const std::string key = op_signature(op);
    if (auto it = seen.find(key); it != seen.end()) {
      ++r.ops[it->second].occurrences;
      continue;
    }
    seen.emplace(key, r.ops.size());
    WorkloadSpec alone;
    alone.name = op.name;
    alone.source = workload.source;
    alone.ops = {op};
    alone.ops[0].tile.reset();
    const OpPlan heuristic = plan_workload(alone, hw)[0];
    OpMapping m;
    m.name = op.name;
    m.signature = key;
    m.kind = op.kind();
    m.shape = op.shape_text();
    m.dtype = dtype_name(op.dtype());
    m.occurrences = 1;
    m.m = heuristic.matmul.m;
    m.k = heuristic.matmul.k;
    m.n = heuristic.matmul.n;
    m.dtype_bytes = dtype_bytes(heuristic.matmul.dtype);
    m.candidates.push_back({heuristic.tiling, heuristic.tiling.estimated_seconds, 0, 0, true});
    auto learned = [&](const MatmulTiling& t) {
      MappingCandidate c;
      c.tiling = t;
      c.predicted_s = t.estimated_seconds;
      return model ? learned_seconds(*model, sample_of(r, m, c)) : 0.0;
    };
    m.candidates.front().learned_s = learned(heuristic.tiling);
    programs.push_back(alone);
    // The rest by predicted time, as a chip of `cores` cores would rank them; one per tile
    // size (the pinned tiling picks its variant).
    auto ranked_for = [&](std::uint32_t cores) {
      HardwareSpec h = hw;
      h.chip.tensor_cores = cores;
      std::vector<MatmulTiling> ranked = matmul_tiling_candidates(heuristic.matmul, h, heuristic.tiling.onchip());
      std::stable_sort(ranked.begin(), ranked.end(),
                       [](const MatmulTiling& a, const MatmulTiling& b) { return a.estimated_seconds < b.estimated_seconds; });
      // The best-estimated tiling of each tile width first, then the rest by estimate: the
      // cost model's largest misses go by width (a narrow tile reads its weights as short
      // strided rows, which the DRAM serves below the peak the model assumes;
      // docs/mapping.md), so the candidates span the widths before they fill by estimate.
      // A learned model ranks them by its own estimate alone.
      if (model) {
        std::vector<std::pair<double, std::size_t>> by;
        for (std::size_t i = 0; i < ranked.size(); ++i) by.push_back({learned(ranked[i]), i});
        std::stable_sort(by.begin(), by.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        std::vector<MatmulTiling> sorted;
        for (const auto& [t, i] : by) sorted.push_back(ranked[i]);
        return sorted;
      }
      std::vector<MatmulTiling> firsts, rest;
      std::vector<std::uint64_t> widths;
      for (const MatmulTiling& t : ranked) {
        const bool seen = std::find(widths.begin(), widths.end(), t.tn) != widths.end();
        (seen ? rest : firsts).push_back(t);
        if (!seen) widths.push_back(t.tn);
      }
      firsts.insert(firsts.end(), rest.begin(), rest.end());
      return firsts;
    };
    // A candidate of these sizes over `cores` cores, pinned as `tile:` would; false when one
    // of the same sizes and cores is there already.
    auto add = [&](const MatmulTiling& t, std::uint32_t cores) {
      for (const auto& c : m.candidates)
        if (same_sizes(c.tiling, t)) return false;
      WorkloadSpec pinned = alone;
      pinned.ops[0].tile = std::array<std::uint64_t, 4>{t.tm, t.tk, t.tn, cores < hw.chip.tensor_cores ? cores : 0};
      const OpPlan p = plan_workload(pinned, hw)[0];
      m.candidates.push_back({p.tiling, p.tiling.estimated_seconds, learned(p.tiling), 0, false});
      programs.push_back(std::move(pinned));
      return true;
    };
    std::uint32_t added = 0;
    for (const MatmulTiling& t : ranked_for(hw.chip.tensor_cores))
      if (added < top_k && add(t, hw.chip.tensor_cores)) ++added;
    // Fewer cores: for c = 1, 2, 4, ... below the chip's, what a chip of c cores would
    // simulate (its heuristic's tiling and its top k), each with its output blocks dealt
    // over c of these cores and the rest idle, so that more cores never lose what fewer
    // had: without it a small or memory-bound op split over every core reads its weights
    // (or its input) once per core, and 1 -> 2 cores made 9 of 1,000 random ops more than
    // 1 % slower (docs/mapping.md). Skipped where the c-core chip's estimate is over 1.5x
    // this chip's (compute-bound ops: the cost model's error is far below that).
    for (std::uint32_t c = 1; c < hw.chip.tensor_cores; c *= 2) {
      HardwareSpec fewer = hw;
      fewer.chip.tensor_cores = c;
      const MatmulTiling f = plan_workload(alone, fewer)[0].tiling;
      if (f.estimated_seconds > 1.5 * heuristic.tiling.estimated_seconds) continue;
      add(f, c);
      std::uint32_t more = 0;
      for (const MatmulTiling& t : ranked_for(c))
        if (more < top_k && add(t, c)) ++more;
    }
    r.ops.push_back(std::move(m));
  }
  r.simulations = programs.size();
  const std::vector<RunResult> results = simulate_in_children(hw, programs, SimulateOptions{}, jobs);
  std::size_t k = 0;
  for (OpMapping& m : r.ops) {
    for (MappingCandidate& c : m.candidates) {
      const RunResult& run = results[k++];
      if (!run.completed || !run.invariants_hold())
        throw std::runtime_error(fmt::format("map: the simulation of {} with tile {} did not complete", m.name,
                                             tile_text(c.tiling, hw.chip.tensor_cores)));
      c.simulated_s = run.time_s();
    }
    for (std::size_t i = 1; i < m.candidates.size(); ++i)
      if (m.candidates[i].simulated_s < m.candidates[m.best].simulated_s) m.best = i;
  }
  return r;
}

std::string map_text(const MapResult& r) {
  std::string out = fmt::format("map {} on {}: {} distinct MXU ops, up to {} candidates each beside the heuristic's{}, "
                                "{} simulations\n",
                                r.workload, r.hardware, r.ops.size(), r.top_k,
                                r.tensor_cores > 1 ? " (and as many on fewer cores)" : "", r.simulations);
  out += fmt::format("  {:<28} {:>5} {:>24} {:>11} {:>24} {:>11} {:>7}\n", "op (shape)", "x", "heuristic tile", "simulated",
                     "best tile", "simulated", "gain");
  double heuristic_total = 0, best_total = 0, abs_err = 0, learned_err = 0;
  std::size_t n = 0;
  for (const OpMapping& m : r.ops) {
    const double h = m.heuristic_s(), b = m.best_s();
    heuristic_total += h * double(m.occurrences);
    best_total += b * double(m.occurrences);
    for (const auto& c : m.candidates) {
      abs_err += std::abs(c.predicted_s - c.simulated_s) / c.simulated_s;
      learned_err += std::abs(c.learned_s - c.simulated_s) / c.simulated_s;
      ++n;
    }
    out += fmt::format("  {:<28} {:>5} {:>24} {:>8.2f} us {:>24} {:>8.2f} us {:>6.1f}%\n", m.name.substr(0, 28),
                       m.occurrences, tile_text(m.candidates.front().tiling, r.tensor_cores), h * 1e6,
                       m.best == 0 ? std::string("(the heuristic's)") : tile_text(m.candidates[m.best].tiling, r.tensor_cores), b * 1e6,
                       h > 0 ? 100 * (h - b) / h : 0.0);
  }
  out += fmt::format("  MXU ops in all (each op alone): heuristic {:.3f} ms, best found {:.3f} ms ({:.1f} % less)\n",
                     heuristic_total * 1e3, best_total * 1e3,
                     heuristic_total > 0 ? 100 * (heuristic_total - best_total) / heuristic_total : 0.0);
  out += fmt::format("  cost model: mean |predicted - simulated| / simulated over the {} candidates: {:.1f} %\n", n,
                     n ? 100 * abs_err / double(n) : 0.0);
  if (r.learned)
    out += fmt::format("  candidates ranked by the learned cost model (--model), its mean error over them: {:.1f} %\n",
                       n ? 100 * learned_err / double(n) : 0.0);
  out += "  pin a tiling on a matmul or conv2d op with `tile: [tm, tk, tn]`, or `[tm, tk, tn, cores]` (docs/mapping.md)\n";
  return out;
}

std::string map_json(const MapResult& r) {
  ordered_json j;
  j["workload"] = r.workload;
  j["hardware"] = r.hardware;
  j["top_k"] = r.top_k;
  j["simulations"] = r.simulations;
  j["learned"] = r.learned;
  ordered_json ops = ordered_json::array();
  for (const OpMapping& m : r.ops) {
    ordered_json cands = ordered_json::array();
    for (const auto& c : m.candidates)
      cands.push_back({{"tile", {c.tiling.tm, c.tiling.tk, c.tiling.tn}},
                       {"cores", c.tiling.cores},
                       {"a_resident", c.tiling.a_resident},
                       {"a_onchip", c.tiling.a_onchip},
                       {"c_onchip", c.tiling.c_onchip},
                       {"vmem_bytes", c.tiling.vmem_bytes},
                       {"hbm_read_bytes", c.tiling.hbm_read_bytes},
                       {"predicted_s", c.predicted_s},
                       {"learned_s", c.learned_s},
                       {"simulated_s", c.simulated_s},
                       {"heuristic", c.heuristic}});
    ops.push_back({{"name", m.name},
                   {"kind", m.kind},
                   {"shape", m.shape},
                   {"dtype", m.dtype},
                   {"occurrences", m.occurrences},
                   {"heuristic_s", m.heuristic_s()},
                   {"best_s", m.best_s()},
                   {"best", m.best},
                   {"candidates", cands},
                   {"search_curve", search_curve(m)}});
  }
  j["ops"] = ops;
  return j.dump(2) + "\n";
}

std::string map_csv(const MapResult& r) {
  std::string out =
      "op,shape,dtype,occurrences,candidate,tm,tk,tn,a_resident,heuristic,predicted_s,simulated_s,best_so_far_s,"
      "learned_s,hardware,m,k,n,dtype_bytes,blocks,hbm_bytes,peak_flops,hbm_Bps,cores\n";
  for (const OpMapping& m : r.ops) {
    const std::vector<double> curve = search_curve(m);
    for (std::size_t i = 0; i < m.candidates.size(); ++i) {
      const MappingCandidate& c = m.candidates[i];
      const CostSample s = sample_of(r, m, c);
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{:.9g},{:.9g},{:.9g},", csv_field(m.name), csv_field(m.shape), m.dtype,
                         m.occurrences, i, c.tiling.tm, c.tiling.tk, c.tiling.tn, c.tiling.a_resident ? 1 : 0,
                         c.heuristic ? 1 : 0, c.predicted_s, c.simulated_s, curve[i]);
      out += fmt::format("{:.9g},{},{},{},{},{},{},{},{:.9g},{:.9g},{}\n", c.learned_s, csv_field(r.hardware), s.m, s.k, s.n,
                         s.dtype_bytes, s.blocks, s.hbm_bytes, s.peak_flops, s.hbm_Bps, c.tiling.cores);
    }
  }
  return out;
}

}  // namespace podsim
