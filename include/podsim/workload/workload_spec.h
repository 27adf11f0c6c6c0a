// A workload: an ordered list of ops, each with shapes and dtypes. Pure data: no timing,
// no SystemC. New op kinds are new alternatives of OpBody (and a parser in
// config/workload_loader.cpp, and a lowering in compiler/).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "podsim/config/config_error.h"
#include "podsim/net/collective_kind.h"
#include "podsim/workload/dtype.h"

namespace podsim {

// C[m x n] = A[m x k] * B[k x n]. A is the activation (streams through the array), B the
// weight (stationary in the array), C is written back in the same dtype.
// The receptive fields of a convolution over an NHWC input: the A operand of its matmul,
// row (n, oh, ow) and column (kh, kw, c), c fastest, read straight from the input
// (implicit GEMM) rather than from a materialised im2col matrix (compiler/implicit_conv.h).
struct ConvWindow {
  std::uint64_t n = 1, h = 0, w = 0, c = 0;  // the input
  std::uint64_t h_out = 0, w_out = 0;
  std::uint64_t kernel = 1, stride = 1, padding = 0, dilation = 1;
  bool transposed = false;  // A is the im2col matrix transposed (a weight gradient's X^T)
};

struct MatmulOp {
  std::uint64_t m = 0, k = 0, n = 0;
  DType dtype = DType::bf16;
  // Coarse-grained weight sparsity: this fraction of the 128 x 128 blocks of B is zero
  // (which ones: a hash of the seed and the block), and the MXUs skip a fold whose weights
  // all lie in zero blocks. B is still stored and loaded dense.
  double block_sparsity = 0;
  std::uint64_t sparsity_seed = 1;
  // Fine-grained weight sparsity, in eighths: in every aligned group of 8 weights along k,
  // the last 8 x weight_sparsity are zero. The MXUs gain nothing from it unless the
  // hardware packs nonzero weights along k (chip.mxu.skip_zero_weights); either way the
  // useful MACs (macs()) count only nonzero weights. B is stored and loaded dense.
  double weight_sparsity = 0;
  // A is a convolution's patches, read from its input (k x k kernels; 1 x 1 convolutions
  // need no window: their A is the input itself, or a strided view of it).
  std::optional<ConvWindow> patches = std::nullopt;

  // Quantized weights: B is stored in HBM (and loaded) in this narrower type, and each
  // weight tile is dequantized to `dtype` on the vector unit before the MXUs use it
  // (w8a16: int8 weights, bf16 activations; w4a16: int4). Unset: B is in `dtype`.
  std::optional<DType> weight_dtype = std::nullopt;
  // Independent copies of this matmul that run as one batched op (attention's per-head
  // products, a grouped convolution's groups): set by the planner so the mapper's cost
  // model sees the whole op, whose output blocks the cores share as one list.
  std::uint64_t batch_instances = 1;

  static constexpr std::uint64_t kSparsityBlock = 128;
  static constexpr std::uint64_t kSparsityGroup = 8;
  DType b_dtype() const { return weight_dtype.value_or(dtype); }
  bool dequantizes() const { return weight_dtype && *weight_dtype != dtype; }
  // Bytes of `elements` weights as stored (int4 packs two per byte).
  std::uint64_t weight_bytes(std::uint64_t elements) const { return storage_bytes(elements, b_dtype()); }
  // Rows k in [k0, k1) whose weights are not zeroed by weight_sparsity.
  std::uint64_t nonzero_k(std::uint64_t k0, std::uint64_t k1) const;
  bool zero_block(std::uint64_t kb, std::uint64_t nb) const;  // block row kb, column nb of B
  // Weight elements of B[k0, k1) x [n0, n1) that lie in nonzero blocks.
  std::uint64_t nonzero_weights(std::uint64_t k0, std::uint64_t k1, std::uint64_t n0, std::uint64_t n1) const;
  // Useful MACs: m x the nonzero weight elements.
  std::uint64_t macs() const;
};

// 2D convolution, NHWC activations, square kernel. Lowered to matmuls (im2col): see
// compiler/op_lowering.h.
struct Conv2dOp {
  std::uint64_t n = 1, h = 0, w = 0, c_in = 0, c_out = 0;
  std::uint64_t kernel = 1, stride = 1, padding = 0, dilation = 1, groups = 1;
  DType dtype = DType::bf16;

