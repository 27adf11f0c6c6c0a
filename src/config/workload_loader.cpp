#include <cmath>
#include "podsim/config/workload_loader.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "podsim/config/param.h"
#include "yaml_util.h"

namespace podsim {
namespace {

using detail::location_of;

constexpr std::uint64_t kMaxDim = 1ULL << 24;  // 16 Mi per dimension
constexpr std::uint64_t kMaxRepeat = 1ULL << 20;
constexpr long double kMaxMacs = 4e18L;  // below 2^63: counters stay exact

// Reads the fields of one op mapping, checking each against its declaration.
class OpFields {
 public:
  OpFields(const YAML::Node& node, std::string path, std::string file)
      : node_(node), path_(std::move(path)), file_(std::move(file)) {}

  std::uint64_t integer(const std::string& key, std::uint64_t min, std::uint64_t max,
                        std::optional<std::uint64_t> fallback = std::nullopt) {
    const YAML::Node v = node_[key];
    if (!v) return required(key, fallback);
    const std::string text = detail::scalar_text(v, full(key), file_);
    std::string why;
    auto parsed = parse_param_text(ParamType::integer, UnitKind::none, min, max, {}, text, &why);
    if (!parsed) throw ConfigError(location_of(v, file_), full(key), why);
    return parsed->number;
  }

  std::string text(const std::string& key, const std::string& fallback) {
    const YAML::Node v = node_[key];
    return v ? detail::scalar_text(v, full(key), file_) : fallback;
  }

  DType dtype(const std::string& key) {
    const YAML::Node v = node_[key];
    if (!v)
      throw ConfigError(location_of(node_, file_), full(key),
                        fmt::format("missing; expected one of {}", fmt::join(dtype_names(), ", ")));
    const std::string name = detail::scalar_text(v, full(key), file_);
    auto t = parse_dtype(name);
    if (!t) {
      std::string hint = suggest_nearest(name, dtype_names());
      throw ConfigError(location_of(v, file_), full(key),
                        fmt::format("unknown dtype '{}'; expected one of {}{}", name,
                                    fmt::join(dtype_names(), ", "), hint.empty() ? "" : "; " + hint));
    }
    return *t;
  }

  std::string full(const std::string& key) const { return path_ + "." + key; }

  // One of `options`; `fallback` when the key is absent ("" = required).
  std::string choice(const std::string& key, const std::vector<std::string>& options, const std::string& fallback) {
    const YAML::Node v = node_[key];
    if (!v) {
      if (!fallback.empty()) return fallback;
      throw ConfigError(location_of(node_, file_), full(key),
                        fmt::format("missing; expected one of {}", fmt::join(options, ", ")));
    }
    const std::string t = detail::scalar_text(v, full(key), file_);
    if (std::find(options.begin(), options.end(), t) != options.end()) return t;
    const std::string hint = suggest_nearest(t, options);
    throw ConfigError(location_of(v, file_), full(key),
                      fmt::format("unknown value '{}'; expected one of {}{}", t, fmt::join(options, ", "),
                                  hint.empty() ? "" : "; " + hint));
  }

  // A list of whole numbers, or empty when the key is absent.
  std::vector<std::uint64_t> integer_list(const std::string& key, std::uint64_t max) {
    std::vector<std::uint64_t> out;
    const YAML::Node v = node_[key];
    if (!v) return out;
    if (!v.IsSequence()) throw ConfigError(location_of(v, file_), full(key), "expected a list of whole numbers");
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string path = fmt::format("{}[{}]", full(key), i);
      std::string why;
      auto q = parse_param_text(ParamType::integer, UnitKind::none, 0, max, {}, detail::scalar_text(v[i], path, file_), &why);
      if (!q) throw ConfigError(location_of(v[i], file_), path, why);
      out.push_back(q->number);
    }
    return out;
  }

  double real(const std::string& key, double min, double max, double fallback) {
    const YAML::Node v = node_[key];
    if (!v) return fallback;
    const std::string t = detail::scalar_text(v, full(key), file_);
    std::size_t used = 0;
    double x = 0;
    try {
      x = std::stod(t, &used);
    } catch (...) {
      used = 0;
    }
    if (used != t.size() || used == 0 || !(x >= min && x <= max))
      throw ConfigError(location_of(v, file_), full(key), fmt::format("expected a number in [{}, {}], got '{}'", min, max, t));
    return x;
  }

  bool has(const std::string& key) const { return bool(node_[key]); }

