#include <algorithm>
#include <gtest/gtest.h>

#include "podsim/config/config_error.h"
#include "podsim/config/workload_loader.h"
#include "podsim/workload/composite.h"
#include "podsim/workload/templates.h"
#include "podsim/compiler/model_capacity.h"
#include "podsim/compiler/op_lowering.h"
#include "podsim/compiler/workload_plan.h"
#include "test_paths.h"
#include "podsim/compiler/vector_plan.h"
#include "podsim/workload/training.h"
#include "podsim/workload/parallelism.h"

namespace podsim {
namespace {

const char* kMlp =
    "workload:\n"
    "  training: {optimizer: OPT, recompute: RECOMPUTE}\n"
    "  ops:\n"
    "    - {op: matmul, name: fc1, m: 256, k: 512, n: 1024, dtype: bf16}\n"
    "    - {op: elementwise, name: act, fn: relu, rows: 256, cols: 1024, dtype: bf16}\n"
    "    - {op: matmul, name: fc2, m: 256, k: 1024, n: 10, dtype: bf16, repeat: 2}\n";

WorkloadSpec mlp(const std::string& opt, const std::string& recompute = "none") {
  std::string text = kMlp;
  text.replace(text.find("OPT"), 3, opt);
  text.replace(text.find("RECOMPUTE"), 9, recompute);
  return load_workload_text(text, "mlp.yaml");
}

TEST(Training, MatmulModelCostsExactlyThreeTimesItsForwardFlops) {
  const WorkloadSpec fwd = mlp("adam");
  ASSERT_TRUE(fwd.training.enabled);
  // Forward: 256x512x1024 + 2 x 256x1024x10 MACs. Backward adds dX and dW of the same
  // size each; the optimizer and the activation add no MACs.
  const std::uint64_t forward = 256ull * 512 * 1024 + 2ull * 256 * 1024 * 10;
  EXPECT_EQ(fwd.total_macs(), forward);
  EXPECT_EQ(expand_training(fwd).total_flops(), 3 * 2 * forward);
  // Recomputing the forward pass adds it once more: 4x.
  EXPECT_EQ(expand_training(mlp("adam", "full")).total_flops(), 4 * 2 * forward);
}

TEST(Training, BackwardRunsInReverseAndEveryWeightIsUpdated) {
  const WorkloadSpec t = expand_training(mlp("sgd"));
  std::vector<std::string> names;
  for (const auto& op : t.ops) names.push_back(op.name);
  EXPECT_EQ(names, (std::vector<std::string>{"fc1", "act", "fc2", "fc2.dX", "fc2.dW", "act.grad", "fc1.dX", "fc1.dW",
                                             "fc1.update", "fc2.update"}));
  const auto& dx = std::get<MatmulOp>(t.ops[3].body);  // fc2.dX = dY (256x10) W^T (10x1024)
  EXPECT_EQ(dx.m, 256u);
  EXPECT_EQ(dx.k, 10u);
  EXPECT_EQ(dx.n, 1024u);
}

TEST(Training, OptimizerStateIsTwoFp32MomentsPerParameterForAdam) {
  // 512 x 1024 + 1024 x 10 = 534,528 parameters.
  const std::uint64_t params = 512ull * 1024 + 1024ull * 10;
  const TrainingFootprint adam = training_footprint(mlp("adam"));
  EXPECT_EQ(adam.parameters, params);
  EXPECT_EQ(adam.weights_bytes, params * 4);           // fp32 master weights
  EXPECT_EQ(adam.optimizer_state_bytes, params * 2 * 4);
  EXPECT_EQ(training_footprint(mlp("momentum")).optimizer_state_bytes, params * 4);
  EXPECT_EQ(training_footprint(mlp("sgd")).optimizer_state_bytes, 0u);
  // Stashed: the inputs of fc1 (256x512), act (256x1024) and of each of fc2's two runs
  // (256x1024 each: the backward repeats it too, each run with its own input), bf16.
  EXPECT_EQ(adam.stashed_activation_bytes, (256ull * 512 + 256ull * 1024 + 2 * 256ull * 1024) * 2);
  EXPECT_EQ(training_footprint(mlp("adam", "full")).stashed_activation_bytes, 0u);
}

TEST(Training, BadTrainingSectionsAreInputErrors) {
  try {
    mlp("adma");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "workload.training.optimizer");
    EXPECT_NE(e.problem().find("did you mean 'adam'"), std::string::npos) << e.what();
  }
}

TEST(Training, EmbeddingsTrainSparselyWithTheOptimizerFused) {
  // One table of 1000 x 16 fp32 rows, 8 samples x 3 lookups, Adam: the backward is one
  // scatter-add of the looked-up rows with 2 state rows each, no dense update op.
  const WorkloadSpec emb = load_workload_text(
      "workload:\n  training: {optimizer: adam}\n  ops:\n"
      "    - {op: embedding_lookup, name: e, table_rows: 1000, dim: 16, batch: 8, lookups: 3, dtype: fp32}\n",
      "e.yaml");
  const WorkloadSpec t = expand_training(emb);
  ASSERT_EQ(t.ops.size(), 2u);
  EXPECT_EQ(t.ops[1].name, "e.dW");
  const auto& b = std::get<EmbeddingOp>(t.ops[1].body);
  EXPECT_TRUE(b.backward);
  EXPECT_EQ(b.state_tables, 2u);
  const TrainingFootprint f = training_footprint(emb);
  EXPECT_EQ(f.parameters, 16000u);
  EXPECT_EQ(f.weights_bytes, 1000u * 16 * 4);
  EXPECT_EQ(f.optimizer_state_bytes, 2u * 1000 * 16 * 4);   // two fp32 moments per parameter
  EXPECT_EQ(f.gradient_bytes, 8u * 3 * 16 * 4);             // only the looked-up rows
}

}  // namespace
}  // namespace podsim

