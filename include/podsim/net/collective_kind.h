// The collectives podsim models, shared by the workload (CollectiveOp) and the network
// (net/collectives.h).
#pragma once

namespace podsim {

enum class CollectiveKind { all_reduce, reduce_scatter, all_gather, all_to_all, broadcast, send_recv };

}  // namespace podsim
