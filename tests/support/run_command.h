// Runs a shell command for the CLI tests: its exit code and everything it printed.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace podsim::test {

struct Outcome {
  int code = -1;
  std::string output;  // stdout and stderr together
};

inline Outcome run_shell(const std::string& cmd) {
  Outcome o;
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  if (!pipe) return o;
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) o.output.append(buf.data(), n);
  const int status = pclose(pipe);
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace podsim::test
