#include "podsim/workload/workload_spec.h"

#include <algorithm>

#include <fmt/format.h>

#include "podsim/workload/overloaded.h"

namespace podsim {

bool MatmulOp::zero_block(std::uint64_t kb, std::uint64_t nb) const {
  if (block_sparsity <= 0) return false;
  std::uint64_t x = sparsity_seed * 0x9E3779B97F4A7C15ULL ^ (kb * 0xBF58476D1CE4E5B9ULL + nb);
  x ^= x >> 31;
  x *= 0x94D049BB133111EBULL;
  x ^= x >> 29;
  return double(x >> 11) * 0x1.0p-53 < block_sparsity;
}

std::uint64_t MatmulOp::nonzero_k(std::uint64_t k0, std::uint64_t k1) const {
  const std::uint64_t G = kSparsityGroup;
  const auto keep = std::uint64_t(std::llround((1.0 - weight_sparsity) * double(G)));  // first `keep` of each group
  auto below = [&](std::uint64_t k) { return k / G * keep + std::min(k % G, keep); };  // nonzero rows in [0, k)
  return k1 > k0 ? below(k1) - below(k0) : 0;
}

std::uint64_t MatmulOp::nonzero_weights(std::uint64_t k0, std::uint64_t k1, std::uint64_t n0, std::uint64_t n1) const {
  if (weight_sparsity > 0) return nonzero_k(k0, k1) * (n1 - n0);
  const std::uint64_t B = kSparsityBlock;
  std::uint64_t nonzero = 0;
  for (std::uint64_t kb = k0 / B; kb * B < k1; ++kb)
    for (std::uint64_t nb = n0 / B; nb * B < n1; ++nb)
      if (!zero_block(kb, nb))
        nonzero += (std::min(k1, (kb + 1) * B) - std::max(k0, kb * B)) * (std::min(n1, (nb + 1) * B) - std::max(n0, nb * B));
  return nonzero;
}

std::uint64_t MatmulOp::macs() const {
  return block_sparsity <= 0 && weight_sparsity <= 0 ? m * k * n : m * nonzero_weights(0, k, 0, n);
}

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
    case VectorFn::softmax_grad: return "softmax_grad";
    case VectorFn::layernorm: return "layernorm";
    case VectorFn::rmsnorm: return "rmsnorm";
    case VectorFn::batchnorm: return "batchnorm";
    case VectorFn::sgd: return "sgd";
    case VectorFn::momentum: return "momentum";
    case VectorFn::adam: return "adam";
    case VectorFn::reduce_sum: return "sum";
    case VectorFn::reduce_mean: return "mean";
    case VectorFn::reduce_max: return "max";
    case VectorFn::maxpool: return "maxpool";
    case VectorFn::avgpool: return "avgpool";
    case VectorFn::transpose: return "transpose";
    case VectorFn::copy: return "copy";
    case VectorFn::broadcast: return "broadcast";
    case VectorFn::unpool: return "unpool";
    case VectorFn::swiglu: return "swiglu";
    case VectorFn::geglu: return "geglu";
    case VectorFn::rope: return "rope";
  }
  return "?";
}

const char* Op::kind() const {
  return std::visit(Overloaded{[](const MatmulOp&) { return "matmul"; }, [](const Conv2dOp&) { return "conv2d"; },
                               [](const VectorOp& v) {
                                 switch (v.fn) {
                                   case VectorFn::softmax:
                                   case VectorFn::softmax_grad:
                                   case VectorFn::layernorm:
                                   case VectorFn::rmsnorm: return vector_fn_name(v.fn);
                                   case VectorFn::sgd:
                                   case VectorFn::momentum:
                                   case VectorFn::adam: return "optimizer";
                                   case VectorFn::reduce_sum:
                                   case VectorFn::reduce_mean:
                                   case VectorFn::reduce_max:
                                   case VectorFn::broadcast: return "reduce";
                                   case VectorFn::maxpool:
                                   case VectorFn::avgpool:
                                   case VectorFn::unpool: return "pool";
                                   case VectorFn::transpose: return "transpose";
                                   case VectorFn::copy: return "reshape";
                                   default: return "elementwise";
                                 }
                               },
                               [](const EmbeddingOp& e) { return e.backward ? "embedding_update" : "embedding_lookup"; },
                               [](const AttentionOp&) { return "attention"; },
                               [](const MoeOp&) { return "moe"; },
                               [](const TemplateOp&) { return "template"; },
                               [](const CollectiveOp&) { return "collective"; }},
                    body);
}

