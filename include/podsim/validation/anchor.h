// A published anchor: one figure from a paper or a benchmark result, the podsim runs that
// reproduce it, and how far apart the two may be. `podsim reproduce` runs every anchor
// under validation/ and judges each (docs/validation.md is generated from the result).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "podsim/config/config_error.h"

namespace podsim {

// One podsim child process: `podsim <command> <args...> --json <tmp>`.
struct AnchorRun {
  std::string command = "run";         // run | collective
  std::vector<std::string> args;       // the command line after the command, resolved
  SourceLocation where;                // where the run is described, for errors
};

// The value an anchor compares: an arithmetic expression over numbers and JSON values
// of its runs' reports (`v3.summary.time_s`, `ar.results[0].time_s`).
struct AnchorExpr {
  enum class Kind { kNumber, kReference, kAdd, kSub, kMul, kDiv };
  Kind kind = Kind::kNumber;
  double number = 0;
  std::string run;                     // kReference: the run's name
  std::vector<std::string> path;       // kReference: keys; a key "[3]" indexes a list
  std::unique_ptr<AnchorExpr> lhs, rhs;
};

// What the published figure is, so a reader can weigh an error: a figure measured on the
// hardware running work says more about podsim than a datasheet identity does.
enum class AnchorKind {
  kMeasured,    // measured on the chip running work: benchmark logs, measured throughput or power
  kModel,       // the designers' own performance model or worked example
  kSpec,        // a datasheet figure or what follows from it alone (peak, ridge, bandwidth, die size)
  kClosedForm,  // a textbook formula (the ring all-reduce, all-to-all on a torus)
};
inline constexpr AnchorKind kAnchorKinds[] = {AnchorKind::kMeasured, AnchorKind::kModel, AnchorKind::kSpec,
                                               AnchorKind::kClosedForm};
const char* anchor_kind_name(AnchorKind k);     // "measured", "model", "spec", "closed_form"
const char* anchor_kind_meaning(AnchorKind k);  // what the published figure is, for reports

struct AnchorSpec {
  std::string file;          // the anchor file, as given
  std::string name;          // unique id, e.g. tpu-v1-mlp0
  std::string group;         // section in the report, e.g. "TPU v1"
  AnchorKind kind = AnchorKind::kMeasured;
  std::string claim;         // what the published figure says, one line
  std::string source;        // paper, table or figure
  double published = 0;      // the published value
  std::string unit;          // its unit, as printed
  double tolerance = 0;      // allowed |simulated - published| / published
  std::string assumptions;   // what the paper leaves out and the anchor assumes
  std::string known_failure; // non-empty: the anchor is known to fail, and why
  std::map<std::string, AnchorRun> runs;
  std::string value_text;    // the expression as written
  std::shared_ptr<const AnchorExpr> value;
};

// Reads one anchor file; ConfigError with file, line, column and key path on bad input.
AnchorSpec load_anchor_file(const std::string& path);

// Every *.yaml directly under `dir` (sorted by name), or the file itself.
std::vector<std::string> anchor_files(const std::string& path);

// Parses "a.summary.time_s / b.summary.time_s"; run names must be in `runs`.
std::shared_ptr<const AnchorExpr> parse_anchor_expr(const std::string& text, const std::vector<std::string>& runs,
                                                    const SourceLocation& where, const std::string& key_path);

}  // namespace podsim
