// `podsim sweep` as users and CI scripts drive it (`podsim compare`: compare_test.cpp).
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <set>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "podsim/config/config_error.h"
#include "podsim/config/sweep_spec.h"
#include "podsim/sweep/sweep_points.h"
#include <nlohmann/json.hpp>

#include "run_command.h"
#include "test_paths.h"

namespace {

namespace fs = std::filesystem;

using podsim::test::Outcome;

Outcome sh(const std::string& cmd) { return podsim::test::run_shell(cmd); }

const std::string kPodsim = PODSIM_BINARY;

std::string read_file(const fs::path& p) { return podsim::test::read_file(p.string()); }

using podsim::test::fresh_dir;

// A sweep over MXU rows and the matmul's m, with one constraint.
fs::path write_sweep(const fs::path& dir, const std::string& extra = "") {
  const fs::path f = dir / "sweep.yaml";
  std::ofstream(f) << "sweep:\n"
                      "  hardware: tpu-v3\n"
                      "  workload: " << podsim::test::source_path("workloads/gemm-example.yaml") << "\n"
                      "  grid:\n"
                      "    chip.mxu.rows: [64, 128, 256]\n"
                      "    workload.ops.g0.m: {from: 128, to: 512, mul: 2}\n"
                      "  constraints: [\"chip.mxu.rows <= 128\"]\n"
                      "  metrics: [time_s, achieved_tflops, ops.g0.mxu_utilization]\n"
                   << extra;
  return f;
}

using podsim::test::split_lines;

TEST(Sweep, GridConstraintsAndMetricsLandInTheCsv) {
  const fs::path d = fresh_dir("sweep_grid");
  const Outcome o = sh(kPodsim + " sweep " + write_sweep(d).string() + " --out " + (d / "out").string());
  ASSERT_EQ(o.code, 0) << o.output;
  const auto rows = split_lines(read_file(d / "out/results.csv"));
  // 3 rows values x 3 m values (128, 256, 512) = 9 points + the header.
  ASSERT_EQ(rows.size(), 10u);
  EXPECT_EQ(rows[0], "point,chip.mxu.rows,workload.ops.g0.m,time_s,achieved_tflops,ops.g0.mxu_utilization,status,error");
  int ok = 0, skipped = 0;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    ok += rows[i].find(",ok,") != std::string::npos;
    skipped += rows[i].find(",skipped,") != std::string::npos;
  }
  EXPECT_EQ(ok, 6);       // rows 64 and 128
  EXPECT_EQ(skipped, 3);  // rows 256: the constraint rejects them, with the reason
  // A point's metric equals its own full report's.
  const auto report = nlohmann::json::parse(read_file(d / "out/points/0.json"));
  const auto rec = nlohmann::json::parse(read_file(d / "out/points/0.result.json"));
  EXPECT_EQ(rec["metrics"]["time_s"], report["summary"]["time_s"]);
  EXPECT_EQ(report["hardware"]["params"]["chip.mxu.rows"], "64");
}

// Whole chips as an axis: each point runs on its preset, the other axes on top, and a
// constraint reads the point's own chip (tpu-v3 has 2 MXUs a core, tpu-v4 4).
TEST(Sweep, PresetsAreAnAxisAndConstraintsReadEachPointsChip) {
  const fs::path d = fresh_dir("sweep_presets");
  const fs::path f = d / "sweep.yaml";
  std::ofstream(f) << "sweep:\n"
                      "  workload: " << podsim::test::source_path("workloads/gemm-example.yaml") << "\n"
                      "  grid:\n"
                      "    hardware: [tpu-v2, tpu-v3, tpu-v4]\n"
                      "    chip.clock: [1 GHz]\n"
                      "  constraints: [\"chip.mxus_per_core >= 2\"]\n"
                      "  metrics: [peak_tflops]\n";
  const Outcome o = sh(kPodsim + " sweep " + f.string() + " --out " + (d / "out").string());
  ASSERT_EQ(o.code, 0) << o.output;
  const auto rows = split_lines(read_file(d / "out/results.csv"));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0], "point,hardware,chip.clock [Hz],peak_tflops,status,error");
  // tpu-v2 has 1 MXU a core: skipped. At 1 GHz: 2 cores x 2 x 128^2 x 2 = 131.072 TFLOPS
  // (tpu-v3), 2 x 4 x 128^2 x 2 = 262.144 (tpu-v4).
  EXPECT_NE(rows[1].find("0,tpu-v2,1000000000,,skipped,"), std::string::npos) << rows[1];
  EXPECT_EQ(rows[2], "1,tpu-v3,1000000000,131.072,ok,");
  EXPECT_EQ(rows[3], "2,tpu-v4,1000000000,262.144,ok,");
  EXPECT_EQ(nlohmann::json::parse(read_file(d / "out/points/2.json"))["hardware"]["name"], "tpu-v4");
  // A name that is neither a preset nor a file: exit 2 at its line.
  std::ofstream(d / "bad.yaml") << "sweep:\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                                << "\n  grid:\n    hardware: [tpu-v3, tpu-v9]\n";
  const Outcome bad = sh(kPodsim + " sweep " + (d / "bad.yaml").string() + " --out " + (d / "bad").string());
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("bad.yaml:4:"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("tpu-v9"), std::string::npos) << bad.output;
}