  // A size with its unit ("64 MiB").
  std::uint64_t size(const std::string& key) {
    const YAML::Node v = node_[key];
    if (!v) return required(key, std::nullopt);
    std::string why;
    auto q = parse_param_text(ParamType::quantity, UnitKind::size, 0, 1ULL << 50, {},
                              detail::scalar_text(v, full(key), file_), &why);
    if (!q) throw ConfigError(location_of(v, file_), full(key), why);
    return q->number;
  }

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    const YAML::Node v = node_[key];
    throw ConfigError(location_of(v ? v : node_, file_), full(key), problem);
  }

 private:
  std::uint64_t required(const std::string& key, std::optional<std::uint64_t> fallback) {
    if (fallback) return *fallback;
    throw ConfigError(location_of(node_, file_), full(key), "missing; this field is required");
  }

  YAML::Node node_;
  std::string path_;
  std::string file_;
};

// One entry per op kind: its accepted keys (documented) and its parser.
struct OpKind {
  std::vector<OpFieldDoc> fields;
  OpBody (*parse)(OpFields&);
};

OpBody parse_matmul(OpFields& f) {
  MatmulOp mm;
  mm.m = f.integer("m", 1, kMaxDim);
  mm.k = f.integer("k", 1, kMaxDim);
  mm.n = f.integer("n", 1, kMaxDim);
  mm.dtype = f.dtype("dtype");
  mm.block_sparsity = f.real("block_sparsity", 0.0, 0.999, 0.0);
  mm.weight_sparsity = f.real("weight_sparsity", 0.0, 0.875, 0.0);
  if (std::abs(mm.weight_sparsity * 8 - std::round(mm.weight_sparsity * 8)) > 1e-9)
    f.fail("weight_sparsity", fmt::format("{} is not a whole number of eighths (z of every 8 weights along k are zero): "
                                          "use 0.125, 0.25, ..., 0.875", mm.weight_sparsity));
  if (mm.weight_sparsity > 0 && mm.block_sparsity > 0)
    f.fail("weight_sparsity", "give block_sparsity or weight_sparsity, not both");
  mm.sparsity_seed = f.integer("sparsity_seed", 0, UINT64_MAX, 1);
  if ((long double)mm.m * mm.k * mm.n > kMaxMacs)
    f.fail("m", "too large: m x k x n is more than 4e18 multiply-accumulates");
  if (mm.block_sparsity > 0 && (mm.k / MatmulOp::kSparsityBlock + 1) * (mm.n / MatmulOp::kSparsityBlock + 1) > 10'000'000)
    f.fail("block_sparsity", "supported up to 10 million 128 x 128 blocks of B");
  return mm;
}

OpBody parse_conv2d(OpFields& f) {
  Conv2dOp c;
  c.n = f.integer("n", 1, kMaxDim);
  c.h = f.integer("h", 1, kMaxDim);
  c.w = f.integer("w", 1, kMaxDim);
  c.c_in = f.integer("c_in", 1, kMaxDim);
  c.c_out = f.integer("c_out", 1, kMaxDim);
  c.kernel = f.integer("kernel", 1, 4096);
  c.stride = f.integer("stride", 1, 4096, 1);
  c.padding = f.integer("padding", 0, 4096, 0);
  c.dilation = f.integer("dilation", 1, 4096, 1);
  c.groups = f.integer("groups", 1, kMaxDim, 1);
  c.dtype = f.dtype("dtype");
  if (c.c_in % c.groups != 0) f.fail("groups", fmt::format("must divide c_in ({})", c.c_in));
  if (c.c_out % c.groups != 0) f.fail("groups", fmt::format("must divide c_out ({})", c.c_out));
  const std::uint64_t span = c.dilation * (c.kernel - 1) + 1;  // receptive field on the input
  if (c.h + 2 * c.padding < span || c.w + 2 * c.padding < span)
    f.fail("kernel", fmt::format("the {}-pixel receptive field (dilation x (kernel - 1) + 1) does not fit the "
                                 "padded {}x{} input",
                                 span, c.h + 2 * c.padding, c.w + 2 * c.padding));
  if ((long double)c.n * c.h_out() * c.w_out() * c.c_out * (c.c_in / c.groups) * c.kernel * c.kernel > kMaxMacs)
    f.fail("n", "too large: more than 4e18 multiply-accumulates");
  return c;
}

const std::vector<std::string> kElementwiseFns = {"add", "mul", "scale", "relu", "gelu", "sigmoid", "tanh", "exp"};

