#include "podsim/io/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace podsim {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int e) { return std::strerror(e); }

// Writes all of `text` to `fd`; "" or the reason.
std::string write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_text(errno);
    }
    if (n == 0) return "the write made no progress";
    done += std::size_t(n);
  }
  return "";
}

std::string write_stdout(const std::string& text) {
  std::fflush(stdout);  // what was printed before comes first
  const std::string why = write_all(STDOUT_FILENO, text);
  return why.empty() ? "" : "standard output: " + why;
}

}  // namespace

std::string write_output_file(const std::string& path, const std::string& text, const std::vector<std::string>& inputs) {
  if (path == "-") return write_stdout(text);
  if (path.empty()) return "an empty path";
  std::error_code ec;
  for (const auto& in : inputs)
    if (!in.empty() && fs::exists(in, ec) && fs::exists(path, ec) && fs::equivalent(path, in, ec))
      return fmt::format("it is '{}', an input of this run; write the output elsewhere", in);

  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return "it is a folder";
    if (!S_ISREG(st.st_mode)) {
      // A device, FIFO, socket or terminal (/dev/stdout, /dev/null): written in place.
      const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0) return errno_text(errno);
      std::string why = write_all(fd, text);
      if (::close(fd) != 0 && why.empty()) why = errno_text(errno);
      return why;
    }
  }
  // A regular file or nothing: a fresh temporary file beside it, then rename.
  static std::atomic<unsigned> counter{0};
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  int fd = -1;
  std::string tmp;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    tmp = (dir / fmt::format(".{}.{}.{}.tmp", target.filename().string(), ::getpid(), counter++)).string();
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && errno != EEXIST) return errno_text(errno);
  }
  if (fd < 0) return "cannot create a temporary file beside it";
  // No fsync: readers see the old file or the new one through the rename; durability
  // across a machine crash is not worth a disk flush per sweep point.
  std::string why = write_all(fd, text);
  if (::close(fd) != 0 && why.empty()) why = errno_text(errno);
  if (why.empty() && ::rename(tmp.c_str(), path.c_str()) != 0) why = errno_text(errno);
  if (!why.empty()) ::unlink(tmp.c_str());
  return why;
}

int open_log_file(const std::string& path, std::string* why) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd < 0) {
    if (why) *why = errno == ELOOP ? "it is a symlink; not followed" : errno_text(errno);
    return -1;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    if (why) *why = "not a regular file";
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

}  // namespace podsim