namespace podsim {
namespace {

TEST(Attention, ExpandsIntoScoresSoftmaxAndValuesWithTheClosedFormMacs) {
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  ops:\n    - {op: attention, name: a, batch: 2, heads: 4, seq: 128, head_dim: 64, dtype: bf16}\n",
      "a.yaml");
  // Q K^T and scores V: 2 x batch x heads x seq x seq x head_dim MACs.
  EXPECT_EQ(wl.total_macs(), 2ull * 2 * 4 * 128 * 128 * 64);
  const WorkloadSpec flat = expand_composites(wl);
  ASSERT_EQ(flat.ops.size(), 3u);
  EXPECT_EQ(flat.ops[0].name, "a.qk");
  EXPECT_EQ(flat.ops[0].repeat, 8u);  // one per (sequence, head)
  EXPECT_EQ(std::get<VectorOp>(flat.ops[1].body).rows, 2u * 4 * 128);
  EXPECT_EQ(flat.total_macs(), wl.total_macs());
}

TEST(Attention, GroupedQueryAttentionStacksEachGroupsQueriesOnItsKeyValueHead) {
  // 8 query heads sharing 2 K/V heads (groups of 4): one product per (sequence, K/V head),
  // 2 x 2 of them, each with the group's 4 x 128 queries stacked along M. The MACs are
  // those of 8 heads: 2 x batch x heads x seq x seq x head_dim.
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  ops:\n    - {op: attention, name: a, batch: 2, heads: 8, kv_heads: 2, seq: 128, head_dim: 64, "
      "dtype: bf16}\n",
      "a.yaml");
  const WorkloadSpec flat = expand_composites(wl);
  ASSERT_EQ(flat.ops.size(), 3u);
  EXPECT_EQ(flat.ops[0].repeat, 4u);
  const auto& qk = std::get<MatmulOp>(flat.ops[0].body);
  EXPECT_EQ(qk.m, 4u * 128);
  EXPECT_EQ(qk.k, 64u);
  EXPECT_EQ(qk.n, 128u);
  EXPECT_EQ(flat.total_macs(), 2ull * 2 * 8 * 128 * 128 * 64);
  EXPECT_EQ(std::get<VectorOp>(flat.ops[1].body).rows, 2u * 8 * 128);  // every head's scores
  EXPECT_EQ(wl.ops[0].shape_text(), "b2 h8/2 q128 kv128 d64");
}

TEST(Attention, KeyValueHeadsMustDivideTheHeads) {
  try {
    load_workload_text(
        "workload:\n  ops:\n    - {op: attention, name: a, batch: 1, heads: 8, kv_heads: 3, seq: 16, head_dim: 64, "
        "dtype: bf16}\n",
        "a.yaml");
    ADD_FAILURE() << "kv_heads 3 of 8 heads was accepted";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("kv_heads"), std::string::npos) << what;
    EXPECT_NE(what.find("must divide heads (8)"), std::string::npos) << what;
  }
}

TEST(Attention, TensorParallelHeadsSplitTheKeyValueHeadsOrReplicateThem) {
  // 32 heads over 8 chips: 4 per chip. With 8 K/V heads each chip keeps 1; with 2 (fewer
  // than the chips) each chip keeps the one its 4 query heads share.
  for (const auto& [kv, local] : std::vector<std::pair<int, std::uint64_t>>{{8, 1}, {2, 1}, {32, 4}}) {
    const WorkloadSpec wl = load_workload_text(
        "workload:\n  parallelism: {tensor: 8}\n  ops:\n    - {op: attention, name: a, batch: 1, heads: 32, kv_heads: " +
            std::to_string(kv) + ", seq: 16, head_dim: 64, dtype: bf16, shard: heads}\n",
        "a.yaml");
    const WorkloadSpec tp = shard_tensor_parallel(wl, 8);
    const auto& a = std::get<AttentionOp>(tp.ops[0].body);
    EXPECT_EQ(a.heads, 4u);
    EXPECT_EQ(a.key_value_heads(), local) << "kv_heads " << kv;
  }
}

