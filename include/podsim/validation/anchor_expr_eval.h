// Evaluates an anchor's value expression against its runs' JSON reports (nlohmann::json
// stays out of anchor.h, which the config layer includes).
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "podsim/validation/anchor.h"

namespace podsim {

// Throws std::runtime_error naming the missing key or the division by zero.
double evaluate_anchor_expr(const AnchorExpr& expr, const std::map<std::string, nlohmann::json>& reports);

}  // namespace podsim
