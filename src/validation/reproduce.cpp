// Runs the anchors' podsim children, `jobs` at a time, and judges each anchor.
#include "podsim/validation/reproduce.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "podsim/io/child_process.h"
#include "podsim/validation/anchor_expr_eval.h"

extern char** environ;

namespace podsim {
namespace {

namespace fs = std::filesystem;

std::string run_key(const AnchorRun& r) {
  std::string key = r.command;
  for (const auto& a : r.args) key += '\0' + a;
  return key;
}

std::string read_text(const fs::path& p) { return read_text_file(p.string()); }
std::string last_line(const fs::path& log) { return last_log_line(log.string()); }

struct Outcome {
  bool ok = false;
  nlohmann::json report;
  std::string error;
};

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/podsim-reproduce-XXXXXX";
    if (!mkdtemp(tmpl.data())) throw std::runtime_error(fmt::format("cannot make a temporary folder: {}", strerror(errno)));
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

pid_t spawn(const std::string& binary, const AnchorRun& run, const fs::path& json, const fs::path& log) {
  std::vector<std::string> args = {binary, run.command};
  args.insert(args.end(), run.args.begin(), run.args.end());
  if (run.command == "run") args.push_back("-q");
  args.push_back("--json=" + json.string());
  return spawn_child(args, log.string());
}

// Runs every distinct run once; outcomes by run key.
std::map<std::string, Outcome> run_all(const std::vector<AnchorSpec>& anchors, const ReproduceOptions& o) {
  std::map<std::string, const AnchorRun*> distinct;
  for (const auto& a : anchors)
    for (const auto& [name, run] : a.runs) distinct.emplace(run_key(run), &run);
  TempDir tmp;
  std::map<std::string, Outcome> outcomes;
  std::map<pid_t, std::pair<std::string, std::size_t>> running;  // pid -> key, index
  std::vector<std::pair<std::string, const AnchorRun*>> todo(distinct.begin(), distinct.end());
  auto json_of = [&](std::size_t i) { return tmp.path() / fmt::format("{}.json", i); };
  auto log_of = [&](std::size_t i) { return tmp.path() / fmt::format("{}.log", i); };
  std::size_t next = 0;
  const unsigned jobs = std::max(1u, o.jobs);
  while (next < todo.size() || !running.empty()) {
    while (next < todo.size() && running.size() < jobs) {
      const pid_t pid = spawn(o.podsim_binary, *todo[next].second, json_of(next), log_of(next));
      running[pid] = {todo[next].first, next};
      ++next;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(fmt::format("waiting for a run failed: {}", strerror(errno)));
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const auto [key, index] = it->second;
    running.erase(it);
    Outcome& out = outcomes[key];
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      try {
        out.report = nlohmann::json::parse(read_text(json_of(index)));
        out.ok = true;
      } catch (const std::exception& e) {
        out.error = fmt::format("its JSON report could not be read: {}", e.what());
      }
    } else {
      const std::string why = WIFEXITED(status) ? fmt::format("exit {}", WEXITSTATUS(status))
                                                : fmt::format("signal {}", WTERMSIG(status));
      out.error = fmt::format("the run failed ({}): {}", why, last_line(log_of(index)));
    }
  }
  return outcomes;
}

}  // namespace

const char* anchor_status_name(AnchorStatus s) {
  switch (s) {
    case AnchorStatus::kPass: return "pass";
    case AnchorStatus::kFail: return "FAIL";
    case AnchorStatus::kKnownFailure: return "known";
    case AnchorStatus::kUnexpectedPass: return "XPASS";
    case AnchorStatus::kError: return "ERROR";
  }
  return "?";
}

std::vector<AnchorResult> reproduce(const std::vector<AnchorSpec>& anchors, const ReproduceOptions& o) {
  const std::map<std::string, Outcome> outcomes = run_all(anchors, o);
  std::vector<AnchorResult> results;
  for (const auto& a : anchors) {
    AnchorResult r;
    r.spec = a;
    std::map<std::string, nlohmann::json> reports;
    for (const auto& [name, run] : a.runs) {
      const Outcome& out = outcomes.at(run_key(run));
      if (!out.ok && r.message.empty()) r.message = fmt::format("run '{}': {}", name, out.error);
      if (out.ok) reports[name] = out.report;
    }
    if (r.message.empty()) {
      try {
        r.simulated = evaluate_anchor_expr(*a.value, reports);
        r.error = (r.simulated - a.published) / a.published;
        const bool within = std::isfinite(r.error) && std::fabs(r.error) <= a.tolerance;
        const bool known = !a.known_failure.empty();
        r.status = within ? (known ? AnchorStatus::kUnexpectedPass : AnchorStatus::kPass)
                          : (known ? AnchorStatus::kKnownFailure : AnchorStatus::kFail);
      } catch (const std::exception& e) {
        r.message = e.what();
      }
    }
    results.push_back(std::move(r));
  }
  return results;
}

int reproduce_exit_code(const std::vector<AnchorResult>& results) {
  for (const auto& r : results)
    if (r.status != AnchorStatus::kPass && r.status != AnchorStatus::kKnownFailure) return 1;
  return 0;
}

}  // namespace podsim
