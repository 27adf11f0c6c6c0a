#include "podsim/arch/steady_state.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>
#include <utility>

#include "podsim/arch/clock.h"
#include "podsim/arch/dma_engine.h"
#include "podsim/arch/hbm_model.h"
#include "podsim/arch/tensor_core.h"

namespace podsim {

SteadyStateReplay::SteadyStateReplay(const CounterList& counters, HbmModel& hbm, const std::vector<TensorCore*>& cores,
                                     std::uint64_t core_clock_hz)
    : counters_(counters), hbm_(hbm), cores_(cores), core_clock_hz_(core_clock_hz) {
  std::unordered_map<const std::uint64_t*, std::size_t> at;
  for (std::size_t i = 0; i < counters_.size(); ++i) at.emplace(counters_[i], i);
  found_exact_ = true;
  auto index_of = [&](const std::uint64_t* c) {
    const auto it = at.find(c);
    if (it == at.end()) {
      found_exact_ = false;
      return std::size_t(0);
    }
    return it->second;
  };
  for (const TensorCore* core : cores_)
    for (const DmaEngine* dma : core->dma_engines())
      dma_bytes_.push_back({index_of(dma->requested_counter()), index_of(dma->completed_counter()), dma == core->store_dma()});
  served_ = index_of(hbm_.served_counter());
  for (const std::uint64_t* c : hbm_.channel_read_counters()) channel_reads_.push_back(index_of(c));
  for (const std::uint64_t* c : hbm_.channel_write_counters()) channel_writes_.push_back(index_of(c));
}

namespace {

// `total` shared out in proportion to `weights` (largest remainders first, ties to the
// lower index; evenly when every weight is 0): whole bytes that add up to `total` exactly.
std::vector<std::uint64_t> apportion(std::uint64_t total, const std::vector<std::uint64_t>& weights) {
  __extension__ typedef unsigned __int128 u128;  // bytes x bytes overflows 64 bits
  std::vector<std::uint64_t> out(weights.size(), 0);
  if (weights.empty()) return out;
  u128 sum = 0;
  for (std::uint64_t w : weights) sum += w;
  if (sum == 0) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = total / out.size() + (i < total % out.size() ? 1 : 0);
    return out;
  }
  std::vector<std::pair<u128, std::size_t>> remainders;
  std::uint64_t given = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const u128 scaled = u128(total) * weights[i];
    out[i] = std::uint64_t(scaled / sum);
    given += out[i];
    remainders.push_back({scaled % sum, i});
  }
  std::stable_sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t k = 0; given < total; ++k, ++given) ++out[remainders[k % remainders.size()].second];
  return out;
}

}  // namespace

void SteadyStateReplay::begin(std::uint64_t period, std::uint64_t skip_unit) {
  period_ = period;
  skip_unit_ = skip_unit;
  marks_.clear();
  decisions_.clear();
  reached_.assign(cores_.size(), 0);
  idle_pending_ = false;
}

std::uint64_t SteadyStateReplay::at_boundary(std::uint32_t core, std::uint64_t tile, std::uint64_t now_ps,
                                             std::uint64_t* wait_ps) {
  *wait_ps = 0;
  if (period_ == 0 || tile % period_ != 0) return 0;
  const std::uint64_t b = tile / period_;
  reached_[core] = b;
  auto seen = decisions_.find(b);
  if (seen == decisions_.end()) seen = decisions_.emplace(b, decide(b, now_ps)).first;
  *wait_ps = seen->second.wait_ps;
  return seen->second.tiles;
}

SteadyStateReplay::Decision SteadyStateReplay::decide(std::uint64_t b, std::uint64_t now_ps) {
  Mark mark;
  mark.t_ps = now_ps;
  mark.counters = read_counters(counters_);
  mark.channel_bytes = hbm_.channel_bytes();
  for (std::uint64_t c : mark.channel_bytes) mark.hbm_bytes += c;
  mark.hbm_read_bytes = hbm_.read_bytes();
  for (const TensorCore* core : cores_) {
    for (const auto& m : core->mxu_counters()) mark.macs += m.macs;
    for (const DmaEngine* dma : core->dma_engines()) {
      mark.dma_requested += dma->bytes_requested();
      mark.dma_completed += dma->bytes_completed();
      if (dma != core->store_dma()) mark.dma_read_requested += dma->bytes_requested();
    }
  }
  mark.cmem_bytes = hbm_.cmem_read_bytes() + hbm_.cmem_write_bytes();
  marks_[b] = std::move(mark);
  // Marks older than the widest window compared are no longer needed.
  marks_.erase(marks_.begin(), marks_.lower_bound(b >= 2 * kMaxWindowPeriods ? b - 2 * kMaxWindowPeriods : 0));

  // Windows of w periods, the narrowest first: two consecutive windows (b - 2w -> b - w,
  // b - w -> b) must agree. One period of a memory-bound op varies with the DRAM's
  // jitter by more than kSteadyTolerance, and where its first tile's loads stand at a
  // boundary (the other cores' progress, the stores still queued) shifts its bytes by a
  // chunk; over several periods the jitter averages out, and a later boundary may find
  // the same bytes in flight as two windows before.
  for (std::uint64_t w = 1; w <= kMaxWindowPeriods; w *= 2) {
    // The first period holds the pipeline's fill: the windows compared start after it.
    if (b < 2 * w + 1) break;
    const Decision d = decide_window(b, w, now_ps);
    if (d.tiles > 0) return d;
  }
  return Decision{};
}

