// The passes that spread a workload over a pod (workload/parallelism.h): layouts, Megatron
// sharding and its collectives, pipeline stages, expert placement.
#include <gtest/gtest.h>

#include <tuple>

#include "podsim/compiler/workload_plan.h"
#include "podsim/config/config_error.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/config/workload_loader.h"
#include "podsim/workload/composite.h"
#include "podsim/workload/parallelism.h"
#include "podsim/sim/simulate.h"
#include "podsim/workload/training.h"

namespace podsim {
namespace {

WorkloadSpec load(const std::string& text) { return load_workload_text(text, "p.yaml"); }

const std::string kEncoder =
    "workload:\n"
    "  ops:\n"
    "    - {op: template, template: transformer_encoder, name: l, batch: 2, seq: 128, d_model: 512, heads: 8, "
    "d_ff: 2048, dtype: bf16}\n";

std::vector<const CollectiveOp*> collectives(const WorkloadSpec& w, std::vector<std::string>* names = nullptr) {
  std::vector<const CollectiveOp*> out;
  for (const Op& op : w.ops)
    if (const auto* c = std::get_if<CollectiveOp>(&op.body)) {
      out.push_back(c);
      if (names) names->push_back(op.name);
    }
  return out;
}

TEST(PodLayout, RanksAndGroups) {
  ParallelismSpec p;
  p.tensor = 2;
  p.pipeline = 2;
  const PodLayout l = resolve_layout(p, 16);
  EXPECT_EQ(l.data, 4u);  // 16 / (2 x 2)
  // chip = (stage x data + d) x tensor + t
  EXPECT_EQ(l.chip(1, 3, 1), 15u);
  EXPECT_EQ(l.stage(15), 1u);
  EXPECT_EQ(l.data_rank(15), 3u);
  EXPECT_EQ(l.tensor_rank(15), 1u);
  EXPECT_EQ(l.group(CommGroup::tensor, 5), (std::vector<std::uint32_t>{4, 5}));
  EXPECT_EQ(l.group(CommGroup::data, 5), (std::vector<std::uint32_t>{1, 3, 5, 7}));
  p.data = 3;
  EXPECT_THROW(resolve_layout(p, 16), ConfigError);
  p.data = 0;
  p.tensor = 3;
  EXPECT_THROW(resolve_layout(p, 16), ConfigError);
}

TEST(TensorParallel, MegatronShardsAndCollectives) {
  const WorkloadSpec full = expand_templates(load(kEncoder));
  const WorkloadSpec tp = shard_tensor_parallel(full, 4);
  std::vector<std::string> names;
  const auto cs = collectives(tp, &names);
  // f before QKV and FFN1 (backward only), g after the output projection and FFN2.
  ASSERT_EQ(cs.size(), 4u);
  EXPECT_EQ(names, (std::vector<std::string>{"l.qkv.tp_f", "l.out_proj.tp_g", "l.ffn1.tp_f", "l.ffn2.tp_g"}));
  const std::uint64_t tokens = 2 * 128, act = tokens * 512 * 2;  // bf16 activations
  for (const CollectiveOp* c : cs) {
    EXPECT_EQ(c->bytes, act);
    EXPECT_EQ(c->group, CommGroup::tensor);
    EXPECT_EQ(c->kind, CollectiveKind::all_reduce);
  }
  EXPECT_FALSE(cs[0]->forward);
  EXPECT_TRUE(cs[1]->forward);
  // Every sharded op does a quarter of the work; the rest (norms, residuals) is replicated.
  std::uint64_t full_macs = 0, tp_macs = 0;
  for (const Op& op : expand_composites(full).ops) full_macs += op.macs_once() * op.repeat;
  for (const Op& op : expand_composites(tp).ops) tp_macs += op.macs_once() * op.repeat;
  EXPECT_EQ(tp_macs * 4, full_macs);
  // Training: the forward runs the g all-reduces, the backward the f ones (dX of QKV, FFN1).
  WorkloadSpec train = tp;
  train.training.enabled = true;
  const WorkloadSpec steps = expand_training(expand_composites(train));
  std::vector<std::string> step_names;
  collectives(steps, &step_names);
  EXPECT_EQ(step_names, (std::vector<std::string>{"l.out_proj.tp_g", "l.ffn2.tp_g", "l.ffn1.tp_f.grad", "l.qkv.tp_f.grad"}));
}

TEST(TensorParallel, EveryExpertSplitsItsFeedForwardAndTheLayerIsAllReduced) {
  // A decoder layer whose FFN is 8 SwiGLU experts (top 2) over 4 chips: each chip holds a
  // quarter of every expert's d_ff (the router whole), its output partial sums are
  // all-reduced after the layer (g) and its input gradient in the backward pass (f).
  const std::string text =
      "workload:\n  ops:\n"
      "    - {op: template, template: transformer_decoder, name: d, batch: 4, seq: 64, d_model: 512, heads: 8, "
      "d_ff: 1024, layers: 1, experts: 8, top_k: 2, ffn: swiglu, norm: rmsnorm, dtype: bf16}\n";
  const WorkloadSpec full = expand_templates(load(text));
  const WorkloadSpec tp = shard_tensor_parallel(full, 4);
  std::vector<std::string> names;
  const auto cs = collectives(tp, &names);
  EXPECT_EQ(names, (std::vector<std::string>{"d.qkv.tp_f", "d.out_proj.tp_g", "d.moe.tp_f", "d.moe.tp_g"}));
  ASSERT_EQ(cs.size(), 4u);
  EXPECT_EQ(cs[3]->bytes, 4u * 64 * 512 * 2);  // the layer's bf16 output
  EXPECT_TRUE(cs[3]->forward);
  EXPECT_FALSE(cs[2]->forward);
  std::uint64_t full_experts = 0, tp_experts = 0, full_router = 0, tp_router = 0;
  const WorkloadSpec fx = expand_composites(full), tx = expand_composites(tp);
  for (const Op& op : fx.ops) (op.moe_expert ? full_experts : full_router) += op.name.find("moe.") != std::string::npos ? op.macs_once() : 0;
  for (const Op& op : tx.ops) (op.moe_expert ? tp_experts : tp_router) += op.name.find("moe.") != std::string::npos ? op.macs_once() : 0;
  EXPECT_EQ(tp_experts * 4, full_experts);  // a quarter of every expert's work
  EXPECT_EQ(tp_router, full_router);        // the router (and dispatch) run whole on every chip
  // Each chip holds a quarter of the experts' weights: 8 x (512 x 2048 + 1024 x 512) x 2 B / 4.
  ASSERT_EQ(tx.moe_routing.size(), 1u);
  EXPECT_EQ(tx.moe_routing[0].expert_weight_bytes, 8u * (512 * 2048 + 1024 * 512) * 2 / 4);
  EXPECT_EQ(fx.moe_routing[0].expert_weight_bytes, 4 * tx.moe_routing[0].expert_weight_bytes);
}

TEST(TensorParallel, IndivisibleShardIsAnInputError) {
  const WorkloadSpec full = expand_templates(load(kEncoder));
  try {
    shard_tensor_parallel(full, 3);
    ADD_FAILURE() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("does not divide by 3"), std::string::npos) << e.what();
  }
}

TEST(Pipeline, StagesBalanceMacsAndKeepCollectivesWithTheirOps) {
  std::string text = "workload:\n  ops:\n";
  for (int i = 0; i < 8; ++i) text += "    - {op: matmul, name: fc" + std::to_string(i) + ", m: 64, k: 256, n: 256, dtype: bf16}\n";
  const WorkloadSpec w = load(text);
  const auto st = split_stages(w.ops, 4, {});
  ASSERT_EQ(st.size(), 4u);
  for (std::size_t s = 0; s < 4; ++s) EXPECT_EQ(st[s], std::make_pair(2 * s, 2 * s + 2));
  // With tensor collectives, no stage starts with a g all-reduce (it closes the op before
  // it) or right after an f (it opens the op after it).
  const WorkloadSpec tp = shard_tensor_parallel(expand_templates(load(kEncoder)), 2);
  const auto st2 = split_stages(tp.ops, 3, {});
  for (std::size_t s = 1; s < st2.size(); ++s) {
    const Op& first = tp.ops[st2[s].first];
    const Op& before = tp.ops[st2[s].first - 1];
    if (const auto* c = std::get_if<CollectiveOp>(&first.body)) {
      EXPECT_FALSE(c->forward) << first.name;
    }
    if (const auto* c = std::get_if<CollectiveOp>(&before.body)) {
      EXPECT_TRUE(c->forward) << before.name;
    }
  }
  EXPECT_THROW(split_stages(w.ops, 9, {}), ConfigError);  // 8 ops cannot make 9 stages
}

TEST(Pipeline, StagesGivenByHand) {
  // `stage:` on an op holds for the ops after it until the next one.
  const std::string text =
      "workload:\n  ops:\n"
      "    - {op: matmul, name: a, m: 64, k: 64, n: 64, dtype: bf16}\n"
      "    - {op: matmul, name: b, m: 64, k: 64, n: 64, dtype: bf16}\n"
      "    - {op: matmul, name: c, m: 64, k: 64, n: 64, dtype: bf16, stage: 1}\n"
      "    - {op: matmul, name: d, m: 64, k: 64, n: 64, dtype: bf16, stage: 2}\n"
      "    - {op: matmul, name: e, m: 64, k: 64, n: 64, dtype: bf16}\n";
  const auto st = split_stages(load(text).ops, 3, {});
  EXPECT_EQ(st, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 2}, {2, 3}, {3, 5}}));
  EXPECT_THROW(split_stages(load(text).ops, 4, {}), ConfigError);  // the ops give 3 stages
  EXPECT_THROW(split_stages(load(text).ops, 2, {}), ConfigError);  // stage 2 of 2
  const std::string backwards =
      "workload:\n  ops:\n"
      "    - {op: matmul, name: a, m: 64, k: 64, n: 64, dtype: bf16, stage: 1}\n"
      "    - {op: matmul, name: b, m: 64, k: 64, n: 64, dtype: bf16, stage: 0}\n";
  try {
    split_stages(load(backwards).ops, 2, {});
    ADD_FAILURE() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("p.yaml:3:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("stage"), std::string::npos) << e.what();
  }
}

