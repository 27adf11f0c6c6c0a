#include "hf_model_config.h"

#include <filesystem>

#include <fmt/format.h>

#include "op_fields.h"
#include "presets_embedded.h"
#include "yaml_util.h"

namespace podsim::detail {
namespace {

namespace fs = std::filesystem;

// Keys that change the model in ways podsim does not build: refused rather than ignored,
// so a result never silently describes another model.
struct Unsupported {
  const char* key;
  const char* why;
};
constexpr Unsupported kUnsupported[] = {
    {"n_shared_experts", "shared experts (DeepSeek-style MoE) are not modelled yet"},
    {"n_routed_experts", "DeepSeek-style routed experts are not modelled yet"},
    {"moe_intermediate_size", "a separate expert FFN width is not modelled yet"},
    {"kv_lora_rank", "multi-head latent attention is not modelled"},
    {"num_experts", "this MoE layout (Qwen-MoE style) is not modelled yet; Mixtral's num_local_experts is"},
};

// The torch_dtype names of Hugging Face configs.
std::optional<DType> dtype_of_torch(const std::string& name) {
  if (name == "bfloat16") return DType::bf16;
  if (name == "float16") return DType::fp16;
  if (name == "float32") return DType::fp32;
  return std::nullopt;
}

HfModelConfig read(const YAML::Node& root, const std::string& file) {
  OpFields f(root, "model", file);
  for (const auto& u : kUnsupported) {
    const YAML::Node v = root[u.key];
    if (v && !v.IsNull()) f.fail(u.key, u.why);
  }
  HfModelConfig m;
  m.source = file;
  constexpr std::uint64_t kMaxDim = 1ULL << 24;
  m.hidden_size = f.integer("hidden_size", 1, kMaxDim);
  m.intermediate_size = f.integer("intermediate_size", 1, kMaxDim);
  m.heads = f.integer("num_attention_heads", 1, 4096);
  m.kv_heads = f.integer("num_key_value_heads", 1, 4096, m.heads);
  m.layers = f.integer("num_hidden_layers", 1, 4096);
  m.vocab = f.integer("vocab_size", 1, kMaxDim);
  if (m.hidden_size % m.heads != 0)
    f.fail("num_attention_heads", fmt::format("must divide hidden_size ({})", m.hidden_size));
  if (m.heads % m.kv_heads != 0)
    f.fail("num_key_value_heads", fmt::format("must divide num_attention_heads ({})", m.heads));
  if (root["head_dim"] && !root["head_dim"].IsNull() &&
      f.integer("head_dim", 1, kMaxDim) != m.hidden_size / m.heads)
    f.fail("head_dim", fmt::format("a head width other than hidden_size / num_attention_heads ({}) is not modelled",
                                   m.hidden_size / m.heads));
  if (root["num_local_experts"] && !root["num_local_experts"].IsNull()) {
    m.experts = f.integer("num_local_experts", 1, 1 << 16);
    m.experts_per_token = f.integer("num_experts_per_tok", 1, m.experts);
  }
  const std::string type = f.text("model_type", "");
  // The FFN: LLaMA-family configs name SiLU, which they use gated (SwiGLU); Gemma names a
  // GELU it uses gated (GeGLU); BERT and GPT-style models use a plain GELU.
  const std::string act = f.text("hidden_act", f.text("hidden_activation", ""));
  if (act == "silu" || act == "swish") m.ffn = VectorFn::swiglu;
  else if (act.rfind("gelu", 0) == 0) m.ffn = type.rfind("gemma", 0) == 0 ? VectorFn::geglu : VectorFn::gelu;
  else f.fail(root["hidden_act"] ? "hidden_act" : "hidden_activation",
              fmt::format("activation '{}' is not modelled; expected silu, swish or gelu", act));
  m.norm = root["rms_norm_eps"] ? VectorFn::rmsnorm : VectorFn::layernorm;
  // Rotary embeddings: every config that gives a rope_theta, and the LLaMA family (whose
  // early configs leave the default theta out).
  m.rope = bool(root["rope_theta"]) || type == "llama" || type == "mistral" || type == "mixtral" || type == "qwen2";
  if (root["torch_dtype"] && !root["torch_dtype"].IsNull()) {
    const std::string d = f.text("torch_dtype", "");
    m.dtype = dtype_of_torch(d);
    if (!m.dtype) f.fail("torch_dtype", fmt::format("unknown torch_dtype '{}'; expected bfloat16, float16 or float32", d));
  }
  // Weight-only quantized checkpoints (GPTQ, AWQ): their bit width is the weights'
  // stored type; the activations stay in torch_dtype.
  if (const YAML::Node q = root["quantization_config"]; q && !q.IsNull()) {
    OpFields qf(q, "model.quantization_config", file);
    const std::string method = qf.choice("quant_method", {"gptq", "awq"}, "");
    const std::uint64_t bits = qf.integer("bits", 1, 64);
    if (bits != 4 && bits != 8)
      qf.fail("bits", fmt::format("{}-bit {} weights are not modelled; expected 4 or 8", bits, method));
    m.weight_dtype = bits == 4 ? DType::int4 : DType::int8;
  }
  if (root["sliding_window"] && !root["sliding_window"].IsNull())
    m.sliding_window = f.integer("sliding_window", 1, 1ULL << 40);
  return m;
}

}  // namespace

std::vector<std::string> builtin_model_names() {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < kEmbeddedModelsCount; ++i) names.emplace_back(kEmbeddedModels[i].name);
  return names;
}

HfModelConfig load_hf_model_config(const std::string& ref, const std::string& workload_file,
                                   const SourceLocation& where, const std::string& key_path) {
  for (std::size_t i = 0; i < kEmbeddedModelsCount; ++i)
    if (ref == kEmbeddedModels[i].name) return read(parse_yaml_text(kEmbeddedModels[i].text, kEmbeddedModels[i].file), kEmbeddedModels[i].file);
  // Not a built-in name: a path (a config.json is YAML too, so yaml-cpp gives every key a
  // line and column).
  const bool looks_like_path = ref.find('/') != std::string::npos || ref.find('.') != std::string::npos;
  if (!looks_like_path) {
    const std::string hint = suggest_nearest(ref, builtin_model_names());
    throw ConfigError(where, key_path,
                      fmt::format("unknown model '{}'; expected a built-in model ({}) or a config.json path{}", ref,
                                  fmt::join(builtin_model_names(), ", "), hint.empty() ? "" : "; " + hint));
  }
  fs::path path(ref);
  if (path.is_relative()) path = fs::path(workload_file).parent_path() / path;
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw ConfigError(where, key_path, fmt::format("no such file: {}", path.string()));
  return read(parse_yaml_file(path.string()), path.string());
}

}  // namespace podsim::detail
