#include "podsim/net/collectives.h"

#include <algorithm>
#include <stdexcept>

namespace podsim {
namespace {

const char* const kKindNames[] = {"all_reduce", "reduce_scatter", "all_gather", "all_to_all", "broadcast", "send_recv"};
const char* const kAlgorithmNames[] = {"auto", "ring", "bidir_ring", "torus"};

// Bytes of segment j when `total` is cut into k nearly equal segments.
std::vector<std::uint64_t> segments(std::uint64_t total, std::uint32_t k) {
  std::vector<std::uint64_t> seg(k);
  for (std::uint32_t j = 0; j < k; ++j) seg[j] = total * (j + 1) / k - total * j / k;
  return seg;
}

class Builder {
 public:
  Builder(LinkNetwork& net, const CollectiveSpec& spec, std::uint64_t chunk, bool symmetric)
      : net_(net), topo_(net.topology()), spec_(spec), chunk_(chunk), symmetric_(symmetric), gate_(topo_.chips()) {}

  std::vector<ChipGate>& gates() { return gate_; }

  std::uint32_t send(std::uint32_t src, std::uint32_t dst, std::uint64_t bytes, const ChipGate& g) {
    NetTransfer t;
    t.src = src;
    t.dst = dst;
    t.bytes = bytes;
    t.ready_ps = spec_.ready_ps;
    t.after = g.after;
    t.after_delay_ps = g.delay_ps;
    return net_.add(std::move(t));
  }

  // The time the receiver of `bytes` still needs after the last chunk arrived: adding it.
  std::uint64_t reduce_delay(std::uint64_t bytes) const {
    if (spec_.reduce_Bps == 0 || bytes == 0) return 0;
    const std::uint64_t last = bytes - (bytes - 1) / chunk_ * chunk_;
    return transfer_ps(last, spec_.reduce_Bps);
  }

  // A ring over `ring` (chip ids in order): reduce-scatter and/or all-gather of the
  // segments `seg`. After a reduce-scatter, position i holds segment (i + 1) mod k.
  void ring(const std::vector<std::uint32_t>& ring, const std::vector<std::uint64_t>& seg, bool rs, bool ag) {
    const std::size_t k = ring.size();
    if (k < 2) return;
    if (symmetric_) {
      symmetric_ring(ring, seg, rs, ag);
      return;
    }
    std::vector<ChipGate> in(k);
    for (std::size_t i = 0; i < k; ++i) in[i] = gate_[ring[i]];
    auto steps = [&](bool reduce, std::size_t first_offset) {
      for (std::size_t s = 0; s + 1 < k; ++s) {
        std::vector<ChipGate> next(k);
        for (std::size_t i = 0; i < k; ++i) {
          const std::size_t j = (i + first_offset + k - s) % k;  // reduce-scatter: i - s; all-gather: i + 1 - s
          const std::uint32_t id = send(ring[i], ring[(i + 1) % k], seg[j], in[i]);
          next[(i + 1) % k] = ChipGate{{id}, reduce ? reduce_delay(seg[j]) : 0};
        }
        in = std::move(next);
      }
    };
    if (rs) steps(true, 0);
    if (ag) steps(false, 1);
    for (std::size_t i = 0; i < k; ++i) gate_[ring[i]] = in[i];
  }

  // Symmetric mode (add_collective): only chip 0's sends. What chip 0 receives at a step is
  // what its predecessor sent, which by the pod's translation symmetry left and arrived
  // exactly when chip 0's own send did: so chip 0's next step waits for its own send, then
  // reduces the predecessor's segment. A ring without chip 0 adds nothing.
  void symmetric_ring(const std::vector<std::uint32_t>& ring, const std::vector<std::uint64_t>& seg, bool rs, bool ag) {
    const std::size_t k = ring.size();
    const auto at = std::find(ring.begin(), ring.end(), 0u);
    if (at == ring.end()) return;
    const std::size_t p0 = std::size_t(at - ring.begin());
    ChipGate in = gate_[0];
    auto steps = [&](bool reduce, std::size_t first_offset) {
      for (std::size_t s = 0; s + 1 < k; ++s) {
        const std::size_t j = (p0 + first_offset + k - s) % k;
        const std::size_t j_prev = (p0 + k - 1 + first_offset + k - s) % k;  // what the predecessor sends
        const std::uint32_t id = send(0, ring[(p0 + 1) % k], seg[j], in);
        in = ChipGate{{id}, reduce ? reduce_delay(seg[j_prev]) : 0};
      }
    };
    if (rs) steps(true, 0);
    if (ag) steps(false, 1);
    gate_[0] = in;
  }

