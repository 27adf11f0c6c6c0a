// The host side in a report (host/host_model.h, docs/timing.md "The host"): TPU v1's
// PCIe Gen3 x16 link carries each batch in and out; the numbers follow from the bytes,
// the link and the simulated chip time.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "run_json.h"

namespace podsim::test {
namespace {

using nlohmann::json;

const std::string kMlp0 = std::string(PODSIM_SOURCE_DIR) + "/validation/workloads/tpu-v1-mlp0.yaml --hw tpu-v1";
constexpr double kPcieGen3x16 = 8e9 * 16 * 128 / 130 / 8;  // bytes/s each way

TEST(HostReport, TpuV1FeedsEachBatchOverPcieWhileItComputes) {
  const json r = run_json(kMlp0, "host-mlp0");
  ASSERT_TRUE(r.contains("host"));
  const json& h = r["host"];
  // MLP0's batch of 200 x 2,000 int8 activations in, 200 x 2,000 out.
  EXPECT_EQ(h["infeed_bytes"].get<std::uint64_t>(), 400'000u);
  EXPECT_EQ(h["outfeed_bytes"].get<std::uint64_t>(), 400'000u);
  EXPECT_NEAR(h["link_gbps"].get<double>(), kPcieGen3x16 * 1e-9, 1e-3);  // the preset rounds to MB/s
  EXPECT_NEAR(h["infeed_s"].get<double>(), 400'000 / kPcieGen3x16, 1e-4 * 400'000 / kPcieGen3x16);
  // 25 us of input against ~0.65 ms of compute: overlapped, the chip is the limit.
  const double device = r["summary"]["time_s"].get<double>();
  EXPECT_EQ(h["bound"], "device");
  EXPECT_DOUBLE_EQ(h["step_s"].get<double>(), device);
  EXPECT_DOUBLE_EQ(r["summary"]["end_to_end_time_s"].get<double>(), device);
}

TEST(HostReport, SerialInfeedAndHostTimeAddToTheChipsTime) {
  const json base = run_json(kMlp0, "host-overlap");
  const json r = run_json(kMlp0 + " --set chip.host.overlap=false --set 'chip.host.step_time=1 ms'", "host-serial");
  const double device = r["summary"]["time_s"].get<double>();
  EXPECT_EQ(r["summary"]["time_s"], base["summary"]["time_s"]);  // the chip's own time does not move
  EXPECT_NEAR(r["host"]["step_s"].get<double>(), 1e-3 + 2 * 400'000 / kPcieGen3x16 + device, 1e-9);
  EXPECT_EQ(r["host"]["bound"], "host");  // 1 ms is the largest part
}

TEST(HostReport, NoHostLinkNoHostSection) {
  const json r = run_json(std::string(PODSIM_SOURCE_DIR) + "/workloads/mlp-block.yaml --hw tpu-v3", "host-none");
  EXPECT_FALSE(r.contains("host"));
  EXPECT_FALSE(r["summary"].contains("end_to_end_time_s"));
  // A slow link makes a step infeed-bound.
  const json slow = run_json(std::string(PODSIM_SOURCE_DIR) + "/workloads/mlp-block.yaml --hw tpu-v3 "
                                                              "--set 'chip.host.link_bandwidth=1 MB/s'",
                             "host-slow");
  EXPECT_EQ(slow["host"]["bound"], "infeed");
  EXPECT_NEAR(slow["summary"]["end_to_end_time_s"].get<double>(),
              double(slow["host"]["infeed_bytes"].get<std::uint64_t>()) / 1e6, 1e-9);
}

}  // namespace
}  // namespace podsim::test