VectorFn fn_of(const std::string& name) {
  for (VectorFn f : {VectorFn::add, VectorFn::mul, VectorFn::scale, VectorFn::relu, VectorFn::gelu, VectorFn::sigmoid,
                     VectorFn::tanh, VectorFn::exp, VectorFn::softmax, VectorFn::layernorm, VectorFn::rmsnorm})
    if (name == vector_fn_name(f)) return f;
  return VectorFn::relu;
}

VectorOp parse_vector_shape(OpFields& f, VectorFn fn) {
  VectorOp v;
  v.fn = fn;
  v.rows = f.integer("rows", 1, kMaxDim * 64);
  v.cols = f.integer("cols", 1, kMaxDim);
  v.dtype = f.dtype("dtype");
  v.inputs = fn == VectorFn::add || fn == VectorFn::mul ? 2 : 1;
  if ((long double)v.rows * v.cols > kMaxMacs) f.fail("rows", "too large: more than 4e18 elements");
  return v;
}

OpBody parse_elementwise(OpFields& f) { return parse_vector_shape(f, fn_of(f.choice("fn", kElementwiseFns, ""))); }
OpBody parse_softmax(OpFields& f) { return parse_vector_shape(f, VectorFn::softmax); }
OpBody parse_layernorm(OpFields& f) { return parse_vector_shape(f, VectorFn::layernorm); }
OpBody parse_rmsnorm(OpFields& f) { return parse_vector_shape(f, VectorFn::rmsnorm); }

OpBody parse_embedding(OpFields& f) {
  EmbeddingOp e;
  e.table_rows = f.integer("table_rows", 1, 1ULL << 40);
  e.dim = f.integer("dim", 1, 1 << 20);
  e.batch = f.integer("batch", 1, kMaxDim);
  e.lookups = f.integer("lookups", 1, 1 << 20, 1);
  e.zipf = f.choice("distribution", {"uniform", "zipf"}, "uniform") == "zipf";
  e.zipf_s = f.real("zipf_s", 0.0, 10.0, 1.0);
  e.seed = f.integer("seed", 0, UINT64_MAX, 1);
  e.dtype = f.dtype("dtype");
  if ((long double)e.batch * e.lookups * e.dim > kMaxMacs) f.fail("batch", "too large: more than 4e18 gathered elements");
  return e;
}

OpBody parse_attention(OpFields& f) {
  AttentionOp a;
  a.batch = f.integer("batch", 1, kMaxDim);
  a.heads = f.integer("heads", 1, 4096);
  a.seq = f.integer("seq", 1, kMaxDim);
  a.head_dim = f.integer("head_dim", 1, 65536);
  a.kv_len = f.integer("kv_len", 0, kMaxDim, 0);
  a.causal = f.choice("causal", {"true", "false"}, "false") == "true";
  a.decode = f.choice("decode", {"true", "false"}, "false") == "true";
  a.dtype = f.dtype("dtype");
  if (a.decode && a.kv_len == 0) f.fail("kv_len", "decode attends to a KV cache: give its length (kv_len)");
  if ((long double)a.batch * a.heads * a.queries() * a.keys() * a.head_dim * 2 > kMaxMacs)
    f.fail("batch", "too large: more than 4e18 multiply-accumulates");
  return a;
}

OpBody parse_moe(OpFields& f) {
  MoeOp m;
  m.tokens = f.integer("tokens", 1, kMaxDim * 64);
  m.d_model = f.integer("d_model", 1, kMaxDim);
  m.d_ff = f.integer("d_ff", 1, kMaxDim);
  m.experts = f.integer("experts", 1, 1 << 16);
  m.top_k = f.integer("top_k", 1, 1 << 16, 1);
  m.capacity_factor = f.real("capacity_factor", 0.01, 1000.0, 1.0);
  m.skew = f.real("skew", 0.0, 10.0, 0.0);
  m.loads = f.integer_list("loads", kMaxDim * 64);
  m.dtype = f.dtype("dtype");
  if (m.top_k > m.experts) f.fail("top_k", fmt::format("cannot exceed the {} experts", m.experts));
  if (!m.loads.empty()) {
    if (m.loads.size() != m.experts)
      f.fail("loads", fmt::format("has {} entries; expected one per expert ({})", m.loads.size(), m.experts));
    std::uint64_t sum = 0;
    for (auto x : m.loads) sum += x;
    if (sum != m.tokens * m.top_k)
      f.fail("loads", fmt::format("adds up to {}; expected tokens x top_k = {}", sum, m.tokens * m.top_k));
  }
  return m;
}

