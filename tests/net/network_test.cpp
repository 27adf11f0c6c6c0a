// The inter-chip network and its collectives against closed forms (PUBLISHED.md: ring
// all-reduce 2(P-1)/P S/B + 2(P-1) a; all-to-all growing as sqrt(P) on 2D and P^(1/3) on
// 3D tori), bytes conservation, and the pod presets' published peaks.
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "podsim/config/config_error.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/net/collectives.h"
#include "podsim/net/link_network.h"
#include "podsim/net/pod_topology.h"
#include "podsim/sim/collective_experiment.h"

namespace podsim {
namespace {

HardwareSpec pod(const std::string& preset, const std::string& dims, std::vector<std::string> more = {}) {
  more.push_back("pod.dims=" + dims);
  return load_hardware(preset, more);
}

// A ring of P chips with one link per neighbour and direction: B = 80 GB/s (the preset's),
// a = 500 ns (set here, so the closed forms below do not follow the preset's latency).
HardwareSpec ring(std::uint32_t P) {
  return pod("tpu-v3-pod", std::to_string(P), {"pod.topology=ring", "pod.links_per_chip=2", "pod.link.latency=500 ns"});
}

TEST(PodTopology, TorusRoutesTakeTheShorterWayRoundEachDimension) {
  const PodTopology t(pod("tpu-v3-pod", "5x4").pod);
  std::vector<std::uint32_t> r;
  for (std::uint32_t s = 0; s < t.chips(); ++s)
    for (std::uint32_t d = 0; d < t.chips(); ++d) {
      r.clear();
      t.route(s, d, r);
      const auto a = t.coords(s), b = t.coords(d);
      std::size_t hops = 0;
      for (std::size_t i = 0; i < 2; ++i) {
        const std::uint32_t k = t.dims()[i], f = (b[i] + k - a[i]) % k;
        hops += std::min(f, k - f);
      }
      ASSERT_EQ(r.size(), hops) << s << "->" << d;
      std::uint32_t at = s;  // the links chain from s to d
      for (std::uint32_t l : r) {
        ASSERT_EQ(t.links()[l].from, at);
        ASSERT_TRUE(t.links()[l].exists);
        at = t.links()[l].to;
      }
      EXPECT_EQ(at, d);
    }
}

// On even rings a destination half way round could go either way; the routes split such
// ties by the source's parity, so under uniform traffic (every chip to every chip) each
// dimension's + links carry as many hops in all as its - links, and on rings whose size is
// a multiple of 4 every link of a dimension carries the same (on a ring of 6 the k/2 = 3
// hops of the tie routes cannot cover the links evenly: 2 and 1 tie routes alternate, the
// best whole routes can do). Every tie going + gave the + links 1 + 2/k times the balanced
// share: 3 to 1 hops on a ring of 4.
TEST(PodTopology, EvenRingsSplitTheirHalfWayRoutesBetweenBothDirections) {
  for (const auto& [preset, dims] : {std::pair{"tpu-v3-pod", "4x6"}, {"tpu-v3-pod", "8x4"}, {"tpu-v4-pod", "4x4x4"}}) {
    const PodTopology t(pod(preset, dims).pod);
    std::vector<std::uint64_t> hops(t.links().size(), 0);
    std::vector<std::uint32_t> r;
    for (std::uint32_t s = 0; s < t.chips(); ++s)
      for (std::uint32_t d = 0; d < t.chips(); ++d) {
        r.clear();
        t.route(s, d, r);
        for (std::uint32_t l : r) ++hops[l];
      }
    // A link's name ends in its direction and dimension: "(3,4)+x".
    std::map<std::string, std::uint64_t> by_direction;  // "+x" -> hops over every +x link
    std::map<char, std::set<std::uint64_t>> loads;       // 'x' -> the loads its links carry
    for (std::size_t l = 0; l < t.links().size(); ++l) {
      const NetLink& link = t.links()[l];
      if (!link.exists) continue;
      by_direction[link.name.substr(link.name.size() - 2)] += hops[l];
      loads[link.name.back()].insert(hops[l]);
    }
    for (const char dim : std::string("xyz").substr(0, t.dims().size())) {
      EXPECT_EQ(by_direction[std::string("+") + dim], by_direction[std::string("-") + dim]) << dims << " " << dim;
      const std::uint32_t k = t.dims()[std::size_t(dim - 'x')];
      if (k % 4 == 0) {
        EXPECT_EQ(loads[dim].size(), 1u) << dims << " " << dim << ": every link the same load";
      }
    }
  }
}

TEST(PodTopology, MeshHasNoWraparoundLinks) {
  const PodTopology t(pod("tpu-v3-pod", "4x4", {"pod.wraparound=false"}).pod);
  std::vector<std::uint32_t> r;
  t.route(t.chip_at({0, 0}), t.chip_at({3, 0}), r);
  EXPECT_EQ(r.size(), 3u);  // across the line, not the 1-hop wraparound
  std::size_t existing = 0;
  for (const auto& l : t.links()) existing += l.exists;
  EXPECT_EQ(existing, 2u * 2 * 4 * 3);  // 2 dims x 2 directions x 4 lines x 3 links
}

TEST(PodTopology, SwitchRoutesAreUplinkThenDownlink) {
  const PodTopology t(pod("tpu-v3-pod", "8", {"pod.topology=switch"}).pod);
  std::vector<std::uint32_t> r;
  t.route(2, 5, r);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(t.links()[r[0]].name, "up(2)");
  EXPECT_EQ(t.links()[r[1]].name, "down(5)");
  EXPECT_EQ(t.links()[r[0]].bandwidth_Bps, 4 * 80'000'000'000ULL);  // all 4 links of the chip
}

TEST(PodTopology, RingOrderVisitsEveryChipThroughNeighbours) {
  for (const char* dims : {"4x4", "4x4x4", "3x5", "8"}) {
    const PodTopology t(pod("tpu-v4-pod", dims, {"pod.links_per_chip=" + std::to_string(2 * (std::string(dims).size() + 1) / 2)}).pod);
    const auto order = t.ring_order();
    ASSERT_EQ(order.size(), t.chips());
    std::vector<bool> seen(t.chips());
    for (std::size_t i = 0; i < order.size(); ++i) {
      seen[order[i]] = true;
      if (i == 0) continue;
      std::vector<std::uint32_t> r;
      t.route(order[i - 1], order[i], r);
      EXPECT_EQ(r.size(), 1u) << dims << " step " << i;
    }
    for (bool s : seen) EXPECT_TRUE(s);
  }
}

TEST(LinkNetwork, TwoMessagesOnOneLinkTakeTurns) {
  // Chips 0 and 1 both send S to chip 2 on a 4-ring: 0->2 crosses links 0->1 and 1->2;
  // 1->2 shares link 1->2. One 256 KiB chunk each (S = chunk), B = 80 GB/s, a = 500 ns.
  const HardwareSpec hw = ring(4);
  const PodTopology t(hw.pod);
  LinkNetwork net(t, hw.pod.chunk_bytes);
  const std::uint64_t S = 256 << 10;
  NetTransfer a;
  a.src = 1, a.dst = 2, a.bytes = S;
  NetTransfer b;
  b.src = 0, b.dst = 2, b.bytes = S;
  net.add(a);
  net.add(b);
  net.run();
  const std::uint64_t ser = transfer_ps(S, 80'000'000'000ULL);  // 3,276,800 ps
  EXPECT_EQ(ser, 3'276'800u);
  // 1->2 goes first on link 1->2: ser + a.
  EXPECT_EQ(net.transfer(0).end_ps, ser + 500'000);
  // 0->2 reaches link 1->2 at ser + a, when it is already free again: 2 (ser + a).
  EXPECT_EQ(net.transfer(1).end_ps, 2 * (ser + 500'000));
  // Now both ready at once on the same single hop: the second waits for the first.
  LinkNetwork net2(t, hw.pod.chunk_bytes);
  net2.add(a);
  net2.add(a);
  net2.run();
  EXPECT_EQ(net2.transfer(1).end_ps, 2 * ser + 500'000);
}

// PUBLISHED.md: ring all-reduce of S bytes over P nodes = 2(P-1)/P S/B + 2(P-1) a, within 2%
// for 1 KiB to 1 GiB and P from 2 to 64. The model adds the vector unit's reduction of the
// last chunk of each reduce-scatter step (tpu-v3: 256 KiB at 3.85 TB/s = 68 ns).
TEST(Collectives, RingAllReduceMeetsTheClosedForm) {
  const double B = 80e9, a = 500e-9;
  for (std::uint32_t P : {2u, 3u, 4u, 8u, 16u, 32u, 64u})
    for (std::uint64_t S : {1ULL << 10, 64ULL << 10, 1ULL << 20, 16ULL << 20, 256ULL << 20, 1ULL << 30}) {
      CollectiveSpec spec;
      spec.algorithm = CollectiveAlgorithm::ring;
      spec.bytes = S;
      const auto r = run_collective_experiment(ring(P), spec);
      const double cf = 2.0 * (P - 1) / P * double(S) / B + 2.0 * (P - 1) * a;
      EXPECT_NEAR(r.result.time_s() / cf, 1.0, 0.02) << "P=" << P << " S=" << S;
    }
}

TEST(Collectives, BidirectionalRingHalvesTheBandwidthTerm) {
  const double B = 80e9, a = 500e-9;
  for (std::uint32_t P : {4u, 16u, 64u})
    for (std::uint64_t S : {1ULL << 20, 256ULL << 20}) {
      CollectiveSpec spec;
      spec.algorithm = CollectiveAlgorithm::bidir_ring;
      spec.bytes = S;
      const auto r = run_collective_experiment(ring(P), spec);
      const double cf = 2.0 * (P - 1) / P * double(S) / (2 * B) + 2.0 * (P - 1) * a;
      EXPECT_NEAR(r.result.time_s() / cf, 1.0, 0.02) << "P=" << P << " S=" << S;
    }
}

TEST(Collectives, TorusAllReduceUsesEveryLink) {
  // 8x8, 4 links of 80 GB/s: each half of the buffer reduce-scatters along one dimension
  // while the other half uses the other, so a large all-reduce approaches the bus bandwidth
  // of all four links (320 GB/s); the 2D phases cost 7/8 + 1/8 x 7/8 of the 1D ring's bytes.
  CollectiveSpec spec;
  spec.bytes = 1ULL << 30;
  const auto r = run_collective_experiment(pod("tpu-v3-pod", "8x8"), spec);
  EXPECT_EQ(r.run.algorithm, CollectiveAlgorithm::torus);
  // Per chip and half: RS along x (7/8 of S/2 over 2 directions), then an all-reduce of
  // S/16 along y, then AG along x: 2 x 7/8 x S/4 / B + 2 x 7/8 x S/32 / B.
  const double S = double(spec.bytes), B = 80e9;
  const double bound = 2 * 7.0 / 8 * S / 4 / B + 2 * 7.0 / 8 * S / 32 / B;
  EXPECT_GT(r.result.time_s(), bound);
  EXPECT_LT(r.result.time_s(), bound * 1.05);
  EXPECT_GT(r.result.busbw_Bps, 0.9 * 320e9);
}

// Fits t = c P^e by least squares on logs.
double growth_exponent(const std::vector<double>& P, const std::vector<double>& t) {
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < P.size(); ++i) mx += std::log(P[i]), my += std::log(t[i]);
  mx /= double(P.size()), my /= double(P.size());
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < P.size(); ++i) {
    sxy += (std::log(P[i]) - mx) * (std::log(t[i]) - my);
    sxx += (std::log(P[i]) - mx) * (std::log(P[i]) - mx);
  }
  return sxy / sxx;
}

// Uniform all-to-all with fixed bytes per chip is bisection-bound: time ~ P^(1/2) on a 2D
// torus, P^(1/3) on a 3D torus (PUBLISHED.md); on odd sizes, and (since the routes split
// their half-way ties) on even ones.
TEST(Collectives, AllToAllGrowsWithTheBisection) {
  CollectiveSpec spec;
  spec.kind = CollectiveKind::all_to_all;
  spec.bytes = 64ULL << 20;
  // The growth exponent of the all-to-all's time over these slices of a preset.
  auto exponent = [&spec](const char* preset, const std::vector<const char*>& slices) {
    std::vector<double> P, t;
    for (const char* d : slices) {
      const auto r = run_collective_experiment(pod(preset, d), spec);
      P.push_back(r.chips);
      t.push_back(r.result.time_s());
    }
    return growth_exponent(P, t);
  };
  EXPECT_NEAR(exponent("tpu-v3-pod", {"3x3", "5x5", "7x7", "9x9", "11x11"}), 0.5, 0.1);
  EXPECT_NEAR(exponent("tpu-v4-pod", {"3x3x3", "5x5x5", "7x7x7", "9x9x9"}), 1.0 / 3, 0.1);
  EXPECT_NEAR(exponent("tpu-v3-pod", {"4x4", "6x6", "8x8", "12x12"}), 0.5, 0.1);
  EXPECT_NEAR(exponent("tpu-v4-pod", {"4x4x4", "6x6x6", "8x8x8"}), 1.0 / 3, 0.1);
}

// Every byte a transfer carries crosses each link of its route once; each collective sends
// what its algorithm implies: all-reduce 2(P-1)/P S per chip, reduce-scatter and
// all-gather (P-1)/P S, all-to-all (P-1)/P S, broadcast S to each of P-1 chips.
// A whole-pod torus collective on a torus with wraparound runs chip 0's transfers alone
// (net/collectives.h, `symmetric`): the same time, bytes and per-link figures as every
// chip's transfers, to the one-byte differences between ring positions.
TEST(Collectives, SymmetricRunEqualsTheFullNetwork) {
  for (const char* preset_dims : {"tpu-v3-pod:4x4", "tpu-v4-pod:2x2x3", "tpu-v4-pod:4x4x4", "tpu-v3-pod:6x5"})
    for (int k = 0; k < 3; ++k) {  // all_reduce, reduce_scatter, all_gather
      const std::string pd(preset_dims);
      const HardwareSpec hw = pod(pd.substr(0, pd.find(':')), pd.substr(pd.find(':') + 1));
      CollectiveSpec spec;
      spec.kind = CollectiveKind(k);
      spec.bytes = (3ULL << 20) + 7;  // not divisible: ring segments of unequal sizes
      SCOPED_TRACE(std::string(preset_dims) + " " + collective_kind_name(spec.kind));
      const auto sym = run_collective_experiment(hw, spec);
      const auto full = run_collective_experiment(hw, spec, DType::bf16, true);
      ASSERT_TRUE(sym.symmetric);
      ASSERT_FALSE(full.symmetric);
      EXPECT_NEAR(sym.result.time_s(), full.result.time_s(), 1e-4 * full.result.time_s());
      EXPECT_NEAR(double(sym.result.bytes_sent), double(full.result.bytes_sent), 1e-5 * double(full.result.bytes_sent));
      EXPECT_NEAR(double(sym.link_bytes), double(full.link_bytes), 1e-5 * double(full.link_bytes));
      EXPECT_EQ(sym.link_bytes, sym.byte_hops);
      EXPECT_NEAR(sym.max_link_utilization, full.max_link_utilization, 1e-4);
      EXPECT_LT(sym.events * 2, full.events);
    }
  // Not symmetric: a mesh, a switch, a group, all_to_all.
  CollectiveSpec a2a;
  a2a.kind = CollectiveKind::all_to_all;
  a2a.bytes = 1 << 20;
  EXPECT_FALSE(run_collective_experiment(pod("tpu-v3-pod", "4x4"), a2a).symmetric);
  CollectiveSpec ar;
  ar.bytes = 1 << 20;
  EXPECT_FALSE(run_collective_experiment(pod("tpu-v3-pod", "4x4", {"pod.wraparound=false"}), ar).symmetric);
  EXPECT_FALSE(run_collective_experiment(pod("tpu-v3-pod", "4x4", {"pod.topology=switch"}), ar).symmetric);
  ar.group = {0, 1, 2, 3};
  EXPECT_FALSE(run_collective_experiment(pod("tpu-v3-pod", "4x4"), ar).symmetric);
}

TEST(Collectives, BytesAreConservedOnEveryLinkAndCollective) {
  const std::uint64_t S = 3ULL << 20;  // divisible by every P below x 2 halves x 3 parts
  for (const char* preset_dims : {"tpu-v3-pod:4x4", "tpu-v4-pod:2x2x3", "tpu-v3-pod:6"})
    for (const char* topo : {"torus", "switch"})
      for (int k = 0; k < 6; ++k) {
        const std::string pd(preset_dims);
        const HardwareSpec hw = pod(pd.substr(0, pd.find(':')), pd.substr(pd.find(':') + 1),
                                    {std::string("pod.topology=") + topo});
        CollectiveSpec spec;
        spec.kind = CollectiveKind(k);
        spec.bytes = S;
        spec.root = 1;
        spec.peer = hw.pod.chips() - 1;
        // Every chip's transfers: conservation to the byte (symmetric runs scale chip 0's,
        // whose ring segments may differ from others' by a byte: compared below).
        const auto r = run_collective_experiment(hw, spec, DType::bf16, /*full_network=*/true);
        const std::uint64_t P = r.chips;
        SCOPED_TRACE(std::string(preset_dims) + " " + topo + " " + collective_kind_name(spec.kind));
        EXPECT_EQ(r.link_bytes, r.byte_hops);
        std::uint64_t expected = 0;
        switch (spec.kind) {
          case CollectiveKind::all_reduce: expected = 2 * (P - 1) * S; break;
          case CollectiveKind::reduce_scatter:
          case CollectiveKind::all_gather:
          case CollectiveKind::all_to_all: expected = (P - 1) * S; break;
          case CollectiveKind::broadcast: expected = (P - 1) * S; break;
          case CollectiveKind::send_recv: expected = S; break;
        }
        EXPECT_EQ(r.result.bytes_sent, expected);
        EXPECT_GT(r.result.time_s(), 0);
      }
}

TEST(Collectives, ChainedCollectivesRunOneAfterAnother) {
  // Two all-reduces on one stream: the second starts on each chip when the first is done
  // there, so together they take twice as long as one (an idle, symmetric ring).
  const HardwareSpec hw = ring(8);
  const PodTopology t(hw.pod);
  LinkNetwork net(t, hw.pod.chunk_bytes);
  CollectiveSpec spec;
  spec.algorithm = CollectiveAlgorithm::ring;
  spec.bytes = 8ULL << 20;
  const CollectiveRun first = add_collective(net, spec);
  const CollectiveRun second = add_collective(net, spec, &first.done);
  net.run();
  const auto r1 = collective_result(net, first), r2 = collective_result(net, second);
  EXPECT_EQ(r2.start_ps, r1.end_ps - 0);  // released by the first's last delivery (no reduction after an all-gather)
  EXPECT_EQ(r2.end_ps - r2.start_ps, r1.end_ps - r1.start_ps);
}

// Pod peaks (PUBLISHED.md): v2 pod 256 chips, 4 TB HBM, 11.5 PFLOPS; v3 pod 1,024 chips,
// 126 PFLOPS; v4 pod 4,096 chips, 1.1 EFLOPS. The system peak is chips x the chip's peak,
// exactly; rounded to the published digits it matches for v3 and v4. v2's 11.5 PFLOPS is 64
// boards x 180 TFLOPS, i.e. 45 TFLOPS per chip as marketed; at the chip's 700 MHz
// (PUBLISHED.md) a chip is 45.875 TFLOPS and the pod 11.74, 1.9 % above 11.52.
TEST(PodPresets, PublishedPeaks) {
  const HardwareSpec v2 = load_hardware("tpu-v2-pod"), v3 = load_hardware("tpu-v3-pod"), v4 = load_hardware("tpu-v4-pod");
  EXPECT_EQ(v2.pod.chips(), 256u);
  EXPECT_EQ(v3.pod.chips(), 1024u);
  EXPECT_EQ(v4.pod.chips(), 4096u);
  EXPECT_EQ(v2.system_peak_flops(), 256 * v2.peak_flops());
  EXPECT_EQ(v2.system_hbm_bytes(), 4ULL << 40);  // 256 x 16 GiB = 4 TiB
  // 11.5 PFLOPS = 64 boards x 180 TFLOPS = 256 x 45 TFLOPS; the model's chip: 45.8752.
  EXPECT_DOUBLE_EQ(v2.system_peak_flops(), 256 * 2.0 * 128 * 128 * 2 * 0.7e9);
  EXPECT_DOUBLE_EQ(v2.system_peak_flops() / (64 * 180e12), 45.8752 / 45.0);
  EXPECT_EQ(v3.system_peak_flops(), 1024 * 123'207'680'000'000.0);
  EXPECT_EQ(std::round(v3.system_peak_flops() / 1e15), 126.0);     // 126.16 PFLOPS
  EXPECT_EQ(std::round(v4.system_peak_flops() / 1e17) / 10, 1.1);  // 1.127 EFLOPS
  // v4's pod all-reduce bandwidth, 1.1 PB/s = chips x links x one-way link bandwidth [P].
  EXPECT_EQ(std::round(4096.0 * v4.pod.links_per_chip * double(v4.pod.link_bandwidth_Bps) / 1e14) / 10, 1.1);
}

TEST(PodPresets, BadPodsAreInputErrors) {
  EXPECT_THROW(load_hardware("tpu-v3-pod", {"pod.dims=4x0"}), ConfigError);
  EXPECT_THROW(load_hardware("tpu-v3-pod", {"pod.dims=4x4x4x4"}), ConfigError);
  EXPECT_THROW(load_hardware("tpu-v3-pod", {"pod.topology=ring"}), ConfigError);  // 32x32 is not a ring
  EXPECT_THROW(load_hardware("tpu-v3-pod", {"pod.dims=4x4x4"}), ConfigError);     // 4 links, 3D needs 6
  try {
    load_hardware_text("hardware:\n  base: tpu-v3\n  pod:\n    dims: [4, x]\n", "pod.yaml", {});
    ADD_FAILURE() << "expected an error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("pod.yaml:4:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("pod.dims"), std::string::npos) << e.what();
  }
  EXPECT_EQ(load_hardware_text("hardware:\n  base: tpu-v3\n  pod:\n    dims: [4, 2]\n", "pod.yaml", {}).pod.dims, "4x2");
}

}  // namespace
}  // namespace podsim
