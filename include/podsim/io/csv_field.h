// One CSV field as RFC 4180 writes it: quoted when it holds a comma, a quote or a newline,
// its quotes doubled. Shared by every CSV podsim writes (sweep results, Pareto fronts).
#pragma once

#include <string>

namespace podsim {

inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace podsim
