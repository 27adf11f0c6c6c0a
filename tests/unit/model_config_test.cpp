// Transformer templates read from Hugging Face config.json files (`model:`): the built-in
// models have their published parameter counts, keys in the op override the file, and
// bad or unsupported files are refused with the file, line, column and key.
#include <filesystem>
#include <fstream>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "podsim/compiler/model_capacity.h"
#include "podsim/config/config_error.h"
#include "podsim/config/workload_loader.h"
#include "podsim/workload/composite.h"
#include "podsim/workload/templates.h"
#include "podsim/workload/training.h"

namespace podsim {
namespace {

WorkloadSpec model_op(const std::string& fields, const std::string& file = "m.yaml") {
  return load_workload_text("workload:\n  ops:\n    - {op: template, template: transformer_decoder, name: m, " + fields +
                                "}\n",
                            file);
}

struct PublishedModel {
  const char* name;
  std::uint64_t parameters;  // the checkpoint's, as published
  std::uint64_t vocab, hidden, layers;
};

class BuiltinModel : public testing::TestWithParam<PublishedModel> {};

TEST_P(BuiltinModel, HasThePublishedParameters) {
  // Matmul weights = published parameters - token embeddings (vocab x hidden, a gather,
  // not a matmul) - RMSNorm scales ((2 x layers + 1) x hidden). The output head is a
  // matmul (no model here ties it to the embeddings). Whatever the pass: a 512-token
  // prompt keeps every expert of Mixtral busy, one decoded token reaches 2 of its 8, and
  // all 8 experts' weights are held either way (until 2026-12-06 a one-token pass counted
  // only the experts it reached: 25.5 GB for Mixtral instead of 93.1).
  const PublishedModel& p = GetParam();
  const std::uint64_t expected = p.parameters - p.vocab * p.hidden - (2 * p.layers + 1) * p.hidden;
  for (const char* pass : {"batch: 1, seq: 512", "batch: 1, seq: 1, decode: true, kv_len: 64"}) {
    const WorkloadSpec flat = expand_composites(model_op(fmt::format("model: {}, {}, dtype: bf16", p.name, pass)));
    EXPECT_EQ(model_footprint(flat).weights_bytes, expected * 2) << p.name << ", " << pass;
    EXPECT_EQ(flat.ops.back().name, "m.lm_head");
    EXPECT_EQ(flat.ops.front().name, "m.L0.qkv");
  }
}

INSTANTIATE_TEST_SUITE_P(Published, BuiltinModel,
                         testing::Values(PublishedModel{"llama-2-7b", 6'738'415'616ull, 32000, 4096, 32},
                                         PublishedModel{"llama-3-8b", 8'030'261'248ull, 128256, 4096, 32},
                                         PublishedModel{"llama-3-70b", 70'553'706'496ull, 128256, 8192, 80},
                                         PublishedModel{"mixtral-8x7b", 46'702'792'704ull, 32000, 4096, 32}),
                         [](const auto& info) {
                           std::string n;
                           for (char c : std::string(info.param.name)) n += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

TEST(ModelConfig, FillsTheTemplateAndTheOpOverridesIt) {
  const WorkloadSpec wl = model_op("model: llama-3-8b, batch: 4, seq: 128, layers: 2, d_ff: 1024");
  const auto& t = std::get<TemplateOp>(wl.ops.at(0).body);
  EXPECT_EQ(t.d_model, 4096u);
  EXPECT_EQ(t.heads, 32u);
  EXPECT_EQ(t.kv_heads, 8u);
  EXPECT_EQ(t.d_ff, 1024u);   // the op's
  EXPECT_EQ(t.layers, 2u);    // the op's
  EXPECT_EQ(t.vocab, 128256u);
  EXPECT_EQ(t.ffn, VectorFn::swiglu);   // hidden_act silu
  EXPECT_EQ(t.norm, VectorFn::rmsnorm); // rms_norm_eps
  EXPECT_TRUE(t.rope);
  EXPECT_EQ(t.dtype, DType::bf16);      // torch_dtype bfloat16
  EXPECT_EQ(t.experts, 0u);
  // Mixtral: a decoder whose FFN is 8 experts, 2 per token.
  const TemplateOp mx = std::get<TemplateOp>(model_op("model: mixtral-8x7b, batch: 4, seq: 128").ops.at(0).body);
  EXPECT_EQ(mx.experts, 8u);
  EXPECT_EQ(mx.top_k, 2u);
  // Llama 2 was published in float16; the op may serve it in bf16.
  EXPECT_EQ(std::get<TemplateOp>(model_op("model: llama-2-7b, batch: 1, seq: 8").ops.at(0).body).dtype, DType::fp16);
  EXPECT_EQ(std::get<TemplateOp>(model_op("model: llama-2-7b, batch: 1, seq: 8, dtype: bf16").ops.at(0).body).dtype,
            DType::bf16);
}

ConfigError error_of(const std::string& fields, const std::string& file = "m.yaml") {
  try {
    model_op(fields, file);
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "accepted: " << fields;
  return ConfigError({}, "", "");
}

class ModelFile : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(testing::TempDir()) /
           ("model_config_" + std::string(testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::create_directories(dir_);
  }
  // Writes config.json beside a workload file and returns the workload's path.
  std::string write(const std::string& json) {
    std::ofstream(dir_ / "config.json") << json;
    return (dir_ / "w.yaml").string();
  }
  std::filesystem::path dir_;
};

constexpr const char* kSmall =
    "{\n  \"hidden_size\": 256,\n  \"intermediate_size\": 512,\n  \"num_attention_heads\": 4,\n"
    "  \"num_hidden_layers\": 2,\n  \"vocab_size\": 1000,\n  \"hidden_act\": \"gelu\",\n  \"torch_dtype\": \"float32\"\n}\n";

TEST_F(ModelFile, APathIsReadRelativeToTheWorkload) {
  const std::string w = write(kSmall);
  const TemplateOp t = std::get<TemplateOp>(model_op("model: config.json, batch: 2, seq: 16", w).ops.at(0).body);
  EXPECT_EQ(t.d_model, 256u);
  EXPECT_EQ(t.kv_heads, 4u);  // no num_key_value_heads: one per head
  EXPECT_EQ(t.ffn, VectorFn::gelu);
  EXPECT_EQ(t.norm, VectorFn::layernorm);  // no rms_norm_eps
  EXPECT_FALSE(t.rope);
  EXPECT_EQ(t.dtype, DType::fp32);
}

TEST_F(ModelFile, AWrongValueNamesTheFileLineAndKey) {
  std::string json = kSmall;
  json.replace(json.find("256"), 3, "\"wide\"");
  const std::string w = write(json);
  const ConfigError e = error_of("model: config.json, batch: 2, seq: 16", w);
  EXPECT_EQ(e.where().file, (dir_ / "config.json").string());
  EXPECT_EQ(e.where().line, 2);
  EXPECT_EQ(e.key_path(), "model.hidden_size");
}

TEST_F(ModelFile, MissingKeysSyntaxErrorsAndUnsupportedFeaturesAreRefused) {
  {
    std::string json = kSmall;
    json.replace(json.find("  \"vocab_size\": 1000,\n"), 22, "");
    const ConfigError e = error_of("model: config.json, batch: 2, seq: 16", write(json));
    EXPECT_EQ(e.key_path(), "model.vocab_size");
  }
  {
    const ConfigError e = error_of("model: config.json, batch: 2, seq: 16", write("{\n  \"hidden_size\": [256,\n}\n"));
    EXPECT_EQ(e.where().file, (dir_ / "config.json").string());
    EXPECT_EQ(e.where().line, 3);  // the brace that ends the mapping inside the open list
  }
  {
    // A GPTQ or AWQ checkpoint's bit width becomes the weights' stored type; other
    // methods and widths are refused.
    std::string json = kSmall;
    json.insert(2, "\"quantization_config\": {\"quant_method\": \"awq\", \"bits\": 4},\n");
    const TemplateOp t = std::get<TemplateOp>(model_op("model: config.json, batch: 2, seq: 16", write(json)).ops.at(0).body);
    EXPECT_EQ(t.weight_dtype, DType::int4);
    EXPECT_EQ(t.dtype, DType::fp32);
    json = kSmall;
    json.insert(2, "\"quantization_config\": {\"quant_method\": \"gptq\", \"bits\": 3},\n");
    const ConfigError e = error_of("model: config.json, batch: 2, seq: 16", write(json));
    EXPECT_EQ(e.key_path(), "model.quantization_config.bits");
    EXPECT_EQ(e.where().line, 2);
    json = kSmall;
    json.insert(2, "\"quantization_config\": {\"quant_method\": \"bitsandbytes\", \"bits\": 4},\n");
    EXPECT_EQ(error_of("model: config.json, batch: 2, seq: 16", write(json)).key_path(),
              "model.quantization_config.quant_method");
  }
  {
    std::string json = kSmall;
    json.insert(2, "\"sliding_window\": 64,\n");
    const std::string w = write(json);
    EXPECT_NO_THROW(model_op("model: config.json, batch: 2, seq: 64", w));  // within the window: exact
    const ConfigError e = error_of("model: config.json, batch: 2, seq: 65", w);
    EXPECT_NE(std::string(e.what()).find("sliding"), std::string::npos) << e.what();
  }
  {
    std::string json = kSmall;
    json.insert(2, "\"head_dim\": 128,\n");  // 256 / 4 = 64
    EXPECT_EQ(error_of("model: config.json, batch: 2, seq: 16", write(json)).key_path(), "model.head_dim");
  }
  {
    std::string json = kSmall;
    json.replace(json.find("  \"torch_dtype\": \"float32\"\n"), 26, "  \"model_type\": \"x\"\n");
    EXPECT_EQ(error_of("model: config.json, batch: 2, seq: 16", write(json)).key_path(), "workload.ops[0].dtype");
  }
}

TEST(ModelConfig, AnUnknownNameSuggestsTheNearestAndOtherTemplatesRefuseIt) {
  const ConfigError e = error_of("model: llama-3-8, batch: 1, seq: 8");
  EXPECT_NE(std::string(e.what()).find("llama-3-8b"), std::string::npos) << e.what();
  EXPECT_EQ(e.where().file, "m.yaml");
  EXPECT_EQ(e.where().line, 3);
  try {
    load_workload_text("workload:\n  ops:\n    - {op: template, template: resnet50, model: llama-3-8b, batch: 1, dtype: bf16}\n",
                       "r.yaml");
    ADD_FAILURE() << "resnet50 took a model";
  } catch (const ConfigError& e2) {
    EXPECT_NE(e2.key_path().find("model"), std::string::npos) << e2.what();
  }
}

}  // namespace
}  // namespace podsim

namespace podsim {
namespace {

ConfigError load_error(const std::string& yaml) {
  try {
    expand_training(expand_composites(load_workload_text(yaml, "q.yaml")));
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "accepted: " << yaml;
  return ConfigError({}, "", "");
}

TEST(QuantizedModel, WeightAndKvDtypesShrinkTheFootprintExactly) {
  // Llama-3-8B decode, 16 sequences x 2,048 cached tokens: 7,504,658,432 matmul weights
  // (8,030,261,248 published, less 128,256 x 4096 embeddings and 65 x 4096 norm scales)
  // and K and V of 32 layers x 16 x 8 heads x 2048 x 128.
  const auto footprint = [](const std::string& quant) {
    return model_footprint(expand_composites(load_workload_text(
        "workload:\n  ops:\n    - {op: template, template: transformer_decoder, name: m, model: llama-3-8b, "
        "batch: 16, seq: 2048, decode: true, kv_len: 2048" + quant + "}\n",
        "q.yaml")));
  };
  const std::uint64_t weights = 7'504'658'432ull, kv = 32ull * 2 * 16 * 8 * 2048 * 128;
  EXPECT_EQ(footprint("").weights_bytes, weights * 2);
  EXPECT_EQ(footprint("").kv_cache_bytes, kv * 2);
  const ModelFootprint w8kv8 = footprint(", weight_dtype: int8, kv_dtype: fp8");
  EXPECT_EQ(w8kv8.weights_bytes, weights);
  EXPECT_EQ(w8kv8.kv_cache_bytes, kv);
  const ModelFootprint w4 = footprint(", weight_dtype: int4");
  EXPECT_EQ(w4.weights_bytes, weights / 2);
  EXPECT_EQ(w4.kv_cache_bytes, kv * 2);
}

TEST(QuantizedModel, TheTemplateQuantizesWeightsNotActivations) {
  const WorkloadSpec flat = expand_composites(load_workload_text(
      "workload:\n  ops:\n    - {op: template, template: transformer_decoder, name: m, model: mixtral-8x7b, "
      "layers: 1, batch: 4, seq: 64, weight_dtype: int4, kv_dtype: int8}\n",
      "q.yaml"));
  int quantized = 0;
  for (const Op& op : flat.ops) {
    const auto* mm = std::get_if<MatmulOp>(&op.body);
    if (!mm) continue;
    const bool attention = op.b_is_activation;  // Q K^T and the product with V
    const bool router = op.name.find("router") != std::string::npos;
    if (attention) EXPECT_EQ(mm->weight_dtype, DType::int8) << op.name;
    else if (router) EXPECT_FALSE(mm->weight_dtype) << op.name;  // the router stays in bf16
    else EXPECT_EQ(mm->weight_dtype, DType::int4) << op.name;
    EXPECT_EQ(mm->dtype, DType::bf16) << op.name;
    quantized += mm->weight_dtype.has_value();
  }
  EXPECT_GE(quantized, 2 + 2 + 8 * 2 + 1);  // qkv, out_proj, the experts' two, lm_head, attention
}

TEST(QuantizedModel, BadQuantizationsAreRefused) {
  // int4 is a storage type: nothing computes in it.
  ConfigError e = load_error("workload:\n  ops:\n    - {op: matmul, name: g, m: 8, k: 64, n: 64, dtype: int4}\n");
  EXPECT_EQ(e.key_path(), "workload.ops[0].dtype");
  EXPECT_NE(std::string(e.what()).find("storage type"), std::string::npos) << e.what();
  // A stored type wider than the one it is dequantized to.
  e = load_error("workload:\n  ops:\n    - {op: matmul, name: g, m: 8, k: 64, n: 64, dtype: int8, weight_dtype: bf16}\n");
  EXPECT_EQ(e.key_path(), "workload.ops[0].weight_dtype");
  EXPECT_EQ(e.where().line, 3);
  e = load_error("workload:\n  ops:\n    - {op: matmul, name: g, m: 8, k: 64, n: 64, dtype: bf16, weight_dtype: int3}\n");
  EXPECT_NE(std::string(e.what()).find("int4"), std::string::npos) << e.what();
  // Training updates weights: quantized ones only frozen.
  e = load_error("workload:\n  training: {optimizer: sgd}\n  ops:\n"
                 "    - {op: matmul, name: g, m: 8, k: 64, n: 64, dtype: bf16, weight_dtype: int8}\n");
  EXPECT_EQ(e.key_path(), "g.weight_dtype");
  EXPECT_NO_THROW(expand_training(expand_composites(load_workload_text(
      "workload:\n  training: {optimizer: sgd}\n  ops:\n"
      "    - {op: matmul, name: g, m: 8, k: 64, n: 64, dtype: bf16, weight_dtype: int8, frozen: true}\n"
      "    - {op: matmul, name: h, m: 8, k: 64, n: 64, dtype: bf16}\n",
      "q.yaml"))));
}

}  // namespace
}  // namespace podsim