OpBody parse_collective(OpFields& f) {
  CollectiveOp c;
  const std::vector<std::string> kinds = {"all_reduce", "reduce_scatter", "all_gather", "all_to_all", "broadcast"};
  const std::string kind = f.choice("kind", kinds, "");
  c.kind = CollectiveKind(std::find(kinds.begin(), kinds.end(), kind) - kinds.begin());
  c.bytes = f.size("bytes");
  const std::string group = f.choice("group", {"all", "tensor", "data"}, "all");
  c.group = group == "tensor" ? CommGroup::tensor : group == "data" ? CommGroup::data : CommGroup::all;
  const std::string back = f.choice("backward", {"none", "all_reduce", "reduce_scatter", "all_gather", "all_to_all", "broadcast"}, "none");
  if (back != "none") c.backward = CollectiveKind(std::find(kinds.begin(), kinds.end(), back) - kinds.begin());
  c.dtype = f.has("dtype") ? f.dtype("dtype") : DType::bf16;
  return c;
}

OpBody parse_template(OpFields& f) {
  TemplateOp t;
  t.name = f.choice("template", {"dlrm", "mlp", "moe_layer", "resnet50", "transformer_decoder", "transformer_encoder"}, "");
  t.batch = f.integer("batch", 1, kMaxDim);
  t.dtype = f.dtype("dtype");
  if (t.name == "resnet50") {
    t.image = f.integer("image", 32, 4096, 224);
  } else if (t.name == "mlp") {
    t.widths = f.integer_list("widths", kMaxDim);
    if (t.widths.size() < 2) f.fail("widths", "expected at least two widths: the input and one layer");
    for (auto w : t.widths)
      if (w == 0) f.fail("widths", "widths must be at least 1");
  } else if (t.name != "dlrm") {
    t.seq = f.integer("seq", 1, kMaxDim);
    t.d_model = f.integer("d_model", 1, kMaxDim);
    t.heads = f.integer("heads", 1, 4096);
    t.d_ff = f.integer("d_ff", 1, kMaxDim);
    if (t.d_model % t.heads != 0) f.fail("heads", fmt::format("must divide d_model ({})", t.d_model));
    if (t.name == "transformer_decoder") {
      t.decode = f.choice("decode", {"true", "false"}, "false") == "true";
      t.kv_len = f.integer("kv_len", 0, kMaxDim, 0);
      if (t.decode && t.kv_len == 0) f.fail("kv_len", "decode attends to a KV cache: give its length (kv_len)");
    }
    if (t.name == "moe_layer") {
      t.experts = f.integer("experts", 1, 1 << 16);
      t.top_k = f.integer("top_k", 1, 1 << 16, 1);
      t.capacity_factor = f.real("capacity_factor", 0.01, 1000.0, 1.0);
      t.skew = f.real("skew", 0.0, 10.0, 0.0);
      if (t.top_k > t.experts) f.fail("top_k", "cannot exceed the experts");
    }
  } else {
    t.tables = f.integer("tables", 1, 4096);
    t.table_rows = f.integer("table_rows", 1, 1ULL << 40);
    t.dim = f.integer("dim", 1, 1 << 16);
    t.lookups = f.integer("lookups", 1, 1 << 20, 1);
    t.dense_features = f.integer("dense_features", 1, 1 << 20, 13);
    t.bottom = f.integer_list("bottom", kMaxDim);
    t.top = f.integer_list("top", kMaxDim);
    if (t.bottom.empty() || t.top.empty()) f.fail(t.bottom.empty() ? "bottom" : "top", "expected a list of layer widths");
    if (t.bottom.back() != t.dim) f.fail("bottom", fmt::format("must end at the embedding dim ({})", t.dim));
  }
  return t;
}

const std::vector<OpFieldDoc> kCommonFields = {
    {"*", "op", "choice", "", "the op kind"},
    {"*", "name", "text", "op<index>", "a unique name, used in reports"},
    {"*", "repeat", "integer", "1", "run the op this many times back to back"},
    {"*", "frozen", "boolean", "false", "training: forward only, no gradient or update (a distillation teacher)"},
    {"*", "stage", "integer", "auto",
     "pipeline parallelism: the stage of this op and of the ops after it that give none (default: by MACs)"},
    {"*", "shard", "choice", "none",
     "tensor parallelism: column (matmul n, elementwise cols), row (matmul k; output all-reduced), heads (attention)"},
};