  // Half the data each way round: `seg_fwd` over `ring`, `seg_back` over it reversed.
  void bidir(const std::vector<std::uint32_t>& ring, const std::vector<std::uint64_t>& seg_fwd,
             const std::vector<std::uint64_t>& seg_back, bool rs, bool ag) {
    if (ring.size() < 2) return;
    std::vector<ChipGate> start(ring.size());
    for (std::size_t i = 0; i < ring.size(); ++i) start[i] = gate_[ring[i]];
    this->ring(ring, seg_fwd, rs, ag);
    std::vector<ChipGate> fwd(ring.size());
    for (std::size_t i = 0; i < ring.size(); ++i) {
      fwd[i] = gate_[ring[i]];
      gate_[ring[i]] = start[i];
    }
    const std::vector<std::uint32_t> back(ring.rbegin(), ring.rend());
    this->ring(back, seg_back, rs, ag);
    for (std::size_t i = 0; i < ring.size(); ++i) {
      ChipGate& g = gate_[ring[i]];
      g.after.insert(g.after.end(), fwd[i].after.begin(), fwd[i].after.end());
      g.delay_ps = std::max(g.delay_ps, fwd[i].delay_ps);
    }
  }

  // The chips of every line along dimension d, each line in coordinate order.
  std::vector<std::vector<std::uint32_t>> lines(std::size_t d) const {
    std::vector<std::vector<std::uint32_t>> out;
    for (std::uint32_t c = 0; c < topo_.chips(); ++c) {
      if (topo_.coords(c)[d] != 0) continue;
      if (symmetric_ && c != 0) break;  // only the line through chip 0 has sends
      std::vector<std::uint32_t> line{c};
      for (std::uint32_t x = 1; x < topo_.dims()[d]; ++x) line.push_back(topo_.step(line.back(), d, +1));
      out.push_back(std::move(line));
    }
    return out;
  }

  // Dimension by dimension, in the order `dims`, on `bytes` of each chip's buffer.
  void torus_part(const std::vector<std::size_t>& active, std::uint64_t bytes, bool rs, bool ag) {
    std::vector<std::uint64_t> total(topo_.chips(), bytes);  // what each chip reduces in this phase
    std::vector<std::vector<std::uint64_t>> phase_total;      // per phase, per chip
    auto run_phase = [&](std::size_t d, bool do_rs, bool do_ag, bool shrink) {
      for (const auto& line : lines(d)) {
        const std::uint32_t k = std::uint32_t(line.size());
        const std::uint64_t t = total[line[0]];
        const auto fwd = segments(t / 2, k), back = segments(t - t / 2, k);
        if (do_rs || do_ag) bidir(line, fwd, back, do_rs, do_ag);
        if (shrink)
          for (std::uint32_t x = 0; x < k; ++x) total[line[x]] = fwd[(x + 1) % k] + back[(k - x) % k];
      }
    };
    // Reduce-scatter down the dimensions (or, for an all-gather, just the sizes).
    for (std::size_t a = 0; a < active.size(); ++a) {
      phase_total.push_back(total);
      const bool last = a + 1 == active.size();
      if (rs && ag && last) {
        run_phase(active[a], true, true, false);  // the last dimension all-reduces in one ring
      } else {
        run_phase(active[a], rs, false, true);
      }
    }
    if (!ag) return;
    // All-gather back up.
    for (std::size_t a = active.size(); a-- > 0;) {
      if (rs && a + 1 == active.size()) continue;
      total = phase_total[a];
      run_phase(active[a], false, true, false);
    }
  }

  // The buffer in one part per dimension, each part taking the dimensions in a rotated
  // order (x,y / y,x), so every dimension's links work from the first phase on.
  void torus(bool rs, bool ag) {
    std::vector<std::size_t> active;
    for (std::size_t d = 0; d < topo_.dims().size(); ++d)
      if (topo_.dims()[d] > 1) active.push_back(d);
    if (active.empty()) return;
    const std::size_t parts = active.size();
    const std::vector<ChipGate> start = gate_;
    std::vector<ChipGate> done(topo_.chips());
    for (std::size_t p = 0; p < parts; ++p) {
      gate_ = start;
      std::vector<std::size_t> order(active.begin() + std::ptrdiff_t(p), active.end());
      order.insert(order.end(), active.begin(), active.begin() + std::ptrdiff_t(p));
      const std::uint64_t part_bytes = spec_.bytes * (p + 1) / parts - spec_.bytes * p / parts;
      torus_part(order, part_bytes, rs, ag);
      for (std::uint32_t c = 0; c < topo_.chips(); ++c) {
        done[c].after.insert(done[c].after.end(), gate_[c].after.begin(), gate_[c].after.end());
        done[c].delay_ps = std::max(done[c].delay_ps, gate_[c].delay_ps);
      }
    }
    gate_ = std::move(done);
  }

