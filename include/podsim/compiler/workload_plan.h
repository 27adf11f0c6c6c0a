// Lowering a whole workload: a tiling for each op and where its tensors live in HBM.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "podsim/compiler/matmul_tiling.h"
#include "podsim/compiler/op_lowering.h"
#include "podsim/compiler/vector_plan.h"
#include "podsim/config/hardware_spec.h"
#include "podsim/workload/workload_spec.h"

namespace podsim {

// Which engine runs an op: the MXUs (matmul, conv2d), the vector unit (elementwise,
// softmax, norms) or the gather path (embedding lookups).
enum class Engine { mxu, vector, embedding };

struct OpPlan {
  std::size_t op_index = 0;
  Engine engine = Engine::mxu;
  VectorTiling vector;     // vector and embedding ops
  MatmulOp matmul;              // what the MXUs run (op_lowering.h)
  std::uint64_t instances = 1;  // times per repeat (conv groups)
  MatmulTiling tiling;
  MxuRate rate;  // how fast the arrays run its dtype (compiler/systolic_timing.h)
  // Row-major A, B and C, each aligned to the HBM interleave stripe. Ops run one after
  // another, so every op starts its tensors at address 0.
  // mxu: A, B, C. vector: inputs at a_base (and b_base), output at c_base. embedding:
  // the table at a_base, the pooled output at c_base.
  std::uint64_t a_base = 0, b_base = 0, c_base = 0;
  std::uint64_t tensor_stride = 0;  // vector ops: input i at a_base + i stride, output o at c_base + o stride
  std::uint64_t footprint_bytes = 0;
  // chip.vector.overlap_fused: an MXU op's fused elementwise successor runs on each output
  // block in the MXU op's program (`epilogue`: its cost per element); the successor is
  // then `in_epilogue` and takes no time of its own.
  std::optional<VectorCost> epilogue;
  bool in_epilogue = false;
  // chip.cmem: the op's input activations (a matmul's A, a vector op's inputs) and its
  // output (C, the outputs) live in the on-chip memory (compiler/cmem_plan.h). Their bytes
  // are then cmem_*_bytes, not the tiling's hbm_*_bytes (per instance and run, as those).
  bool a_in_cmem = false, c_in_cmem = false;
  std::uint64_t cmem_read_bytes = 0, cmem_write_bytes = 0;
};

// Whether a vector op fuses into the op before it (when chip.vector.fusion is on): a
// shape-preserving vector op of one or two inputs (not an optimizer update) right after
// a matmul, conv2d or shape-preserving vector op with as many output elements. Its first
// input is then the producer's output in vector memory and it writes nothing to HBM (the
// producer's store stands for the fused result); a second input is still read: a
// residual add, or the forward output a ReLU gradient needs. Chains fuse step by step.
// An op right after a collective (Op::after_collective) fuses into nothing.
bool fuses_into(const VectorOp& v, const Op& producer);

// Throws ConfigError when an op cannot run on the chip (its tensors exceed HBM, or no
// tile fits vector memory), naming the op's place in the workload file.
std::vector<OpPlan> plan_workload(const WorkloadSpec& workload, const HardwareSpec& hw);

}  // namespace podsim
