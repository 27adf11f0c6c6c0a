// A training step's fused attention (FlashAttention; Dao et al. 2022), as JAX's Pallas TPU
// kernels run it: the forward kernel keeps the scores in vector memory and stores only the
// output and two fp32 statistics per query row; the backward pass is two kernels that each
// recompute the scores from Q and K instead of reading them:
//   dK, dV kernel: S = Q K^T, P = softmax(S), dP = dO V^T, dS = P (dP - D), dV = P^T dO,
//                  dK = dS^T Q
//   dQ kernel:     S = Q K^T, P = softmax(S), dP = dO V^T, dS = P (dP - D), dQ = dS K
// Seven products of the forward's size against the unfused form's four, none of them
// moving an S-sized tensor through HBM. Op names: a kernel's rerun of a forward op is
// "<op>.bwd_dkv" or "<op>.bwd_dq"; dP is "<av>.dX_dkv" and "<av>.dX", dS "<softmax>.grad_dkv"
// and "<softmax>.grad", dV "<av>.dB", dK "<qk>.dB", dQ "<qk>.dX". (D = rowsum(dO o O), one pass over two
// query-sized tensors, is left out.)
#pragma once

#include <cstdint>
#include <vector>

#include "podsim/workload/workload_spec.h"

namespace podsim {

// ops[i - 2], ops[i - 1], ops[i] are a fused attention's forward kernel (its scores,
// softmax and context parts, from expand_composites).
bool fused_attention_ends_at(const std::vector<Op>& ops, std::size_t i);

// Appends the two backward kernels of the fused attention qk, softmax, av (with recompute,
// the forward kernel first, run again for the output the next ops' gradients need). Their
// ops carry attention parts, so the planner keeps S, P, dP and dS in vector memory.
void add_fused_attention_backward(const Op& qk, const Op& softmax, const Op& av, bool recompute,
                                  std::vector<Op>& out);

// What the forward kernel keeps in HBM for the backward pass, for all its repeats: Q, K,
// V, the output and two fp32 statistics (row max, row sum) per query row.
std::uint64_t fused_attention_stash_bytes(const Op& qk, const Op& av);

}  // namespace podsim