const std::map<std::string, OpKind>& op_kinds() {
  static const std::map<std::string, OpKind> kinds = {
      {"matmul",
       {{{"matmul", "m", "integer", "", "rows of A and C (the streaming dimension; batch x tokens)"},
         {"matmul", "k", "integer", "", "columns of A, rows of B (the reduction dimension)"},
         {"matmul", "n", "integer", "", "columns of B and C"},
         {"matmul", "dtype", "choice", "", "element type of A, B and C: int8, fp8, bf16, fp16 or fp32"},
         {"matmul", "block_sparsity", "number", "0", "fraction of 128x128 blocks of B that are zero (the MXUs skip them)"},
         {"matmul", "weight_sparsity", "number", "0",
          "fine-grained: eighths of the weights zero along k; a speedup only with chip.mxu.skip_zero_weights"},
         {"matmul", "sparsity_seed", "integer", "1", "which blocks are zero"}},
        parse_matmul}},
      {"conv2d",
       {{{"conv2d", "n", "integer", "", "batch"},
         {"conv2d", "h", "integer", "", "input height"},
         {"conv2d", "w", "integer", "", "input width"},
         {"conv2d", "c_in", "integer", "", "input channels"},
         {"conv2d", "c_out", "integer", "", "output channels"},
         {"conv2d", "kernel", "integer", "", "square kernel size"},
         {"conv2d", "stride", "integer", "1", "stride"},
         {"conv2d", "padding", "integer", "0", "zero padding on each side"},
         {"conv2d", "dilation", "integer", "1", "kernel dilation"},
         {"conv2d", "groups", "integer", "1", "channel groups (c_in = c_out = groups: depthwise)"},
         {"conv2d", "dtype", "choice", "", "element type: int8, fp8, bf16, fp16 or fp32"}},
        parse_conv2d}},
      {"elementwise",
       {{{"elementwise", "fn", "choice", "", "add, mul (two inputs), scale, relu, gelu, sigmoid, tanh, exp"},
         {"elementwise", "rows", "integer", "", "rows of the tensor"},
         {"elementwise", "cols", "integer", "", "columns of the tensor"},
         {"elementwise", "dtype", "choice", "", "element type"}},
        parse_elementwise}},
      {"softmax",
       {{{"softmax", "rows", "integer", "", "rows (softmax runs along each row)"},
         {"softmax", "cols", "integer", "", "columns"},
         {"softmax", "dtype", "choice", "", "element type"}},
        parse_softmax}},
      {"layernorm",
       {{{"layernorm", "rows", "integer", "", "rows (normalised along each row)"},
         {"layernorm", "cols", "integer", "", "columns"},
         {"layernorm", "dtype", "choice", "", "element type"}},
        parse_layernorm}},
      {"rmsnorm",
       {{{"rmsnorm", "rows", "integer", "", "rows (normalised along each row)"},
         {"rmsnorm", "cols", "integer", "", "columns"},
         {"rmsnorm", "dtype", "choice", "", "element type"}},
        parse_rmsnorm}},
      {"embedding_lookup",
       {{{"embedding_lookup", "table_rows", "integer", "", "rows of the embedding table"},
         {"embedding_lookup", "dim", "integer", "", "elements per row"},
         {"embedding_lookup", "batch", "integer", "", "samples"},
         {"embedding_lookup", "lookups", "integer", "1", "rows gathered and sum-pooled per sample"},
         {"embedding_lookup", "distribution", "choice", "uniform", "uniform or zipf"},
         {"embedding_lookup", "zipf_s", "number", "1.0", "Zipf exponent s (rank k has weight k^-s)"},
         {"embedding_lookup", "seed", "integer", "1", "seed of the indices"},
         {"embedding_lookup", "dtype", "choice", "", "element type of the table"}},
        parse_embedding}},
      {"attention",
       {{{"attention", "batch", "integer", "", "sequences"},
         {"attention", "heads", "integer", "", "attention heads"},
         {"attention", "seq", "integer", "", "query tokens per sequence (prefill)"},
         {"attention", "head_dim", "integer", "", "elements per head"},
         {"attention", "kv_len", "integer", "0", "keys/values attended to (0: seq); the KV cache length in decode"},
         {"attention", "causal", "boolean", "false", "causal mask (masked scores are still computed)"},
         {"attention", "decode", "boolean", "false", "one new query per sequence against the KV cache"},
         {"attention", "dtype", "choice", "", "element type"}},
        parse_attention}},
      {"moe",
       {{{"moe", "tokens", "integer", "", "tokens routed"},
         {"moe", "d_model", "integer", "", "model width"},
         {"moe", "d_ff", "integer", "", "expert FFN width"},
         {"moe", "experts", "integer", "", "experts"},
         {"moe", "top_k", "integer", "1", "experts per token"},
         {"moe", "capacity_factor", "number", "1.0", "capacity = ceil(factor x tokens x top_k / experts)"},
         {"moe", "skew", "number", "0", "router imbalance: expert e's share ~ (e+1)^-skew"},
         {"moe", "loads", "list", "", "tokens routed to each expert (instead of skew)"},
         {"moe", "dtype", "choice", "", "element type"}},
        parse_moe}},
      {"collective",
       {{{"collective", "kind", "choice", "", "all_reduce, reduce_scatter, all_gather, all_to_all or broadcast"},
         {"collective", "bytes", "size", "", "per chip (all_reduce: the buffer; all_to_all: what each chip sends)"},
         {"collective", "group", "choice", "all", "all, tensor or data: the chips taking part"},
         {"collective", "backward", "choice", "none", "training: the collective its backward pass runs"},
         {"collective", "dtype", "choice", "bf16", "element type reductions add"}},
        parse_collective}},
      {"template",
       {{{"template", "template", "choice", "",
          "resnet50, mlp, dlrm, transformer_encoder, transformer_decoder or moe_layer (workload/templates.h)"},
         {"template", "seq", "integer", "", "transformers: tokens per sequence"},
         {"template", "d_model", "integer", "", "transformers: model width"},
         {"template", "heads", "integer", "", "transformers: attention heads"},
         {"template", "d_ff", "integer", "", "transformers: FFN width (per expert for moe_layer)"},
         {"template", "decode", "boolean", "false", "transformer_decoder: one token against the KV cache"},
         {"template", "kv_len", "integer", "0", "transformer_decoder: KV cache length"},
         {"template", "experts", "integer", "", "moe_layer: experts"},
         {"template", "top_k", "integer", "1", "moe_layer: experts per token"},
         {"template", "capacity_factor", "number", "1.0", "moe_layer: expert capacity factor"},
         {"template", "skew", "number", "0", "moe_layer: router imbalance, expert e's share ~ (e+1)^-skew"},
         {"template", "batch", "integer", "", "samples"},
         {"template", "image", "integer", "224", "resnet50: image side"},
         {"template", "widths", "list", "", "mlp: layer widths, input first"},
         {"template", "tables", "integer", "", "dlrm: embedding tables"},
         {"template", "table_rows", "integer", "", "dlrm: rows per table"},
         {"template", "dim", "integer", "", "dlrm: embedding dim"},
         {"template", "lookups", "integer", "1", "dlrm: lookups per table per sample"},
         {"template", "dense_features", "integer", "13", "dlrm: dense inputs"},
         {"template", "bottom", "list", "", "dlrm: bottom MLP widths (ending at dim)"},
         {"template", "top", "list", "", "dlrm: top MLP widths"},
         {"template", "dtype", "choice", "", "element type"}},
        parse_template}},
  };
  return kinds;
}