// One chip runs one stage: an op (or a template's ops) in stage 1 or later is an input error
// at that op, as a stage past a pod's pipeline is, not a field the run drops.
TEST(Pipeline, OneChipRefusesAnOpInALaterStage) {
  const std::string flat =
      "workload:\n  ops:\n"
      "    - {op: matmul, name: a, m: 64, k: 64, n: 64, dtype: bf16}\n"
      "    - {op: matmul, name: b, m: 64, k: 64, n: 64, dtype: bf16, stage: 3}\n";
  const std::string templ =
      "workload:\n  ops:\n"
      "    - {op: template, template: mlp, name: m, batch: 8, widths: [64, 64], dtype: bf16, stage: 1}\n";
  for (const auto& [text, line, op] : {std::tuple{flat, "p.yaml:4:", "'b' is in stage 3"},
                                       std::tuple{templ, "p.yaml:3:", "'m.fc1' is in stage 1"}}) {
    try {
      check_single_stage(load(text));
      ADD_FAILURE() << "expected an error for " << text;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(line), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(op), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("stages 0 to 0"), std::string::npos) << e.what();
    }
  }
  // Stage 0 written out, or no stage at all, is one chip's program.
  EXPECT_NO_THROW(check_single_stage(load(
      "workload:\n  ops:\n    - {op: matmul, name: a, m: 64, k: 64, n: 64, dtype: bf16, stage: 0}\n")));
  EXPECT_NO_THROW(check_single_stage(load(kEncoder)));
}

