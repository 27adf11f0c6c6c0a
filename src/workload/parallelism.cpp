#include "podsim/workload/parallelism.h"

#include <fmt/format.h>

#include "podsim/config/config_error.h"
#include "podsim/workload/composite.h"
#include "podsim/workload/overloaded.h"

namespace podsim {
namespace {


// Whether a pipeline may cut right before op i: never in front of a forward collective (it
// belongs to the op before it) nor right after a backward-only one (Megatron's f: it
// belongs to the op after it).
bool can_cut_before(const std::vector<Op>& ops, std::size_t i) {
  if (i == 0 || i >= ops.size()) return false;
  if (const auto* c = std::get_if<CollectiveOp>(&ops[i].body); c && c->forward) return false;
  if (const auto* c = std::get_if<CollectiveOp>(&ops[i - 1].body); c && !c->forward) return false;
  return true;
}

std::uint64_t weight_of(const Op& op) {
  // MACs, plus a little for vector work so that MAC-free stretches still spread out.
  return op.macs_once() * op.repeat + op.vector_elements_once() * op.repeat / 64 + 1;
}

}  // namespace

std::vector<std::uint32_t> PodLayout::group(CommGroup g, std::uint32_t c) const {
  std::vector<std::uint32_t> out;
  switch (g) {
    case CommGroup::all:
      for (std::uint32_t i = 0; i < chips; ++i) out.push_back(i);
      break;
    case CommGroup::tensor:
      for (std::uint32_t t = 0; t < tensor; ++t) out.push_back(chip(stage(c), data_rank(c), t));
      break;
    case CommGroup::data:
      for (std::uint32_t d = 0; d < data; ++d) out.push_back(chip(stage(c), d, tensor_rank(c)));
      break;
  }
  return out;
}

PodLayout resolve_layout(const ParallelismSpec& p, std::uint32_t chips) {
  PodLayout l;
  l.chips = chips;
  l.tensor = std::uint32_t(p.tensor);
  l.pipeline = std::uint32_t(p.pipeline);
  l.microbatches = std::uint32_t(p.microbatches);
  l.expert = p.expert;
  l.one_f_one_b = p.one_f_one_b;
  const std::uint64_t tp = p.tensor * p.pipeline;
  if (chips % tp != 0)
    throw ConfigError(p.where, "workload.parallelism",
                      fmt::format("tensor {} x pipeline {} = {} does not divide the pod's {} chips", p.tensor,
                                  p.pipeline, tp, chips));
  l.data = std::uint32_t(p.data ? p.data : chips / tp);
  if (std::uint64_t(l.data) * tp != chips)
    throw ConfigError(p.where, "workload.parallelism.data",
                      fmt::format("data {} x tensor {} x pipeline {} = {} chips, but the pod has {} ({}): set data "
                                  "to {}, leave it out, or change pod.dims",
                                  l.data, p.tensor, p.pipeline, std::uint64_t(l.data) * tp, chips, chips, chips / tp));
  return l;
}

void check_single_stage(const WorkloadSpec& workload) {
  bool staged = false;
  for (const Op& op : workload.ops) staged = staged || (op.stage && *op.stage > 0);
  if (staged) split_stages(expand_templates(workload).ops, 1, workload.parallelism.where);  // throws
}

std::uint64_t output_bytes(const Op& op) {
  const std::uint64_t b = dtype_bytes(op.dtype());
  return op.repeat * std::visit(
                         Overloaded{[&](const MatmulOp& m) -> std::uint64_t { return m.m * m.n * b; },
                                    [&](const Conv2dOp& c) -> std::uint64_t { return c.n * c.h_out() * c.w_out() * c.c_out * b; },
                                    [&](const VectorOp& v) -> std::uint64_t { return v.rows * v.cols * b; },
                                    [&](const EmbeddingOp& e) -> std::uint64_t { return e.batch * e.dim * b; },
                                    [&](const AttentionOp& a) -> std::uint64_t {
                                      return a.batch * a.heads * a.queries() * a.head_dim * b;
                                    },
                                    [&](const MoeOp& m) -> std::uint64_t { return m.tokens * m.d_model * b; },
                                    [&](const TemplateOp&) -> std::uint64_t { return 0; },
                                    [&](const CollectiveOp&) -> std::uint64_t { return 0; }},
                         op.body);
}

WorkloadSpec shard_tensor_parallel(const WorkloadSpec& w, std::uint32_t T) {
  WorkloadSpec out = w;
  out.ops.clear();
  auto divide = [&](const Op& op, std::uint64_t& dim, const char* what) {
    if (dim % T != 0)
      throw ConfigError(op.where, "workload.parallelism.tensor",
                        fmt::format("op '{}' is split by {} over {} chips, but its {} ({}) does not divide by {}",
                                    op.name, shard_name(op.shard), T, what, dim, T));
    dim /= T;
  };
  auto all_reduce = [&](const Op& op, const char* suffix, std::uint64_t bytes, bool forward) {
    Op c;
    c.name = op.name + suffix;
    c.where = op.where;
    c.frozen = op.frozen;
    c.stage = op.stage;
    CollectiveOp body;
    body.kind = CollectiveKind::all_reduce;
    body.bytes = bytes;
    body.group = CommGroup::tensor;
    body.forward = forward;
    if (!forward) body.backward = CollectiveKind::all_reduce;
    body.dtype = op.dtype();
    c.body = body;
    return c;
  };
  for (Op op : w.ops) {
    if (T == 1 || op.shard == Shard::none) {
      out.ops.push_back(std::move(op));
      continue;
    }
    if (auto* m = std::get_if<MatmulOp>(&op.body)) {
      const std::uint64_t b = dtype_bytes(m->dtype) * op.repeat;
      if (op.shard == Shard::column) {
        // f: the input is already on every chip; its gradient is summed in the backward pass.
        out.ops.push_back(all_reduce(op, ".tp_f", m->m * m->k * b, false));
        divide(op, m->n, "n");
        out.ops.push_back(std::move(op));
      } else {
        divide(op, m->k, "k");
        const std::uint64_t bytes = m->m * m->n * b;
        out.ops.push_back(op);
        out.ops.push_back(all_reduce(op, ".tp_g", bytes, true));  // g: partial sums added up
      }
    } else if (auto* v = std::get_if<VectorOp>(&op.body)) {
      divide(op, v->cols, "cols");
      if (v->out_cols) divide(op, v->out_cols, "output cols");  // a gated activation's d_ff
      out.ops.push_back(std::move(op));
    } else if (auto* m = std::get_if<MoeOp>(&op.body)) {
      // Each chip holds every expert's slice of d_ff (as a dense FFN split column then row;
      // the router and the dispatch run whole on every chip): Megatron's f before the
      // layer (its input gradient summed in the backward pass) and g after it.
      const std::uint64_t bytes = m->tokens * m->d_model * dtype_bytes(m->dtype) * op.repeat;
      out.ops.push_back(all_reduce(op, ".tp_f", bytes, false));
      divide(op, m->d_ff, "d_ff");
      out.ops.push_back(op);
      out.ops.push_back(all_reduce(op, ".tp_g", bytes, true));
    } else if (auto* a = std::get_if<AttentionOp>(&op.body)) {
      divide(op, a->heads, "heads");
      // K/V heads split too; with fewer K/V heads than chips each chip keeps the one its
      // query heads share (replicated, as Megatron does for grouped-query attention).
      if (a->kv_heads != 0) {
        if (a->kv_heads % T == 0)
          a->kv_heads /= T;
        else if (T % a->kv_heads == 0)
          a->kv_heads = 1;
        else
          throw ConfigError(op.where, "workload.parallelism.tensor",
                            fmt::format("op '{}' is split by heads over {} chips, but its kv_heads ({}) neither "
                                        "divides by {} nor divides it",
                                        op.name, T, a->kv_heads, T));
      }
      out.ops.push_back(std::move(op));
    } else {
      out.ops.push_back(std::move(op));
    }
  }
  return out;
}

namespace {

// Stages given by hand (`stage:` on ops; an op without one stays in the stage before it).
std::vector<std::pair<std::size_t, std::size_t>> explicit_stages(const std::vector<Op>& ops, std::uint32_t S,
                                                                const SourceLocation& where) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::uint32_t current = 0;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const std::uint32_t s = ops[i].stage.value_or(current);
    if (s >= S)
      throw ConfigError(ops[i].where, "workload.ops.stage",
                        fmt::format("op '{}' is in stage {}, but the pipeline has stages 0 to {}", ops[i].name, s, S - 1));
    if (s < current || (i == 0 && s != 0) || s > current + 1 || (s == current + 1 && i == 0))
      throw ConfigError(ops[i].where, "workload.ops.stage",
                        fmt::format("op '{}' is in stage {} after an op of stage {}: stages run 0, 1, 2, ... in op "
                                    "order, each with at least one op",
                                    ops[i].name, s, current));
    if (s == current + 1) {
      if (!can_cut_before(ops, i))
        throw ConfigError(ops[i].where, "workload.ops.stage",
                          fmt::format("op '{}' cannot start a stage: it is split from its tensor-parallel collective",
                                      ops[i].name));
      out.push_back({out.empty() ? 0 : out.back().second, i});
      current = s;
    }
  }
  out.push_back({out.empty() ? 0 : out.back().second, ops.size()});
  if (out.size() != S)
    throw ConfigError(where, "workload.parallelism.pipeline",
                      fmt::format("{} stages, but the ops' `stage:` fields give {}", S, out.size()));
  return out;
}

}  // namespace