Op parse_op(const YAML::Node& node, std::size_t index, const std::string& file) {
  const std::string path = fmt::format("workload.ops[{}]", index);
  detail::expect_map(node, path, file);
  const YAML::Node kind_node = node["op"];
  std::vector<std::string> kind_names;
  for (const auto& [name, kind] : op_kinds()) kind_names.push_back(name);
  if (!kind_node)
    throw ConfigError(location_of(node, file), path + ".op",
                      fmt::format("missing; expected one of {}", fmt::join(kind_names, ", ")));
  const std::string kind_name = detail::scalar_text(kind_node, path + ".op", file);
  auto it = op_kinds().find(kind_name);
  if (it == op_kinds().end()) {
    std::string hint = suggest_nearest(kind_name, kind_names);
    throw ConfigError(location_of(kind_node, file), path + ".op",
                      fmt::format("unknown op '{}'; expected one of {}{}", kind_name,
                                  fmt::join(kind_names, ", "), hint.empty() ? "" : "; " + hint));
  }
  std::vector<std::string> allowed;
  for (const auto& f : kCommonFields) allowed.push_back(f.field);
  for (const auto& f : it->second.fields) allowed.push_back(f.field);
  detail::reject_unknown_keys(node, allowed, path, file);

  OpFields fields(node, path, file);
  Op op;
  op.where = location_of(node, file);
  op.name = fields.text("name", fmt::format("op{}", index));
  op.repeat = fields.integer("repeat", 1, kMaxRepeat, 1);
  op.frozen = fields.choice("frozen", {"true", "false"}, "false") == "true";
  op.body = it->second.parse(fields);
  if (fields.has("stage")) op.stage = std::uint32_t(fields.integer("stage", 0, 65535));
  const std::string shard = fields.choice("shard", {"none", "column", "row", "heads"}, "none");
  op.shard = shard == "column" ? Shard::column : shard == "row" ? Shard::row : shard == "heads" ? Shard::heads : Shard::none;
  {
    const bool mm = std::holds_alternative<MatmulOp>(op.body);
    const auto* v = std::get_if<VectorOp>(&op.body);
    const bool ok = op.shard == Shard::none || (mm && (op.shard == Shard::column || op.shard == Shard::row)) ||
                    (v && op.shard == Shard::column && std::string(op.kind()) == "elementwise") ||
                    (std::holds_alternative<AttentionOp>(op.body) && op.shard == Shard::heads);
    if (!ok)
      fields.fail("shard", fmt::format("'{}' does not apply to a {} op (matmul: column or row; elementwise: column; "
                                       "attention: heads)", shard, op.kind()));
  }
  // Keep MAC counts exact in 64 bits (the parsers bound one run; this bounds the repeats).
  if ((long double)op.macs_once() * op.repeat > kMaxMacs)
    throw ConfigError(op.where, path, "too large: more than 4e18 multiply-accumulates in all");
  return op;
}

