// Every hardware parameter, declared once (see param.h). The table is in
// hardware_params.cpp; `podsim params` prints it.
#pragma once

#include <string>
#include <vector>

#include "podsim/config/hardware_spec.h"
#include "podsim/config/param.h"

namespace podsim {

using HardwareParam = ParamDecl<HardwareSpec>;

const std::vector<HardwareParam>& hardware_params();
const HardwareParam* find_hardware_param(const std::string& path);

// A spec with every parameter at its declared default.
HardwareSpec default_hardware();

}  // namespace podsim