// The on-chip memory (chip.cmem) as an axis, and its traffic as a metric: with none, the
// metric is empty (no such traffic); with 128 MiB a 2 x 32 MiB add reads its inputs there.
TEST(Sweep, AnOnchipMemoryIsAnAxisAndItsBytesAMetric) {
  const fs::path d = fresh_dir("sweep_cmem");
  std::ofstream(d / "add.yaml") << "workload:\n  ops:\n"
                                   "    - {op: elementwise, name: add, fn: add, rows: 8192, cols: 2048, dtype: bf16}\n";
  std::ofstream(d / "sweep.yaml") << "sweep:\n"
                                     "  workload: " << (d / "add.yaml").string() << "\n"
                                     "  grid:\n"
                                     "    chip.cmem.capacity: [0 B, 128 MiB]\n"
                                     "    chip.cmem.bandwidth: [2 TB/s]\n"
                                     "  metrics: [hbm_read_bytes, cmem_read_bytes]\n";
  const Outcome o = sh(kPodsim + " sweep " + (d / "sweep.yaml").string() + " --out " + (d / "out").string());
  ASSERT_EQ(o.code, 0) << o.output;
  const auto rows = split_lines(read_file(d / "out/results.csv"));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1], "0,0,2000000000000,67108864,,ok,");
  EXPECT_EQ(rows[2], "1,134217728,2000000000000,0,67108864,ok,");
}

// zip as a list of groups: each group's axes move together, groups cross each other and
// the grid (2 rows x 2 clock/bandwidth pairs x 3 shapes = 12 points, the last group fastest).
TEST(Sweep, ZipGroupsCrossEachOtherAndTheGrid) {
  const fs::path d = fresh_dir("sweep_zip_groups");
  const fs::path f = d / "sweep.yaml";
  std::ofstream(f) << "sweep:\n"
                      "  workload: " << podsim::test::source_path("workloads/gemm-example.yaml") << "\n"
                      "  grid:\n"
                      "    chip.mxu.rows: [64, 128]\n"
                      "  zip:\n"
                      "    - {chip.clock: [700 MHz, 940 MHz], chip.hbm.bandwidth: [700 GB/s, 900 GB/s]}\n"
                      "    - {workload.ops.g0.m: [256, 512, 1024], workload.ops.g0.n: [256, 512, 1024]}\n"
                      "  metrics: [time_s]\n";
  const Outcome o = sh(kPodsim + " sweep " + f.string() + " --out " + (d / "out").string() + " -j 2");
  ASSERT_EQ(o.code, 0) << o.output;
  const auto rows = split_lines(read_file(d / "out/results.csv"));
  ASSERT_EQ(rows.size(), 13u);
  // Hardware quantities are numbers in their SI unit, the unit in the header (pandas reads
  // numeric columns); the point records keep the values as written.
  EXPECT_EQ(rows[0],
            "point,chip.mxu.rows,chip.clock [Hz],chip.hbm.bandwidth [B/s],workload.ops.g0.m,workload.ops.g0.n,time_s,"
            "status,error");
  EXPECT_EQ(rows[1].rfind("0,64,700000000,700000000000,256,256,", 0), 0u) << rows[1];
  EXPECT_EQ(rows[6].rfind("5,64,940000000,900000000000,1024,1024,", 0), 0u) << rows[6];
  EXPECT_EQ(rows[12].rfind("11,128,940000000,900000000000,1024,1024,", 0), 0u) << rows[12];
  EXPECT_EQ(nlohmann::json::parse(read_file(d / "out/points/0.result.json"))["params"]["chip.clock"], "700 MHz");
  // A group whose axes differ in length names the group and the axis.
  std::ofstream(d / "bad.yaml") << "sweep:\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                                << "\n  zip:\n    - {chip.clock: [1 GHz]}\n    - {chip.mxu.rows: [64], chip.mxu.cols: [64, 128]}\n";
  const Outcome bad = sh(kPodsim + " sweep " + (d / "bad.yaml").string() + " --out " + (d / "bad").string());
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("sweep.zip[1].chip.mxu.cols"), std::string::npos) << bad.output;
  // A grid past 10,000,000 points is refused before it is built, with its size.
  std::ofstream(d / "huge.yaml") << "sweep:\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                                 << "\n  grid:\n    chip.mxu.rows: {from: 1, to: 4096, step: 1}\n"
                                    "    chip.mxu.cols: {from: 1, to: 4096, step: 1}\n";
  const Outcome huge = sh(kPodsim + " sweep " + (d / "huge.yaml").string() + " --out " + (d / "huge").string());
  EXPECT_EQ(huge.code, 2) << huge.output;
  EXPECT_NE(huge.output.find("16777216 points"), std::string::npos) << huge.output;
}

