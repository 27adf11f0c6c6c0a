// `podsim plot ...`: the plots live in the Python package (python/podsim/plot.py, with
// matplotlib); this command runs it with Debian's python3 and the package built beside
// this binary (build/release/python).
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.h"

namespace podsim::cli {

int plot_command(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  const fs::path package = exe.parent_path() / "python";
  if (ec || !fs::exists(package / "podsim" / "plot.py", ec)) {
    fmt::print(stderr, "error: podsim plot needs the Python package, which is built beside podsim ({}) when "
                       "python3-pybind11 is installed (scripts/setup.sh)\n", package.string());
    return kInputError;
  }
  const char* python = "/usr/bin/python3";  // Debian's: it has matplotlib (scripts/setup.sh)
  const char* old = std::getenv("PYTHONPATH");
  const std::string path = package.string() + (old && *old ? ":" + std::string(old) : "");
  setenv("PYTHONPATH", path.c_str(), 1);
  setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
  std::vector<std::string> argv_text = {python, "-m", "podsim.plot"};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::fflush(stdout);
  execv(python, argv.data());  // returns only on failure
  fmt::print(stderr, "error: cannot run {}: {}\n", python, std::strerror(errno));
  return kSimulationError;
}

}  // namespace podsim::cli
