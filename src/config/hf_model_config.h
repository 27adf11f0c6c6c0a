// A Hugging Face config.json read as the defaults of a transformer template
// (`model: llama-3-8b` or `model: path/config.json` in a template op). Internal to the
// config layer: op_parsers.cpp is its one user.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "podsim/config/config_error.h"
#include "podsim/workload/dtype.h"
#include "podsim/workload/workload_spec.h"

namespace podsim::detail {

struct HfModelConfig {
  std::string source;  // the file, or "configs/models/<name>.json" for a built-in one
  std::uint64_t hidden_size = 0, intermediate_size = 0, heads = 0, kv_heads = 0, layers = 0, vocab = 0;
  std::uint64_t experts = 0, experts_per_token = 0;  // num_local_experts, num_experts_per_tok
  VectorFn ffn = VectorFn::swiglu;                   // from hidden_act (and model_type)
  VectorFn norm = VectorFn::rmsnorm;                 // rmsnorm when rms_norm_eps is given
  bool rope = false;
  std::optional<DType> dtype;                        // torch_dtype
  std::optional<DType> weight_dtype;                 // quantization_config (GPTQ, AWQ): bits
  std::optional<std::uint64_t> sliding_window;       // when set (not null)
};

// `ref` names a built-in model (configs/models/<ref>.json, compiled in) or a file, taken
// relative to the directory of `workload_file`. `where` and `key_path` locate the `model:`
// key for errors about the reference itself; errors inside the file name the file, its
// line and column, and the JSON key. Throws ConfigError.
HfModelConfig load_hf_model_config(const std::string& ref, const std::string& workload_file,
                                   const SourceLocation& where, const std::string& key_path);

// The built-in model names, sorted.
std::vector<std::string> builtin_model_names();

}  // namespace podsim::detail
