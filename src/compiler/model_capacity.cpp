#include "podsim/compiler/model_capacity.h"

#include <fmt/format.h>

#include "podsim/config/config_error.h"

namespace podsim {

ModelFootprint model_footprint(const WorkloadSpec& w) {
  ModelFootprint f;
  // A mixture of experts holds all its experts' weights, whatever the tokens reach.
  for (const MoeRouting& r : w.moe_routing) f.weights_bytes += r.expert_weight_bytes;
  for (const Op& op : w.ops) {
    if (op.moe_expert) continue;
    if (const auto* mm = std::get_if<MatmulOp>(&op.body)) {
      const std::uint64_t b = mm->weight_bytes(mm->k * mm->n);  // as stored (quantized or not)
      if (op.b_is_activation)
        f.kv_cache_bytes += b * op.repeat;  // every (sequence, K/V head) its own
      else
        f.weights_bytes += b;
    } else if (const auto* c = std::get_if<Conv2dOp>(&op.body)) {
      f.weights_bytes += (c->c_in / c->groups) * c->kernel * c->kernel * c->c_out * dtype_bytes(c->dtype);
    } else if (const auto* e = std::get_if<EmbeddingOp>(&op.body)) {
      f.weights_bytes += e->table_rows * e->row_bytes();
    }
  }
  return f;
}

void check_model_fits(const WorkloadSpec& w, const HardwareSpec& hw) {
  if (w.training.enabled || w.ops.empty()) return;
  const ModelFootprint f = model_footprint(w);
  const std::uint64_t capacity = hw.chip.hbm.capacity_bytes;
  if (f.total() <= capacity) return;
  auto gb = [](std::uint64_t bytes) { return fmt::format("{:.2f} GB", double(bytes) * 1e-9); };
  throw ConfigError(w.ops.front().where, "chip.hbm.capacity",
                    fmt::format("the model does not fit: its weights ({}) and the keys and values its attention "
                                "reads ({}) need {} of HBM, and '{}' has {} per chip. Fewer layers or sequences, a "
                                "shorter cache, grouped-query attention (kv_heads), a smaller dtype, or tensor "
                                "parallelism over more chips would make it fit",
                                gb(f.weights_bytes), gb(f.kv_cache_bytes), gb(f.total()), hw.name, gb(capacity)));
}

}  // namespace podsim