TEST(Attention, ALlamaTwoSevenBLayerHasThePublishedParameters) {
  // Llama-2-7B (Touvron et al. 2023; its checkpoint holds 6,738,415,616 parameters):
  // 32 layers of d_model 4096, 32 heads, SwiGLU d_ff 11008, RMSNorm, RoPE, plus token
  // embeddings and the output head (2 x 32000 x 4096) and the norms (65 x 4096). One
  // layer's matmul weights: (6,738,415,616 - 262,144,000 - 266,240) / 32 = 202,375,168.
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  training: {optimizer: adam}\n  ops:\n"
      "    - {op: template, template: transformer_decoder, name: l, batch: 1, seq: 512, d_model: 4096, heads: 32, "
      "d_ff: 11008, ffn: swiglu, norm: rmsnorm, rope: true, dtype: bf16}\n",
      "l.yaml");
  const WorkloadSpec flat = expand_composites(wl);
  EXPECT_EQ(training_footprint(flat).parameters, 202'375'168u);
  std::vector<std::string> names;
  for (const auto& op : flat.ops) names.push_back(op.name);
  EXPECT_EQ(names, (std::vector<std::string>{"l.qkv", "l.rope", "l.attn.qk", "l.attn.softmax", "l.attn.av",
                                             "l.out_proj", "l.residual1", "l.norm1", "l.ffn1", "l.swiglu", "l.ffn2",
                                             "l.residual2", "l.norm2"}));
  const auto& rope = std::get<VectorOp>(flat.ops[1].body);
  EXPECT_EQ(rope.cols, (32u + 32u) * 128);  // Q and K, not V
  const auto& glu = std::get<VectorOp>(flat.ops[9].body);
  EXPECT_EQ(glu.fn, VectorFn::swiglu);
  EXPECT_EQ(glu.cols, 2u * 11008);  // gate and up side by side
  EXPECT_EQ(glu.output_cols(), 11008u);
  EXPECT_EQ(std::get<VectorOp>(flat.ops[7].body).fn, VectorFn::rmsnorm);
  // Its gradient reads gate and up with dY beside them and writes both gradients.
  const WorkloadSpec step = expand_training(flat);
  const auto grad = std::find_if(step.ops.begin(), step.ops.end(), [](const Op& o) { return o.name == "l.swiglu.grad"; });
  ASSERT_NE(grad, step.ops.end());
  const auto& g = std::get<VectorOp>(grad->body);
  EXPECT_EQ(g.cols, 2u * 11008);
  EXPECT_EQ(g.side_cols, 11008u);
  EXPECT_EQ(g.output_cols(), 2u * 11008);
}

TEST(Attention, AGatedActivationNeedsAnEvenWidth) {
  try {
    load_workload_text("workload:\n  ops:\n    - {op: elementwise, name: g, fn: swiglu, rows: 4, cols: 7, dtype: bf16}\n",
                       "g.yaml");
    ADD_FAILURE() << "an odd swiglu width was accepted";
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cols"), std::string::npos) << what;
    EXPECT_NE(what.find("must be even"), std::string::npos) << what;
  }
}

TEST(Attention, LayersRepeatTheBlockAndTheModelFootprintCountsWeightsAndCache) {
  // Llama-2-7B decode, 16 sequences against a 2,048-token cache, 3 layers. Per layer:
  // 202,375,168 bf16 weights and K and V of 16 x 32 heads x 2048 x 128, bf16.
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  ops:\n"
      "    - {op: template, template: transformer_decoder, name: m, layers: 3, batch: 16, seq: 2048, d_model: 4096, "
      "heads: 32, d_ff: 11008, ffn: swiglu, norm: rmsnorm, rope: true, decode: true, kv_len: 2048, dtype: bf16}\n",
      "m.yaml");
  const WorkloadSpec flat = expand_composites(wl);
  ASSERT_EQ(flat.ops.size(), 3u * 13);
  EXPECT_EQ(flat.ops[0].name, "m.L0.qkv");
  EXPECT_EQ(flat.ops[13].name, "m.L1.qkv");
  EXPECT_EQ(flat.ops.back().name, "m.L2.norm2");
  const ModelFootprint f = model_footprint(flat);
  EXPECT_EQ(f.weights_bytes, 3ull * 202'375'168 * 2);
  EXPECT_EQ(f.kv_cache_bytes, 3ull * 2 * 16 * 32 * 2048 * 128 * 2);
  // The MACs of three one-layer models.
  const WorkloadSpec one = load_workload_text(
      "workload:\n  ops:\n"
      "    - {op: template, template: transformer_decoder, name: m, batch: 16, seq: 2048, d_model: 4096, "
      "heads: 32, d_ff: 11008, ffn: swiglu, norm: rmsnorm, rope: true, decode: true, kv_len: 2048, dtype: bf16}\n",
      "m.yaml");
  EXPECT_EQ(wl.total_macs(), 3 * one.total_macs());
}

