// libFuzzer: the sweep loader (grid, ranges, constraints, metrics) on arbitrary bytes.
#include <cstdint>
#include <string>

#include "podsim/config/config_error.h"
#include "podsim/config/sweep_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    podsim::load_sweep_text(text, "fuzz-sweep.yaml");
  } catch (const podsim::ConfigError&) {
  }
  return 0;
}
