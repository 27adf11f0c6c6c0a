#include "podsim/workload/workload_spec.h"

#include <fmt/format.h>

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
  return std::visit(Overloaded{[](const MatmulOp&) { return "matmul"; }, [](const Conv2dOp&) { return "conv2d"; }},
                    body);
}

std::uint64_t Op::macs_once() const {
  return std::visit([](const auto& o) { return o.macs(); }, body);
}

DType Op::dtype() const {
  return std::visit([](const auto& o) { return o.dtype; }, body);
}

std::string Op::shape_text() const {
  return std::visit(
      Overloaded{[](const MatmulOp& mm) { return fmt::format("{}x{}x{}", mm.m, mm.k, mm.n); },
                 [](const Conv2dOp& c) {
                   std::string s = fmt::format("{}x{}x{}x{}>{} k{}s{}", c.n, c.h, c.w, c.c_in, c.c_out, c.kernel,
                                               c.stride);
                   if (c.groups > 1) s += fmt::format("g{}", c.groups);
                   return s;
                 }},
      body);
}

std::uint64_t WorkloadSpec::total_macs() const {
  std::uint64_t total = 0;
  for (const auto& op : ops) total += op.macs_once() * op.repeat;
  return total;
}

}  // namespace podsim