TEST(Attention, AMixtralLayerHasThePublishedParameters) {
  // Mixtral-8x7B (Jiang et al. 2024: 46.7 B parameters; its checkpoint holds
  // 46,702,792,704): 32 layers of d_model 4096, 32 query and 8 K/V heads of 128, 8 SwiGLU
  // experts of 14336 with top-2 routing, plus embeddings and head (2 x 32000 x 4096) and
  // norms (65 x 4096). One layer's matmul weights:
  // (46,702,792,704 - 262,144,000 - 266,240) / 32 = 1,451,261,952. 512 tokens keep every
  // expert busy (128 each), so every expert's matmuls are there.
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  ops:\n"
      "    - {op: template, template: moe_layer, name: l, batch: 1, seq: 512, d_model: 4096, heads: 32, kv_heads: 8, "
      "d_ff: 14336, experts: 8, top_k: 2, ffn: swiglu, norm: rmsnorm, rope: true, dtype: bf16}\n",
      "l.yaml");
  const WorkloadSpec flat = expand_composites(wl);
  EXPECT_EQ(model_footprint(flat).weights_bytes, 1'451'261'952ull * 2);
  // MACs: the router, then 3 matmuls per kept token copy (512 x 2 of them).
  const WorkloadSpec layer = expand_templates(wl);
  const auto it = std::find_if(layer.ops.begin(), layer.ops.end(), [](const Op& o) { return o.name == "l.moe"; });
  ASSERT_NE(it, layer.ops.end());
  EXPECT_EQ(std::get<MoeOp>(it->body).macs(), 512ull * 4096 * 8 + 3ull * 1024 * 4096 * 14336);
}

TEST(Attention, TrainsWithoutParametersOfItsOwn) {
  // Q K^T and the product with V multiply activations: training differentiates both
  // operands (dX and dB, as many MACs as the forward each) but updates and all-reduces
  // nothing; the projections around the attention hold the weights. Unfused form.
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  training: {optimizer: adam}\n  ops:\n"
      "    - {op: attention, name: a, batch: 2, heads: 4, seq: 128, head_dim: 64, fused: false, dtype: bf16}\n",
      "a.yaml");
  const WorkloadSpec t = expand_training(expand_composites(wl));
  std::vector<std::string> names;
  for (const auto& op : t.ops) {
    names.push_back(op.name);
    EXPECT_EQ(op.gradient_elements, 0u) << op.name;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a.qk", "a.softmax", "a.av", "a.av.dX", "a.av.dB", "a.softmax.grad",
                                             "a.qk.dX", "a.qk.dB"}));
  EXPECT_EQ(t.total_macs(), 3 * wl.total_macs());
  const TrainingFootprint f = training_footprint(expand_composites(wl));
  EXPECT_EQ(f.parameters, 0u);
  EXPECT_EQ(f.optimizer_state_bytes, 0u);
  // Kept for the backward pass, per (sequence, head) of the 8: Q and K^T (128 x 64 each),
  // the probabilities and V (128 x 128 and 128 x 64); and the softmax's input, 8 x 128 x
  // 128 in all. bf16. (Counting only A of one head, as before, gave 311,296 B.)
  EXPECT_EQ(f.stashed_activation_bytes, (8ull * (128 * 64 + 64 * 128 + 128 * 128 + 128 * 64) + 8 * 128 * 128) * 2);
}

TEST(Attention, FusedTrainsWithTwoBackwardKernelsThatRecomputeTheScores) {
  // JAX's Pallas TPU flash attention: a dK/dV kernel (S, P, dP, dS, dV, dK) and a dQ kernel
  // (S, P, dP, dS, dQ): seven products of the forward's Q K^T size after the forward's two.
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  training: {optimizer: adam}\n  ops:\n"
      "    - {op: attention, name: a, batch: 2, heads: 4, seq: 128, head_dim: 64, dtype: bf16}\n",
      "a.yaml");
  const WorkloadSpec t = expand_training(expand_composites(wl));
  std::vector<std::string> names;
  for (const auto& op : t.ops) {
    names.push_back(op.name);
    EXPECT_EQ(op.gradient_elements, 0u) << op.name;
    EXPECT_NE(op.attention_part, Op::AttentionPart::none) << op.name;  // all in fused kernels
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a.qk", "a.softmax", "a.av", "a.qk.bwd_dkv",
                                             "a.softmax.bwd_dkv", "a.av.dX_dkv", "a.softmax.grad_dkv",
                                             "a.av.dB", "a.qk.dB", "a.qk.bwd_dq", "a.softmax.bwd_dq",
                                             "a.av.dX", "a.softmax.grad", "a.qk.dX"}));
  EXPECT_EQ(2 * t.total_macs(), 9 * wl.total_macs());  // (2 + 7) products of wl's 2
  // dS = P (dP - D): two inputs, no exponential (the recomputed P has its own).
  for (const auto& op : t.ops)
    if (op.name == "a.softmax.grad" || op.name == "a.softmax.grad_dkv") {
      const VectorOp& g = std::get<VectorOp>(op.body);
      EXPECT_EQ(g.fn, VectorFn::softmax_grad);
      EXPECT_EQ(g.inputs, 2u);
      EXPECT_EQ(vector_cost(g.fn).eup_per_element + vector_cost(g.fn).eup_per_row, 0u);
    }
  // Kept: Q, K, V and the output (128 x 64 each) and two fp32 per query row, per
  // (sequence, head) of the 8; no scores, no probabilities.
  EXPECT_EQ(training_footprint(expand_composites(wl)).stashed_activation_bytes,
            8ull * (4 * 128 * 64 * 2 + 2 * 128 * 4));
  // With recompute the forward kernel runs again first (the output feeds the next op's
  // gradients): 3 more ops, 2 more products.
  const WorkloadSpec r = load_workload_text(
      "workload:\n  training: {optimizer: adam, recompute: full}\n  ops:\n"
      "    - {op: attention, name: a, batch: 2, heads: 4, seq: 128, head_dim: 64, dtype: bf16}\n",
      "r.yaml");
  const WorkloadSpec tr = expand_training(expand_composites(r));
  EXPECT_EQ(tr.ops.size(), 17u);
  EXPECT_EQ(tr.ops[3].name, "a.qk.recompute");
  EXPECT_EQ(2 * tr.total_macs(), 11 * r.total_macs());
  // A quantized KV cache is for inference: training refuses it, fused or not.
  for (const char* fused : {"true", "false"})
    EXPECT_THROW(expand_training(expand_composites(load_workload_text(
                     std::string("workload:\n  training: {optimizer: adam}\n  ops:\n"
                                 "    - {op: attention, name: a, batch: 2, heads: 4, seq: 128, head_dim: 64, kv_dtype: int8, "
                                 "fused: ") + fused + ", dtype: bf16}\n",
                     "q.yaml"))),
                 ConfigError)
        << fused;
}

