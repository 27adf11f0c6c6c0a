// `podsim reproduce`: runs published anchors (validation/*.yaml) and judges each against
// its published figure. Every run is its own `podsim` child process (SystemC elaborates
// once per process); identical runs shared by several anchors run once.
#pragma once

#include <string>
#include <vector>

#include "podsim/validation/anchor.h"

namespace podsim {

enum class AnchorStatus {
  kPass,            // within tolerance
  kFail,            // outside tolerance, not marked known: a regression or a new anchor to fix
  kKnownFailure,    // outside tolerance, and the anchor says why (known_failure)
  kUnexpectedPass,  // marked known but now within tolerance: remove the mark
  kError,           // a run failed or its report lacks the value
};
const char* anchor_status_name(AnchorStatus s);  // "pass", "FAIL", "known", "XPASS", "ERROR"

struct AnchorResult {
  AnchorSpec spec;
  double simulated = 0;
  double error = 0;  // (simulated - published) / published
  AnchorStatus status = AnchorStatus::kError;
  std::string message;  // for kError: what went wrong
};

struct ReproduceOptions {
  unsigned jobs = 1;
  std::string podsim_binary;  // the executable for the runs
};

// Results in the order of `anchors`; independent of `jobs`.
std::vector<AnchorResult> reproduce(const std::vector<AnchorSpec>& anchors, const ReproduceOptions& options);

// The exit code: 0 when every anchor passes or is a known failure, 1 otherwise.
int reproduce_exit_code(const std::vector<AnchorResult>& results);

// Reports (deterministic: no wall times, no temporary paths).
std::string reproduce_text(const std::vector<AnchorResult>& results);
std::string reproduce_json(const std::vector<AnchorResult>& results);
std::string reproduce_markdown(const std::vector<AnchorResult>& results);

}  // namespace podsim
