// libFuzzer: memory request traces (selftest memory --trace). A parsed trace must format
// and parse back to the same requests.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "podsim/config/config_error.h"
#include "podsim/sim/memory_trace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto t = podsim::parse_memory_trace(text, "fuzz.trace");
    const auto back = podsim::parse_memory_trace(podsim::format_memory_trace(t), "again.trace");
    if (back.size() != t.size()) std::abort();
    for (std::size_t i = 0; i < t.size(); ++i)
      if (back[i].addr != t[i].addr || back[i].bytes != t[i].bytes || back[i].write != t[i].write) std::abort();
  } catch (const podsim::ConfigError&) {
  }
  return 0;
}
