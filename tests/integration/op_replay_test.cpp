// Replaying identical ops (arch/chip.h): an op whose plan matches an earlier op's takes
// that op's time and adds its counters instead of being simulated again. Checked against
// the full simulation (`run --no-reuse`), an independent run of the same model.
#include <cmath>
#include <map>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_json.h"

namespace {

using nlohmann::json;
using podsim::test::Outcome;
using podsim::test::read_file;
using podsim::test::run_json;
using podsim::test::write_temp;

// Three identical matmuls between two different ones, on tpu-v3's HBM2 model.
std::string repeated_matmuls() {
  return write_temp("replay.yaml",
                    "workload:\n  ops:\n"
                    "    - {op: matmul, name: a, m: 1024, k: 1024, n: 1024, dtype: bf16}\n"
                    "    - {op: matmul, name: b1, m: 2048, k: 2048, n: 2048, dtype: bf16}\n"
                    "    - {op: matmul, name: b2, m: 2048, k: 2048, n: 2048, dtype: bf16}\n"
                    "    - {op: matmul, name: b3, m: 2048, k: 2048, n: 2048, dtype: bf16}\n"
                    "    - {op: elementwise, name: c, fn: add, rows: 2048, cols: 2048, dtype: bf16}\n");
}

double op_time(const json& op) { return op["time_s"].get<double>(); }

TEST(OpReplay, IdenticalOpsTakeTheFirstOnesTimeAndBytes) {
  const json r = run_json(repeated_matmuls(), "replay");
  EXPECT_EQ(r["stats"]["sim"]["ops_replayed"]["value"], 2);
  const json& ops = r["ops"];
  for (int i : {2, 3}) {
    EXPECT_EQ(op_time(ops[i]), op_time(ops[1])) << i;
    EXPECT_EQ(ops[i]["hbm_read_bytes"], ops[1]["hbm_read_bytes"]);
    for (const char* part : {"active", "input_stall", "weight_load_stall", "weight_shift"})
      EXPECT_EQ(ops[i]["cycle_breakdown"][part], ops[1]["cycle_breakdown"][part]) << part;
    // The rest of the op's MXU cycles: its span in whole cycles, which may round one
    // cycle either way when the op starts at another phase of the clock (x 4 MXUs).
    EXPECT_NEAR(ops[i]["cycle_breakdown"]["non_matrix"].get<double>(),
                ops[1]["cycle_breakdown"]["non_matrix"].get<double>(), 4);
    // Back to back: each starts where the one before ended.
    EXPECT_EQ(ops[i]["start_s"], ops[i - 1]["end_s"]);
  }
  // The credited counters keep the run's books balanced: DMA bytes = HBM bytes = the
  // tiling's, MACs = the workload's (the invariants), and the per-channel bytes add up.
  EXPECT_TRUE(r["summary"]["invariants_ok"].get<bool>());
  std::uint64_t channel_read = 0;
  for (const auto& ch : r["channels"]) channel_read += ch["read_bytes"].get<std::uint64_t>();
  EXPECT_EQ(channel_read, r["summary"]["hbm_read_bytes"].get<std::uint64_t>());
}

TEST(OpReplay, AgreesWithTheFullSimulation) {
  // What replaying leaves out is the memory state an op inherits (open rows, posted
  // writes, the refresh phase): a small effect on ops of hundreds of microseconds.
  const json replayed = run_json(repeated_matmuls(), "replay-on");
  const json full = run_json(repeated_matmuls() + " --no-reuse", "replay-off");
  EXPECT_EQ(full["stats"]["sim"]["ops_replayed"]["value"], 0);
  const double a = replayed["summary"]["time_s"], b = full["summary"]["time_s"];
  EXPECT_NEAR(a, b, 0.005 * b);
  for (std::size_t i = 0; i < full["ops"].size(); ++i)
    EXPECT_NEAR(op_time(replayed["ops"][i]), op_time(full["ops"][i]), 0.02 * op_time(full["ops"][i])) << i;
  EXPECT_EQ(replayed["summary"]["hbm_write_bytes"], full["summary"]["hbm_write_bytes"]);
  EXPECT_EQ(replayed["summary"]["flops"], full["summary"]["flops"]);
}

TEST(OpReplay, AResNetStepAgreesWithTheFullSimulationWithinHalfAPercent) {
  // ResNet-50 at batch 8: 121 ops of 42 distinct plans (its repeated bottleneck blocks).
  const std::string wl = podsim::test::source_path("workloads/resnet50-infer.yaml") + " --wset workload.ops[0].batch=8";
  const json replayed = run_json(wl, "r50-on");
  const json full = run_json(wl + " --no-reuse", "r50-off");
  EXPECT_GT(replayed["stats"]["sim"]["ops_replayed"]["value"].get<int>(), 50);
  const double a = replayed["summary"]["time_s"], b = full["summary"]["time_s"];
  EXPECT_NEAR(a, b, 0.005 * b);
}

TEST(OpReplay, ConvolutionsThatDifferOnlyInTheirWindowAreNotReplayed) {
  // Same shapes and the same matmul (3x3, 56x56 out), but padding 1 dilation 1 against
  // padding 2 dilation 2: the second's windows span 5 input rows, so its tiles read other
  // input rows. Its report line looks the same; its plan is not.
  const std::string wl = write_temp("replay-dilation.yaml",
                                    "workload:\n  ops:\n"
                                    "    - {op: conv2d, name: a, n: 8, h: 56, w: 56, c_in: 64, c_out: 64, kernel: 3, "
                                    "padding: 1, dtype: bf16}\n"
                                    "    - {op: conv2d, name: b, n: 8, h: 56, w: 56, c_in: 64, c_out: 64, kernel: 3, "
                                    "padding: 2, dilation: 2, dtype: bf16}\n");
  const json r = run_json(wl, "replay-dilation");
  EXPECT_EQ(r["ops"][0]["shape"], r["ops"][1]["shape"]);
  EXPECT_EQ(r["stats"]["sim"]["ops_replayed"]["value"], 0);
  EXPECT_NE(r["ops"][0]["hbm_read_bytes"], r["ops"][1]["hbm_read_bytes"]);
}

TEST(OpReplay, ATraceKeepsReplayAndShowsTheReplayedOps) {
  const std::string timeline = testing::TempDir() + "replay-timeline.json";
  const json r = run_json(repeated_matmuls() + " --trace " + timeline, "replay-trace");
  EXPECT_EQ(r["stats"]["sim"]["ops_replayed"]["value"], 2);
  // b2 and b3 appear on the ops track as replayed, spanning their ops' times.
  std::map<std::string, double> replayed_us;
  const json trace = json::parse(read_file(timeline));
  for (const auto& e : trace["traceEvents"])
    if (e["ph"] == "X" && e["name"].get<std::string>().find("(replayed)") != std::string::npos)
      replayed_us[e["name"]] = e["dur"].get<double>();
  ASSERT_EQ(replayed_us.size(), 2u);
  for (int i : {2, 3}) {
    const std::string name = r["ops"][i]["name"].get<std::string>() + " (replayed)";
    ASSERT_TRUE(replayed_us.count(name)) << name;
    EXPECT_NEAR(replayed_us[name], op_time(r["ops"][i]) * 1e6, 1e-3) << name;
  }
  // --no-reuse still traces every op's own events.
  const json full = run_json(repeated_matmuls() + " --no-reuse --trace " + timeline, "replay-trace-full");
  EXPECT_EQ(full["stats"]["sim"]["ops_replayed"]["value"], 0);
}

// Two identical int8 layers for TPU v1, whose weight FIFO may fetch across ops.
std::string two_fifo_layers() {
  return write_temp("fifo.yaml",
                    "workload:\n  ops:\n"
                    "    - {op: matmul, name: a, m: 2048, k: 256, n: 256, dtype: int8}\n"
                    "    - {op: matmul, name: b, m: 2048, k: 256, n: 256, dtype: int8}\n") +
         " --hw tpu-v1";
}

TEST(WeightPrefetch, TheFifoFetchesTheNextLayersFirstTileDuringThisOne) {
  // TPU v1 decouples Read_Weights from the matrix instructions (Jouppi 2017, Sec. 2): the
  // weight FIFO fills with the next layer's tiles while this one finishes. Without that
  // the two identical layers take the same time; with it, the second one's first 64 KiB
  // tile (64 KiB / 34 GB/s = 1.93 us) arrives during the first layer's last fold and
  // drain (512 rows + 510 cycles at 700 MHz = 1.46 us, under one tile's fetch: at most
  // that tile is early, and at least the half of it that overlaps).
  const json with = run_json(two_fifo_layers(), "fifo-on");
  const json without = run_json(two_fifo_layers() + " --set chip.mxu.weight_prefetch_across_ops=false", "fifo-off");
  const json &a0 = without["ops"][0], &b0 = without["ops"][1], &a1 = with["ops"][0], &b1 = with["ops"][1];
  EXPECT_NEAR(op_time(b0), op_time(a0), 2e-9);
  EXPECT_EQ(op_time(a1), op_time(a0));  // the first layer is not slowed
  const double tile_s = 65536.0 / 34e9;
  const double saved_s = op_time(b0) - op_time(b1);
  EXPECT_GT(saved_s, 0.5 * tile_s);
  EXPECT_LE(saved_s, 1.02 * tile_s);
  EXPECT_LT(b1["cycle_breakdown"]["weight_load_stall"], b0["cycle_breakdown"]["weight_load_stall"]);
  // Early is not extra: the same bytes move either way.
  EXPECT_EQ(with["summary"]["hbm_read_bytes"], without["summary"]["hbm_read_bytes"]);
  EXPECT_EQ(with["summary"]["hbm_write_bytes"], without["summary"]["hbm_write_bytes"]);
  EXPECT_TRUE(with["summary"]["invariants_ok"].get<bool>());
}

TEST(WeightPrefetch, LinkedOpsAreSimulatedNotReplayed) {
  // An op whose weights were partly fetched by the op before it is not self-contained, so
  // the identical second layer is simulated, and the run equals the full simulation.
  const json r = run_json(two_fifo_layers(), "fifo-reuse");
  const json full = run_json(two_fifo_layers() + " --no-reuse", "fifo-no-reuse");
  EXPECT_EQ(r["stats"]["sim"]["ops_replayed"]["value"], 0);
  EXPECT_EQ(r["summary"]["time_s"], full["summary"]["time_s"]);
  // Without the prefetch the second layer is an ordinary replay.
  const json unlinked = run_json(two_fifo_layers() + " --set chip.mxu.weight_prefetch_across_ops=false", "fifo-unlinked");
  EXPECT_EQ(unlinked["stats"]["sim"]["ops_replayed"]["value"], 1);
}

}  // namespace
