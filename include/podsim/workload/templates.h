// Model templates: a few parameters in, the model's ops out (used through `op: template`).
//   resnet50  ResNet-50 v1.5 at `image` x `image`: conv1 7x7/2 + max pool, bottleneck
//             stages of 3, 4, 6, 3 blocks (1x1, 3x3 with the stride, 1x1; a 1x1 projection
//             on each stage's first block), ReLUs (fused into their convs), residual adds,
//             global average pool and the 1000-way classifier. Pools are vector passes over
//             their input. About 4.1 GMACs per 224 x 224 image. In a training step each
//             convolution is followed by batch norm (a vector op that does not fuse into
//             the conv: it needs the batch's statistics; the ReLU fuses into it); for
//             inference batch norm is folded into the convolution weights (no op).
//   mlp       matmuls between consecutive widths with ReLU between them.
//   dlrm      one embedding_lookup per table, a bottom MLP on the dense features, the
//             pairwise dot-product interaction of the (tables + 1) vectors, a top MLP.
//   transformer_encoder  QKV projection, attention, output projection, residual add,
//             layer norm, FFN with GELU, residual add, layer norm (BERT).
//   transformer_decoder  the same with causal attention; with decode, one token per
//             sequence against a KV cache of kv_len (GPT).
//   moe_layer the encoder layer with its FFN replaced by a mixture of experts (Switch with
//             top_k 1, GShard with top_k 2).
#pragma once

#include <vector>

#include "podsim/workload/workload_spec.h"

namespace podsim {

std::vector<Op> expand_template(const Op& op);
std::vector<std::string> template_names();

}  // namespace podsim
