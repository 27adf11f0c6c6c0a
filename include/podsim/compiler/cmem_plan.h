// Activations in a shared on-chip memory (chip.cmem: a CMEM like TPU v4's 128 MiB, Jouppi
// et al., ISCA 2023), between vector memory and HBM.
//
// After every op has its tiling, each op's activations that do not stay in vector memory
// go to the on-chip memory when they fit in it: a matmul's or convolution's input A (all
// its instances), then its output C if both fit together; a vector op's inputs, side
// input and outputs together (not an optimizer update's, whose tensors are parameters and
// their moments, nor an embedding's table). They still move between the on-chip memory and
// vector memory by DMA, tile by tile as before, but at chip.cmem.bandwidth and without
// HBM's bytes: the plan's addresses for them start at kCmemBase, which the memory model
// (arch/hbm_model.h) serves from the on-chip memory. Weights and embedding tables stay in
// HBM.
//
// What this leaves out: tensor lifetimes across ops. Each op is placed alone (as
// chip.vmem.holds_activations does for vector memory): an op's input is taken to be in the
// on-chip memory when it fits, whether or not the op that produced it kept it there, and a
// training step's forward activations are not held until the backward pass reads them.
// The tiling is chosen as if A and C came from HBM (the mapper's estimate does not see the
// on-chip memory's bandwidth).
#pragma once

#include <vector>

#include "podsim/compiler/workload_plan.h"

namespace podsim {

void place_activations_in_cmem(const WorkloadSpec& workload, const HardwareSpec& hw, std::vector<OpPlan>& plans);

}  // namespace podsim