// Training and parallelism fields are axes like op fields: the optimizer's state follows
// it (Adam keeps two fp32 moments per parameter, momentum one, SGD none).
TEST(Sweep, TrainingFieldsAreAxes) {
  const fs::path d = fresh_dir("sweep_training");
  const fs::path f = d / "sweep.yaml";
  std::ofstream(f) << "sweep:\n"
                      "  workload: " << podsim::test::source_path("workloads/mlp-train.yaml") << "\n"
                      "  grid:\n"
                      "    workload.training.optimizer: [sgd, momentum, adam]\n"
                      "  metrics: [time_s]\n";
  const Outcome o = sh(kPodsim + " sweep " + f.string() + " --out " + (d / "out").string() + " -j 2");
  ASSERT_EQ(o.code, 0) << o.output;
  std::vector<double> state;
  for (int p = 0; p < 3; ++p) {
    const auto r = nlohmann::json::parse(read_file(d / "out/points" / (std::to_string(p) + ".json")));
    state.push_back(r["memory_footprint"]["optimizer_state_bytes"].get<double>());
  }
  const double params = nlohmann::json::parse(read_file(d / "out/points/0.json"))["memory_footprint"]["parameters"].get<double>();
  EXPECT_EQ(state[0], 0.0);
  EXPECT_EQ(state[1], 4 * params);
  EXPECT_EQ(state[2], 8 * params);
  // A nested field (training.precision.master): the weights' master copy in bf16, 2 bytes
  // a parameter instead of fp32's 4. (Until 2026-12-06 a nested path overwrote the
  // training section with the precision map: "training.compute: unknown key".)
  const std::string nested = (d / "nested.json").string();
  const Outcome n = sh(kPodsim + " run -q " + podsim::test::source_path("workloads/mlp-train.yaml") +
                       " --wset workload.training.precision.master=bf16 --json " + nested);
  ASSERT_EQ(n.code, 0) << n.output;
  const auto fp = nlohmann::json::parse(read_file(nested))["memory_footprint"];
  EXPECT_EQ(fp["weights_bytes"].get<double>(), 2 * params);
  EXPECT_EQ(fp["optimizer"], "adam");  // the rest of the training section is intact
  // An inference workload has no training section to set a field of: exit 2, not a silent no-op.
  std::ofstream(d / "bad.yaml") << "sweep:\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                                << "\n  grid:\n    workload.training.optimizer: [sgd]\n";
  const Outcome bad = sh(kPodsim + " sweep " + (d / "bad.yaml").string() + " --out " + (d / "bad").string());
  EXPECT_EQ(bad.code, 2) << bad.output;
  EXPECT_NE(bad.output.find("no 'training:' section"), std::string::npos) << bad.output;
}