SteadyStateReplay::Decision SteadyStateReplay::decide_window(std::uint64_t b, std::uint64_t w, std::uint64_t now_ps) {
  Decision none;
  if (!marks_.count(b - w) || !marks_.count(b - 2 * w)) return none;
  const Mark &m0 = marks_[b - 2 * w], &m1 = marks_[b - w], &m2 = marks_[b];
  const std::uint64_t t1 = m1.t_ps - m0.t_ps, t2 = m2.t_ps - m1.t_ps;
  if (t1 == 0 || t2 == 0) return none;
  if (std::fabs(double(t2) - double(t1)) > kSteadyTolerance * double(t2)) return none;
  if (m2.macs - m1.macs != m1.macs - m0.macs) return none;

  // The bytes. What the memory served in a window also counts the chunks in flight at its
  // ends, which differ from boundary to boundary by a chunk or more when the DRAM is the
  // bottleneck; so a skip credits the byte counters the skipped tiles' own bytes, shared
  // over the channels and engines as the last window spread them (`exact`), and the tiles
  // need only repeat in shape: their loads may differ (a convolution's input rows under
  // its windows). Where the on-chip memory (CMEM) served part of the window, whose share
  // of a tile's bytes the tiles do not say, the tiles must repeat byte for byte, the memory
  // must have served exactly the tiles' bytes in both windows, as many arrived as were
  // submitted (the same chunks in flight at both ends), and the differences are credited.
  const bool exact = found_exact_ && m2.cmem_bytes == m0.cmem_bytes;
  // Every core that runs this program is in the repeating part, from the first window
  // compared on (tile j like tile j - period from there).
  const std::uint64_t window = w * period_;
  const std::uint64_t from = b * period_, measured_from = from - 2 * window + 2 * period_;
  std::uint64_t bytes1 = 0, loads1 = 0, bytes2 = 0, loads2 = 0, window_macs = 0;  // the two windows' tiles
  std::uint64_t skippable = UINT64_MAX;
  for (std::size_t c = 0; c < cores_.size(); ++c) {
    const TensorCore& core = *cores_[c];
    const std::uint64_t tiles = core.program_tiles();
    if (tiles == 0) continue;
    if (reached_[c] + 1 < b) return none;
    // At least one period left at the end of every core: its drain is simulated.
    if (tiles < from + 2 * period_) return none;
    const std::uint64_t room = tiles - from - period_;
    const std::uint64_t repeating = core.repeating_tiles(measured_from, period_, room + (from - measured_from), !exact);
    if (repeating <= from - measured_from) return none;
    skippable = std::min(skippable, repeating - (from - measured_from));
    std::uint64_t loads = 0;
    bytes1 += core.tile_hbm_bytes(from - 2 * window, window, &loads);
    loads1 += loads;
    bytes2 += core.tile_hbm_bytes(from - window, window, &loads);
    loads2 += loads;
    const std::uint64_t macs = core.tile_macs(from - window, window);
    window_macs = macs == TensorCore::kUnknownMacs || window_macs == TensorCore::kUnknownMacs ? macs : window_macs + macs;
  }
  if (skippable == UINT64_MAX) return none;
  // Every core submitted exactly its tiles' loads and stores to its DMA engines in both
  // windows, reads and writes apart (a window that read a later tile's loads and wrote
  // fewer of its own stores can move the same total: GPT-3's residual adds at 196,608 x
  // 12,288 on tpu-v4 failed the HBM-bytes invariant that way, found 2026-12-06).
  if (m2.dma_requested - m1.dma_requested != bytes2 || m1.dma_requested - m0.dma_requested != bytes1 ||
      m2.dma_read_requested - m1.dma_read_requested != loads2 || m1.dma_read_requested - m0.dma_read_requested != loads1)
    return none;
  // Exactly the tiles' bytes arrived in each window: the pipeline is in the same phase at
  // every boundary compared (with a chunk more or less arrived, a period's time does not
  // stand for the next: llama2-7b's ffn2 at batch 1 erred by -2.6 %, a max-pool gradient by
  // -2.7 %). The memory served each window's bytes within kSteadyTolerance: no backlog
  // still building up or draining (a pipeline still filling serves more than its tiles ask
  // in each period), whose time would not repeat.
  auto near = [](std::uint64_t moved, std::uint64_t bytes) {
    return std::fabs(double(moved) - double(bytes)) <= kSteadyTolerance * double(bytes);
  };
  auto arrived = [&](std::uint64_t moved, std::uint64_t bytes) { return w == 1 ? moved == bytes : near(moved, bytes); };
  if (!arrived(m2.dma_completed - m1.dma_completed, bytes2) || !arrived(m1.dma_completed - m0.dma_completed, bytes1) ||
      !near(m2.hbm_bytes - m1.hbm_bytes, bytes2) || !near(m1.hbm_bytes - m0.hbm_bytes, bytes1))
    return none;
  if (!exact && (m2.hbm_bytes - m1.hbm_bytes != bytes2 || m1.hbm_bytes - m0.hbm_bytes != bytes1 ||
                 m2.hbm_read_bytes - m1.hbm_read_bytes != loads2))
    return none;
  // The compute did one window of tiles on every core in the last window: the MACs it
  // counted are the tiles' (the credit below is that difference times the windows, so the
  // books balance only then). Without this a period in which the compute made no progress
  // at all (0 = 0 MACs in both periods) passed, and the skipped tiles' MACs were never
  // counted: resnet50-train on a 64x64 MXU failed its MAC invariant (found 2026-12-06).
  if (window_macs != TensorCore::kUnknownMacs && m2.macs - m1.macs != window_macs) return none;
  const std::uint64_t unit = std::lcm(window, skip_unit_);
  const std::uint64_t skipped = skippable / unit * unit;
  if (skipped < 2 * period_) return none;  // not worth the refill
  const std::uint64_t windows = skipped / window;
  // The skipped tiles' own bytes (every core skips [from, from + skipped)). The skip takes
  // the last window's time that many times, which stands for them only when they move as
  // many bytes within kSteadyTolerance.
  std::uint64_t skip_bytes = 0, skip_loads = 0;
  for (const TensorCore* core : cores_) {
    if (core->program_tiles() == 0) continue;
    std::uint64_t loads = 0;
    skip_bytes += core->tile_hbm_bytes(from, skipped, &loads);
    skip_loads += loads;
  }
  if (!near(skip_bytes, windows * bytes2)) return none;

  // Credit the skipped windows, once for the chip.
  const std::vector<std::uint64_t> add = credit(m1, m2, windows, exact, skip_bytes, skip_loads);
  for (std::size_t i = 0; i < counters_.size(); ++i) *counters_[i] += add[i];
  backlog_ps_ = hbm_.backlog_ps(now_ps);
  skipped_channel_bytes_.resize(m2.channel_bytes.size());
  for (std::size_t c = 0; c < m2.channel_bytes.size(); ++c)
    skipped_channel_bytes_[c] = c < channel_reads_.size() && exact
                                    ? add[channel_reads_[c]] + add[channel_writes_[c]]
                                    : windows * (m2.channel_bytes[c] - m1.channel_bytes[c]);
  // A whole number of core clock cycles, so the cores' cycle-based timestamps shift exactly.
  const ClockDomain clock(core_clock_hz_);
  Decision d;
  d.tiles = skipped;
  d.wait_ps = clock.ps_of(clock.cycle_at(windows * t2));
  std::uint64_t cores_running = 0;
  for (const TensorCore* core : cores_) cores_running += core->program_tiles() > 0 ? 1 : 0;
  tiles_replayed_ += d.tiles * cores_running;
  idle_pending_ = true;
  skipped_ps_ = d.wait_ps;
  marks_.clear();  // the next decision needs periods measured after this skip
  return d;
}