  // The group's chips in the pod's ring order.
  std::vector<std::uint32_t> members() const {
    const auto& order = topo_.ring_order();
    if (spec_.group.empty()) return order;
    std::vector<bool> in(topo_.chips(), false);
    for (std::uint32_t c : spec_.group) in[c] = true;
    std::vector<std::uint32_t> out;
    for (std::uint32_t c : order)
      if (in[c]) out.push_back(c);
    return out;
  }

  void ring_algorithm(bool bidirectional, bool rs, bool ag) {
    const auto order = members();
    const auto P = std::uint32_t(order.size());
    if (bidirectional)
      bidir(order, segments(spec_.bytes / 2, P), segments(spec_.bytes - spec_.bytes / 2, P), rs, ag);
    else
      ring(order, segments(spec_.bytes, P), rs, ag);
  }

  void all_to_all() {
    std::vector<std::uint32_t> g = spec_.group;
    if (g.empty())
      for (std::uint32_t c = 0; c < topo_.chips(); ++c) g.push_back(c);
    const auto P = std::uint32_t(g.size());
    net_.expect_transfers(std::uint64_t(P) * (P - 1));  // every pair: check before building
    // Member i sends sent(i) in all; member j's share of it follows the weights.
    auto parts_of = [&](std::uint64_t sent) {
      std::vector<std::uint64_t> part = segments(sent, P);
      if (spec_.weights.size() != P) return part;
      long double sum = 0;
      for (auto w : spec_.weights) sum += w;
      std::uint64_t given = 0;
      for (std::uint32_t j = 0; j < P; ++j) {
        part[j] = sum > 0 ? std::uint64_t((long double)sent * spec_.weights[j] / sum) : 0;
        given += part[j];
      }
      part[P - 1] += sent - std::min(sent, given);  // rounding: the last takes the rest
      return part;
    };
    std::vector<std::vector<std::uint64_t>> parts(P);
    for (std::uint32_t i = 0; i < P; ++i)
      parts[i] = parts_of(spec_.sender_bytes.size() == P ? spec_.sender_bytes[i] : spec_.bytes);
    const std::vector<ChipGate> start = gate_;
    std::vector<ChipGate> done(P);
    for (std::uint32_t off = 1; off < P; ++off)
      for (std::uint32_t i = 0; i < P; ++i) {
        const std::uint32_t j = (i + off) % P;
        done[j].after.push_back(send(g[i], g[j], parts[i][j], start[g[i]]));
      }
    if (P > 1)
      for (std::uint32_t j = 0; j < P; ++j) gate_[g[j]] = std::move(done[j]);
  }

  void broadcast() {
    auto order = members();
    std::rotate(order.begin(), std::find(order.begin(), order.end(), spec_.root), order.end());
    const std::uint64_t pieces = std::max<std::uint64_t>(1, (spec_.bytes + chunk_ - 1) / chunk_);
    std::vector<ChipGate> done = gate_;
    for (std::uint64_t p = 0; p < pieces; ++p) {
      const std::uint64_t bytes = std::min(chunk_, spec_.bytes - std::min(spec_.bytes, p * chunk_));
      ChipGate g = gate_[order[0]];
      for (std::size_t h = 0; h + 1 < order.size(); ++h) {
        const std::uint32_t id = send(order[h], order[h + 1], bytes, g);
        g = ChipGate{{id}, 0};
        if (p + 1 == pieces) done[order[h + 1]] = g;
      }
    }
    gate_ = std::move(done);
  }

  void send_recv() {
    const std::uint32_t id = send(spec_.root, spec_.peer, spec_.bytes, gate_[spec_.root]);
    gate_[spec_.peer] = ChipGate{{id}, 0};
  }