TEST(Sweep, ResultsDoNotDependOnJobsShardsOrOrder) {
  const fs::path d = fresh_dir("sweep_det");
  const std::string f = write_sweep(d).string();
  ASSERT_EQ(sh(kPodsim + " sweep " + f + " -j 1 --out " + (d / "j1").string()).code, 0);
  ASSERT_EQ(sh(kPodsim + " sweep " + f + " -j 4 --out " + (d / "j4").string()).code, 0);
  ASSERT_EQ(sh(kPodsim + " sweep " + f + " --shard 0/3 --out " + (d / "s0").string()).code, 0);
  ASSERT_EQ(sh(kPodsim + " sweep " + f + " --shard 2/3 -j 2 --out " + (d / "s2").string()).code, 0);
  ASSERT_EQ(sh(kPodsim + " sweep " + f + " --shard 1/3 --out " + (d / "s1").string()).code, 0);
  ASSERT_EQ(sh(kPodsim + " sweep --merge " + (d / "s2").string() + " " + (d / "s0").string() + " " +
               (d / "s1").string() + " --out " + (d / "merged").string())
                .code,
            0);
  const std::string j1 = read_file(d / "j1/results.csv");
  EXPECT_FALSE(j1.empty());
  EXPECT_EQ(j1, read_file(d / "j4/results.csv"));
  EXPECT_EQ(j1, read_file(d / "merged/results.csv"));
  EXPECT_EQ(read_file(d / "j1/results.jsonl"), read_file(d / "merged/results.jsonl"));
  EXPECT_EQ(sh(kPodsim + " sweep " + f + " --shard 3/3").code, 2);
}

