// Activations in a shared on-chip memory (chip.cmem: a CMEM like TPU v4's 128 MiB, Jouppi
// et al., ISCA 2023), between vector memory and HBM.
//
// After every op has its tiling, each op's activations that do not stay in vector memory
// go to the on-chip memory when they fit in it: a matmul's or convolution's input A (all
// its instances), then its output C if both fit together; a vector op's inputs and side
// input with its outputs, or its outputs alone (not an optimizer update's tensors, which
// are parameters and their moments, nor an embedding's table). They still move between the on-chip memory and
// vector memory by DMA, tile by tile as before, but at chip.cmem.bandwidth and without
// HBM's bytes: the plan's addresses for them start at kCmemBase, which the memory model
// (arch/hbm_model.h) serves from the on-chip memory. Weights and embedding tables stay in
// HBM.
//
// A training step keeps its forward inputs for the backward pass: when they do not all fit
// at once, the forward pass, the weight gradients and the backward vector ops' inputs use
// HBM; only the backward pass's own chain (dX inputs and outputs, gradient outputs) uses
// the on-chip memory.
//
// An op's input is there only if its producer left it there: the op before it in the chain
// (weight gradients and optimizer updates are off it: a weight gradient reads the stash
// and writes its gradient to HBM for the update). The step's first op and the backward
// pass's first op (the loss's gradient) find their input wherever they want it; an op
// after a collective finds it in HBM.
//
// What this leaves out: tensor lifetimes beyond the chain (a tensor has no identity across
// ops in a workload: a residual add's second input is treated as the op before's output),
// spilling part-way and early eviction. The tiling is chosen as if A and C came from HBM
// (the mapper's estimate does not see the on-chip memory's bandwidth).
#pragma once

#include <vector>

#include "podsim/compiler/workload_plan.h"

namespace podsim {

void place_activations_in_cmem(const WorkloadSpec& workload, const HardwareSpec& hw, std::vector<OpPlan>& plans);

}  // namespace podsim
