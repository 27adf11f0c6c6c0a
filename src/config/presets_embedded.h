// The hardware presets of configs/ and the model configurations of configs/models/,
// compiled into the binary so `--hw tpu-v3` and `model: llama-3-8b` work from any
// directory. The tables are generated at build time by cmake/embed_presets.cmake.
#pragma once

#include <cstddef>

namespace podsim::detail {

struct EmbeddedPreset {
  const char* name;  // file stem: "tpu-v3", "llama-3-8b"
  const char* file;  // "configs/tpu-v3.yaml", for error messages
  const char* text;  // the YAML or JSON
};

extern const EmbeddedPreset kEmbeddedPresets[];
extern const std::size_t kEmbeddedPresetsCount;

// configs/models/*.json: Hugging Face config.json files ("llama-3-8b").
extern const EmbeddedPreset kEmbeddedModels[];
extern const std::size_t kEmbeddedModelsCount;

// configs/energy/*.yaml: energy per action for a technology node ("16nm").
extern const EmbeddedPreset kEmbeddedEnergyTables[];
extern const std::size_t kEmbeddedEnergyTablesCount;

}  // namespace podsim::detail