TEST(Attention, CausalFusedKernelsSkipTheBlocksTheMaskHides) {
  // Blocks of 128 queries; 4096 queries against their own 4096 keys: block j computes
  // (j + 1) x 128 keys, 128 x 128 x (1 + ... + 32) = 128 x 128 x 528 pairs, 2,112 keys a
  // query on average (half of 4096 plus half a block).
  AttentionOp a;
  a.seq = 4096;
  a.causal = true;
  EXPECT_EQ(a.computed_keys(), 2112u);
  a.fused = false;  // unfused: masked scores computed and thrown away
  EXPECT_EQ(a.computed_keys(), 4096u);
  a.fused = true;
  // A chunk of 300 queries at the end of 1000 keys: blocks of 128, 128, 44 queries against
  // 828, 956 and 1000 keys: (128 x 828 + 128 x 956 + 44 x 1000) / 300 = 272,352 / 300
  // = 907.8 -> 908.
  a.seq = 300;
  a.kv_len = 1000;
  EXPECT_EQ(a.computed_keys(), 908u);
  // One query (decode) sees every key.
  a.seq = 1;
  a.decode = true;
  EXPECT_EQ(a.computed_keys(), 1000u);
  // The expanded products and the op's MACs agree.
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  ops:\n"
      "    - {op: attention, name: a, batch: 1, heads: 2, seq: 4096, head_dim: 128, causal: true, dtype: bf16}\n",
      "c.yaml");
  EXPECT_EQ(wl.total_macs(), 2ull * 2 * 4096 * 2112 * 128);
  EXPECT_EQ(expand_composites(wl).total_macs(), wl.total_macs());
}

TEST(Attention, DecodeAttendsOneQueryToTheCache) {
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  ops:\n    - {op: attention, name: d, batch: 16, heads: 16, seq: 1, head_dim: 128, kv_len: 2048,"
      " decode: true, dtype: bf16}\n",
      "d.yaml");
  const WorkloadSpec flat = expand_composites(wl);
  const auto& qk = std::get<MatmulOp>(flat.ops[0].body);
  EXPECT_EQ(qk.m, 1u);
  EXPECT_EQ(qk.k, 128u);
  EXPECT_EQ(qk.n, 2048u);  // the whole cache of keys
  EXPECT_THROW(load_workload_text("workload:\n  ops:\n    - {op: attention, batch: 1, heads: 1, seq: 1, head_dim: 8,"
                                  " decode: true, dtype: bf16}\n",
                                  "bad.yaml"),
               ConfigError);
}

}  // namespace
}  // namespace podsim

