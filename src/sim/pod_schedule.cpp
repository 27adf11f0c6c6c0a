#include "podsim/sim/pod_schedule.h"

#include <algorithm>
#include <functional>
#include <map>

#include <fmt/format.h>

#include "podsim/sim/collective_experiment.h"
#include "podsim/sim/simulate.h"
#include "podsim/workload/training.h"

namespace podsim {
namespace {

// Builds every chip's schedule and the collective instances (see pod_simulate.h).
class Planner {
 public:
  Planner(const HardwareSpec& hw, PodPlan& plan) : hw_(hw), plan_(plan) {}

  void build() {
    const PodLayout& L = plan_.layout;
    for (const WorkloadSpec& p : plan_.programs.programs) plan_.expanded.push_back(expand_workload(p));
    plan_.schedule.resize(L.chips);
    for (std::uint32_t c = 0; c < L.chips; ++c) build_chip(c);
  }

 private:
  std::uint32_t instance(const std::string& key, const std::function<CollectiveInstance()>& make) {
    auto it = ids_.find(key);
    if (it != ids_.end()) return it->second;
    const auto id = std::uint32_t(plan_.instances.size());
    plan_.instances.push_back(make());
    ids_.emplace(key, id);
    return id;
  }

  std::uint64_t reduce_rate(DType t) const { return reduce_rate_Bps(hw_, t); }

