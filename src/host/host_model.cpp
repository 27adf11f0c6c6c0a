#include "podsim/host/host_model.h"

#include <algorithm>
#include <array>
#include <utility>

#include "podsim/arch/clock.h"
#include "podsim/sim/run_result.h"
#include "podsim/workload/overloaded.h"

namespace podsim {
namespace {

constexpr std::uint64_t kIndexBytes = 4;  // embedding ids as int32, as DLRM-style inputs ship them

std::uint64_t bytes_of(std::uint64_t elements, DType t) { return storage_bytes(elements, t); }


}  // namespace

std::uint64_t op_input_bytes(const Op& op) {
  const std::uint64_t per = std::visit(
      Overloaded{
          [](const MatmulOp& m) -> std::uint64_t {
            if (m.patches) return bytes_of(m.patches->n * m.patches->h * m.patches->w * m.patches->c, m.dtype);
            return bytes_of(m.m * m.k, m.dtype);
          },
          [](const Conv2dOp& c) -> std::uint64_t { return bytes_of(c.n * c.h * c.w * c.c_in, c.dtype); },
          [](const VectorOp& v) -> std::uint64_t {
            return bytes_of(v.elements() * v.inputs + v.side_elements(), v.dtype);
          },
          [](const EmbeddingOp& e) -> std::uint64_t { return e.batch * e.lookups * kIndexBytes; },
          // Composites and collectives are expanded or removed before a chip runs.
          [](const auto&) -> std::uint64_t { return 0; },
      },
      op.body);
  return op.independent_repeats ? per * op.repeat : per;
}

std::uint64_t op_output_bytes(const Op& op) {
  const std::uint64_t per = std::visit(
      Overloaded{
          [](const MatmulOp& m) -> std::uint64_t { return bytes_of(m.m * m.n, m.dtype); },
          [](const Conv2dOp& c) -> std::uint64_t { return bytes_of(c.n * c.h_out() * c.w_out() * c.c_out, c.dtype); },
          [](const VectorOp& v) -> std::uint64_t { return bytes_of(v.output_elements() * v.outputs, v.dtype); },
          [](const EmbeddingOp& e) -> std::uint64_t { return bytes_of(e.batch * e.dim, e.dtype); },
          [](const auto&) -> std::uint64_t { return 0; },
      },
      op.body);
  return op.independent_repeats ? per * op.repeat : per;
}

HostTraffic host_traffic(const WorkloadSpec& chip_ops) {
  HostTraffic t;
  if (chip_ops.ops.empty()) return t;
  const Op& first = chip_ops.ops.front();
  t.infeed_bytes = op_input_bytes(first);
  t.infeed_op = first.name;
  if (!chip_ops.training.enabled) {
    const Op& last = chip_ops.ops.back();
    t.outfeed_bytes = op_output_bytes(last);
    t.outfeed_op = last.name;
  }
  return t;
}

HostStep host_step(const RunResult& run) {
  HostStep s;
  const HostSpec& host = run.hw.chip.host;
  s.device_ps = run.end_ps;
  s.step_ps = run.end_ps;
  s.bound = "device";
  s.overlap = host.overlap;
  s.modelled = host.link_Bps > 0 || host.step_ps > 0;
  if (!s.modelled) return s;
  s.link_Bps = host.link_Bps;
  s.traffic = host_traffic(run.workload);
  s.host_ps = host.step_ps;
  if (host.link_Bps > 0) {
    s.infeed_ps = transfer_ps(s.traffic.infeed_bytes, host.link_Bps);
    s.outfeed_ps = transfer_ps(s.traffic.outfeed_bytes, host.link_Bps);
  }
  // Ties go to the first named: a step the chip and the link take equally long is device-bound.
  const std::array<std::pair<const char*, std::uint64_t>, 4> parts{
      {{"device", s.device_ps}, {"infeed", s.infeed_ps}, {"outfeed", s.outfeed_ps}, {"host", s.host_ps}}};
  std::size_t longest = 0;
  for (std::size_t i = 1; i < parts.size(); ++i)
    if (parts[i].second > parts[longest].second) longest = i;
  s.bound = parts[longest].first;
  if (host.overlap) {
    s.step_ps = parts[longest].second;
  } else {
    // One after another: host work, the input in, the chip, the output out.
    s.step_ps = s.host_ps + s.infeed_ps + s.device_ps + s.outfeed_ps;
  }
  return s;
}

}  // namespace podsim