TEST(Sweep, KilledSweepResumesWithoutLoss) {
  const fs::path d = fresh_dir("sweep_kill");
  // 24 points of a few tens of ms each, one at a time, so the kill lands mid-way.
  const fs::path f = d / "sweep.yaml";
  std::ofstream(f) << "sweep:\n  hardware: tpu-v3\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                   << "\n  grid:\n    workload.ops.g0.k: {from: 1024, to: 24576, step: 1024}\n  metrics: [time_s]\n";
  const std::string out = (d / "out").string();
  const pid_t pid = fork();
  if (pid == 0) {
    execl(kPodsim.c_str(), kPodsim.c_str(), "sweep", f.c_str(), "--out", out.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  // Kill it once a few points have finished.
  for (int i = 0; i < 400; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::size_t done = 0;
    if (fs::exists(d / "out/points"))
      for (const auto& e : fs::directory_iterator(d / "out/points"))
        done += e.path().string().find(".result.json") != std::string::npos &&
                e.path().string().find(".tmp") == std::string::npos;
    if (done >= 5) break;
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  // Whatever is there is whole: every record parses, every CSV row has all its fields.
  std::size_t records = 0;
  for (const auto& e : fs::directory_iterator(d / "out/points"))
    if (e.path().extension() == ".json" && e.path().string().find(".result.json") != std::string::npos) {
      EXPECT_NO_THROW(nlohmann::json::parse(read_file(e.path()))) << e.path();
      ++records;
    }
  EXPECT_GE(records, 5u);
  EXPECT_LT(records, 24u) << "the sweep finished before the kill; the test proves nothing";
  if (fs::exists(d / "out/results.csv")) {
    for (const auto& row : split_lines(read_file(d / "out/results.csv"))) {
      EXPECT_EQ(std::count(row.begin(), row.end(), ','), 4) << row;
    }
  }
  // Rerun: the finished points are skipped, the rest run; the result equals a clean run.
  const Outcome resumed = sh(kPodsim + " sweep " + f.string() + " --out " + out);
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("already done"), std::string::npos);
  ASSERT_EQ(sh(kPodsim + " sweep " + f.string() + " -j 2 --out " + (d / "clean").string()).code, 0);
  EXPECT_EQ(read_file(d / "out/results.csv"), read_file(d / "clean/results.csv"));
}

TEST(Sweep, FailedAndTimedOutPointsAreRecordedAndSetTheExitCode) {
  const fs::path d = fresh_dir("sweep_fail");
  const fs::path f = d / "sweep.yaml";
  // 4 KiB of vector memory cannot hold a tile: that point fails; the others run.
  std::ofstream(f) << "sweep:\n  hardware: tpu-v3\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                   << "\n  grid:\n    chip.vmem.capacity: [16 MiB, 4 KiB]\n  metrics: [time_s]\n";
  Outcome o = sh(kPodsim + " sweep " + f.string() + " --out " + (d / "out").string());
  EXPECT_EQ(o.code, 1) << o.output;
  const std::string csv = read_file(d / "out/results.csv");
  EXPECT_NE(csv.find(",ok,"), std::string::npos);
  EXPECT_NE(csv.find("failed"), std::string::npos);
  EXPECT_NE(csv.find("chip.vmem.capacity: too small"), std::string::npos) << csv;
  // An 8192^3 matmul with sparse weights on the 8x8 lab chip runs for about 4 s (sparse
  // tiles are not replayed: arch/steady_state.h): a 0.3 s timeout stops it.
  const fs::path g = d / "slow.yaml";
  std::ofstream(d / "big.yaml")
      << "workload:\n  ops:\n    - {op: matmul, name: big, m: 8192, k: 8192, n: 8192, dtype: bf16, block_sparsity: 0.5}\n";
  std::ofstream(g) << "sweep:\n  hardware: lab-8x8\n  workload: big.yaml\n  grid:\n    chip.clock: [200 MHz]\n  metrics: [time_s]\n";
  o = sh(kPodsim + " sweep " + g.string() + " --point-timeout 0.3 --out " + (d / "slow").string());
  EXPECT_EQ(o.code, 1) << o.output;
  EXPECT_NE(read_file(d / "slow/results.csv").find("timeout"), std::string::npos);
}

TEST(Sweep, BadSweepFilesAreInputErrors) {
  const fs::path d = fresh_dir("sweep_bad");
  std::ofstream(d / "a.yaml") << "sweep:\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                              << "\n  grid:\n    chip.mxu.rowz: [64]\n  metrics: [time_s]\n";
  Outcome o = sh(kPodsim + " sweep " + (d / "a.yaml").string() + " --out " + (d / "o").string());
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("a.yaml:4:5: chip.mxu.rowz"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("did you mean 'chip.mxu.rows'"), std::string::npos) << o.output;
  std::ofstream(d / "b.yaml") << "sweep:\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                              << "\n  grid:\n    chip.mxu.rows: [64, sixty]\n  metrics: [time_s]\n";
  EXPECT_EQ(sh(kPodsim + " sweep " + (d / "b.yaml").string()).code, 2);
  std::ofstream(d / "c.yaml") << "sweep:\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                              << "\n  grid:\n    chip.mxu.rows: [64]\n  metrics: [tme_s]\n";
  o = sh(kPodsim + " sweep " + (d / "c.yaml").string());
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("did you mean 'time_s'"), std::string::npos) << o.output;
  // A typo in an op key is caught at load too (it used to give an empty column, exit 0).
  std::ofstream(d / "e.yaml") << "sweep:\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                              << "\n  grid:\n    chip.mxu.rows: [64]\n  metrics: [ops.g0.mxu_utilisation]\n";
  o = sh(kPodsim + " sweep " + (d / "e.yaml").string());
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("did you mean 'mxu_utilization'"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("sweep.metrics[0]"), std::string::npos) << o.output;
  // ... and in an op's name or index, and a stat's group or name (all gave an empty column
  // and exit 0 before): the line and column of the metric, and the nearest known one.
  const std::vector<std::pair<std::string, std::string>> typos = {
      {"ops.g00.time_s", "did you mean 'g0'"},
      {"ops.5.time_s", "no op '5'"},
      {"stats.chip.tme", "did you mean 'time'"},
      {"stats.chip.core0.mxu0.active_cycle", "did you mean 'active_cycles'"},
      {"stats.chip.cor0.read_dma.bytes", "did you mean 'chip.core0.read_dma'"},
  };
  for (const auto& [metric, says] : typos) {
    std::ofstream(d / "f.yaml") << "sweep:\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                                << "\n  grid:\n    chip.mxu.rows: [64]\n  metrics: [time_s, " << metric << "]\n";
    o = sh(kPodsim + " sweep " + (d / "f.yaml").string() + " --out " + (d / "f").string());
    EXPECT_EQ(o.code, 2) << metric << "\n" << o.output;
    EXPECT_NE(o.output.find(says), std::string::npos) << metric << "\n" << o.output;
    EXPECT_NE(o.output.find("f.yaml:5:21: sweep.metrics[1]"), std::string::npos) << metric << "\n" << o.output;
    EXPECT_FALSE(fs::exists(d / "f" / "results.csv")) << metric;  // refused before any point ran
  }
}

TEST(SweepMetrics, EveryStatOfARealReportIsAcceptedAndNothingElse) {
  // The stats schema the loader checks against is the reports': every group and name of a
  // DRAM chip, an ideal-memory chip and a pod is accepted, and the schema has nothing
  // those reports lack.
  const fs::path d = fresh_dir("stat_keys");
  std::set<std::string> seen;
  for (const char* each : {"workloads/gemm-example.yaml --hw tpu-v3", "workloads/gemm-example.yaml --hw lab-8x8",
                           "workloads/mlp-train.yaml --hw tpu-v3-pod --set pod.dims=2x2"}) {
    const std::string args = each;
    const std::string json = (d / "r.json").string();
    ASSERT_EQ(sh(kPodsim + " run -q " + podsim::test::source_path(args.substr(0, args.find(' '))) +
                 args.substr(args.find(' ')) + " --json " + json).code, 0) << args;
    const nlohmann::json report = nlohmann::json::parse(podsim::test::read_file(json));
    ASSERT_FALSE(report["stats"].empty()) << args;
    for (const auto& [group, names] : report["stats"].items())
      for (const auto& [name, value] : names.items()) {
        EXPECT_TRUE(podsim::is_known_metric("stats." + group + "." + name)) << group << "." << name;
        std::string pattern = group;
        for (char& c : pattern) if (std::isdigit(static_cast<unsigned char>(c))) c = '#';
        seen.insert(pattern + "|" + name);
      }
  }
  for (const auto& g : podsim::stats_metric_schema())
    for (const auto& n : g.names) {
      std::string pattern = g.pattern;
      EXPECT_TRUE(seen.count(pattern + "|" + n)) << g.pattern << "." << n << " is in no report";
    }
}

TEST(SweepMetrics, EveryOpKeyASweepAcceptsIsInTheReport) {
  // The list the loader checks op metrics against is the report's: an op of a real run
  // carries every key of it.
  const fs::path d = fresh_dir("op_keys");
  const std::string json = (d / "r.json").string();
  ASSERT_EQ(sh(kPodsim + " run -q " + podsim::test::source_path("workloads/gemm-example.yaml") + " --json " + json).code, 0);
  const auto op = nlohmann::json::parse(podsim::test::read_file(json))["ops"][0];
  for (const auto& key : podsim::op_metric_keys()) EXPECT_TRUE(op.contains(key)) << key;
}

// Issue 14: a malformed constraint ("chip.clock <= 5 GB/s") made every point "skipped"
// and the sweep exit 0; constraints are now checked when the sweep is loaded.
TEST(Sweep, ConstraintsAreCheckedAtLoad) {
  const fs::path d = fresh_dir("sweep_constraints");
  auto sweep = [&](const std::string& constraint) {
    std::ofstream(d / "s.yaml") << "sweep:\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                                << "\n  grid:\n    chip.mxu.rows: [64, 128]\n    workload.ops.g0.m: [128, 256]\n"
                                   "  constraints: [\"" << constraint << "\"]\n  metrics: [time_s]\n";
    return (d / "s.yaml").string();
  };
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"chip.clock <= 5 GB/s", "'5 GB/s' is not a value of chip.clock"},
      {"chip.mxu.rowz <= 128", "did you mean 'chip.mxu.rows'"},
      {"chip.mxu.dataflow == 3", "constraints compare numbers"},
      {"3 < 4", "compares two numbers"},
      {"workload.ops.g0.m < lots", "neither a hardware parameter"},
  };
  for (const auto& [c, expected] : bad) {
    const Outcome o = sh(kPodsim + " sweep " + sweep(c) + " --out " + (d / "o").string());
    EXPECT_EQ(o.code, 2) << c << ": " << o.output;
    EXPECT_NE(o.output.find("s.yaml:6:"), std::string::npos) << o.output;
    EXPECT_NE(o.output.find(expected), std::string::npos) << c << ": " << o.output;
  }
  // Well-formed ones load: a parameter against a value in its unit, an axis against a number.
  EXPECT_NO_THROW(podsim::load_sweep(sweep("chip.clock >= 900 MHz")));
  EXPECT_NO_THROW(podsim::load_sweep(sweep("workload.ops.g0.m <= 128")));
  EXPECT_NO_THROW(podsim::load_sweep(sweep("chip.mxu.rows <= workload.ops.g0.m")));
}

