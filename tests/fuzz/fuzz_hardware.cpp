// libFuzzer: the hardware loader on arbitrary bytes. Any input must give a spec or a
// ConfigError; anything else (a crash, a leak, another exception, a hang) is a bug.
#include <cstdint>
#include <string>

#include "podsim/config/config_error.h"
#include "podsim/config/hardware_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    podsim::load_hardware_text(text, "fuzz.yaml");
  } catch (const podsim::ConfigError&) {
  }
  return 0;
}
