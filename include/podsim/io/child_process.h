// Child podsim processes for sweeps and `podsim reproduce`: started with stdin and stdout
// on /dev/null and stderr in a log file, and killed by the kernel if their parent dies
// (PR_SET_PDEATHSIG), so killing a sweep runner never leaves its points running.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace podsim {

// Starts args[0] with args (argv[0] included). The log is created through open_log_file
// (never through a symlink). Throws std::runtime_error when it cannot start.
pid_t spawn_child(const std::vector<std::string>& args, const std::string& stderr_log);

// A small text file's content ("" if it cannot be read), at most `limit` bytes from its end.
std::string read_text_file(const std::string& path, std::size_t limit = std::size_t(1) << 30);

// The last non-empty line of a child's log: its error message (at most 500 characters).
std::string last_log_line(const std::string& path);

}  // namespace podsim