std::vector<std::pair<std::size_t, std::size_t>> split_stages(const std::vector<Op>& ops, std::uint32_t S,
                                                             const SourceLocation& where) {
  for (const Op& op : ops)
    if (op.stage) return explicit_stages(ops, S, where);
  // Where a stage may start: anywhere an op does not belong to the op before it; better,
  // where a template's layer starts ("layer3.qkv" after "layer2.norm2"), when there are
  // enough of those.
  auto layer = [](const Op& op) { return op.name.substr(0, op.name.find('.')); };
  std::vector<bool> allowed(ops.size() + 1, false), layer_start(ops.size() + 1, false);
  std::size_t cuts_possible = 0, layer_cuts = 0;
  for (std::size_t i = 1; i < ops.size(); ++i) {
    allowed[i] = can_cut_before(ops, i);
    layer_start[i] = allowed[i] && layer(ops[i]) != layer(ops[i - 1]) && ops[i].name.find('.') != std::string::npos;
    cuts_possible += allowed[i];
    layer_cuts += layer_start[i];
  }
  if (S > cuts_possible + 1)
    throw ConfigError(where, "workload.parallelism.pipeline",
                      fmt::format("{} stages, but the workload has only {} places to cut between its ops", S,
                                  cuts_possible + 1));
  if (layer_cuts + 1 >= S) allowed = layer_start;
  long double total = 0;
  for (const Op& op : ops) total += weight_of(op);
  // allowed_from[j]: cut points at j and after (below ops.size()); one pass, not one per op
  // (the planner splits a 96-layer model thousands of times).
  std::vector<std::size_t> allowed_from(ops.size() + 2, 0);
  for (std::size_t j = ops.size(); j-- > 0;) allowed_from[j] = allowed_from[j + 1] + (allowed[j] ? 1 : 0);
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t first = 0;
  long double done = 0;
  for (std::size_t i = 0; i < ops.size() && out.size() + 1 < S; ++i) {
    done += weight_of(ops[i]);
    // Cut once this stage has its share, keeping enough cut points for the stages left.
    const std::size_t left = i + 2 < ops.size() ? allowed_from[i + 2] : 0;
    const bool must = left + 1 < S - out.size() - 1;
    if (allowed[i + 1] && (done >= total * (out.size() + 1) / S || must)) {
      out.push_back({first, i + 1});
      first = i + 1;
    }
  }
  out.push_back({first, ops.size()});
  return out;
}