const char* comm_group_name(CommGroup g) {
  switch (g) {
    case CommGroup::all: return "all";
    case CommGroup::tensor: return "tensor";
    case CommGroup::data: return "data";
  }
  return "?";
}

const char* shard_name(Shard s) {
  switch (s) {
    case Shard::none: return "none";
    case Shard::column: return "column";
    case Shard::row: return "row";
    case Shard::heads: return "heads";
  }
  return "?";
}

std::uint64_t MoeOp::capacity() const {
  // ceil(capacity_factor x tokens x top_k / experts), computed without rounding drift.
  const long double c = (long double)capacity_factor * (long double)(tokens * top_k) / (long double)experts;
  const std::uint64_t floor = std::uint64_t(c);
  return (long double)floor == c ? floor : floor + 1;
}

namespace {
// Largest-remainder apportionment of `total` by weights w: exact totals, deterministic.
std::vector<std::uint64_t> apportion(std::uint64_t total, const std::vector<long double>& w) {
  long double sum = 0;
  for (long double x : w) sum += x;
  std::vector<std::uint64_t> out(w.size());
  std::vector<std::pair<long double, std::uint64_t>> rem;
  std::uint64_t given = 0;
  for (std::uint64_t e = 0; e < w.size(); ++e) {
    const long double share = sum > 0 ? w[e] / sum * (long double)total : 0;
    out[e] = std::uint64_t(share);
    given += out[e];
    rem.push_back({share - (long double)out[e], e});
  }
  std::stable_sort(rem.begin(), rem.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::uint64_t i = 0; given < total && i < rem.size(); ++i, ++given) ++out[rem[i].second];
  return out;
}
}  // namespace

std::vector<std::uint64_t> MoeOp::routed() const {
  if (!loads.empty()) return loads;
  // Expert e's share of the routing: weight (e + 1)^-skew (falling with e).
  const std::uint64_t total = tokens * top_k;
  std::vector<long double> w(experts);
  long double sum = 0;
  for (std::uint64_t e = 0; e < experts; ++e) sum += w[e] = std::pow((long double)(e + 1), -(long double)skew);
  if (routing == Routing::balanced) return apportion(total, w);
  // Random: each token picks expert e with probability p_e = top_k x its share (at most
  // 1); on average sum(1 - (1 - p_e)^tokens) experts are reached, at least top_k (one
  // token's) and at most min(experts, tokens x top_k). They are the likeliest (the first,
  // the weights falling with e); each gets one token, the rest go by the shares.
  long double reached = 0;
  for (std::uint64_t e = 0; e < experts; ++e)
    reached += 1 - std::pow(1 - std::min<long double>(1, (long double)top_k * w[e] / sum), (long double)tokens);
  const std::uint64_t active =
      std::clamp<std::uint64_t>(std::uint64_t(std::llround(reached)), top_k, std::min(experts, total));
  std::vector<long double> first(w.begin(), w.begin() + std::ptrdiff_t(active));
  std::vector<std::uint64_t> out = apportion(total - active, first);
  for (auto& x : out) ++x;
  out.resize(experts, 0);
  return out;
}

std::vector<std::uint64_t> MoeOp::processed() const {
  std::vector<std::uint64_t> p = routed();
  const std::uint64_t cap = capacity();
  for (auto& x : p) x = std::min(x, cap);
  return p;
}

std::uint64_t MoeOp::dropped() const {
  std::uint64_t kept = 0, all = 0;
  for (auto x : routed()) all += x;
  for (auto x : processed()) kept += x;
  return all - kept;
}