  std::uint64_t h_out() const { return (h + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1; }
  std::uint64_t w_out() const { return (w + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1; }
  // n h_out w_out c_out (c_in / groups) kernel^2
  std::uint64_t macs() const { return n * h_out() * w_out() * c_out * (c_in / groups) * kernel * kernel; }
  // Its receptive fields, read by implicit GEMM: k x k kernels of one group (none else).
  std::optional<ConvWindow> patches() const {
    if (kernel == 1 || groups != 1) return std::nullopt;
    return ConvWindow{n, h, w, c_in, h_out(), w_out(), kernel, stride, padding, dilation, false};
  }
};

// Ops of the vector unit over a rows x cols tensor (row-major), elementwise or per row.
// Reductions, pooling and transposes change the shape: the output is out_rows x out_cols
// (0: the input's), and an input tile of rows [r0, r1) writes output rows
// [r0 out_rows / rows, r1 out_rows / rows) (integer division), so every element is
// read and written once. A side input (the backward of max pooling and max reduction
// reads the output's gradient beside the forward input) maps the same way.
enum class VectorFn {
  add, mul, scale, relu, gelu, sigmoid, tanh, exp, softmax, layernorm, rmsnorm,
  softmax_grad,  // training: dX = Y (dY - rowsum(Y dY)) from the output Y and dY; no exponential
  sgd, momentum, adam,  // optimizer updates over a parameter tensor (training)
  reduce_sum, reduce_mean, reduce_max,  // along each row: rows x cols -> rows x 1
  maxpool, avgpool,                     // window x window over NHWC rows (see parse_pool)
  transpose,                            // rows x cols -> cols x rows (written in column strips)
  copy,                                 // a reshape that changes the layout: read and written once
  broadcast,                            // backward of a reduction: rows x 1 -> rows x out_cols
  unpool,                               // backward of pooling: the gradient spread over the windows
  batchnorm,                            // training's batch norm over NHWC rows: per-channel statistics
  // Gated FFN activations (Shazeer 2020, "GLU Variants Improve Transformer"): each input
  // row holds the gate and the up projection side by side (cols = 2 d_ff); the output row
  // is act(gate) x up (d_ff). swiglu: act = SiLU (Llama); geglu: act = GELU (Gemma).
  swiglu, geglu,
  rope                                  // rotary position embedding of Q and K (Su et al. 2021)
};
const char* vector_fn_name(VectorFn f);
// An optimizer update: its tensors are parameters, gradients and moments, not activations.
inline bool is_optimizer(VectorFn f) { return f == VectorFn::sgd || f == VectorFn::momentum || f == VectorFn::adam; }
struct VectorOp {
  VectorFn fn = VectorFn::relu;
  std::uint64_t rows = 0, cols = 0;
  std::uint32_t inputs = 1;   // tensors read: 2 for add and mul, up to 4 (adam)
  std::uint32_t outputs = 1;  // tensors written: up to 3 (adam: parameter and two moments)
  DType dtype = DType::bf16;
  std::uint64_t out_rows = 0, out_cols = 0;    // 0: as the input
  std::uint64_t side_rows = 0, side_cols = 0;  // one more input of another shape (0: none)
  std::uint64_t window = 0;                    // pooling: window side (window^2 elements per output)

  std::uint64_t elements() const { return rows * cols; }
  std::uint64_t output_rows() const { return out_rows ? out_rows : rows; }
  std::uint64_t output_cols() const { return out_cols ? out_cols : cols; }
  std::uint64_t output_elements() const { return output_rows() * output_cols(); }
  std::uint64_t side_elements() const { return side_rows * side_cols; }
  // Same shape in and out, element by element (or along rows): can fuse into a producer.
  bool shape_preserving() const { return out_rows == 0 && out_cols == 0 && side_rows == 0; }
  std::uint64_t macs() const { return 0; }
  // Pooling of an n x h x w x c (NHWC) tensor: the input's n h rows of w c elements, the
  // output's n h_out rows of w_out c. The window must fit the padded input.
  static VectorOp pool(VectorFn fn, std::uint64_t n, std::uint64_t h, std::uint64_t w, std::uint64_t c,
                       std::uint64_t window, std::uint64_t stride, std::uint64_t padding, DType dtype) {
    VectorOp v = make(fn, n * h, w * c, 1, dtype);
    v.out_rows = n * ((h + 2 * padding - window) / stride + 1);
    v.out_cols = ((w + 2 * padding - window) / stride + 1) * c;
    v.window = window;
    return v;
  }
  static VectorOp make(VectorFn fn, std::uint64_t rows, std::uint64_t cols, std::uint32_t inputs, DType dtype) {
    VectorOp v;
    v.fn = fn;
    v.rows = rows;
    v.cols = cols;
    v.inputs = inputs;
    v.dtype = dtype;
    return v;
  }
};

// Rows gathered from an embedding table and sum-pooled per sample: batch x lookups rows of
// `dim` elements read at indices drawn uniformly or from a Zipf law (rank k with weight
// k^-s, ids scattered over the table), reproducibly for the seed.
struct EmbeddingOp {
  std::uint64_t table_rows = 0, dim = 0;
  std::uint64_t batch = 1, lookups = 1;  // lookups per sample: the pooling factor
  bool zipf = false;
  double zipf_s = 1.0;
  std::uint64_t seed = 1;
  // Indices from a file (a recorded trace), used in order: lookup j of sample s takes
  // entry (s x lookups + j) mod its length. Shared: ops are copied freely.
  std::shared_ptr<const std::vector<std::uint64_t>> indices;
  std::string indices_file;  // as given, for reports
  DType dtype = DType::fp32;
  // Training (set by expand_training): the sparse backward and update. Each looked-up row
  // is read, has its sample's gradient added (the optimizer step fused in) and is written
  // back, with `state_tables` optimizer-state rows (momentum 1, Adam 2) read and written
  // beside it; the pooled gradient (batch x dim) is read once.
  bool backward = false;
  std::uint32_t state_tables = 0;

  std::uint64_t row_bytes() const { return dim * dtype_bytes(dtype); }
  std::uint64_t macs() const { return 0; }
};

// Multi-head attention: scores = Q K^T per head, softmax over each row of scores, then
// scores V. With decode, one new query per sequence attends to a KV cache of kv_len.
// The Q/K/V/output projections are separate matmul ops.
struct AttentionOp {
  std::uint64_t batch = 1, heads = 1, seq = 1, head_dim = 64;
  // Key/value heads: 0 or heads for multi-head attention; fewer for grouped-query attention
  // (Ainslie et al. 2023: each K/V head serves heads / kv_heads query heads), 1 for
  // multi-query attention (Shazeer 2019). Must divide heads.
  std::uint64_t kv_heads = 0;
  std::uint64_t kv_len = 0;  // keys and values attended to (0: seq, self-attention)
  // Causal mask. Fused, the kernel skips every block of keys the mask hides whole (as
  // FlashAttention and JAX's Pallas TPU kernels do, blocks of kCausalBlock queries);
  // unfused, the masked scores are computed and thrown away.
  bool causal = false;
  bool decode = false;       // one query per sequence against the KV cache
  // FlashAttention-style (Dao et al. 2022): each head's scores stay in vector memory from
  // Q K^T through the softmax to the product with V; false: they round-trip through HBM.
  bool fused = true;
  DType dtype = DType::bf16;
  // Quantized KV cache: K and V stored (and read) in this type, dequantized to dtype on the
  // vector unit before the MXUs use them. Unset: dtype.
  std::optional<DType> kv_dtype = std::nullopt;

  std::uint64_t queries() const { return decode ? 1 : seq; }
  std::uint64_t key_value_heads() const { return kv_heads ? kv_heads : heads; }
  std::uint64_t group() const { return heads / key_value_heads(); }  // query heads per K/V head
  std::uint64_t keys() const { return kv_len ? kv_len : seq; }
  // Query block of a fused causal kernel: 128, the block size of JAX's Pallas TPU flash
  // attention (MIN_BLOCK_SIZE, its default) and FlashAttention-2's.
  static constexpr std::uint64_t kCausalBlock = 128;
  // Keys each query's scores are computed against, on average over the queries (rounded
  // up): keys() unless a fused kernel skips masked blocks. The queries are the last
  // queries() positions of the keys; query block j needs the keys up to its last query.
  std::uint64_t computed_keys() const;
  // Q K^T and scores V: 2 x batch x heads x queries x computed keys x head_dim.
  std::uint64_t macs() const { return 2 * batch * heads * queries() * computed_keys() * head_dim; }
};

// A mixture-of-experts FFN layer: a router picks top_k of `experts` for each token; each
// expert takes at most capacity = ceil(capacity_factor x tokens x top_k / experts) tokens
// and drops the rest (they pass through the residual). Imbalance: expert e gets a share
// proportional to (e + 1)^-skew of the routed tokens (skew 0: even), or `loads` gives
// each expert's routed token count.
struct MoeOp {
  std::uint64_t tokens = 0, d_model = 0, d_ff = 0;
  std::uint64_t experts = 1, top_k = 1;
  double capacity_factor = 1.0;
  double skew = 0.0;
  // How the routed tokens spread, without `loads`: balanced gives every expert its share
  // (to the token; min(experts, tokens x top_k) experts run); random gives what tokens that
  // each pick top_k experts at random with those shares reach on average: sum over e of
  // 1 - (1 - p_e)^tokens experts run (Mixtral decode, 4 tokens of top-2 of 8: 5.5, not 8).
  enum class Routing { balanced, random };
  Routing routing = Routing::balanced;
  std::vector<std::uint64_t> loads;  // optional, one per expert, summing to tokens x top_k
  // The experts' FFN: gelu (two matmuls), or gated swiglu / geglu (gate and up as one
  // matmul 2 d_ff wide, then act(gate) x up, then down: Mixtral's experts are SwiGLU).
  VectorFn ffn = VectorFn::gelu;
  DType dtype = DType::bf16;
  std::optional<DType> weight_dtype = std::nullopt;  // the experts' and router's (MatmulOp)
  // Expert parallelism (workload/parallelism.h): `tokens` (and `loads`) are this chip's;
  // the experts are spread over ep_size chips, this one holding ep_rank's share.
  std::uint64_t ep_size = 1, ep_rank = 0;

  std::uint64_t capacity() const;
  std::vector<std::uint64_t> routed() const;     // tokens routed to each expert
  std::vector<std::uint64_t> processed() const;  // min(routed, capacity)
  std::uint64_t dropped() const;
  // Router (tokens x d_model x experts) plus the FFN matmuls per processed token (two,
  // or three when gated).
  std::uint64_t macs() const;
};

// A model template, expanded into plain ops by expand_composites (workload/templates.h):
// resnet50 (batch, image), mlp (batch, widths), dlrm (batch, tables, table_rows, dim,
// lookups, dense_features, bottom, top), transformer_encoder and transformer_decoder
// (batch, seq, d_model, heads, d_ff; decoder: decode, kv_len), moe_layer (a transformer
// layer whose FFN is a mixture of experts: experts, top_k, capacity_factor).
struct TemplateOp {
  std::string name;  // "resnet50", "mlp", "dlrm"
  std::uint64_t batch = 1, image = 224;
  std::vector<std::uint64_t> widths;                    // mlp: layer widths, input first
  std::uint64_t tables = 0, table_rows = 0, dim = 0, lookups = 1, dense_features = 13;
  std::vector<std::uint64_t> bottom, top;               // dlrm MLP widths
  std::vector<std::uint64_t> teacher, student;          // distillation: the two MLPs' widths
  // transformer_encoder / transformer_decoder / moe_layer:
  std::uint64_t seq = 0, d_model = 0, heads = 0, d_ff = 0, kv_len = 0;
  std::uint64_t kv_heads = 0;  // transformers: key/value heads (0: heads; see AttentionOp)
  VectorFn ffn = VectorFn::gelu;        // transformers: gelu, or a gated swiglu / geglu FFN
  VectorFn norm = VectorFn::layernorm;  // transformers: layernorm or rmsnorm
  bool rope = false;                    // transformers: rotary position embedding on Q and K
  // transformers: the attention's `fused` (FlashAttention-style, the default); false keeps
  // the score matrix in HBM, as kernels before FlashAttention (2022) did.
  bool fused_attention = true;
  // transformers: identical layers one after another (named <name>.L0.qkv ...); a layer
  // after the first is replayed op by op, its ops matching the first's (arch/chip.h).
  std::uint64_t layers = 1;
  // transformers: > 0 adds a final norm and the output head (tokens x d_model x vocab)
  // after the layers, as a whole model has (a model: config sets it).
  std::uint64_t vocab = 0;
  bool decode = false;
  std::uint64_t experts = 0, top_k = 1;
  double capacity_factor = 1.0;
  double skew = 0.0;  // moe_layer
  MoeOp::Routing routing = MoeOp::Routing::balanced;
  DType dtype = DType::bf16;
  // Quantized inference: every projection's, FFN's and expert's weights (weight_dtype) and
  // the attention's K and V (kv_dtype) stored in a narrower type. Unset: dtype.
  std::optional<DType> weight_dtype, kv_dtype;
  // The workload trains (set by expand_templates): resnet50 then has batch norm after
  // every convolution; for inference it is folded into the convolutions' weights.
  bool training = false;
  std::uint64_t macs() const;
};

// Communication between chips, as an op: no work on the chip itself; on a pod the network
// runs it (sim/pod_simulate.h) and the next op waits for it. The tensor- and expert-parallel
// passes insert these (workload/parallelism.h); a workload may also write them.
enum class CommGroup { all, tensor, data };
const char* comm_group_name(CommGroup g);
struct CollectiveOp {
  CollectiveKind kind = CollectiveKind::all_reduce;
  std::uint64_t bytes = 0;  // per chip, as in net/collectives.h
  CommGroup group = CommGroup::all;
  bool forward = true;  // runs in the forward pass (false: only its backward does, Megatron's "f")
  std::optional<CollectiveKind> backward;  // training: the collective the backward pass needs
  std::vector<std::uint64_t> weights;      // all_to_all: share per group member (empty: equal)
  std::vector<std::uint64_t> sender_bytes; // all_to_all: what each member sends (empty: `bytes`)
  DType dtype = DType::bf16;
  std::uint64_t macs() const { return 0; }
};

using OpBody = std::variant<MatmulOp, Conv2dOp, VectorOp, EmbeddingOp, AttentionOp, MoeOp, TemplateOp, CollectiveOp>;

// Tensor (Megatron) parallelism: how an op splits over the chips of a tensor group.
// column: a matmul's n (and an elementwise op's cols); row: a matmul's k, its output
// all-reduced; heads: an attention's heads.
enum class Shard { none, column, row, heads };
const char* shard_name(Shard s);

struct Op {
  std::string name;
  std::uint64_t repeat = 1;  // the op runs this many times back to back
  bool frozen = false;       // training: no backward pass or update (a distillation teacher)
  OpBody body;
  SourceLocation where;      // where it was declared, for errors found after parsing
  // Training: weight-gradient elements this op produces (its dW), all repeats; what data
  // parallelism all-reduces after it. Set by expand_training.
  std::uint64_t gradient_elements = 0;
  // Training: weight elements this op reads (a forward op with weights, its recompute and
  // its dX), all repeats. Under ZeRO-3 they are all-gathered over the data group before it.
  // Set by expand_training.
  std::uint64_t weight_elements = 0;
  Shard shard = Shard::none;
  std::optional<std::uint32_t> stage;  // pipeline stage, when the workload places ops by hand
  // A matmul's or convolution's tiling pinned by the workload ([tm, tk, tn] of the lowered
  // matmul, clipped to its dimensions, and optionally the number of TensorCores its output
  // blocks are dealt over; 0: every core), instead of the mapper's choice. Forward ops only:
  // a training step's backward ops have other shapes and are mapped as usual.
  std::optional<std::array<std::uint64_t, 4>> tile;
  enum class Pass { forward, backward, update };
  Pass pass = Pass::forward;  // set by expand_training
  // A collective ran right before this op (removed from the chip's ops by
  // without_collectives): its input came over the network, so it fuses into nothing.
  bool after_collective = false;
  // Which part of a fused attention this op is (set by expand_composites): the planner
  // keeps the scores in vector memory between the three when they fit.
  enum class AttentionPart { none, scores, softmax, context };
  AttentionPart attention_part = AttentionPart::none;
  // An attention's products: the keys its K and V hold (the product runs against fewer
  // when a causal kernel skips masked blocks: AttentionOp::computed_keys).
  std::uint64_t attention_keys = 0;
  // The repeats are independent instances, not steps (attention's per-head matmuls, set by
  // expand_composites): they run as one batched matmul, pipelined, instead of one after
  // another with the pipeline drained in between.
  bool independent_repeats = false;
  // A matmul whose B is an activation, not a weight (attention's K^T and V): training gives
  // it the gradient of B (".dB") but no update and nothing to all-reduce.
  bool b_is_activation = false;
  // One of a mixture-of-experts layer's expert matmuls (expand_composites): its weights are
  // counted with the layer's (MoeRouting::expert_weight_bytes), not per matmul.
  bool moe_expert = false;

  const char* kind() const;
  std::uint64_t macs_once() const;
  DType dtype() const;
  std::string shape_text() const;
  // Element operations outside the MXUs (vector unit), all repeats excluded.
  std::uint64_t vector_elements_once() const;  // "4096x4096x4096", "n256 224x224x3 -> 64 k7 s2 p3"
  std::uint64_t flops_once() const { return 2 * macs_once(); }
};

// Training: each forward op gets its backward ops and each weight its optimizer update
// (workload/training.h).
enum class Optimizer { sgd, momentum, adam };
struct TrainingSpec {
  bool enabled = false;
  Optimizer optimizer = Optimizer::adam;
  DType compute = DType::bf16;  // activations and gradients
  DType master = DType::fp32;   // master weights and optimizer state
  bool recompute = false;       // recompute forward activations in the backward pass
  // Set on a pod's chip programs by ZeRO sharding over the data group (parallelism.zero;
  // workload/parallelism.cpp): each chip keeps 1/state_shards of the master weights and
  // optimizer state, and 1/gradient_shards of the gradients, and updates only its share.
  std::uint64_t state_shards = 1, gradient_shards = 1;
  bool shard_weights = false;  // ZeRO-3: the weights too, gathered before each op that reads them
};

// How the work is spread over the chips of a pod (sim/pod_simulate.h).
struct ParallelismSpec {
  bool given = false;           // the workload has a `parallelism:` mapping
  std::uint64_t data = 0;       // replicas; 0 = the chips left after tensor x pipeline
  std::uint64_t tensor = 1;     // chips sharing each op (Megatron: Op::shard)
  std::uint64_t pipeline = 1;   // stages: consecutive ops, balanced by MACs
  std::uint64_t microbatches = 1;  // the ops as written are one microbatch
  bool one_f_one_b = false;     // pipeline schedule: 1F1B instead of GPipe
  bool expert = false;          // MoE experts spread over the data-parallel chips
  std::uint64_t gradient_bucket_bytes = 25ULL << 20;  // gradients all-reduced per bucket
  std::optional<DType> gradient_dtype;                // default: training.precision.compute
  // ZeRO stage (Rajbhandari et al., SC 2020) over the data group: 1 shards the optimizer
  // state and master weights (gradients reduce-scattered, updated weights all-gathered);
  // 2 also the gradients; 3 also the weights, all-gathered before each op that reads them
  // (fully sharded data parallelism). 0: every data rank holds and updates everything.
  std::uint32_t zero = 0;
  SourceLocation where;
};

// How a MoE layer's tokens were routed (filled by expand_composites, for the report).
struct MoeRouting {
  std::string op;
  std::uint64_t capacity = 0, dropped = 0;
  std::vector<std::uint64_t> routed, processed;
  // The weights of this chip's experts (its experts / ep_size of them, each its d_ff share),
  // resident whatever the routing: an expert no token reaches runs no matmul but its weights
  // are in HBM (compiler/model_capacity.h counts these instead of the expert matmuls).
  std::uint64_t expert_weight_bytes = 0;
  // The same weights as parameters: training keeps master weights, optimizer state and
  // gradients for every one of them (workload/training.cpp), routed to or not.
  std::uint64_t expert_parameters = 0;
};

// What one step of the workload processes, for throughput and energy per sample
// (`samples:`, docs/workloads.md): `count` of `unit` per replica and microbatch, as its
// ops are written. 0 = not declared (the report then has no per-sample figures).
struct SampleSpec {
  std::uint64_t count = 0;
  std::string unit;        // images, sequences, tokens, queries or samples
  std::string count_text;  // as written: a number or op fields ("r50.batch")
};

struct WorkloadSpec {
  std::string name;
  SampleSpec samples;
  TrainingSpec training;
  ParallelismSpec parallelism;
  std::vector<MoeRouting> moe_routing;
  std::string source;  // the file it came from
  std::vector<Op> ops;

  std::uint64_t total_macs() const;
  std::uint64_t total_flops() const { return 2 * total_macs(); }
};

}  // namespace podsim
