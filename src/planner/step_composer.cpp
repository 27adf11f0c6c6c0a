#include "podsim/planner/step_composer.h"

#include <algorithm>

#include <fmt/format.h>

#include "podsim/planner/step_closed_form.h"
#include "podsim/sim/collective_contention.h"
#include "podsim/sim/collective_experiment.h"
#include "podsim/net/collective_translation.h"
#include "podsim/sim/pod_schedule.h"
#include "podsim/workload/training.h"

namespace podsim {

std::string SimulatedOps::key(const Op& op) {
  return fmt::format("{}|{}|{}|{}", op.kind(), op.shape_text(), op.repeat, int(op.pass));
}

PlanCandidate StepComposer::estimate(const PlanCandidate& c, const PodLayout& L, const std::vector<StageInfo>& stages) {
  // The bucket size is searched here: it changes no program, only the gradient stream.
  PlanCandidate best = compose(c, L, stages, w_.parallelism.gradient_bucket_bytes);
  if (c.data > 1)
    for (std::uint64_t mib : {4, 16, 64, 256}) {
      PlanCandidate other = compose(c, L, stages, mib << 20);
      if (other.step_s < best.step_s * (1 - 1e-9)) best = other;
    }
  return best;
}


// The step of one candidate with one bucket size (pod_schedule.cpp's schedule, in closed
// form over the simulated durations).
PlanCandidate StepComposer::compose(const PlanCandidate& c0, const PodLayout& L, const std::vector<StageInfo>& stages,
                                    std::uint64_t bucket_bytes) {
  PlanCandidate c = c0;
  c.bucket_bytes = bucket_bytes;
  const std::uint32_t S = c.pipeline, M = c.microbatches;
  std::vector<StageTimes> st;
  std::vector<double> msg(S, 0);  // stage s -> s + 1, either way
  double sum = 0, most = 0;
  for (std::uint32_t s = 0; s < S; ++s) {
    st.push_back(stage_times(c, L, s, stages[s], bucket_bytes));
    sum += st[s].fwd + st[s].bwd;
    most = std::max(most, st[s].fwd + st[s].bwd);
    if (s + 1 < S) {
      const std::uint32_t a = L.chip(s, 0, 0), b = L.chip(s + 1, 0, 0);
      msg[s] = collective_s(CollectiveKind::send_recv, stages[s].boundary_bytes, {a, b},
                            st[s].bwd > 0 ? w_.training.compute : DType::bf16, a, b);
    }
  }
  double msgs = 0;
  for (double m : msg) msgs += 2 * m;
  // Fill and drain: every stage once each way; then one microbatch per slowest stage.
  const double pipe = sum + msgs + double(M - 1) * most;
  double step = 0, lead = 0;
  for (std::uint32_t s = 0; s < S; ++s) {
    const double bwd_end = pipe - lead;  // stage 0 ends last: the drain runs back to it
    lead += st[s].bwd + msg[s];
    const double bwd_start = bwd_end - st[s].bwd;
    double stream = bwd_end;  // gradient buckets, one after another on the chip's stream
    if (!st[s].bucket.empty()) {
      // The buckets' HBM and vector work stretch the backward ops they overlap.
      const CollectiveKind kind = c.zero ? CollectiveKind::reduce_scatter : CollectiveKind::all_reduce;
      const double d = double(c.data), ring = kind == CollectiveKind::all_reduce ? 2 * (d - 1) / d : (d - 1) / d;
      const std::uint64_t reduce_Bps = reduce_rate_Bps(hw_, gradient_dtype());
      std::vector<GradientBucket> buckets;
      for (std::size_t k = 0; k < st[s].bucket.size(); ++k) {
        const std::uint64_t bytes = st[s].bucket[k];
        const std::uint64_t moved = std::uint64_t(ring * double(bytes));
        const std::uint64_t reduced = collective_reduced_bytes(kind, bytes, c.data);
        buckets.push_back({st[s].release[k],
                           collective_s(kind, bytes, L.group(CommGroup::data, L.chip(s, 0, 0)), gradient_dtype()),
                           collective_hbm_bytes(moved, moved, reduced),
                           reduce_Bps ? std::uint64_t(double(reduced) / double(reduce_Bps) * 1e12) : 0});
      }
      const BucketStream b = gradient_bucket_stream(st[s].bwd, buckets, st[s].backward, ops_.hbm_peak_Bps);
      if (s == 0) c.contention_s = b.stretch_s;
      stream = bwd_start + b.end_s;
    }
    // ZeRO-1/2: the updated shares are all-gathered before the next step (pod_schedule.cpp).
    const double gather = c.zero && c.zero < 3 ? collective_s(CollectiveKind::all_gather, st[s].params * dtype_bytes(w_.training.compute),
                                                L.group(CommGroup::data, L.chip(s, 0, 0)), w_.training.compute)
                                 : 0.0;
    step = std::max(step, stream + st[s].upd + gather);
    if (s == 0) {
      c.stage_compute_s = double(M) * (st[0].fwd + st[0].bwd);
      c.tensor_comm_s = double(M) * st[0].tensor;
      c.exposed_grad_s = stream - bwd_end;
      c.optimizer_s = st[0].upd;
      c.exposed_grad_s += gather;  // on the critical path after the update
    }
  }
  c.step_s = step;
  c.bubble_s = pipe - double(M) * most;
  c.estimated = true;
  return c;
}

StepComposer::StageTimes StepComposer::stage_times(const PlanCandidate& c, const PodLayout& L, std::uint32_t s,
                                                   const StageInfo& st, std::uint64_t bucket_bytes) {
  StageTimes out;
  const std::uint32_t chip = L.chip(s, 0, 0);
  const DType gdt = st.expanded().parallelism.gradient_dtype.value_or(st.expanded().training.compute);
  std::uint64_t acc = 0;
  std::size_t k = 0;
  // ZeRO-3: each pass gathers weights before the ops that read them (step_closed_form.h).
  const std::vector<Op>& ops = st.expanded().ops;
  const DType cdt = st.expanded().training.compute;
  std::vector<GatherPrefetch::Gather> gathers;
  if (st.expanded().training.shard_weights)
    for (Op::Pass pass : {Op::Pass::forward, Op::Pass::backward}) {
      std::vector<std::size_t> in_pass;
      for (std::size_t i = 0; i < ops.size(); ++i)
        if (ops[i].pass == pass) in_pass.push_back(i);
      for (std::size_t i : weight_gather_points(ops, in_pass)) {
        const std::uint64_t bytes = ops[i].weight_elements * dtype_bytes(cdt);
        gathers.push_back({i, int(pass), collective_s(CollectiveKind::all_gather, bytes, L.group(CommGroup::data, chip), cdt),
                           2 * (double(c.data) - 1) / double(c.data) * double(bytes)});
      }
    }
  GatherPrefetch prefetch(std::move(gathers), double(hw_.chip.hbm.bandwidth_Bps));
  Op::Pass pass_now = Op::Pass::update;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    double& clock = op.pass == Op::Pass::forward ? out.fwd : op.pass == Op::Pass::backward ? out.bwd : out.upd;
    if (op.pass != pass_now) {
      pass_now = op.pass;
      prefetch.begin_pass(int(op.pass));
    }
    clock = prefetch.before_op(i, int(op.pass), clock);
    double dt = 0;
    if (const auto* co = std::get_if<CollectiveOp>(&op.body)) {
      if (!co->forward) continue;
      dt = collective_s(co->kind, co->bytes, L.group(co->group, chip), co->dtype);
      out.tensor += dt;
    } else {
      const std::string& key = st.op_keys().at(k++);
      dt = prefetch.stretched(clock, ops_.seconds.at(key), ops_.hbm_bytes.at(key));
    }
    if (op.pass == Op::Pass::backward && !std::get_if<CollectiveOp>(&op.body)) {
      OpWindow w;
      w.start_ps = std::uint64_t(clock * 1e12);
      w.end_ps = std::uint64_t((clock + dt) * 1e12);
      w.alone_ps = w.end_ps - w.start_ps;
      w.hbm_bytes = std::uint64_t(ops_.hbm_bytes.at(st.op_keys().at(k - 1)));
      w.vpu_ps = std::uint64_t(ops_.vpu_s.at(st.op_keys().at(k - 1)) * 1e12);
      out.backward.push_back(w);
    }
    clock += dt;
    out.params += op.gradient_elements;
    if (op.pass != Op::Pass::backward || c.data == 1 || op.gradient_elements == 0) continue;
    acc += op.gradient_elements * dtype_bytes(gdt);
    if (acc >= bucket_bytes) {
      out.release.push_back(out.bwd);
      out.bucket.push_back(acc);
      acc = 0;
    }
  }
  if (acc > 0) {
    out.release.push_back(out.bwd);
    out.bucket.push_back(acc);
  }
  return out;
}


// One collective on the pod's otherwise idle network, in seconds.
double StepComposer::collective_s(CollectiveKind kind, std::uint64_t bytes, std::vector<std::uint32_t> group,
                                  DType dtype, std::uint32_t root, std::uint32_t peer) {
  if (bytes == 0 || group.size() < 2) return 0;
  CollectiveSpec spec;
  spec.kind = kind;
  spec.bytes = bytes;
  spec.root = root;
  spec.peer = peer;
  spec.group = std::move(group);
  spec = translated_to_origin(topo_, spec);  // translates of one group: one simulation
  std::string key = fmt::format("{}:{}:{}:{}:{}", int(kind), bytes, int(dtype), spec.root, spec.peer);
  for (std::uint32_t c : spec.group) key += fmt::format(",{}", c);
  auto it = collective_s_.find(key);
  if (it != collective_s_.end()) return it->second;
  spec.reduce_Bps = reduce_rate_Bps(hw_, dtype);
  const double s = run_collective_experiment(hw_, spec, dtype).result.time_s();
  return collective_s_.emplace(key, s).first->second;
}

}  // namespace podsim
