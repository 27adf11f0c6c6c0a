// libFuzzer: the workload loader (ops, templates, training, parallelism) on arbitrary bytes.
#include <cstdint>
#include <string>

#include "podsim/config/config_error.h"
#include "podsim/config/workload_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    podsim::load_workload_text(text, "/nonexistent-fuzz-dir/fuzz.yaml");  // index files: none readable
  } catch (const podsim::ConfigError&) {
  }
  return 0;
}