 private:
  LinkNetwork& net_;
  const PodTopology& topo_;
  const CollectiveSpec& spec_;
  std::uint64_t chunk_;
  bool symmetric_;
  std::vector<ChipGate> gate_;
};

}  // namespace

const char* collective_kind_name(CollectiveKind k) { return kKindNames[int(k)]; }
const char* collective_algorithm_name(CollectiveAlgorithm a) { return kAlgorithmNames[int(a)]; }

const char* collective_algorithm_label(CollectiveKind kind, CollectiveAlgorithm used) {
  if (kind == CollectiveKind::broadcast) return "chain";
  if (kind == CollectiveKind::all_to_all || kind == CollectiveKind::send_recv) return "direct";
  return collective_algorithm_name(used);
}

std::optional<CollectiveKind> parse_collective_kind(const std::string& s) {
  for (int i = 0; i < 6; ++i)
    if (s == kKindNames[i]) return CollectiveKind(i);
  return std::nullopt;
}

std::optional<CollectiveAlgorithm> parse_collective_algorithm(const std::string& s) {
  for (int i = 0; i < 4; ++i)
    if (s == kAlgorithmNames[i]) return CollectiveAlgorithm(i);
  return std::nullopt;
}

std::vector<std::string> collective_kind_names() { return {std::begin(kKindNames), std::end(kKindNames)}; }
std::vector<std::string> collective_algorithm_names() {
  return {std::begin(kAlgorithmNames), std::end(kAlgorithmNames)};
}

bool symmetric_collective(const PodTopology& topo, const CollectiveSpec& spec) {
  const bool whole_pod = spec.group.empty() || spec.group.size() == topo.chips();
  const bool ring_kind = spec.kind == CollectiveKind::all_reduce || spec.kind == CollectiveKind::reduce_scatter ||
                         spec.kind == CollectiveKind::all_gather;
  const bool torus = spec.algorithm == CollectiveAlgorithm::torus || spec.algorithm == CollectiveAlgorithm::automatic;
  return whole_pod && ring_kind && torus && !topo.is_switch() && topo.wraparound();
}

CollectiveRun add_collective(LinkNetwork& net, const CollectiveSpec& spec, const std::vector<ChipGate>* start,
                             bool symmetric) {
  if (symmetric && !symmetric_collective(net.topology(), spec))
    throw std::logic_error("add_collective: symmetric mode for a collective that is not translation-symmetric");
  const PodTopology& topo = net.topology();
  if (spec.root >= topo.chips() || (spec.kind == CollectiveKind::send_recv && spec.peer >= topo.chips()))
    throw std::invalid_argument("collective: root or peer is not a chip of the pod");
  CollectiveRun run;
  run.spec = spec;
  run.first = std::uint32_t(net.size());
  CollectiveAlgorithm a = spec.algorithm;
  if (a == CollectiveAlgorithm::automatic) a = topo.is_switch() ? CollectiveAlgorithm::ring : CollectiveAlgorithm::torus;
  const bool whole_pod = spec.group.empty() || spec.group.size() == topo.chips();
  if (a == CollectiveAlgorithm::torus && (topo.is_switch() || !whole_pod)) a = CollectiveAlgorithm::bidir_ring;
  for (std::uint32_t c : spec.group)
    if (c >= topo.chips()) throw std::invalid_argument("collective: a group member is not a chip of the pod");
  run.algorithm = a;

  Builder b(net, spec, net.chunk_bytes(), symmetric);
  if (start) b.gates() = *start;
  const bool rs = spec.kind == CollectiveKind::all_reduce || spec.kind == CollectiveKind::reduce_scatter;
  const bool ag = spec.kind == CollectiveKind::all_reduce || spec.kind == CollectiveKind::all_gather;
  switch (spec.kind) {
    case CollectiveKind::all_reduce:
    case CollectiveKind::reduce_scatter:
    case CollectiveKind::all_gather:
      if (a == CollectiveAlgorithm::torus) b.torus(rs, ag);
      else b.ring_algorithm(a == CollectiveAlgorithm::bidir_ring, rs, ag);
      break;
    case CollectiveKind::all_to_all: b.all_to_all(); break;
    case CollectiveKind::broadcast: b.broadcast(); break;
    case CollectiveKind::send_recv: b.send_recv(); break;
  }
  run.count = std::uint32_t(net.size()) - run.first;
  run.done = std::move(b.gates());
  return run;
}

double bus_factor(CollectiveKind kind, std::uint32_t chips) {
  if (chips <= 1) return 1.0;
  const double P = double(chips);
  switch (kind) {
    case CollectiveKind::all_reduce: return 2.0 * (P - 1) / P;
    case CollectiveKind::reduce_scatter:
    case CollectiveKind::all_gather:
    case CollectiveKind::all_to_all: return (P - 1) / P;
    case CollectiveKind::broadcast:
    case CollectiveKind::send_recv: return 1.0;
  }
  return 1.0;
}

CollectiveResult collective_result(const LinkNetwork& net, const CollectiveRun& run) {
  CollectiveResult r;
  r.start_ps = r.end_ps = run.spec.ready_ps;
  r.transfers = run.count;
  if (run.count) r.start_ps = UINT64_MAX;
  for (std::uint32_t i = run.first; i < run.first + run.count; ++i) {
    const NetTransfer& t = net.transfer(i);
    r.start_ps = std::min(r.start_ps, t.start_ps);
    r.bytes_sent += t.bytes;
  }
  for (const ChipGate& g : run.done)
    for (std::uint32_t a : g.after) r.end_ps = std::max(r.end_ps, net.transfer(a).end_ps + g.delay_ps);
  if (r.end_ps < r.start_ps) r.end_ps = r.start_ps;
  const double t = r.time_s();
  r.algbw_Bps = t > 0 ? double(run.spec.bytes) / t : 0.0;
  const auto P = run.spec.group.empty() ? net.topology().chips() : std::uint32_t(run.spec.group.size());
  r.busbw_Bps = r.algbw_Bps * bus_factor(run.spec.kind, P);
  return r;
}

}  // namespace podsim