WorkloadSpec sharded_program(const WorkloadSpec& workload, std::uint32_t tensor) {
  return shard_tensor_parallel(expand_templates(workload), tensor);
}

ChipPrograms chip_programs(const WorkloadSpec& workload, const PodLayout& layout, const WorkloadSpec* sharded) {
  const WorkloadSpec own = sharded ? WorkloadSpec{} : sharded_program(workload, layout.tensor);
  const WorkloadSpec& flat = sharded ? *sharded : own;
  const auto stages = split_stages(flat.ops, layout.pipeline, workload.parallelism.where);
  WorkloadSpec shell = flat;
  shell.ops.clear();
  // The chip programs keep the workload's own settings (ZeRO's among them), whatever
  // `sharded` was built from.
  shell.training = workload.training;
  shell.parallelism = workload.parallelism;
  ChipPrograms out;
  bool has_moe = false;
  for (const Op& op : flat.ops) has_moe = has_moe || std::holds_alternative<MoeOp>(op.body);
  const bool per_rank = layout.expert && has_moe && layout.data > 1;
  if (layout.expert)
    for (const Op& op : flat.ops)
      if (const auto* m = std::get_if<MoeOp>(&op.body); m && m->experts % layout.data != 0)
        throw ConfigError(op.where, "workload.parallelism.expert",
                          fmt::format("op '{}' has {} experts, which do not spread evenly over the {} data-parallel chips",
                                      op.name, m->experts, layout.data));
  for (std::uint32_t s = 0; s < layout.pipeline; ++s) {
    std::uint64_t boundary = 0;
    for (std::size_t i = stages[s].second; i-- > stages[s].first;)
      if (!std::holds_alternative<CollectiveOp>(flat.ops[i].body)) {
        boundary = output_bytes(flat.ops[i]);
        break;
      }
    out.boundary_bytes.push_back(s + 1 < layout.pipeline ? boundary : 0);
    for (std::uint32_t d = 0; d < (per_rank ? layout.data : 1); ++d) {
      WorkloadSpec p = shell;  // the stage's ops only (not a copy of all, then cut)
      p.ops.assign(flat.ops.begin() + std::ptrdiff_t(stages[s].first), flat.ops.begin() + std::ptrdiff_t(stages[s].second));
      if (per_rank)
        for (Op& op : p.ops)
          if (auto* m = std::get_if<MoeOp>(&op.body)) {
            m->ep_size = layout.data;
            m->ep_rank = d;
          }
      if (layout.pipeline > 1) p.name = fmt::format("{} (stage {})", workload.name, s);
      if (workload.parallelism.zero >= 1 && layout.data > 1) {  // ZeRO: each data rank keeps and updates 1/data
        p.training.state_shards = layout.data;
        if (workload.parallelism.zero >= 2) p.training.gradient_shards = layout.data;
        p.training.shard_weights = workload.parallelism.zero >= 3;
      }
      out.programs.push_back(std::move(p));
    }
  }
  out.program_of.resize(layout.chips);
  for (std::uint32_t c = 0; c < layout.chips; ++c)
    out.program_of[c] = layout.stage(c) * (per_rank ? layout.data : 1) + (per_rank ? layout.data_rank(c) : 0);
  return out;
}

}  // namespace podsim