namespace podsim {
namespace {

MoeOp moe(std::uint64_t tokens, std::uint64_t experts, std::uint64_t top_k, double cf, double skew = 0) {
  MoeOp m;
  m.tokens = tokens;
  m.d_model = 64;
  m.d_ff = 128;
  m.experts = experts;
  m.top_k = top_k;
  m.capacity_factor = cf;
  m.skew = skew;
  return m;
}

TEST(Moe, CapacityIsTheCeilingOfFactorTimesTokensTimesTopKOverExperts) {
  EXPECT_EQ(moe(8192, 64, 1, 1.25).capacity(), 160u);  // 1.25 x 8192 / 64 = 160 exactly
  EXPECT_EQ(moe(1000, 64, 2, 1.0).capacity(), 32u);    // 2000 / 64 = 31.25 -> 32
  EXPECT_EQ(moe(100, 3, 1, 1.0).capacity(), 34u);      // 33.33 -> 34
}

TEST(Moe, EvenRoutingWithFactorAtLeastOneDropsNothing) {
  for (double cf : {1.0, 1.25, 2.0})
    for (std::uint64_t experts : {1u, 7u, 64u}) {
      const MoeOp m = moe(1000, experts, 1, cf);
      std::uint64_t routed = 0;
      for (auto x : m.routed()) routed += x;
      EXPECT_EQ(routed, 1000u);
      EXPECT_EQ(m.dropped(), 0u) << cf << " " << experts;
    }
}

TEST(Moe, TokensOverCapacityAreDroppedAndCounted) {
  MoeOp m = moe(100, 4, 1, 1.0);  // capacity 25
  m.loads = {40, 30, 20, 10};
  EXPECT_EQ(m.dropped(), 15u + 5u);
  EXPECT_EQ(m.processed(), (std::vector<std::uint64_t>{25, 25, 20, 10}));
  // Router 100 x 64 x 4, then two FFN matmuls on the 80 kept tokens.
  EXPECT_EQ(m.macs(), 100ull * 64 * 4 + 2ull * 80 * 64 * 128);
  // Skewed routing overflows the first experts.
  EXPECT_GT(moe(8192, 64, 1, 1.25, 0.5).dropped(), 0u);
}

TEST(Moe, ExpandsIntoRouterExpertsAndCombineWithTheSameMacs) {
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  ops:\n    - {op: moe, name: m, tokens: 256, d_model: 64, d_ff: 128, experts: 4, top_k: 2,"
      " capacity_factor: 1.0, loads: [200, 150, 100, 62], dtype: bf16}\n",
      "m.yaml");
  const WorkloadSpec flat = expand_composites(wl);
  EXPECT_EQ(flat.total_macs(), wl.total_macs());
  ASSERT_EQ(flat.moe_routing.size(), 1u);
  EXPECT_EQ(flat.moe_routing[0].capacity, 128u);  // 256 x 2 / 4
  EXPECT_EQ(flat.moe_routing[0].dropped, 72u + 22u);
  EXPECT_EQ(flat.ops.front().name, "m.router");
  EXPECT_EQ(flat.ops.back().name, "m.combine");
  EXPECT_THROW(load_workload_text("workload:\n  ops:\n    - {op: moe, tokens: 10, d_model: 8, d_ff: 8, experts: 2,"
                                  " loads: [3, 3], dtype: bf16}\n",
                                  "bad.yaml"),
               ConfigError);  // loads must add up to tokens x top_k
}

TEST(Moe, RandomRoutingReachesTheExpertsTokensPickingAtRandomReachOnAverage) {
  // Top-2 of 8 experts, even shares (p = 2/8 each): T tokens reach 8 (1 - (3/4)^T) experts
  // on average. T = 4: 5.47 -> 5 experts, the 8 routed tokens one each then 3 more by equal
  // shares (largest remainder: the first three); balanced spreads them over all 8.
  MoeOp m = moe(4, 8, 2, 8.0);
  m.d_model = 64;
  m.d_ff = 128;
  EXPECT_EQ(m.routed(), (std::vector<std::uint64_t>{1, 1, 1, 1, 1, 1, 1, 1}));
  m.routing = MoeOp::Routing::random;
  EXPECT_EQ(m.routed(), (std::vector<std::uint64_t>{2, 2, 2, 1, 1, 0, 0, 0}));
  // One token reaches exactly its top_k experts; many tokens reach them all, as balanced.
  m.tokens = 1;
  EXPECT_EQ(m.routed(), (std::vector<std::uint64_t>{1, 1, 0, 0, 0, 0, 0, 0}));
  m.tokens = 64;  // 8 (1 - 0.75^64) = 8.0
  const std::vector<std::uint64_t> random = m.routed();
  m.routing = MoeOp::Routing::balanced;
  EXPECT_EQ(random, m.routed());
  // Parsed, for the op and the template.
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  ops:\n    - {op: moe, name: m, tokens: 4, d_model: 64, d_ff: 128, experts: 8, top_k: 2,"
      " capacity_factor: 8, routing: random, dtype: bf16}\n",
      "m.yaml");
  std::size_t experts_run = 0;
  for (const Op& op : expand_composites(wl).ops) experts_run += op.moe_expert ? 1 : 0;
  EXPECT_EQ(experts_run, 2u * 5);  // ffn1 and ffn2 of 5 experts
  EXPECT_THROW(load_workload_text("workload:\n  ops:\n    - {op: moe, tokens: 4, d_model: 8, d_ff: 8, experts: 2,"
                                  " routing: lucky, dtype: bf16}\n",
                                  "bad.yaml"),
               ConfigError);
}

TEST(Moe, TrainingKeepsAndUpdatesEveryExpertEvenOnesNoTokenReached) {
  // 8 experts, 2 tokens, top-1: at most two experts run a matmul. Each expert is a gated
  // FFN: gate and up (64 x 2*128) and down (128 x 64) = 3 x 64 x 128 parameters; the router
  // 64 x 8. Adam, fp32 master: weights 4 bytes, two moments, an fp32 gradient each.
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  training: {optimizer: adam}\n  ops:\n"
      "    - {op: moe, name: m, tokens: 2, d_model: 64, d_ff: 128, experts: 8, top_k: 1, ffn: swiglu,"
      " loads: [2, 0, 0, 0, 0, 0, 0, 0], dtype: bf16}\n",
      "m.yaml");
  const WorkloadSpec flat = expand_composites(wl);
  const std::uint64_t per_expert = 3ull * 64 * 128, params = 8 * per_expert + 64ull * 8;
  const TrainingFootprint f = training_footprint(flat);
  EXPECT_EQ(f.parameters, params);
  EXPECT_EQ(f.weights_bytes, params * 4);
  EXPECT_EQ(f.optimizer_state_bytes, params * 2 * 4);
  EXPECT_EQ(f.gradient_bytes, params * 4);
  // The optimizer steps all of them: the update ops' rows add up to every parameter.
  std::uint64_t updated = 0;
  bool idle_update = false;
  for (const Op& op : expand_training(flat).ops)
    if (op.pass == Op::Pass::update) {
      updated += std::get<VectorOp>(op.body).rows;
      idle_update = idle_update || op.name == "m.idle_experts.update";
    }
  EXPECT_EQ(updated, params);
  EXPECT_TRUE(idle_update);
}

}  // namespace
}  // namespace podsim