TEST(Pipeline, StagesOfATemplateStackStartAtLayers) {
  std::string text = "workload:\n  ops:\n";
  for (int i = 0; i < 8; ++i)
    text += "    - {op: template, template: transformer_decoder, name: layer" + std::to_string(i) +
            ", batch: 2, seq: 128, d_model: 256, heads: 4, d_ff: 1024, dtype: bf16}\n";
  const WorkloadSpec w = shard_tensor_parallel(expand_templates(load(text)), 2);
  const auto st = split_stages(w.ops, 4, {});
  ASSERT_EQ(st.size(), 4u);
  for (std::size_t s = 0; s < 4; ++s)  // two equal layers per stage
    EXPECT_EQ(w.ops[st[s].first].name.substr(0, 7), "layer" + std::to_string(2 * s) + ".") << s;
}

TEST(ExpertParallel, EachChipRunsItsExpertsOnTheGlobalRouting) {
  // 64 experts, top-1, 2048 tokens per chip on 8 chips: 16384 tokens in all, capacity
  // ceil(1.25 x 16384 / 64) = 320; skew 1 sends expert e a share ~ 1/(e+1).
  const std::string text =
      "workload:\n  ops:\n"
      "    - {op: moe, name: m, tokens: 2048, d_model: 256, d_ff: 1024, experts: 64, top_k: 1, capacity_factor: 1.25, "
      "skew: 1.0, dtype: bf16}\n";
  MoeOp global = std::get<MoeOp>(load(text).ops[0].body);
  global.tokens *= 8;
  const auto kept = global.processed();
  std::uint64_t kept_sum = 0, ffn_tokens = 0;
  for (auto k : kept) kept_sum += k;
  std::vector<std::uint64_t> dispatch_weights;
  for (std::uint64_t rank = 0; rank < 8; ++rank) {
    WorkloadSpec w = load(text);
    auto& m = std::get<MoeOp>(w.ops[0].body);
    m.ep_size = 8;
    m.ep_rank = rank;
    const WorkloadSpec x = expand_composites(w);
    std::uint64_t local = 0;
    for (const Op& op : x.ops)
      if (op.name.size() > 5 && op.name.substr(op.name.size() - 5) == ".ffn1") local += std::get<MatmulOp>(op.body).m;
    std::uint64_t expected = 0;
    for (std::uint64_t e = rank * 8; e < rank * 8 + 8; ++e) expected += kept[e];
    EXPECT_EQ(local, expected) << "rank " << rank;
    ffn_tokens += local;
    const auto cs = collectives(x);
    ASSERT_EQ(cs.size(), 2u);  // dispatch and combine
    dispatch_weights = cs[0]->weights;
    EXPECT_EQ(cs[1]->bytes, expected * 256 * 2);  // combine: this chip's results, bf16
    EXPECT_EQ(x.moe_routing[0].capacity, 320u);
  }
  EXPECT_EQ(ffn_tokens, kept_sum);  // every kept token is processed exactly once, somewhere
  ASSERT_EQ(dispatch_weights.size(), 8u);
  EXPECT_GT(dispatch_weights[0], dispatch_weights[7]);  // the busy experts' chip receives more
}

