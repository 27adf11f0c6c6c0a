// Writing a report, trace or table to a path the user named, without harming what is
// there: a device, FIFO or terminal is written in place and never replaced by a regular
// file; a regular file is replaced atomically (readers see the old or the new file) from a
// temporary file created exclusively, so a planted symlink is never followed; an input of
// the same run is never overwritten; "-" is standard output; every write error is reported.
#pragma once

#include <string>
#include <vector>

namespace podsim {

// Writes `text` to `path`. `inputs` are files this run reads: writing onto one of them is
// refused. Returns "" on success, else why it failed ("No space left on device", "it is
// the workload file of this run", ...).
std::string write_output_file(const std::string& path, const std::string& text,
                              const std::vector<std::string>& inputs = {});

// Opens `path` for a log a child process writes to: created or truncated, but never
// through a symlink (O_NOFOLLOW) and only if it is a regular file. Returns the descriptor
// or -1 with `why` set.
int open_log_file(const std::string& path, std::string* why);

}  // namespace podsim
