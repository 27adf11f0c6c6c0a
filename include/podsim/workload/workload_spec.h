// A workload: an ordered list of ops, each with shapes and dtypes. Pure data: no timing,
// no SystemC. New op kinds are new alternatives of OpBody (and a parser in
// config/workload_loader.cpp, and a lowering in compiler/).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "podsim/config/config_error.h"
#include "podsim/workload/dtype.h"

namespace podsim {

// C[m x n] = A[m x k] * B[k x n]. A is the activation (streams through the array), B the
// weight (stationary in the array), C is written back in the same dtype.
struct MatmulOp {
  std::uint64_t m = 0, k = 0, n = 0;
  DType dtype = DType::bf16;

  std::uint64_t macs() const { return m * k * n; }
};

using OpBody = std::variant<MatmulOp>;

struct Op {
  std::string name;
  std::uint64_t repeat = 1;  // the op runs this many times back to back
  OpBody body;
  SourceLocation where;      // where it was declared, for errors found after parsing

  const char* kind() const;
  std::uint64_t macs_once() const;
  std::uint64_t flops_once() const { return 2 * macs_once(); }
};

struct WorkloadSpec {
  std::string name;
  std::string source;  // the file it came from
  std::vector<Op> ops;

  std::uint64_t total_macs() const;
  std::uint64_t total_flops() const { return 2 * total_macs(); }
};

}  // namespace podsim