void parse_training(const YAML::Node& t, const std::string& file, TrainingSpec* out) {
  detail::expect_map(t, "workload.training", file);
  detail::reject_unknown_keys(t, {"optimizer", "precision", "recompute"}, "workload.training", file);
  OpFields f(t, "workload.training", file);
  out->enabled = true;
  const std::string opt = f.choice("optimizer", {"sgd", "momentum", "adam"}, "adam");
  out->optimizer = opt == "sgd" ? Optimizer::sgd : opt == "momentum" ? Optimizer::momentum : Optimizer::adam;
  out->recompute = f.choice("recompute", {"none", "full"}, "none") == "full";
  if (const YAML::Node p = t["precision"]) {
    detail::expect_map(p, "workload.training.precision", file);
    detail::reject_unknown_keys(p, {"compute", "master"}, "workload.training.precision", file);
    OpFields pf(p, "workload.training.precision", file);
    if (p["compute"]) out->compute = pf.dtype("compute");
    if (p["master"]) out->master = pf.dtype("master");
  }
}

void parse_parallelism(const YAML::Node& node, const std::string& file, ParallelismSpec* out) {
  detail::expect_map(node, "workload.parallelism", file);
  detail::reject_unknown_keys(node, {"data", "tensor", "pipeline", "microbatches", "schedule", "expert", "gradient_bucket",
                                      "gradient_dtype"},
                              "workload.parallelism", file);
  OpFields f(node, "workload.parallelism", file);
  out->given = true;
  out->where = location_of(node, file);
  out->data = f.integer("data", 1, 65536, 0);
  out->tensor = f.integer("tensor", 1, 65536, 1);
  out->pipeline = f.integer("pipeline", 1, 65536, 1);
  out->microbatches = f.integer("microbatches", 1, 4096, 1);
  out->one_f_one_b = f.choice("schedule", {"gpipe", "1f1b"}, "gpipe") == "1f1b";
  out->expert = f.choice("expert", {"true", "false"}, "false") == "true";
  if (const YAML::Node b = node["gradient_bucket"]) {
    std::string why;
    auto q = parse_param_text(ParamType::quantity, UnitKind::size, 1, 1ULL << 40, {},
                              detail::scalar_text(b, "workload.parallelism.gradient_bucket", file), &why);
    if (!q) throw ConfigError(location_of(b, file), "workload.parallelism.gradient_bucket", why);
    out->gradient_bucket_bytes = q->number;
  }
  if (node["gradient_dtype"]) out->gradient_dtype = f.dtype("gradient_dtype");
}

