// The podsim subcommands, one function each; main.cpp parses the command line (CLI11
// stays there) and calls these. Each returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace podsim::cli {

enum ExitCode : int {
  kOk = 0,
  kInputError = 2,       // bad YAML, bad value, unknown key, unknown preset ...
  kSimulationError = 3,  // an invariant failed or a block stopped making progress
};

struct RunOptions {
  std::string workload;
  std::string hardware = "tpu-v3";
  std::vector<std::string> overrides;
  std::string json_path;
  bool quiet = false;
};

int run_command(const RunOptions& options);
int validate_command(const RunOptions& options);
int params_command();
int presets_command();

}  // namespace podsim::cli