namespace podsim {
namespace {

TEST(Templates, ResNet50IsAbout4Point1GigaMacsPerImage) {
  // Published: ~4.1 GMACs for ResNet-50 at 224 x 224 (He et al. 2016 quote 3.8 GFLOPs
  // counting multiply-adds for v1; v1.5's stride in the 3x3 conv makes it ~4.1). Within 2 %.
  TemplateOp t;
  t.name = "resnet50";
  t.batch = 1;
  t.image = 224;
  EXPECT_NEAR(double(t.macs()), 4.1e9, 0.02 * 4.1e9);
  t.batch = 8;
  EXPECT_NEAR(double(t.macs()), 8 * 4.1e9, 0.02 * 8 * 4.1e9);
}

// Weight elements of a template: its convolutions' and matmuls' K x N (an attention op's
// own products multiply activations and are not among them).
std::uint64_t weight_elements(const TemplateOp& t) {
  Op op;
  op.name = "t";
  op.body = t;
  std::uint64_t weights = 0;
  for (const Op& o : expand_template(op))
    if (std::holds_alternative<Conv2dOp>(o.body) || std::holds_alternative<MatmulOp>(o.body)) {
      const LoweredMatmul l = lower_to_matmul(o);
      weights += l.matmul.k * l.matmul.n * l.instances;
    }
  return weights;
}

TEST(Templates, ResNet50HasThePublishedWeightCount) {
  // ResNet-50 v1.5 has 25,557,032 parameters (25.6 M, the torchvision model). Of those,
  // batch norm holds 2 per channel of its 53 norms: 2 x (64 + stage 1: 3 x (64 + 64 + 256)
  // + 256, stage 2: 4 x 768 + 512, stage 3: 6 x 1536 + 1024, stage 4: 3 x 3072 + 2048)
  // = 2 x 26,560 = 53,120, and the classifier's bias 1,000. The conv and fc weights are
  // therefore 25,557,032 - 53,120 - 1,000 = 25,502,912: the template must hold exactly
  // those (batch norm folds into the convs for inference and is not a weight here).
  TemplateOp t;
  t.name = "resnet50";
  t.batch = 1;
  t.image = 224;
  EXPECT_EQ(weight_elements(t), 25'502'912u);
}

TEST(Templates, ResNet50TrainsWithBatchNormAfterEveryConvAndFoldsItForInference) {
  const std::string ops = "  ops:\n    - {op: template, template: resnet50, name: r, batch: 2, image: 224, dtype: bf16}\n";
  const WorkloadSpec infer = expand_composites(load_workload_text("workload:\n" + ops, "i.yaml"));
  const WorkloadSpec train =
      expand_composites(load_workload_text("workload:\n  training: {optimizer: sgd}\n" + ops, "t.yaml"));
  auto count_bn = [](const WorkloadSpec& w) {
    std::size_t n = 0;
    for (const Op& o : w.ops)
      if (const auto* v = std::get_if<VectorOp>(&o.body); v && v->fn == VectorFn::batchnorm) ++n;
    return n;
  };
  // 53 convolutions (conv1, 16 blocks x 3, 4 projections), each followed by batch norm.
  EXPECT_EQ(count_bn(infer), 0u);
  EXPECT_EQ(count_bn(train), 53u);
  // conv1 (112 x 112 x 64 per image) -> bn over its output -> ReLU, which fuses into the bn;
  // the bn itself needs the whole batch's statistics, so it does not fuse into the conv.
  ASSERT_EQ(train.ops[1].name, "r.conv1.bn");
  const auto& bn = std::get<VectorOp>(train.ops[1].body);
  EXPECT_EQ(bn.rows, 2u * 112 * 112);
  EXPECT_EQ(bn.cols, 64u);
  EXPECT_FALSE(fuses_into(bn, train.ops[0]));
  EXPECT_TRUE(fuses_into(std::get<VectorOp>(train.ops[2].body), train.ops[1]));
}

TEST(Templates, MlpAndDistillationTrainOnlyTheStudent) {
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  training: {optimizer: sgd}\n  ops:\n"
      "    - {op: template, template: mlp, name: teacher, batch: 8, widths: [16, 32, 16], dtype: bf16, frozen: true}\n"
      "    - {op: template, template: mlp, name: student, batch: 8, widths: [16, 8], dtype: bf16}\n",
      "d.yaml");
  const WorkloadSpec flat = expand_composites(wl);
  // teacher: fc1, relu1, fc2; student: fc1.
  ASSERT_EQ(flat.ops.size(), 4u);
  const WorkloadSpec t = expand_training(flat);
  // Forward of all; backward and update of the student only: 8x16x8 MACs three times.
  const std::uint64_t teacher = 8ull * 16 * 32 + 8ull * 32 * 16, student = 8ull * 16 * 8;
  EXPECT_EQ(t.total_macs(), teacher + 3 * student);
  EXPECT_EQ(t.ops.back().name, "student.fc1.update");
}

TEST(Templates, TheDistillationTemplateFreezesItsTeacherAndEndsInTheLoss) {
  const WorkloadSpec wl = load_workload_text(
      "workload:\n  training: {optimizer: adam}\n  ops:\n"
      "    - {op: template, template: distillation, name: d, batch: 8, teacher: [16, 32, 10], student: [16, 10], "
      "dtype: bf16}\n",
      "d.yaml");
  const WorkloadSpec flat = expand_composites(wl);
  // teacher: fc1, relu1, fc2, softmax (frozen); student: fc1, softmax; kl, loss.
  std::vector<std::string> names;
  for (const Op& op : flat.ops) names.push_back(op.name);
  EXPECT_EQ(names, (std::vector<std::string>{"d.teacher.fc1", "d.teacher.relu1", "d.teacher.fc2", "d.teacher.softmax",
                                             "d.student.fc1", "d.student.softmax", "d.kl", "d.loss"}));
  for (std::size_t i = 0; i < 4; ++i) EXPECT_TRUE(flat.ops[i].frozen) << names[i];
  for (std::size_t i = 4; i < flat.ops.size(); ++i) EXPECT_FALSE(flat.ops[i].frozen) << names[i];
  const auto& loss = std::get<VectorOp>(flat.ops.back().body);
  EXPECT_EQ(loss.output_elements(), 8u);  // one loss per sample
  // Training: the teacher's forward once, the student's matmul three times.
  const WorkloadSpec t = expand_training(flat);
  EXPECT_EQ(t.total_macs(), 8ull * 16 * 32 + 8ull * 32 * 10 + 3 * 8ull * 16 * 10);
  for (const Op& op : t.ops) EXPECT_EQ(op.name.find("d.teacher.fc1."), std::string::npos) << op.name;
}

TEST(Templates, DistillationNeedsMatchingInputsAndLogits) {
  EXPECT_THROW(load_workload_text("workload:\n  ops:\n    - {op: template, template: distillation, batch: 8, "
                                  "teacher: [16, 32, 10], student: [16, 12], dtype: bf16}\n",
                                  "d.yaml"),
               ConfigError);
}

}  // namespace
}  // namespace podsim

