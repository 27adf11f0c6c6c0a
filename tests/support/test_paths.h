#pragma once

#include <string>

namespace podsim::test {

inline std::string source_path(const std::string& relative) {
  return std::string(PODSIM_SOURCE_DIR) + "/" + relative;
}

}  // namespace podsim::test