std::vector<std::uint64_t> SteadyStateReplay::credit(const Mark& m1, const Mark& m2, std::uint64_t windows, bool exact,
                                                     std::uint64_t bytes, std::uint64_t loads) const {
  std::vector<std::uint64_t> add(counters_.size());
  for (std::size_t i = 0; i < counters_.size(); ++i) add[i] = windows * (m2.counters[i] - m1.counters[i]);
  if (!exact) return add;
  // `total` over the counters at `at`, as the last window spread its bytes over them.
  auto share = [&](const std::vector<std::size_t>& at, std::uint64_t total) {
    std::vector<std::uint64_t> weights;
    for (std::size_t i : at) weights.push_back(m2.counters[i] - m1.counters[i]);
    const std::vector<std::uint64_t> parts = apportion(total, weights);
    for (std::size_t k = 0; k < at.size(); ++k) add[at[k]] = parts[k];
  };
  // The DMA engines: the loads over the reading ones, the stores over the writing ones;
  // what each was asked for arrives too (the chunks in flight at the skip arrive after it,
  // as they would have).
  std::vector<std::size_t> readers, writers;
  for (const DmaBytes& d : dma_bytes_) (d.writes ? writers : readers).push_back(d.requested);
  share(readers, loads);
  share(writers, bytes - loads);
  for (const DmaBytes& d : dma_bytes_) add[d.completed] = add[d.requested];
  add[served_] = bytes;
  share(channel_reads_, loads);
  share(channel_writes_, bytes - loads);
  return add;
}

void SteadyStateReplay::resumed(std::uint64_t now_ps) {
  if (!idle_pending_) return;
  idle_pending_ = false;
  hbm_.replay(now_ps - skipped_ps_, now_ps, skipped_channel_bytes_, backlog_ps_);
}

}  // namespace podsim
