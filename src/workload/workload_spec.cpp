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

const char* vector_fn_name(VectorFn f) {
  switch (f) {
    case VectorFn::add: return "add";
    case VectorFn::mul: return "mul";
    case VectorFn::scale: return "scale";
    case VectorFn::relu: return "relu";
    case VectorFn::gelu: return "gelu";
    case VectorFn::sigmoid: return "sigmoid";
    case VectorFn::tanh: return "tanh";
    case VectorFn::exp: return "exp";
    case VectorFn::softmax: return "softmax";
    case VectorFn::layernorm: return "layernorm";
    case VectorFn::rmsnorm: return "rmsnorm";
    case VectorFn::sgd: return "sgd";
    case VectorFn::momentum: return "momentum";
    case VectorFn::adam: return "adam";
  }
  return "?";
}

const char* Op::kind() const {
  return std::visit(Overloaded{[](const MatmulOp&) { return "matmul"; }, [](const Conv2dOp&) { return "conv2d"; },
                               [](const VectorOp& v) {
                                 switch (v.fn) {
                                   case VectorFn::softmax:
                                   case VectorFn::layernorm:
                                   case VectorFn::rmsnorm: return vector_fn_name(v.fn);
                                   case VectorFn::sgd:
                                   case VectorFn::momentum:
                                   case VectorFn::adam: return "optimizer";
                                   default: return "elementwise";
                                 }
                               },
                               [](const EmbeddingOp&) { return "embedding_lookup"; },
                               [](const AttentionOp&) { return "attention"; }},
                    body);
}

std::uint64_t Op::vector_elements_once() const {
  return std::visit(Overloaded{[](const MatmulOp&) -> std::uint64_t { return 0; },
                               [](const Conv2dOp&) -> std::uint64_t { return 0; },
                               [](const VectorOp& v) -> std::uint64_t { return v.elements(); },
                               [](const EmbeddingOp& e) -> std::uint64_t { return e.batch * e.lookups * e.dim; },
                               [](const AttentionOp& a) -> std::uint64_t {
                                 return a.batch * a.heads * a.queries() * a.keys();
                               }},
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
                 },
                 [](const VectorOp& v) { return fmt::format("{} {}x{}", vector_fn_name(v.fn), v.rows, v.cols); },
                 [](const EmbeddingOp& e) {
                   return fmt::format("{}x{} {}x{}{}", e.table_rows, e.dim, e.batch, e.lookups, e.zipf ? " zipf" : "");
                 },
                 [](const AttentionOp& a) {
                   return fmt::format("b{} h{} q{} kv{} d{}{}", a.batch, a.heads, a.queries(), a.keys(), a.head_dim,
                                      a.causal ? " causal" : "");
                 }},
      body);
}

std::uint64_t WorkloadSpec::total_macs() const {
  std::uint64_t total = 0;
  for (const auto& op : ops) total += op.macs_once() * op.repeat;
  return total;
}

}  // namespace podsim