  void build_chip(std::uint32_t c) {
    const PodLayout& L = plan_.layout;
    const std::uint32_t prog = plan_.programs.program_of[c];
    const WorkloadSpec& w = plan_.expanded[prog];
    std::vector<ScheduleItem>& items = plan_.schedule[c];
    const std::uint32_t s = L.stage(c), d = L.data_rank(c), t = L.tensor_rank(c);

    // Simulated-op index of each op (collectives are not simulated).
    std::vector<std::int64_t> sim_index(w.ops.size(), -1);
    std::vector<std::size_t> fwd, bwd, upd;
    for (std::size_t i = 0, k = 0; i < w.ops.size(); ++i) {
      if (!std::holds_alternative<CollectiveOp>(w.ops[i].body)) sim_index[i] = std::int64_t(k++);
      (w.ops[i].pass == Op::Pass::forward ? fwd : w.ops[i].pass == Op::Pass::backward ? bwd : upd).push_back(i);
    }

    // Gradient buckets of the data group: in backward order, released by the op completing each.
    const DType gdt = w.parallelism.gradient_dtype.value_or(w.training.compute);
    std::vector<std::size_t> bucket_end;  // op index that closes each bucket
    std::vector<std::uint64_t> bucket_size;
    if (w.training.enabled && L.data > 1) {
      std::uint64_t acc = 0;
      std::size_t last = 0;
      for (std::size_t i : bwd) {
        if (w.ops[i].gradient_elements == 0) continue;
        acc += w.ops[i].gradient_elements * dtype_bytes(gdt);
        last = i;
        if (acc >= w.parallelism.gradient_bucket_bytes) {
          bucket_end.push_back(i);
          bucket_size.push_back(acc);
          acc = 0;
        }
      }
      if (acc > 0) {
        bucket_end.push_back(last);
        bucket_size.push_back(acc);
      }
    }
    if (c == 0) {
      for (const Op& op : w.ops) plan_.gradient_bytes_chip0 += op.gradient_elements * dtype_bytes(gdt);
      for (auto b : bucket_size) plan_.bucket_bytes_chip0 += b;
    }
    const std::uint32_t data_leader = L.group_leader(CommGroup::data, c);
    const bool zero = w.training.state_shards > 1;

    // The ops of one pass of one microbatch; `last_backward` releases the gradient buckets.
    // ZeRO-3: before an op that reads weights, the data group all-gathers them (in the
    // compute type); the gather for the next such op is issued as this one starts, so it
    // overlaps the op (one op of prefetch, as FSDP's). A layer's recompute and dX share one
    // gather in the backward pass. Every microbatch gathers again (the gathered weights are
    // freed after use).
    const DType cdt = w.training.compute;
    auto weight_gather = [&](std::size_t i, std::uint32_t mb) {
      return instance(fmt::format("wgather:{}:{}:{}", data_leader, mb, i), [&] {
        CollectiveInstance in;
        in.name = fmt::format("weight_gather {}{}", weight_owner(w.ops[i].name),
                              L.microbatches > 1 ? fmt::format(" mb{}", mb) : "");
        in.spec.kind = CollectiveKind::all_gather;
        in.spec.bytes = w.ops[i].weight_elements * dtype_bytes(cdt);
        in.spec.group = L.group(CommGroup::data, c);
        return in;
      });
    };
    auto run_ops = [&](const std::vector<std::size_t>& ops, std::uint32_t mb, bool last_backward) {
      const std::vector<std::size_t> gathers =
          w.training.shard_weights ? weight_gather_points(w.ops, ops) : std::vector<std::size_t>{};
      std::size_t next_gather = 0;
      if (!gathers.empty()) items.push_back({ScheduleItem::issue, weight_gather(gathers[0], mb)});
      std::size_t ordinal = 0;
      for (std::size_t i : ops) {
        const Op& op = w.ops[i];
        if (next_gather < gathers.size() && gathers[next_gather] == i) {
          // Waited first: the next gather starts once this one is done and the op before
          // has ended, i.e. as this op starts.
          items.push_back({ScheduleItem::wait, weight_gather(i, mb)});
          if (next_gather + 1 < gathers.size())
            items.push_back({ScheduleItem::issue, weight_gather(gathers[next_gather + 1], mb)});
          ++next_gather;
        }
        if (const auto* co = std::get_if<CollectiveOp>(&op.body)) {
          if (!co->forward) continue;  // inference: Megatron's f does nothing in the forward pass
          const std::string key =
              fmt::format("op:{}:{}:{}:{}", L.group_leader(co->group, c), mb, int(op.pass), ordinal++);
          const std::uint32_t id = instance(key, [&] {
            CollectiveInstance in;
            in.name = fmt::format("{}{}", op.name, L.microbatches > 1 ? fmt::format(" mb{}", mb) : "");
            in.spec.kind = co->kind;
            in.spec.bytes = co->bytes;
            in.spec.group = L.group(co->group, c);
            in.spec.weights = co->weights;
            in.spec.sender_bytes = co->sender_bytes;
            in.spec.reduce_Bps = reduce_rate(co->dtype);
            return in;
          });
          items.push_back({ScheduleItem::issue, id});
          items.push_back({ScheduleItem::wait, id});
          continue;
        }
        items.push_back({ScheduleItem::compute, std::uint32_t(sim_index[i])});
        if (!last_backward) continue;
        for (std::size_t b = 0; b < bucket_end.size(); ++b) {
          if (bucket_end[b] != i) continue;
          const std::uint32_t id = instance(fmt::format("grad:{}:{}", data_leader, b), [&] {
            CollectiveInstance in;
            in.name = fmt::format("grad_bucket{}{}", b,
                                  L.pipeline > 1 || L.tensor > 1 ? fmt::format(" (stage {}, tensor rank {})", s, t) : "");
            // ZeRO: each data rank needs only its share of the reduced gradients.
            in.spec.kind = zero ? CollectiveKind::reduce_scatter : CollectiveKind::all_reduce;
            in.spec.bytes = bucket_size[b];
            in.spec.group = L.group(CommGroup::data, c);
            in.spec.reduce_Bps = reduce_rate(gdt);
            in.async = true;
            return in;
          });
          items.push_back({ScheduleItem::issue, id});
          grad_ids_.push_back(id);
        }
      }
    };
    auto send = [&](const char* dir, std::uint32_t from_stage, std::uint32_t to_stage, std::uint32_t mb) {
      const std::uint32_t src = L.chip(from_stage, d, t), dst = L.chip(to_stage, d, t);
      const std::uint32_t boundary = std::min(from_stage, to_stage);
      return instance(fmt::format("p2p:{}:{}:{}", dir, src, mb), [&] {
        CollectiveInstance in;
        in.name = fmt::format("{} stage {}->{} mb{}", dir, from_stage, to_stage, mb);
        in.spec.kind = CollectiveKind::send_recv;
        in.spec.bytes = plan_.programs.boundary_bytes[boundary];
        in.spec.root = src;
        in.spec.peer = dst;
        in.spec.group = {std::min(src, dst), std::max(src, dst)};
        in.p2p = true;
        return in;
      });
    };

    grad_ids_.clear();
    const std::uint32_t S = L.pipeline, M = L.microbatches;
    const bool training = !bwd.empty();
    auto forward = [&](std::uint32_t mb) {
      if (s > 0) items.push_back({ScheduleItem::wait, send("activations", s - 1, s, mb)});
      run_ops(fwd, mb, false);
      if (s + 1 < S) items.push_back({ScheduleItem::issue, send("activations", s, s + 1, mb)});
    };
    auto backward = [&](std::uint32_t mb, bool last) {
      if (s + 1 < S) items.push_back({ScheduleItem::wait, send("gradients", s + 1, s, mb)});
      run_ops(bwd, mb, last);
      if (s > 0) items.push_back({ScheduleItem::issue, send("gradients", s, s - 1, mb)});
    };
    if (!training) {
      for (std::uint32_t mb = 0; mb < M; ++mb) forward(mb);
    } else if (!L.one_f_one_b) {  // GPipe: every forward, then every backward
      for (std::uint32_t mb = 0; mb < M; ++mb) forward(mb);
      for (std::uint32_t mb = 0; mb < M; ++mb) backward(mb, mb + 1 == M);
    } else {  // 1F1B: S - s - 1 forwards to fill the pipe, then one forward, one backward
      const std::uint32_t warm = std::min(S - s - 1, M);
      for (std::uint32_t mb = 0; mb < warm; ++mb) forward(mb);
      for (std::uint32_t mb = 0; mb < M; ++mb) {
        if (warm + mb < M) forward(warm + mb);
        backward(mb, mb + 1 == M);
      }
    }
    // The optimizer needs every reduced gradient.
    for (std::uint32_t id : grad_ids_) items.push_back({ScheduleItem::wait, id});
    run_ops(upd, 0, false);
    if (zero && training && !w.training.shard_weights) {
      // ZeRO: each rank updated its share; the data group gathers the new weights, in the
      // compute type, before the next step's forward pass.
      std::uint64_t params = 0;
      for (const Op& op : w.ops) params += op.gradient_elements;
      const std::uint32_t id = instance(fmt::format("gather:{}", data_leader), [&] {
        CollectiveInstance in;
        in.name = fmt::format("weight_all_gather{}",
                              L.pipeline > 1 || L.tensor > 1 ? fmt::format(" (stage {}, tensor rank {})", s, t) : "");
        in.spec.kind = CollectiveKind::all_gather;
        in.spec.bytes = params * dtype_bytes(cdt);
        in.spec.group = L.group(CommGroup::data, c);
        return in;
      });
      items.push_back({ScheduleItem::issue, id});
      items.push_back({ScheduleItem::wait, id});
    }
  }

  const HardwareSpec& hw_;
  PodPlan& plan_;
  std::map<std::string, std::uint32_t> ids_;
  std::vector<std::uint32_t> grad_ids_;
};

// Runs the plan's schedules on the network with the chips' simulated op durations.

}  // namespace

PodPlan plan_pod(const HardwareSpec& hw, const WorkloadSpec& workload) {
  PodPlan plan;
  plan.name = workload.name;
  plan.layout = resolve_layout(workload.parallelism, std::uint32_t(hw.pod.chips()));
  plan.programs = chip_programs(workload, plan.layout);
  Planner(hw, plan).build();
  return plan;
}

std::string program_shape_key(const WorkloadSpec& w) {
  std::string key;
  for (const Op& op : w.ops) key += fmt::format("{}|{}|{}|{}\n", op.kind(), op.shape_text(), op.repeat, int(op.pass));
  return key;
}

}  // namespace podsim
