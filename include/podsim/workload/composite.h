// Ops that are made of other ops, expanded before planning: attention becomes
//   <name>.qk       matmul queries x head_dim x keys, repeated batch x heads times
//   <name>.softmax  softmax over batch x heads x queries rows of keys columns
//   <name>.av       matmul queries x keys x head_dim, repeated batch x heads times
// The score matrix goes to HBM and back between them (no flash-style fusion): its traffic
// is counted as it would be moved.
// moe becomes <name>.router (matmul tokens x d_model x experts), .router_softmax,
// .dispatch (the kept tokens copied on the vector unit), .e<i>.ffn1 / .act / .ffn2 for each
// expert on the tokens it keeps (routed tokens beyond capacity are dropped and counted in
// WorkloadSpec::moe_routing), and .combine.
#pragma once

#include "podsim/workload/workload_spec.h"

namespace podsim {

// With expert parallelism (MoeOp::ep_size > 1) moe also gets .a2a_dispatch and .a2a_combine
// (all-to-all CollectiveOps over the data group) and only this chip's experts.
WorkloadSpec expand_composites(const WorkloadSpec& workload);
// Only the templates (workload/templates.h), for passes that work on the model's layers.
WorkloadSpec expand_templates(const WorkloadSpec& workload);

}  // namespace podsim
