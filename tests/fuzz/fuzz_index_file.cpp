// libFuzzer: embedding index files (whole numbers, separators, comments) on arbitrary bytes.
#include <cstdint>
#include <string>

#include "index_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const auto v = podsim::detail::parse_index_text(text, "fuzz.idx", 1'000'000, "indices");
    for (auto x : v)
      if (x >= 1'000'000) __builtin_trap();  // every index is checked against the table
  } catch (const podsim::ConfigError&) {
  }
  return 0;
}