namespace podsim {
namespace {

TEST(Templates, TransformerEncoderMatchesTheHandWrittenBertLayer) {
  // workloads/bert-large-layer.yaml lists the layer's ops by hand; the template must
  // build the same work.
  const WorkloadSpec by_hand = expand_composites(load_workload(test::source_path("workloads/bert-large-layer.yaml")));
  const WorkloadSpec templ = expand_composites(load_workload_text(
      "workload:\n  ops:\n    - {op: template, template: transformer_encoder, name: l, batch: 8, seq: 512,"
      " d_model: 1024, heads: 16, d_ff: 4096, dtype: bf16}\n",
      "t.yaml"));
  EXPECT_EQ(templ.total_macs(), by_hand.total_macs());
  EXPECT_EQ(templ.ops.size(), by_hand.ops.size());
}

TEST(Templates, BertLargeLayersHoldThePublishedWeightCount) {
  // BERT-large (Devlin et al. 2019: "340M"; the released bert-large-uncased model has
  // 335,141,888 parameters). Of those, the embeddings hold 30,522 x 1024 + 512 x 1024 +
  // 2 x 1024 + a layer norm's 2 x 1024 = 31,782,912, the pooler 1024 x 1024 + 1024 =
  // 1,049,600, and each of the 24 layers 13,312 in biases and norms (4 x 1024 + 4096 +
  // 1024 + 2 x 2 x 1024). What is left, 335,141,888 - 31,782,912 - 1,049,600 - 24 x 13,312
  // = 301,989,888, are the layers' weight matrices: 24 encoder templates must hold exactly
  // those (the attention's own matmuls multiply activations and hold none).
  TemplateOp t;
  t.name = "transformer_encoder";
  t.batch = 1;
  t.seq = 512;
  t.d_model = 1024;
  t.heads = 16;
  t.d_ff = 4096;
  EXPECT_EQ(24 * weight_elements(t), 335'141'888u - 31'782'912u - 1'049'600u - 24u * 13'312u);
}

TEST(Templates, MoeLayerRoutesItsTokensToTopKExperts) {
  const WorkloadSpec wl = expand_composites(load_workload_text(
      "workload:\n  ops:\n    - {op: template, template: moe_layer, name: l, batch: 2, seq: 512, d_model: 256,"
      " heads: 4, d_ff: 512, experts: 8, top_k: 2, capacity_factor: 1.0, dtype: bf16}\n",
      "m.yaml"));
  ASSERT_EQ(wl.moe_routing.size(), 1u);
  EXPECT_EQ(wl.moe_routing[0].capacity, 256u);  // 1024 tokens x 2 / 8 experts
  EXPECT_EQ(wl.moe_routing[0].dropped, 0u);     // even routing, factor 1
}

}  // namespace
}  // namespace podsim