TEST(ExpertParallel, BackwardAllToAllIsTheTransposedTraffic) {
  WorkloadSpec w;
  w.training.enabled = true;
  Op op;
  op.name = "a2a";
  CollectiveOp c;
  c.kind = CollectiveKind::all_to_all;
  c.backward = CollectiveKind::all_to_all;
  c.bytes = 300;
  c.sender_bytes = {100, 200};  // member 0 sends 100 B, member 1 200 B
  c.weights = {1, 3};           // a quarter to member 0, three quarters to member 1
  op.body = c;
  w.ops.push_back(op);
  const WorkloadSpec t = expand_training(w);
  ASSERT_EQ(t.ops.size(), 2u);
  const auto& b = std::get<CollectiveOp>(t.ops[1].body);
  // Forward traffic T[i][j] = s_i w_j / sum w: member 0 received 25 + 50 = 75 B, member 1 225 B;
  // backward each sends back what it received, split like the original senders.
  EXPECT_EQ(b.sender_bytes, (std::vector<std::uint64_t>{75, 225}));
  EXPECT_EQ(b.weights, (std::vector<std::uint64_t>{100, 200}));
}

TEST(Parallelism, NothingFusesAcrossACollective) {
  // Megatron's g: a row-sharded matmul's partial sums are all-reduced over the network
  // before the residual add; the add's input is no longer the matmul's output in vector
  // memory, so it does not fuse (without the all-reduce it does).
  const std::string ops = "    - {op: matmul, name: proj, m: 1024, k: 512, n: 1024, dtype: bf16}\n"
                          "    - {op: collective, name: g, kind: all_reduce, bytes: 2 MiB}\n"
                          "    - {op: elementwise, name: residual, fn: add, rows: 1024, cols: 1024, dtype: bf16}\n";
  const HardwareSpec hw = load_hardware("tpu-v3");
  const WorkloadSpec with = without_collectives(expand_workload(load("workload:\n  ops:\n" + ops)));
  ASSERT_EQ(with.ops.size(), 2u);
  EXPECT_TRUE(with.ops[1].after_collective);
  EXPECT_FALSE(plan_workload(with, hw)[1].vector.fused);
  std::string direct = ops;
  direct.erase(direct.find("    - {op: collective"), direct.find("    - {op: elementwise") - direct.find("    - {op: collective"));
  const WorkloadSpec without = without_collectives(expand_workload(load("workload:\n  ops:\n" + direct)));
  EXPECT_TRUE(plan_workload(without, hw)[1].vector.fused);
}

}  // namespace
}  // namespace podsim
