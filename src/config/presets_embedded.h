// The hardware presets of configs/, compiled into the binary so `--hw tpu-v3` works from
// any directory. The table is generated at build time by cmake/embed_presets.cmake.
#pragma once

#include <cstddef>

namespace podsim::detail {

struct EmbeddedPreset {
  const char* name;  // file stem: "tpu-v3"
  const char* file;  // "configs/tpu-v3.yaml", for error messages
  const char* text;  // the YAML
};

extern const EmbeddedPreset kEmbeddedPresets[];
extern const std::size_t kEmbeddedPresetCount;

}  // namespace podsim::detail
