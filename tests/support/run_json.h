// For CLI tests that compare runs: `podsim run -q ARGS --json` into the test's temporary
// directory, parsed; and small input files written there.
#pragma once

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"
#include "test_paths.h"

namespace podsim::test {

inline nlohmann::json run_json(const std::string& args, const std::string& name) {
  const std::string out = testing::TempDir() + name + ".json";
  const Outcome o = run_shell(std::string(PODSIM_BINARY) + " run -q " + args + " --json " + out);
  EXPECT_EQ(o.code, 0) << args << "\n" << o.output;
  return nlohmann::json::parse(read_file(out));
}

inline std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace podsim::test
