// A shared on-chip memory between vector memory and HBM (chip.cmem, compiler/cmem_plan.h):
// activations that fit move at its bandwidth and leave HBM. Checked against closed forms:
// the bytes each memory moves, and a memory-bound op's time at the on-chip bandwidth.
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_json.h"

namespace {

using nlohmann::json;
using podsim::test::run_json;
using podsim::test::run_shell;
using podsim::test::write_temp;

std::uint64_t u64(const json& j) { return j.get<std::uint64_t>(); }

// 128 MiB at twice tpu-v4's HBM bandwidth (an assumed figure: v4's CMEM bandwidth is not
// published, so no preset has one).
const std::string kCmem = " --set chip.cmem.capacity=128MiB --set chip.cmem.bandwidth=2400GB/s";

// A memory-bound add: two 32 MiB inputs, one 32 MiB output.
std::string add_op() {
  return write_temp("cmem_add.yaml",
                    "workload:\n  ops:\n"
                    "    - {op: elementwise, name: add, fn: add, rows: 8192, cols: 2048, dtype: bf16}\n");
}

TEST(OnchipMemory, AMemoryBoundOpRunsAtItsBandwidthAndLeavesHbm) {
  const std::uint64_t tensor = 8192ull * 2048 * 2;
  const json hbm = run_json(add_op() + " --hw tpu-v4", "cmem-add-off");
  const json cmem = run_json(add_op() + " --hw tpu-v4" + kCmem, "cmem-add-on");
  // Without the level: everything through HBM, and the report says nothing of it.
  EXPECT_EQ(u64(hbm["summary"]["hbm_read_bytes"]), 2 * tensor);
  EXPECT_EQ(u64(hbm["summary"]["hbm_write_bytes"]), tensor);
  EXPECT_FALSE(hbm["summary"].contains("cmem_read_bytes"));
  EXPECT_FALSE(hbm["ops"][0].contains("cmem"));
  // With it: the inputs and the output live there, HBM moves nothing.
  EXPECT_EQ(u64(cmem["summary"]["hbm_read_bytes"]), 0u);
  EXPECT_EQ(u64(cmem["summary"]["hbm_write_bytes"]), 0u);
  EXPECT_EQ(u64(cmem["summary"]["cmem_read_bytes"]), 2 * tensor);
  EXPECT_EQ(u64(cmem["summary"]["cmem_write_bytes"]), tensor);
  EXPECT_TRUE(cmem["ops"][0]["cmem"]["input"].get<bool>());
  EXPECT_TRUE(cmem["ops"][0]["cmem"]["output"].get<bool>());
  // The time is the bytes at 2.4 TB/s, plus the pipeline's fill and drain (under 10 %).
  const double bound = 3.0 * double(tensor) / 2.4e12;
  const double t = cmem["summary"]["time_s"];
  EXPECT_GE(t, bound);
  EXPECT_LE(t, 1.10 * bound);
  EXPECT_LT(t, 0.6 * hbm["summary"]["time_s"].get<double>());  // HBM gives 1.2 TB/s
  // The limiter is the memory, now the on-chip one: busy for over 90 % of the op.
  EXPECT_EQ(cmem["ops"][0]["bound"], "memory");
  EXPECT_GT(cmem["ops"][0]["limiters"]["memory"].get<double>(), 0.9);
  EXPECT_TRUE(cmem["summary"]["invariants_ok"].get<bool>());
}

TEST(OnchipMemory, ActivationsThatDoNotFitStayInHbm) {
  // 64 MiB of inputs and a 32 MiB output against 64 MiB: the inputs stay in HBM, the
  // output alone fits; against 16 MiB nothing does.
  const std::uint64_t tensor = 8192ull * 2048 * 2;
  const json r = run_json(add_op() + " --hw tpu-v4 --set chip.cmem.capacity=64MiB --set chip.cmem.bandwidth=2400GB/s",
                          "cmem-add-small");
  EXPECT_EQ(u64(r["summary"]["hbm_read_bytes"]), 2 * tensor);
  EXPECT_EQ(u64(r["summary"]["hbm_write_bytes"]), 0u);
  EXPECT_EQ(u64(r["summary"]["cmem_read_bytes"]), 0u);
  EXPECT_EQ(u64(r["summary"]["cmem_write_bytes"]), tensor);
  EXPECT_FALSE(r["ops"][0]["cmem"]["input"].get<bool>());
  EXPECT_TRUE(r["ops"][0]["cmem"]["output"].get<bool>());
  const json none = run_json(add_op() + " --hw tpu-v4 --set chip.cmem.capacity=16MiB --set chip.cmem.bandwidth=2400GB/s",
                             "cmem-add-tiny");
  EXPECT_EQ(u64(none["summary"]["hbm_read_bytes"]), 2 * tensor);
  EXPECT_EQ(u64(none["summary"]["hbm_write_bytes"]), tensor);
  EXPECT_EQ(u64(none["summary"]["cmem_read_bytes"]) + u64(none["summary"]["cmem_write_bytes"]), 0u);
}

TEST(OnchipMemory, AMatmulReadsOnlyItsWeightsFromHbm) {
  // A and C (32 MiB each) fit together; B stays in HBM. The tiling's closed forms: A is
  // read once per block column (once per core that needs its rows when A-resident), B
  // once per block row, C written once.
  const std::string w = write_temp("cmem_mm.yaml",
                                   "workload:\n  ops:\n"
                                   "    - {op: matmul, name: mm, m: 4096, k: 4096, n: 4096, dtype: bf16}\n");
  const json r = run_json(w + " --hw tpu-v4" + kCmem, "cmem-mm");
  const json& op = r["ops"][0];
  const json& t = op["tiling"];
  const std::uint64_t M = 4096, K = 4096, N = 4096, b = 2;
  ASSERT_FALSE(t["a_resident"].get<bool>()) << t;
  EXPECT_EQ(u64(r["summary"]["hbm_read_bytes"]), K * N * b * u64(t["blocks_m"]));
  EXPECT_EQ(u64(r["summary"]["hbm_write_bytes"]), 0u);
  EXPECT_EQ(u64(r["summary"]["cmem_read_bytes"]), M * K * b * u64(t["blocks_n"]));
  EXPECT_EQ(u64(r["summary"]["cmem_write_bytes"]), M * N * b);
  EXPECT_TRUE(op["cmem"]["input"].get<bool>());
  EXPECT_TRUE(op["cmem"]["output"].get<bool>());
  EXPECT_TRUE(r["summary"]["invariants_ok"].get<bool>());
}

TEST(OnchipMemory, OptimizerUpdatesKeepTheirParametersInHbm) {
  const std::string w = write_temp("cmem_train.yaml",
                                   "workload:\n  training: {optimizer: adam}\n  ops:\n"
                                   "    - {op: matmul, name: fc, m: 256, k: 1024, n: 1024, dtype: bf16}\n");
  const json r = run_json(w + " --hw tpu-v4" + kCmem, "cmem-train");
  bool saw_update = false;
  for (const auto& op : r["ops"]) {
    if (op["kind"] != "optimizer") continue;
    saw_update = true;
    EXPECT_FALSE(op["cmem"]["input"].get<bool>()) << op["name"];
    EXPECT_EQ(u64(op["cmem"]["read_bytes"]), 0u) << op["name"];
    EXPECT_GT(u64(op["hbm_read_bytes"]), 0u) << op["name"];
  }
  EXPECT_TRUE(saw_update);
  EXPECT_TRUE(r["summary"]["invariants_ok"].get<bool>());
}

TEST(OnchipMemory, ATrainingStashThatDoesNotFitGoesThroughHbm) {
  // Two 4096^3 layers: each A (32 MiB) fits 48 MiB alone, but the stash the backward pass
  // reads (both forward inputs, 64 MiB) does not. Then only the backward pass's own chain,
  // a dX's input gradient, uses the level; with 1 GiB every activation does.
  const std::string w = write_temp("cmem_stash.yaml",
                                   "workload:\n  training: {optimizer: sgd}\n  ops:\n"
                                   "    - {op: matmul, name: fc1, m: 4096, k: 4096, n: 4096, dtype: bf16}\n"
                                   "    - {op: matmul, name: fc2, m: 4096, k: 4096, n: 4096, dtype: bf16}\n");
  const json small = run_json(w + " --hw tpu-v4 --set chip.cmem.capacity=48MiB --set chip.cmem.bandwidth=2400GB/s",
                              "cmem-stash-small");
  const json large = run_json(w + " --hw tpu-v4 --set chip.cmem.capacity=1GiB --set chip.cmem.bandwidth=2400GB/s",
                              "cmem-stash-large");
  std::map<std::string, json> s, l;
  for (const auto& op : small["ops"]) s[op["name"]] = op["cmem"];
  for (const auto& op : large["ops"]) l[op["name"]] = op["cmem"];
  for (const char* name : {"fc1", "fc2", "fc1.dW", "fc2.dW"}) {
    EXPECT_FALSE(s.at(name)["input"].get<bool>()) << name;
    EXPECT_FALSE(s.at(name)["output"].get<bool>()) << name;
    EXPECT_TRUE(l.at(name)["input"].get<bool>()) << name;
  }
  EXPECT_TRUE(s.at("fc2.dX")["input"].get<bool>());
  EXPECT_FALSE(s.at("fc2.dX")["output"].get<bool>());  // 32 + 32 MiB do not fit 48
  EXPECT_TRUE(l.at("fc2.dX")["output"].get<bool>());
  EXPECT_TRUE(small["summary"]["invariants_ok"].get<bool>());
  EXPECT_TRUE(large["summary"]["invariants_ok"].get<bool>());
}

TEST(OnchipMemory, AnInputIsThereOnlyIfItsProducerLeftItThere) {
  // Three 4096^3 layers, 32 MiB activations, a 48 MiB level. fc1's input fits (the step's
  // input is taken to be there) but its output does not fit beside it: it goes to HBM, so
  // fc2 reads its input from HBM (each op placed alone read it from the level: 32 MiB
  // fit) and has room for its output, which fc3 then reads from the level.
  const std::string w = write_temp("cmem_chain.yaml",
                                   "workload:\n  ops:\n"
                                   "    - {op: matmul, name: fc1, m: 4096, k: 4096, n: 4096, dtype: bf16}\n"
                                   "    - {op: matmul, name: fc2, m: 4096, k: 4096, n: 4096, dtype: bf16}\n"
                                   "    - {op: matmul, name: fc3, m: 4096, k: 4096, n: 4096, dtype: bf16}\n");
  const json r = run_json(w + " --hw tpu-v4 --set chip.cmem.capacity=48MiB --set chip.cmem.bandwidth=2400GB/s",
                          "cmem-chain");
  std::map<std::string, json> op;
  for (const auto& o : r["ops"]) op[o["name"]] = o;
  auto in = [&](const char* n) { return op.at(n)["cmem"]["input"].get<bool>(); };
  auto out = [&](const char* n) { return op.at(n)["cmem"]["output"].get<bool>(); };
  EXPECT_TRUE(in("fc1"));
  EXPECT_FALSE(out("fc1"));  // 32 + 32 MiB do not fit 48
  EXPECT_FALSE(in("fc2"));   // fc1 wrote it to HBM
  EXPECT_TRUE(out("fc2"));
  EXPECT_TRUE(in("fc3"));
  EXPECT_FALSE(out("fc3"));
  // fc2 reads all of A from HBM: its reads are the tiling's closed form, A's and B's.
  const json& t = op.at("fc2")["tiling"];
  const std::uint64_t M = 4096, K = 4096, N = 4096, b = 2;
  ASSERT_FALSE(t["a_resident"].get<bool>()) << t;
  EXPECT_EQ(u64(op.at("fc2")["hbm_read_bytes"]), M * K * b * u64(t["blocks_n"]) + K * N * b * u64(t["blocks_m"]));
  EXPECT_EQ(u64(op.at("fc2")["cmem"]["read_bytes"]), 0u);
  EXPECT_EQ(u64(op.at("fc2")["cmem"]["write_bytes"]), M * N * b);
  EXPECT_TRUE(r["summary"]["invariants_ok"].get<bool>());
}

TEST(OnchipMemory, ReplaysAgreeWithTheFullSimulation) {
  // Op replay and steady-state replay credit the on-chip memory's bytes like HBM's.
  const std::string w = write_temp("cmem_long.yaml",
                                   "workload:\n  ops:\n"
                                   "    - {op: matmul, name: mm, m: 4096, k: 4096, n: 4096, dtype: bf16}\n"
                                   "    - {op: matmul, name: mm2, m: 4096, k: 4096, n: 4096, dtype: bf16}\n");
  const json fast = run_json(w + " --hw tpu-v3" + kCmem, "cmem-fast");
  const json full = run_json(w + " --hw tpu-v3 --no-reuse" + kCmem, "cmem-full");
  EXPECT_EQ(u64(fast["stats"]["sim"]["ops_replayed"]["value"]), 1u);
  EXPECT_GT(u64(fast["stats"]["sim"]["tiles_replayed"]["value"]), 0u);
  EXPECT_EQ(fast["summary"]["cmem_read_bytes"], full["summary"]["cmem_read_bytes"]);
  EXPECT_EQ(fast["summary"]["cmem_write_bytes"], full["summary"]["cmem_write_bytes"]);
  const double a = fast["summary"]["time_s"], b = full["summary"]["time_s"];
  EXPECT_NEAR(a, b, 0.005 * b);
  EXPECT_TRUE(fast["summary"]["invariants_ok"].get<bool>());
}

TEST(OnchipMemory, ACapacityWithoutABandwidthIsRefused) {
  const auto o = run_shell(std::string(PODSIM_BINARY) + " run -q " + add_op() +
                           " --hw tpu-v4 --set chip.cmem.capacity=128MiB");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("chip.cmem.bandwidth"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("128 MiB"), std::string::npos) << o.output;
}

}  // namespace
