#include "podsim/workload/workload_spec.h"

namespace podsim {
namespace {
template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;
}  // namespace

const char* Op::kind() const {
  return std::visit(Overloaded{[](const MatmulOp&) { return "matmul"; }}, body);
}

std::uint64_t Op::macs_once() const {
  return std::visit(Overloaded{[](const MatmulOp& mm) { return mm.macs(); }}, body);
}

std::uint64_t WorkloadSpec::total_macs() const {
  std::uint64_t total = 0;
  for (const auto& op : ops) total += op.macs_once() * op.repeat;
  return total;
}

}  // namespace podsim
