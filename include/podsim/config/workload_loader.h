// Workload files in, a validated WorkloadSpec out:
//   workload:
//     name: gemm-example
//     ops:
//       - {op: matmul, name: g0, m: 4096, k: 4096, n: 4096, dtype: bf16, repeat: 1}
#pragma once

#include <string>
#include <vector>

#include "podsim/workload/workload_spec.h"

namespace podsim {

WorkloadSpec load_workload(const std::string& path);  // throws ConfigError
WorkloadSpec load_workload_text(const std::string& text, const std::string& source);

// With overrides "workload.ops[i].field=value" or "workload.ops.<op name>.field=value"
// (also "workload.name=..."), applied to the file before it is validated: a sweep axis or
// `podsim run --wset`. A path that names no op is a ConfigError.
WorkloadSpec load_workload(const std::string& path, const std::vector<std::string>& overrides);

// Whether `path` has the shape of a workload override path (it may still name no op).
bool is_workload_path(const std::string& path);

// The fields each op kind accepts, for docs and `podsim params`: "matmul: m, k, n, ...".
struct OpFieldDoc {
  std::string op;
  std::string field;
  std::string type;
  std::string default_text;  // "" = required
  std::string description;
};
std::vector<OpFieldDoc> workload_op_fields();

}  // namespace podsim