std::uint64_t MoeOp::macs() const {
  std::uint64_t kept = 0;
  for (auto x : processed()) kept += x;
  return tokens * d_model * experts + (ffn == VectorFn::gelu ? 2 : 3) * kept * d_model * d_ff;
}

std::uint64_t AttentionOp::computed_keys() const {
  const std::uint64_t q = queries(), k = keys();
  if (!causal || !fused || q <= 1 || q > k) return k;
  // Query block j of nb (B queries, the last q - (nb - 1) B) runs against
  // min(k, k - q + (j + 1) B) keys: every block but the last stops short of k.
  const std::uint64_t B = kCausalBlock, nb = (q + B - 1) / B, last_rows = q - (nb - 1) * B;
  const std::uint64_t pairs = B * (nb - 1) * (k - q) + B * B * (nb - 1) * nb / 2 + last_rows * k;  // < 2^50
  return (pairs + q - 1) / q;
}

std::uint64_t Op::vector_elements_once() const {
  return std::visit(Overloaded{[](const MatmulOp&) -> std::uint64_t { return 0; },
                               [](const Conv2dOp&) -> std::uint64_t { return 0; },
                               [](const VectorOp& v) -> std::uint64_t { return v.elements(); },
                               [](const EmbeddingOp& e) -> std::uint64_t { return e.batch * e.lookups * e.dim; },
                               [](const AttentionOp& a) -> std::uint64_t {
                                 return a.batch * a.heads * a.queries() * a.computed_keys();
                               },
                               [](const MoeOp& m) -> std::uint64_t { return m.tokens * m.experts; },
                               [](const TemplateOp&) -> std::uint64_t { return 0; },
                               [](const CollectiveOp&) -> std::uint64_t { return 0; }},
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
      Overloaded{[](const MatmulOp& mm) {
                   std::string s = fmt::format("{}x{}x{}", mm.m, mm.k, mm.n);
                   if (mm.weight_dtype) s += fmt::format(" w:{}", dtype_name(*mm.weight_dtype));  // quantized B
                   return s;
                 },
                 [](const Conv2dOp& c) {
                   std::string s = fmt::format("{}x{}x{}x{}>{} k{}s{}", c.n, c.h, c.w, c.c_in, c.c_out, c.kernel,
                                               c.stride);
                   if (c.groups > 1) s += fmt::format("g{}", c.groups);
                   return s;
                 },
                 [](const VectorOp& v) {
                   std::string s = fmt::format("{} {}x{}", vector_fn_name(v.fn), v.rows, v.cols);
                   if (!v.shape_preserving()) s += fmt::format(">{}x{}", v.output_rows(), v.output_cols());
                   return s;
                 },
                 [](const EmbeddingOp& e) {
                   return fmt::format("{}x{} {}x{}{}", e.table_rows, e.dim, e.batch, e.lookups,
                                      e.indices ? " file " + e.indices_file : e.zipf ? " zipf" : "");
                 },
                 [](const AttentionOp& a) {
                   return fmt::format("b{} h{}{} q{} kv{} d{}{}", a.batch, a.heads,
                                      a.key_value_heads() != a.heads ? fmt::format("/{}", a.key_value_heads()) : "",
                                      a.queries(), a.keys(), a.head_dim, a.causal ? " causal" : "");
                 },
                 [](const MoeOp& m) {
                   return fmt::format("{}t {}e top{} {}x{}", m.tokens, m.experts, m.top_k, m.d_model, m.d_ff);
                 },
                 [](const TemplateOp& t) { return fmt::format("{} batch {}", t.name, t.batch); },
                 [](const CollectiveOp& c) {
                   static const char* kinds[] = {"all_reduce", "reduce_scatter", "all_gather", "all_to_all", "broadcast", "send_recv"};
                   return fmt::format("{} {} B over {}", kinds[int(c.kind)], c.bytes, comm_group_name(c.group));
                 }},
      body);
}

std::uint64_t WorkloadSpec::total_macs() const {
  std::uint64_t total = 0;
  for (const auto& op : ops) total += op.macs_once() * op.repeat;
  return total;
}

}  // namespace podsim
