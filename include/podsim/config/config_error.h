// The one error type for bad input: it knows where (file, line, column), which key
// (a dotted path like chip.hbm.bandwidth), and what was expected. main() turns it into
// a message on stderr and exit code 2.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace podsim {

struct SourceLocation {
  std::string file;  // a path, "<preset tpu-v3>", or "--set"
  int line = 0;      // 1-based; 0 when unknown (the whole file, or a command-line value)
  int column = 0;    // 1-based; 0 when unknown
};

class ConfigError : public std::runtime_error {
 public:
  ConfigError(SourceLocation where, std::string key_path, std::string problem);

  const SourceLocation& where() const { return where_; }
  const std::string& key_path() const { return key_path_; }
  const std::string& problem() const { return problem_; }

 private:
  SourceLocation where_;
  std::string key_path_;
  std::string problem_;
};

// "did you mean 'bandwidth'?" for a key that is close to a known one, or "" when none is.
std::string suggest_nearest(const std::string& unknown, const std::vector<std::string>& known);

}  // namespace podsim