// Issue 14: range values were written with 6 significant digits (1000000..1000003 became
// four points of 1e+06), and ranges were silently cut at 100,001 values.
TEST(Sweep, TheGridIsStreamedPointByPointInIdOrder) {
  // 10,000,000 points (the limit): the stream knows its size without building the list,
  // and each point's values are its id's digits, the last axis fastest, then the zip
  // group's rows. Checked on the first 20 points and against a hand-computed id.
  const fs::path d = fresh_dir("sweep_stream");
  std::ofstream(d / "s.yaml") << "sweep:\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                              << "\n  grid:\n    workload.ops[0].m: {from: 1, to: 1000, step: 1}\n"
                                 "    workload.ops[0].k: {from: 1, to: 1000, step: 1}\n"
                                 "  zip:\n    - workload.ops[0].n: {from: 1, to: 10, step: 1}\n"
                                 "      chip.mxu.rows: {from: 8, to: 80, step: 8}\n  metrics: [time_s]\n";
  const podsim::SweepSpec spec = podsim::load_sweep((d / "s.yaml").string());
  podsim::SweepPointStream stream(spec);
  EXPECT_EQ(stream.size(), 10'000'000u);
  podsim::SweepPoint p;
  for (std::uint64_t id = 0; id < 20; ++id) {
    ASSERT_TRUE(stream.next(&p));
    EXPECT_EQ(p.id, id);
    ASSERT_EQ(p.params.size(), 4u);
    // id = ((m - 1) x 1000 + (k - 1)) x 10 + row
    EXPECT_EQ(p.params[0], (std::pair<std::string, std::string>{"workload.ops[0].m", "1"}));
    EXPECT_EQ(p.params[1].second, std::to_string(id / 10 + 1));
    EXPECT_EQ(p.params[2].second, std::to_string(id % 10 + 1));
    EXPECT_EQ(p.params[3], (std::pair<std::string, std::string>{"chip.mxu.rows", std::to_string(8 * (id % 10 + 1))}));
  }
  // The collected form agrees on a small grid: 3 x 2 points, last axis fastest.
  std::ofstream(d / "small.yaml") << "sweep:\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                                  << "\n  grid:\n    chip.mxu.rows: [64, 128, 256]\n    workload.ops[0].m: [8, 16]\n"
                                     "  metrics: [time_s]\n";
  const auto points = podsim::expand_sweep(podsim::load_sweep((d / "small.yaml").string()));
  ASSERT_EQ(points.size(), 6u);
  EXPECT_EQ(points[3].params[0].second, "128");
  EXPECT_EQ(points[3].params[1].second, "16");
  EXPECT_EQ(points[4].params[0].second, "256");
  EXPECT_EQ(points[4].params[1].second, "8");
}

TEST(Sweep, RangeValuesKeepTheirDigitsAndHugeRangesAreErrors) {
  const fs::path d = fresh_dir("sweep_range");
  std::ofstream(d / "r.yaml") << "sweep:\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                              << "\n  grid:\n    workload.ops[0].m: {from: 1000000, to: 1000003, step: 1}\n"
                                 "  metrics: [time_s]\n";
  const podsim::SweepSpec spec = podsim::load_sweep((d / "r.yaml").string());
  ASSERT_EQ(spec.grid.size(), 1u);
  EXPECT_EQ(spec.grid[0].values, (std::vector<std::string>{"1000000", "1000001", "1000002", "1000003"}));
  std::ofstream(d / "big.yaml") << "sweep:\n  workload: " << podsim::test::source_path("workloads/gemm-example.yaml")
                                << "\n  grid:\n    workload.ops[0].m: {from: 1, to: 200000, step: 1}\n  metrics: [time_s]\n";
  try {
    podsim::load_sweep((d / "big.yaml").string());
    FAIL() << "expected an error";
  } catch (const podsim::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 100000 values"), std::string::npos) << e.what();
  }
}

}  // namespace