WorkloadSpec parse_document(const YAML::Node& root, const std::string& file) {
  detail::reject_unknown_keys(root, {"workload"}, "", file);
  const YAML::Node wl = root["workload"];
  if (!wl) throw ConfigError({file, 1, 1}, "workload", "missing; the file must start with 'workload:'");
  detail::expect_map(wl, "workload", file);
  detail::reject_unknown_keys(wl, {"name", "description", "ops", "training", "parallelism"}, "workload", file);

  WorkloadSpec spec;
  spec.source = file;
  spec.name = wl["name"] ? detail::scalar_text(wl["name"], "workload.name", file) : "workload";
  const YAML::Node ops = wl["ops"];
  if (!ops) throw ConfigError(location_of(wl, file), "workload.ops", "missing; expected a list of ops");
  if (!ops.IsSequence() || ops.size() == 0)
    throw ConfigError(location_of(ops, file), "workload.ops", "expected a non-empty list of ops");
  if (const YAML::Node t = wl["training"]) parse_training(t, file, &spec.training);
  if (const YAML::Node p = wl["parallelism"]) parse_parallelism(p, file, &spec.parallelism);
  std::set<std::string> names;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    Op op = parse_op(ops[i], i, file);
    if (!names.insert(op.name).second)
      throw ConfigError(op.where, fmt::format("workload.ops[{}].name", i),
                        fmt::format("duplicate op name '{}'", op.name));
    spec.ops.push_back(std::move(op));
  }
  return spec;
}

}  // namespace

WorkloadSpec load_workload(const std::string& path) {
  return parse_document(detail::parse_yaml_file(path), path);
}

bool is_workload_path(const std::string& path) { return path.rfind("workload.", 0) == 0; }

WorkloadSpec load_workload(const std::string& path, const std::vector<std::string>& overrides) {
  if (overrides.empty()) return load_workload(path);
  YAML::Node root = detail::parse_yaml_file(path);
  const SourceLocation where{"--wset", 0, 0};
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError(where, "", fmt::format("expected path=value, got '{}'", o));
    const std::string key = o.substr(0, eq), value = o.substr(eq + 1);
    if (!is_workload_path(key))
      throw ConfigError(where, key, "a workload path starts with 'workload.' (workload.ops[0].m, workload.ops.<name>.m)");
    YAML::Node wl = root["workload"];
    if (!wl || !wl.IsMap()) throw ConfigError({path, 0, 0}, "workload", "missing; the file must start with 'workload:'");
    const std::string rest = key.substr(9);  // after "workload."
    if (rest == "name") {
      wl["name"] = value;
      continue;
    }
    YAML::Node ops = wl["ops"];
    if (!ops || !ops.IsSequence()) throw ConfigError({path, 0, 0}, "workload.ops", "missing; expected a list of ops");
    // ops[i].field or ops.<name>.field
    std::size_t index = SIZE_MAX;
    std::string field;
    if (rest.rfind("ops[", 0) == 0) {
      const auto close = rest.find(']');
      if (close == std::string::npos || close + 2 > rest.size() || rest[close + 1] != '.')
        throw ConfigError(where, key, "expected workload.ops[<index>].<field>");
      try {
        index = std::stoul(rest.substr(4, close - 4));
      } catch (...) {
        throw ConfigError(where, key, "expected a number between the brackets");
      }
      field = rest.substr(close + 2);
    } else if (rest.rfind("ops.", 0) == 0) {
      const std::string tail = rest.substr(4);
      const auto dot = tail.rfind('.');
      if (dot == std::string::npos) throw ConfigError(where, key, "expected workload.ops.<op name>.<field>");
      const std::string name = tail.substr(0, dot);
      field = tail.substr(dot + 1);
      for (std::size_t i = 0; i < ops.size(); ++i)
        if (ops[i]["name"] && ops[i]["name"].Scalar() == name) index = i;
      if (index == SIZE_MAX) throw ConfigError(where, key, fmt::format("no op is named '{}'", name));
    } else {
      throw ConfigError(where, key, "expected workload.name, workload.ops[<index>].<field> or workload.ops.<name>.<field>");
    }
    if (index >= ops.size())
      throw ConfigError(where, key, fmt::format("the workload has {} ops", ops.size()));
    if (field.empty() || field == "op") throw ConfigError(where, key, "an override sets a field of an op, not its kind");
    ops[index][field] = value;
  }
  YAML::Emitter out;
  out << root;
  return load_workload_text(out.c_str(), path + " (with --wset)");
}

WorkloadSpec load_workload_text(const std::string& text, const std::string& source) {
  return parse_document(detail::parse_yaml_text(text, source), source);
}

std::vector<OpFieldDoc> workload_op_fields() {
  std::vector<OpFieldDoc> out = kCommonFields;
  for (const auto& [name, kind] : op_kinds())
    out.insert(out.end(), kind.fields.begin(), kind.fields.end());
  return out;
}

}  // namespace podsim
