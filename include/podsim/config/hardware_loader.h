// Hardware files and presets in, a validated HardwareSpec out.
//
// A hardware file looks like
//   hardware:
//     name: my-chip
//     base: tpu-v3          # optional: start from a preset instead of the defaults
//     chip:
//       hbm: {bandwidth: 1200 GB/s}
// and every leaf is a parameter declared in hardware_params.cpp.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "podsim/config/hardware_spec.h"

namespace podsim {

// Built-in presets (configs/*.yaml, compiled into the binary), in name order.
std::vector<std::string> preset_names();

// `name_or_path` is a preset name or a file path; `overrides` are "path=value" strings
// applied in order after the file. Throws ConfigError on any bad input.
HardwareSpec load_hardware(const std::string& name_or_path,
                           const std::vector<std::string>& overrides = {});

// The same from YAML text; `source` names it in error messages.
HardwareSpec load_hardware_text(const std::string& text, const std::string& source,
                                const std::vector<std::string>& overrides = {});

// Applies one "path=value" override. Throws ConfigError.
void apply_hardware_override(HardwareSpec& spec, const std::string& assignment);

// Every parameter's resolved value, as a user would write it, in declaration order:
// {"chip.clock", "940 MHz"}, ... Written into every report.
std::vector<std::pair<std::string, std::string>> resolved_hardware(const HardwareSpec& spec);

}  // namespace podsim
