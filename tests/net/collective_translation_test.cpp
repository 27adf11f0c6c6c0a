// A collective moved to the origin of a torus (net/collective_translation.h) takes exactly
// the time of the collective where it was: the reference is the full network simulation
// of the group as given, never the moved one's result copied.
#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "podsim/config/hardware_loader.h"
#include "podsim/net/collective_translation.h"
#include "podsim/net/pod_topology.h"
#include "podsim/sim/collective_experiment.h"

namespace podsim {
namespace {

HardwareSpec pod(const std::string& dims, std::vector<std::string> more = {}) {
  more.push_back("pod.dims=" + dims);
  return load_hardware("tpu-v4-pod", more);
}

std::uint64_t end_ps(const HardwareSpec& hw, const CollectiveSpec& spec) {
  const CollectiveExperimentResult r = run_collective_experiment(hw, spec, DType::bf16, /*full_network=*/true);
  return r.result.end_ps - r.result.start_ps;
}

// The group of `base` moved by `shift` (chip coordinates, wrapping), in the same order.
std::vector<std::uint32_t> shifted(const PodTopology& t, const std::vector<std::uint32_t>& base,
                                   const std::vector<std::uint32_t>& shift) {
  std::vector<std::uint32_t> out;
  for (std::uint32_t c : base) {
    auto x = t.coords(c);
    for (std::size_t d = 0; d < x.size(); ++d) x[d] = (x[d] + shift[d]) % t.dims()[d];
    out.push_back(t.chip_at(x));
  }
  return out;
}

// Groups shaped like a layout's (every k-th chip: data groups; runs of k: tensor groups)
// and random ones, each kind of collective, on tori with even and odd dimensions (4x4x6,
// 4x3x4), at offsets even and odd: whenever the move is made it changes no picosecond.
TEST(CollectiveTranslation, AMovedCollectiveTakesExactlyTheTimeOfTheOriginal) {
  std::mt19937 rng(11);
  for (const std::string dims : {"4x4x6", "4x3x4"}) {
    const HardwareSpec hw = pod(dims);
    const PodTopology t(hw.pod);
    const std::uint32_t P = t.chips();
    std::vector<std::vector<std::uint32_t>> groups;
    for (std::uint32_t stride : {2u, 4u, 16u}) {
      std::vector<std::uint32_t> g;
      for (std::uint32_t c = 0; c < P; c += stride) g.push_back(c);
      groups.push_back(g);
    }
    groups.push_back({0, 1, 2, 3});
    groups.push_back({0, 1, 2, 3, 4, 5, 6, 7});
    for (int r = 0; r < 4; ++r) {
      std::vector<std::uint32_t> all(P);
      for (std::uint32_t c = 0; c < P; ++c) all[c] = c;
      std::shuffle(all.begin(), all.end(), rng);
      groups.emplace_back(all.begin(), all.begin() + 2 + r * 3);
    }
    std::size_t moved = 0, checked = 0;
    for (const auto& base : groups)
      for (CollectiveKind kind : {CollectiveKind::all_reduce, CollectiveKind::all_gather, CollectiveKind::all_to_all,
                                  CollectiveKind::broadcast, CollectiveKind::send_recv}) {
        // Two offsets of the group, one of them odd in a dimension.
        for (const std::vector<std::uint32_t>& shift :
             {std::vector<std::uint32_t>{2, 0, 2}, std::vector<std::uint32_t>{1, 2, 3}}) {
          CollectiveSpec spec;
          spec.kind = kind;
          spec.bytes = 3 * 1024 * 1024 + 7;  // not a whole number of chunks
          spec.group = shifted(t, base, shift);
          spec.root = spec.group[spec.group.size() / 2];
          spec.peer = spec.group.back();
          if (kind == CollectiveKind::send_recv && spec.root == spec.peer) spec.root = spec.group.front();
          const CollectiveSpec m = translated_to_origin(t, spec);
          ++checked;
          if (m.group == spec.group) continue;
          ++moved;
          EXPECT_EQ(end_ps(hw, m), end_ps(hw, spec))
              << dims << " kind " << int(kind) << " group of " << base.size() << " shifted by " << shift[0] << ","
              << shift[1] << "," << shift[2];
        }
      }
    EXPECT_GT(moved, checked / 4) << dims << ": the move is made for few groups, " << moved << " of " << checked;
  }
}

// Where a move could change the answer it is not made: a mesh (no wraparound), a switch,
// the whole pod.
TEST(CollectiveTranslation, NoMoveWithoutTranslationSymmetry) {
  CollectiveSpec spec;
  spec.bytes = 1 << 20;
  spec.group = {9, 10};  // (1,2,0) and (2,2,0) on 4x4x4
  for (const HardwareSpec& hw : {pod("4x4x4", {"pod.wraparound=false"}), pod("64", {"pod.topology=switch"})}) {
    const PodTopology t(hw.pod);
    EXPECT_EQ(translated_to_origin(t, spec).group, spec.group) << hw.pod.topology;
  }
  const PodTopology t(pod("4x4x4").pod);
  CollectiveSpec whole = spec;
  whole.group.clear();
  for (std::uint32_t c = 0; c < 64; ++c) whole.group.push_back((c + 5) % 64);
  EXPECT_EQ(translated_to_origin(t, whole).group, whole.group);
  // A chip the pod lacks: unchanged, for the collective to refuse.
  CollectiveSpec stray = spec;
  stray.group = {9, 640};
  EXPECT_EQ(translated_to_origin(t, stray).group, stray.group);
  stray.group = {9, 10};
  stray.kind = CollectiveKind::send_recv;
  stray.root = 9;
  stray.peer = 640;
  EXPECT_EQ(translated_to_origin(t, stray).peer, 640u);
  // On the torus the same group moves by (0, 2, 0): its lowest x is 1 (odd: kept), its
  // lowest y 2.
  const CollectiveSpec m = translated_to_origin(t, spec);
  EXPECT_EQ(m.group, (std::vector<std::uint32_t>{1, 2}));
  // {5, 6, 7, 9} = (1,1,0), (2,1,0), (3,1,0), (1,2,0): lowest x 1, y 1, z 0, all rounded
  // down to 0: it stays.
  CollectiveSpec odd = spec;
  odd.group = {5, 6, 7, 9};
  EXPECT_EQ(translated_to_origin(t, odd).group, odd.group);
}

}  // namespace
}  // namespace podsim
