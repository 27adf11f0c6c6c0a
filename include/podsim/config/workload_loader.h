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
