// The op kinds of workload YAML: each kind's fields (with the documentation `podsim
// params` prints) and its parser.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "hf_model_config.h"
#include "op_fields.h"
#include "podsim/workload/templates.h"

namespace podsim {
namespace detail {
namespace {

constexpr std::uint64_t kMaxDim = 1ULL << 24;  // 16 Mi per dimension
constexpr std::uint64_t kMaxRepeat = 1ULL << 20;
constexpr long double kMaxMacs = 4e18L;  // below 2^63: counters stay exact

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
  mm.weight_dtype = f.storage_dtype("weight_dtype", mm.dtype);
  if (mm.weight_dtype == mm.dtype) mm.weight_dtype.reset();
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

const std::vector<std::string> kElementwiseFns = {"add",  "mul", "scale",  "relu",  "gelu", "sigmoid",
                                                  "tanh", "exp", "swiglu", "geglu", "rope"};

VectorFn fn_of(const std::string& name) {
  for (VectorFn f : {VectorFn::add, VectorFn::mul, VectorFn::scale, VectorFn::relu, VectorFn::gelu, VectorFn::sigmoid,
                     VectorFn::tanh, VectorFn::exp, VectorFn::softmax, VectorFn::layernorm, VectorFn::rmsnorm,
                     VectorFn::swiglu, VectorFn::geglu, VectorFn::rope})
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
  if (fn == VectorFn::swiglu || fn == VectorFn::geglu) {
    if (v.cols % 2 != 0)
      f.fail("cols", fmt::format("must be even for {}: the gate and the up projection side by side ({} given)",
                                 vector_fn_name(fn), v.cols));
    v.out_cols = v.cols / 2;
  }
  return v;
}

OpBody parse_elementwise(OpFields& f) { return parse_vector_shape(f, fn_of(f.choice("fn", kElementwiseFns, ""))); }
OpBody parse_softmax(OpFields& f) { return parse_vector_shape(f, VectorFn::softmax); }
OpBody parse_layernorm(OpFields& f) { return parse_vector_shape(f, VectorFn::layernorm); }
OpBody parse_rmsnorm(OpFields& f) { return parse_vector_shape(f, VectorFn::rmsnorm); }

// Pooling over NHWC activations: a window x window window every `stride` pixels. The
// vector unit tiles whole input rows (n h rows of w c elements); output row oh of an
// image collects the input rows mapped to it, the window's halo rows staying in vector
// memory from the tile before.
OpBody parse_pool(OpFields& f) {
  const std::uint64_t n = f.integer("n", 1, kMaxDim), h = f.integer("h", 1, kMaxDim), w = f.integer("w", 1, kMaxDim),
                      c = f.integer("c", 1, kMaxDim);
  const std::uint64_t window = f.integer("window", 1, 4096);
  const std::uint64_t stride = f.integer("stride", 1, 4096, window);
  const std::uint64_t padding = f.integer("padding", 0, 4096, 0);
  if (h + 2 * padding < window || w + 2 * padding < window)
    f.fail("window", fmt::format("the {}x{} window does not fit the padded {}x{} input", window, window,
                                 h + 2 * padding, w + 2 * padding));
  if (padding * 2 > window)  // as PyTorch: beyond that a window can hold padding only
    f.fail("padding", fmt::format("must be at most half the window ({}): a window could hold padding only", window));
  const std::string mode = f.choice("mode", {"max", "avg"}, "max");
  VectorOp v = VectorOp::pool(mode == "max" ? VectorFn::maxpool : VectorFn::avgpool, n, h, w, c, window, stride,
                              padding, f.dtype("dtype"));
  if ((long double)v.rows * v.cols > kMaxMacs) f.fail("n", "too large: more than 4e18 elements");
  return v;
}

OpBody parse_reduce(OpFields& f) {
  const std::string fn = f.choice("fn", {"sum", "mean", "max"}, "sum");
  VectorOp v = parse_vector_shape(f, fn == "sum" ? VectorFn::reduce_sum : fn == "mean" ? VectorFn::reduce_mean
                                                                                      : VectorFn::reduce_max);
  v.out_cols = 1;
  return v;
}

OpBody parse_transpose(OpFields& f) {
  VectorOp v = parse_vector_shape(f, VectorFn::transpose);
  v.out_rows = v.cols;
  v.out_cols = v.rows;
  return v;
}

OpBody parse_reshape(OpFields& f) {
  VectorOp v = parse_vector_shape(f, VectorFn::copy);
  v.out_cols = f.integer("to_cols", 1, kMaxDim, v.cols);
  if (v.elements() % v.out_cols != 0)
    f.fail("to_cols", fmt::format("must divide the {} elements ({} x {})", v.elements(), v.rows, v.cols));
  v.out_rows = v.elements() / v.out_cols;
  return v;
}

OpBody parse_embedding(OpFields& f) {
  EmbeddingOp e;
  e.table_rows = f.integer("table_rows", 1, 1ULL << 40);
  e.dim = f.integer("dim", 1, 1 << 20);
  e.batch = f.integer("batch", 1, kMaxDim);
  e.lookups = f.integer("lookups", 1, 1 << 20, 1);
  const std::string distribution = f.choice("distribution", {"uniform", "zipf", "file"}, "uniform");
  e.zipf = distribution == "zipf";
  e.zipf_s = f.real("zipf_s", 0.0, 10.0, 1.0);
  e.seed = f.integer("seed", 0, UINT64_MAX, 1);
  e.dtype = f.dtype("dtype");
  if (distribution == "file") {
    e.indices_file = f.text("indices", "");
    if (e.indices_file.empty()) f.fail("indices", "distribution: file reads its indices from a file: give its path");
    e.indices = f.index_file("indices", e.indices_file, e.table_rows);
  } else if (f.has("indices")) {
    f.fail("indices", "an index file is read only with distribution: file");
  }
  if ((long double)e.batch * e.lookups * e.dim > kMaxMacs) f.fail("batch", "too large: more than 4e18 gathered elements");
  return e;
}

OpBody parse_attention(OpFields& f) {
  AttentionOp a;
  a.batch = f.integer("batch", 1, kMaxDim);
  a.heads = f.integer("heads", 1, 4096);
  a.seq = f.integer("seq", 1, kMaxDim);
  a.head_dim = f.integer("head_dim", 1, 65536);
  a.kv_heads = f.integer("kv_heads", 1, 4096, a.heads);
  if (a.heads % a.kv_heads != 0)
    f.fail("kv_heads", fmt::format("must divide heads ({}): each K/V head serves a whole group of query heads", a.heads));
  a.kv_len = f.integer("kv_len", 0, kMaxDim, 0);
  a.causal = f.choice("causal", {"true", "false"}, "false") == "true";
  a.decode = f.choice("decode", {"true", "false"}, "false") == "true";
  a.fused = f.choice("fused", {"true", "false"}, "true") == "true";
  a.dtype = f.dtype("dtype");
  a.kv_dtype = f.storage_dtype("kv_dtype", a.dtype);
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
  m.routing = f.choice("routing", {"balanced", "random"}, "balanced") == "random" ? MoeOp::Routing::random
                                                                                 : MoeOp::Routing::balanced;
  m.loads = f.integer_list("loads", kMaxDim * 64);
  m.ffn = fn_of(f.choice("ffn", {"gelu", "swiglu", "geglu"}, "gelu"));
  m.dtype = f.dtype("dtype");
  m.weight_dtype = f.storage_dtype("weight_dtype", m.dtype);
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

// A field only another template reads is an error, not silently ignored (`rope: true` on an
// mlp, `decode: true` on an encoder).
void reject_other_templates_fields(const OpFields& f, const std::string& name) {
  static const std::vector<std::string> kTransformer = {
      "seq",   "d_model", "heads",  "kv_heads", "ffn",     "norm",  "rope",   "fused_attention", "layers", "d_ff",
      "model", "vocab",   "experts", "top_k",   "capacity_factor", "skew", "routing", "weight_dtype", "kv_dtype"};
  const std::map<std::string, std::vector<std::string>> reads = {
      {"resnet50", {"image"}},
      {"mlp", {"widths"}},
      {"distillation", {"teacher", "student"}},
      {"dlrm", {"tables", "table_rows", "dim", "lookups", "dense_features", "bottom", "top"}},
      {"transformer_encoder", kTransformer},
      {"moe_layer", kTransformer},
      {"transformer_decoder", [] {
         std::vector<std::string> v = kTransformer;
         v.insert(v.end(), {"decode", "kv_len"});
         return v;
       }()}};
  const auto& own = reads.at(name);
  for (const auto& [other, fields] : reads)
    for (const std::string& key : fields)
      if (f.has(key) && std::find(own.begin(), own.end(), key) == own.end())
        f.fail(key, fmt::format("the {} template does not read '{}' (a field of {}); its own: {}, with batch and dtype",
                                name, key, std::find(kTransformer.begin(), kTransformer.end(), key) != kTransformer.end()
                                               ? std::string("the transformer templates")
                                               : "the " + other + " template",
                                fmt::join(own, ", ")));
}

OpBody parse_template(OpFields& f) {
  TemplateOp t;
  t.name = f.choice("template", template_names(), "");
  t.batch = f.integer("batch", 1, kMaxDim);
  // A Hugging Face config.json gives a transformer's defaults; keys in the op override it.
  std::optional<HfModelConfig> model;
  if (f.has("model")) {
    if (t.name != "transformer_encoder" && t.name != "transformer_decoder" && t.name != "moe_layer")
      f.fail("model", "only the transformer templates (transformer_encoder, transformer_decoder, moe_layer) read a model");
    model = load_hf_model_config(f.text("model", ""), f.file(), f.location("model"), f.full("model"));
  }
  if (model && !f.has("dtype") && !model->dtype)
    f.fail("dtype", fmt::format("missing, and {} gives no torch_dtype; expected one of {}", model->source,
                                fmt::join(dtype_names(), ", ")));
  t.dtype = model && !f.has("dtype") ? *model->dtype : f.dtype("dtype");
  if (t.name == "resnet50") {
    t.image = f.integer("image", 32, 4096, 224);
  } else if (t.name == "mlp") {
    t.widths = f.integer_list("widths", kMaxDim);
    if (t.widths.size() < 2) f.fail("widths", "expected at least two widths: the input and one layer");
    for (auto w : t.widths)
      if (w == 0) f.fail("widths", "widths must be at least 1");
  } else if (t.name == "distillation") {
    for (const char* key : {"teacher", "student"}) {
      auto& widths = std::string(key) == "teacher" ? t.teacher : t.student;
      widths = f.integer_list(key, kMaxDim);
      if (widths.size() < 2) f.fail(key, "expected at least two widths: the input and the logits");
      for (auto w : widths)
        if (w == 0) f.fail(key, "widths must be at least 1");
    }
    if (t.teacher.front() != t.student.front())
      f.fail("student", fmt::format("must start at the teacher's input width ({}): both see the same samples",
                                    t.teacher.front()));
    if (t.teacher.back() != t.student.back())
      f.fail("student", fmt::format("must end at the teacher's logits ({}): the loss compares the two",
                                    t.teacher.back()));
  } else if (t.name != "dlrm") {
    using Fallback = std::optional<std::uint64_t>;
    const auto given = [&](std::uint64_t v) { return model ? Fallback(v) : std::nullopt; };
    t.seq = f.integer("seq", 1, kMaxDim);
    t.d_model = f.integer("d_model", 1, kMaxDim, given(model ? model->hidden_size : 0));
    t.heads = f.integer("heads", 1, 4096, given(model ? model->heads : 0));
    t.d_ff = f.integer("d_ff", 1, kMaxDim, given(model ? model->intermediate_size : 0));
    if (t.d_model % t.heads != 0) f.fail("heads", fmt::format("must divide d_model ({})", t.d_model));
    t.kv_heads = f.integer("kv_heads", 1, 4096, model ? model->kv_heads : t.heads);
    t.ffn = fn_of(f.choice("ffn", {"gelu", "swiglu", "geglu"}, model ? vector_fn_name(model->ffn) : "gelu"));
    t.norm = fn_of(f.choice("norm", {"layernorm", "rmsnorm"}, model ? vector_fn_name(model->norm) : "layernorm"));
    t.rope = f.choice("rope", {"true", "false"}, model && model->rope ? "true" : "false") == "true";
    t.fused_attention = f.choice("fused_attention", {"true", "false"}, "true") == "true";
    t.layers = f.integer("layers", 1, 4096, model ? model->layers : 1);
    t.vocab = f.integer("vocab", 0, kMaxDim, model ? model->vocab : 0);
    t.weight_dtype = f.storage_dtype("weight_dtype", t.dtype);
    if (!t.weight_dtype && model && model->weight_dtype && *model->weight_dtype != t.dtype) t.weight_dtype = model->weight_dtype;
    t.kv_dtype = f.storage_dtype("kv_dtype", t.dtype);
    if (t.heads % t.kv_heads != 0)
      f.fail("kv_heads", fmt::format("must divide heads ({}): each K/V head serves a whole group of query heads", t.heads));
    if (t.name == "transformer_decoder") {
      t.decode = f.choice("decode", {"true", "false"}, "false") == "true";
      t.kv_len = f.integer("kv_len", 0, kMaxDim, 0);
      if (t.decode && t.kv_len == 0) f.fail("kv_len", "decode attends to a KV cache: give its length (kv_len)");
    }
    // Experts: required by moe_layer; any transformer whose model has them (Mixtral) or
    // that gives them has a mixture-of-experts FFN.
    const std::uint64_t model_experts = model ? model->experts : 0;
    if (t.name == "moe_layer" || f.has("experts") || model_experts > 0) {
      t.experts = f.integer("experts", 1, 1 << 16, model_experts ? Fallback(model_experts) : std::nullopt);
      t.top_k = f.integer("top_k", 1, 1 << 16, model_experts ? model->experts_per_token : 1);
      t.capacity_factor = f.real("capacity_factor", 0.01, 1000.0, 1.0);
      t.skew = f.real("skew", 0.0, 10.0, 0.0);
      t.routing = f.choice("routing", {"balanced", "random"}, "balanced") == "random" ? MoeOp::Routing::random
                                                                                     : MoeOp::Routing::balanced;
      if (t.top_k > t.experts) f.fail("top_k", "cannot exceed the experts");
    }
    // Sliding-window attention (Mistral 7B) is not modelled: refused where it would matter.
    if (model && model->sliding_window) {
      const std::uint64_t span = std::max(t.seq, t.kv_len + (t.decode ? 1 : 0));
      if (span > *model->sliding_window)
        f.fail("model", fmt::format("{} attends over a sliding window of {} tokens, shorter than this op's {}; "
                                    "sliding-window attention is not modelled",
                                    model->source, *model->sliding_window, span));
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
    for (const char* key : {"bottom", "top"})
      for (auto w : std::string(key) == "bottom" ? t.bottom : t.top)
        if (w == 0) f.fail(key, "widths must be at least 1");
    if (t.bottom.back() != t.dim) f.fail("bottom", fmt::format("must end at the embedding dim ({})", t.dim));
  }
  reject_other_templates_fields(f, t.name);
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
    {"*", "tile", "list", "auto",
     "matmul, conv2d: pin the tiling to [tm, tk, tn] (of the lowered matmul), or [tm, tk, tn, cores] to deal "
     "its output blocks over only that many TensorCores, instead of the mapper's choice; `podsim map` finds good ones"},
};

const std::map<std::string, OpKind>& op_kinds() {
  static const std::map<std::string, OpKind> kinds = {
      {"matmul",
       {{{"matmul", "m", "integer", "", "rows of A and C (the streaming dimension; batch x tokens)"},
         {"matmul", "k", "integer", "", "columns of A, rows of B (the reduction dimension)"},
         {"matmul", "n", "integer", "", "columns of B and C"},
         {"matmul", "dtype", "choice", "", "element type of A, B and C: int8, fp8, bf16, fp16 or fp32"},
         {"matmul", "weight_dtype", "choice", "dtype",
          "quantized weights: B stored in HBM as int4, int8, fp8, ... (no wider than dtype) and dequantized to dtype "
          "on the vector unit, tile by tile, before the MXUs (w8a16, w4a16)"},
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
       {{{"elementwise", "fn", "choice", "", "add, mul (two inputs), scale, relu, gelu, sigmoid, tanh, exp, swiglu and geglu (cols = gate and up side by side; "
                                                "the output has half the cols), rope"},
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
      {"pool",
       {{{"pool", "n", "integer", "", "batch"},
         {"pool", "h", "integer", "", "input height"},
         {"pool", "w", "integer", "", "input width"},
         {"pool", "c", "integer", "", "channels (NHWC)"},
         {"pool", "window", "integer", "", "square window side"},
         {"pool", "stride", "integer", "window", "stride"},
         {"pool", "padding", "integer", "0", "padding on each side"},
         {"pool", "mode", "choice", "max", "max or avg"},
         {"pool", "dtype", "choice", "", "element type"}},
        parse_pool}},
      {"reduce",
       {{{"reduce", "fn", "choice", "sum", "sum, mean or max along each row: rows x cols -> rows x 1"},
         {"reduce", "rows", "integer", "", "rows"},
         {"reduce", "cols", "integer", "", "columns (reduced)"},
         {"reduce", "dtype", "choice", "", "element type"}},
        parse_reduce}},
      {"transpose",
       {{{"transpose", "rows", "integer", "", "rows of the input (columns of the output)"},
         {"transpose", "cols", "integer", "", "columns of the input"},
         {"transpose", "dtype", "choice", "", "element type"}},
        parse_transpose}},
      {"reshape",
       {{{"reshape", "rows", "integer", "", "rows of the input"},
         {"reshape", "cols", "integer", "", "columns of the input"},
         {"reshape", "to_cols", "integer", "cols", "columns of the output (a divisor of rows x cols)"},
         {"reshape", "dtype", "choice", "", "element type"}},
        parse_reshape}},
      {"embedding_lookup",
       {{{"embedding_lookup", "table_rows", "integer", "", "rows of the embedding table"},
         {"embedding_lookup", "dim", "integer", "", "elements per row"},
         {"embedding_lookup", "batch", "integer", "", "samples"},
         {"embedding_lookup", "lookups", "integer", "1", "rows gathered and sum-pooled per sample"},
         {"embedding_lookup", "distribution", "choice", "uniform", "uniform, zipf, or file (indices from `indices`)"},
         {"embedding_lookup", "indices", "path", "",
          "distribution file: whole numbers below table_rows, separated by spaces, commas or newlines (# comments), "
          "relative to the workload file, used in order and repeated if short"},
         {"embedding_lookup", "zipf_s", "number", "1.0", "Zipf exponent s (rank k has weight k^-s)"},
         {"embedding_lookup", "seed", "integer", "1", "seed of the indices"},
         {"embedding_lookup", "dtype", "choice", "", "element type of the table"}},
        parse_embedding}},
      {"attention",
       {{{"attention", "batch", "integer", "", "sequences"},
         {"attention", "heads", "integer", "", "attention heads"},
         {"attention", "kv_heads", "integer", "heads", "key/value heads: fewer than heads for grouped-query attention, 1 for multi-query; must divide heads"},
         {"attention", "seq", "integer", "", "query tokens per sequence (prefill)"},
         {"attention", "head_dim", "integer", "", "elements per head"},
         {"attention", "kv_len", "integer", "0", "keys/values attended to (0: seq); the KV cache length in decode"},
         {"attention", "causal", "boolean", "false",
          "causal mask: a fused kernel skips the key blocks it hides (blocks of 128 queries); unfused, the masked "
          "scores are computed"},
         {"attention", "decode", "boolean", "false", "one new query per sequence against the KV cache"},
         {"attention", "fused", "boolean", "true",
          "FlashAttention-style: the scores stay in vector memory a block of queries at a time (no HBM round "
          "trip), the softmax overlaps the products; training runs its two backward kernels (recomputing the scores)"},
         {"attention", "kv_dtype", "choice", "dtype", "quantized KV cache: K and V stored as int4, int8, fp8, ... "
                                                      "(no wider than dtype), dequantized on the vector unit"},
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
         {"moe", "routing", "choice", "balanced",
          "balanced: every expert its share; random: the experts tokens picking at random reach on average "
          "(fewer at a few tokens)"},
         {"moe", "loads", "list", "", "tokens routed to each expert (instead of skew)"},
         {"moe", "ffn", "choice", "gelu", "the experts' FFN: gelu (two matmuls), swiglu or geglu (gated: gate and up as one matmul 2 x d_ff wide)"},
         {"moe", "weight_dtype", "choice", "dtype", "quantized expert weights (int4, int8, fp8; dequantized to dtype)"},
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
          "resnet50, mlp, dlrm, transformer_encoder, transformer_decoder, moe_layer or distillation "
          "(workload/templates.h)"},
         {"template", "seq", "integer", "", "transformers: tokens per sequence"},
         {"template", "d_model", "integer", "", "transformers: model width"},
         {"template", "heads", "integer", "", "transformers: attention heads"},
         {"template", "kv_heads", "integer", "heads", "transformers: key/value heads (grouped-query attention); must divide heads"},
         {"template", "ffn", "choice", "gelu", "transformers: gelu (two FFN matmuls), swiglu or geglu (gated: the first matmul 2 x d_ff wide)"},
         {"template", "norm", "choice", "layernorm", "transformers: layernorm or rmsnorm"},
         {"template", "rope", "boolean", "false", "transformers: rotary position embedding on Q and K"},
         {"template", "fused_attention", "boolean", "true",
          "transformers: the attention's `fused` (false: the scores go through HBM, as before FlashAttention)"},
         {"template", "layers", "integer", "1", "transformers: identical layers one after another (ops named <name>.L<i>.<op>)"},
         {"template", "d_ff", "integer", "", "transformers: FFN width (per expert for moe_layer)"},
         {"template", "decode", "boolean", "false", "transformer_decoder: one token against the KV cache"},
         {"template", "kv_len", "integer", "0", "transformer_decoder: KV cache length"},
         {"template", "model", "text", "",
          "transformers: a Hugging Face config.json giving the defaults of d_model, heads, kv_heads, d_ff, ffn, norm, "
          "rope, layers, vocab, experts, top_k and dtype: a built-in name (llama-2-7b, llama-3-8b, llama-3-70b, "
          "mixtral-8x7b; configs/models/) or a path relative to the workload"},
         {"template", "weight_dtype", "choice", "dtype", "transformers: quantized weights of every projection, FFN "
                                                         "and expert (int4, int8, fp8; dequantized to dtype)"},
         {"template", "kv_dtype", "choice", "dtype", "transformers: quantized KV cache (int4, int8, fp8)"},
         {"template", "vocab", "integer", "0", "transformers: vocabulary; > 0 adds a final norm and the output head "
                                              "(tokens x d_model x vocab) after the layers"},
         {"template", "experts", "integer", "", "moe_layer (or any transformer): experts of a mixture-of-experts FFN"},
         {"template", "top_k", "integer", "1", "experts per token"},
         {"template", "capacity_factor", "number", "1.0", "expert capacity factor"},
         {"template", "skew", "number", "0", "router imbalance, expert e's share ~ (e+1)^-skew"},
         {"template", "routing", "choice", "balanced", "MoE routing: balanced or random (see the moe op)"},
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
         {"template", "teacher", "list", "", "distillation: the frozen teacher MLP's widths, input first, logits last"},
         {"template", "student", "list", "", "distillation: the student MLP's widths (same input and logits)"},
         {"template", "dtype", "choice", "", "element type"}},
        parse_template}},
  };
  return kinds;
}

}  // namespace

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
  if (fields.has("tile")) {
    if (!std::holds_alternative<MatmulOp>(op.body) && !std::holds_alternative<Conv2dOp>(op.body))
      fields.fail("tile", fmt::format("a {} op has no tiling to pin (matmul and conv2d do)", op.kind()));
    const std::vector<std::uint64_t> t = fields.whole_numbers("tile", 1ULL << 32);
    if (t.size() < 3 || t.size() > 4 || t[0] == 0 || t[1] == 0 || t[2] == 0 || (t.size() == 4 && t[3] == 0))
      fields.fail("tile", "expected [tm, tk, tn] or [tm, tk, tn, cores] (or tmxtkxtn): whole numbers from 1 to 2^32 "
                          "(cores: how many TensorCores share the output blocks)");
    op.tile = std::array<std::uint64_t, 4>{t[0], t[1], t[2], t.size() == 4 ? t[3] : 0};
  }
  // Keep MAC counts exact in 64 bits (the parsers bound one run; this bounds the repeats).
  if ((long double)op.macs_once() * op.repeat > kMaxMacs)
    throw ConfigError(op.where, path, "too large: more than 4e18 multiply-accumulates in all");
  return op;
}


}  // namespace detail

std::vector<OpFieldDoc> workload_op_fields() {
  std::vector<OpFieldDoc> out = detail::kCommonFields;
  for (const auto& [name, kind] : detail::op_kinds())
    out.insert(out.end(), kind.fields.begin(), kind.fields.end());
  return out;
}

}  // namespace podsim
