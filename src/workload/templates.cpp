#include "podsim/workload/templates.h"

#include <fmt/format.h>

namespace podsim {
namespace {

struct Builder {
  const Op& parent;
  DType dtype;
  std::vector<Op> ops;

  void add(const std::string& name, OpBody body) {
    Op op;
    op.name = parent.name + "." + name;
    op.repeat = parent.repeat;
    op.frozen = parent.frozen;
    op.stage = parent.stage;
    op.body = std::move(body);
    op.where = parent.where;
    ops.push_back(std::move(op));
  }
  void vec(const std::string& name, VectorFn fn, std::uint64_t rows, std::uint64_t cols, std::uint32_t inputs = 1) {
    add(name, VectorOp::make(fn, rows, cols, inputs, dtype));
  }
  // conv + ReLU (fused into the conv's epilogue when fusion is on); returns the output size.
  // When training, batch norm sits between them (the ReLU then fuses into it); for
  // inference batch norm is folded into the conv's weights and costs nothing.
  bool batch_norm = false;
  std::uint64_t conv(const std::string& name, std::uint64_t n, std::uint64_t hw, std::uint64_t c_in,
                     std::uint64_t c_out, std::uint64_t k, std::uint64_t stride, bool relu = true) {
    Conv2dOp c;
    c.n = n;
    c.h = c.w = hw;
    c.c_in = c_in;
    c.c_out = c_out;
    c.kernel = k;
    c.stride = stride;
    c.padding = k / 2;
    c.dtype = dtype;
    add(name, c);
    const std::uint64_t out = c.h_out();
    if (batch_norm) vec(name + ".bn", VectorFn::batchnorm, n * out * out, c_out);
    if (relu) vec(name + ".relu", VectorFn::relu, n * out * out, c_out);
    return out;
  }
  std::optional<DType> weight_dtype;  // quantized weights (TemplateOp::weight_dtype)
  void matmul(const std::string& name, std::uint64_t m, std::uint64_t k, std::uint64_t n) {
    MatmulOp mm{m, k, n, dtype};
    if (weight_dtype && *weight_dtype != dtype) mm.weight_dtype = weight_dtype;
    add(name, mm);
  }
};

void resnet50(const TemplateOp& t, Builder& b) {
  const std::uint64_t n = t.batch;
  std::uint64_t hw = b.conv("conv1", n, t.image, 3, 64, 7, 2);
  b.add("maxpool", VectorOp::pool(VectorFn::maxpool, n, hw, hw, 64, 3, 2, 1, b.dtype));  // 3x3/2, padding 1
  hw = (hw + 1) / 2;
  std::uint64_t c = 64;
  const std::uint64_t blocks[] = {3, 4, 6, 3}, mids[] = {64, 128, 256, 512};
  for (int s = 0; s < 4; ++s)
    for (std::uint64_t i = 0; i < blocks[s]; ++i) {
      const std::string p = fmt::format("s{}b{}", s + 1, i);
      const std::uint64_t mid = mids[s], out = 4 * mid, stride = (i == 0 && s > 0) ? 2 : 1;
      b.conv(p + ".conv1", n, hw, c, mid, 1, 1);
      const std::uint64_t hw2 = b.conv(p + ".conv2", n, hw, mid, mid, 3, stride);
      b.conv(p + ".conv3", n, hw2, mid, out, 1, 1, false);
      if (i == 0) b.conv(p + ".proj", n, hw, c, out, 1, stride, false);
      b.vec(p + ".add", VectorFn::add, n * hw2 * hw2, out, 2);
      b.vec(p + ".relu", VectorFn::relu, n * hw2 * hw2, out);
      hw = hw2;
      c = out;
    }
  b.add("avgpool", VectorOp::pool(VectorFn::avgpool, n, hw, hw, c, hw, hw, 0, b.dtype));  // global: 7x7 -> 1x1
  b.matmul("fc", n, c, 1000);
}

void mlp_layers(const std::string& prefix, std::uint64_t batch, const std::vector<std::uint64_t>& widths, Builder& b) {
  for (std::size_t i = 0; i + 1 < widths.size(); ++i) {
    b.matmul(fmt::format("{}fc{}", prefix, i + 1), batch, widths[i], widths[i + 1]);
    if (i + 2 < widths.size()) b.vec(fmt::format("{}relu{}", prefix, i + 1), VectorFn::relu, batch, widths[i + 1]);
  }
}

void mlp(const TemplateOp& t, Builder& b) { mlp_layers("", t.batch, t.widths, b); }

// Knowledge distillation (Hinton et al. 2015): a frozen teacher runs forward, the student
// forward (and, in a training step, backward and its update), then the loss between them:
// both logits through softmax, the teacher's probabilities times the student's
// log-probabilities, summed along each sample's row.
void distillation(const TemplateOp& t, Builder& b) {
  const std::size_t first_teacher = b.ops.size();
  mlp_layers("teacher.", t.batch, t.teacher, b);
  const std::uint64_t classes = t.teacher.back();
  b.vec("teacher.softmax", VectorFn::softmax, t.batch, classes);
  for (std::size_t i = first_teacher; i < b.ops.size(); ++i) b.ops[i].frozen = true;
  mlp_layers("student.", t.batch, t.student, b);
  b.vec("student.softmax", VectorFn::softmax, t.batch, classes);
  b.vec("kl", VectorFn::mul, t.batch, classes, 2);
  b.add("loss", [&] {
    VectorOp v = VectorOp::make(VectorFn::reduce_sum, t.batch, classes, 1, b.dtype);
    v.out_cols = 1;
    return v;
  }());
}

void dlrm(const TemplateOp& t, Builder& b) {
  for (std::uint64_t i = 0; i < t.tables; ++i) {
    EmbeddingOp e;
    e.table_rows = t.table_rows;
    e.dim = t.dim;
    e.batch = t.batch;
    e.lookups = t.lookups;
    e.zipf = true;  // production embedding traffic is skewed
    e.seed = i + 1;
    e.dtype = DType::fp32;
    b.add(fmt::format("emb{}", i), e);
  }
  std::vector<std::uint64_t> bottom = {t.dense_features};
  bottom.insert(bottom.end(), t.bottom.begin(), t.bottom.end());
  for (std::size_t i = 0; i + 1 < bottom.size(); ++i) {
    b.matmul(fmt::format("bottom{}", i + 1), t.batch, bottom[i], bottom[i + 1]);
    b.vec(fmt::format("bottom{}.relu", i + 1), VectorFn::relu, t.batch, bottom[i + 1]);
  }
  // Pairwise dots of the (tables + 1) vectors of each sample: a (T+1) x dim by dim x (T+1)
  // product per sample, as one matmul of the same cost.
  const std::uint64_t f = t.tables + 1;
  b.matmul("interaction", t.batch * f, t.dim, f);
  std::vector<std::uint64_t> top = {f * (f - 1) / 2 + t.dim};
  top.insert(top.end(), t.top.begin(), t.top.end());
  for (std::size_t i = 0; i + 1 < top.size(); ++i) {
    b.matmul(fmt::format("top{}", i + 1), t.batch, top[i], top[i + 1]);
    if (i + 2 < top.size()) b.vec(fmt::format("top{}.relu", i + 1), VectorFn::relu, t.batch, top[i + 1]);
  }
  b.vec("sigmoid", VectorFn::sigmoid, t.batch, top.back());
}

// A BERT/GPT layer: QKV projection (rotary embedding on Q and K if asked), attention,
// output projection, residual, norm, FFN (GELU or gated SwiGLU/GeGLU, or experts),
// residual, norm. Norm placement (pre or post) does not change the cost. Llama: ffn
// swiglu, norm rmsnorm, rope, kv_heads (Llama 2 70B and Llama 3: grouped-query).
void transformer(const TemplateOp& t, Builder& b, bool decoder, bool moe) {
  const std::uint64_t tokens = t.batch * (decoder && t.decode ? 1 : t.seq);
  const std::uint64_t head_dim = t.d_model / t.heads;
  // Megatron-style tensor parallelism when the workload asks for it (workload/parallelism.h):
  // QKV and FFN1 split by columns, attention by heads, the projections after them by rows.
  // Q for every head, K and V for each K/V head (fewer with grouped-query attention).
  const std::uint64_t kv_heads = t.kv_heads ? t.kv_heads : t.heads;
  b.matmul("qkv", tokens, t.d_model, t.d_model + 2 * kv_heads * head_dim);
  b.ops.back().shard = Shard::column;
  if (t.rope) b.vec("rope", VectorFn::rope, tokens, (t.heads + kv_heads) * head_dim);  // Q and K, not V
  AttentionOp a;
  a.batch = t.batch;
  a.heads = t.heads;
  a.kv_heads = kv_heads;
  a.seq = decoder && t.decode ? 1 : t.seq;
  a.head_dim = head_dim;
  a.kv_len = decoder ? t.kv_len : 0;
  a.causal = decoder;
  a.decode = decoder && t.decode;
  a.dtype = t.dtype;
  a.kv_dtype = t.kv_dtype;
  a.fused = t.fused_attention;
  b.add("attn", a);
  b.ops.back().shard = Shard::heads;
  b.matmul("out_proj", tokens, t.d_model, t.d_model);
  b.ops.back().shard = Shard::row;
  b.vec("residual1", VectorFn::add, tokens, t.d_model, 2);
  b.vec("norm1", t.norm, tokens, t.d_model);
  if (moe) {
    MoeOp m;
    m.tokens = tokens;
    m.d_model = t.d_model;
    m.d_ff = t.d_ff;
    m.experts = t.experts;
    m.top_k = t.top_k;
    m.capacity_factor = t.capacity_factor;
    m.skew = t.skew;
    m.routing = t.routing;
    m.ffn = t.ffn;
    m.dtype = t.dtype;
    m.weight_dtype = t.weight_dtype;
    b.add("moe", m);
    // Tensor parallel: every expert's FFN split as a dense FFN is (its first matmul by
    // columns, its second by rows), the layer's output all-reduced (workload/parallelism.h).
    b.ops.back().shard = Shard::row;
  } else {
    if (t.ffn == VectorFn::gelu) {
      b.matmul("ffn1", tokens, t.d_model, t.d_ff);
      b.ops.back().shard = Shard::column;
      b.vec("gelu", VectorFn::gelu, tokens, t.d_ff);
    } else {
      // Gated: gate and up projections as one matmul (their weights side by side), then
      // act(gate) x up in one vector pass (it reads the pair from HBM: an output block of
      // the matmul holds either gate or up columns, so it cannot be its epilogue).
      b.matmul("ffn1", tokens, t.d_model, 2 * t.d_ff);
      b.ops.back().shard = Shard::column;
      VectorOp g = VectorOp::make(t.ffn, tokens, 2 * t.d_ff, 1, b.dtype);
      g.out_cols = t.d_ff;
      b.add(vector_fn_name(t.ffn), g);
    }
    b.ops.back().shard = Shard::column;
    b.matmul("ffn2", tokens, t.d_ff, t.d_model);
    b.ops.back().shard = Shard::row;
  }
  b.vec("residual2", VectorFn::add, tokens, t.d_model, 2);
  b.vec("norm2", t.norm, tokens, t.d_model);
}

}  // namespace

std::vector<std::string> template_names() {
  return {"distillation", "dlrm", "mlp", "moe_layer", "resnet50", "transformer_decoder", "transformer_encoder"};
}

std::vector<Op> expand_template(const Op& op) {
  const TemplateOp& t = std::get<TemplateOp>(op.body);
  Builder b{op, t.dtype, {}, t.training, t.weight_dtype};
  if (t.name == "resnet50") resnet50(t, b);
  else if (t.name == "mlp") mlp(t, b);
  else if (t.name == "dlrm") dlrm(t, b);
  else if (t.name == "distillation") distillation(t, b);
  else if (t.name == "transformer_encoder" || t.name == "transformer_decoder" || t.name == "moe_layer") {
    const bool decoder = t.name == "transformer_decoder", moe = t.name == "moe_layer" || t.experts > 0;
    if (t.layers <= 1) {
      transformer(t, b, decoder, moe);
    } else {
      // Layer i's ops are named <name>.L<i>.<op>; each layer is built alike.
      for (std::uint64_t i = 0; i < t.layers; ++i) {
        Op layer = op;
        layer.name = fmt::format("{}.L{}", op.name, i);
        Builder lb{layer, t.dtype, {}, false, t.weight_dtype};
        transformer(t, lb, decoder, moe);
        for (Op& o : lb.ops) b.ops.push_back(std::move(o));
      }
    }
    if (t.vocab > 0) {
      // The model's end: a final norm and the output head (logits for every token the
      // layers produced; the token embedding before the first layer is a gather of
      // tokens x d_model, left out). Split by columns under tensor parallelism.
      const std::uint64_t tokens = t.batch * (decoder && t.decode ? 1 : t.seq);
      b.vec("final_norm", t.norm, tokens, t.d_model);
      b.matmul("lm_head", tokens, t.d_model, t.vocab);
      b.ops.back().shard = Shard::column;
    }
  }
  return std::move(b.ops);
}

std::uint64_t TemplateOp::macs() const {
  Op op;
  op.name = "t";
  op.body = *this;
  std::uint64_t total = 0;
  for (const Op& o : expand_template(op)) total += o.macs_once() * o.repeat;
  return total;
}

}  // namespace podsim
