// libFuzzer: quantities with units ("940 MHz", "1.5 GiB", "3e9 B/s") of every kind, and
// DRAM timings ("14 ns", "7 ck"). A parsed value must format and parse back to itself.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "podsim/config/dram_device.h"
#include "podsim/config/units.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (auto kind : {podsim::UnitKind::none, podsim::UnitKind::frequency, podsim::UnitKind::bandwidth,
                    podsim::UnitKind::size, podsim::UnitKind::time, podsim::UnitKind::energy,
                    podsim::UnitKind::power}) {
    std::string why;
    const auto q = podsim::parse_quantity(text, kind, &why);
    if (!q) continue;
    const std::string again = podsim::format_quantity(q->value, kind);
    const auto back = podsim::parse_quantity(again, kind, &why);
    if (!back || back->value != q->value) std::abort();  // formatting must round-trip
  }
  std::string why;
  (void)podsim::parse_dram_time(text, &why);
  (void)podsim::normalize_dram_mapping(text, &why);
  return 0;
}
