// libFuzzer: the serve-file loader and the request-trace reader on arbitrary bytes; a
// spec that loads also generates its requests (bounded by the loader's limits).
#include <cstdint>
#include <string>

#include "podsim/config/config_error.h"
#include "podsim/serving/serve_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const podsim::ServeSpec spec = podsim::load_serve_spec_text(text, "fuzz-serve.yaml");
    // A generator of at most a million requests: keep each run short.
    if (spec.generator && spec.generator->count <= 10000) podsim::serve_requests(spec);
  } catch (const podsim::ConfigError&) {
  }
  try {
    podsim::parse_serve_trace(text, "fuzz-requests.csv");
  } catch (const podsim::ConfigError&) {
  }
  return 0;
}
