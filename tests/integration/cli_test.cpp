// The podsim command line as users and scripts see it: exit codes, messages, report keys,
// byte-identical reports.
#include <sys/stat.h>

#include <array>
#include <filesystem>
#include <set>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "run_command.h"
#include "test_paths.h"

namespace {

using podsim::test::Outcome;
using podsim::test::read_file;

Outcome podsim(const std::string& args) { return podsim::test::run_shell(std::string(PODSIM_BINARY) + " " + args); }
// The same under a time limit (exit 124 when it is hit): for inputs that used to hang.
Outcome podsim_timeout(const std::string& args, int seconds) {
  return podsim::test::run_shell("timeout " + std::to_string(seconds) + " " + std::string(PODSIM_BINARY) + " " + args);
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

const std::string kExample = podsim::test::source_path("workloads/gemm-example.yaml");

TEST(Cli, RunPrintsSummaryAndWritesJsonWithTheFixedKeys) {
  const std::string json = testing::TempDir() + "report.json";
  const Outcome o = podsim("run " + kExample + " --json " + json);
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_NE(o.output.find("MXU utilization"), std::string::npos);
  EXPECT_EQ(o.output.find("Copyright"), std::string::npos) << "SystemC banner leaked";
  const auto j = nlohmann::json::parse(read_file(json));
  EXPECT_EQ(j["schema"], "podsim.report/1");
  for (const char* key : {"time_s", "cycles", "flops", "achieved_tflops", "peak_tflops", "mxu_utilization",
                          "hbm_read_bytes", "hbm_write_bytes", "hbm_bandwidth_gbps"})
    EXPECT_TRUE(j["summary"].contains(key)) << key;
  EXPECT_EQ(j["summary"]["flops"], 2ull * 4096 * 4096 * 4096);
  EXPECT_EQ(j["hardware"]["name"], "tpu-v3");  // the default preset
  EXPECT_EQ(j["hardware"]["params"]["chip.clock"], "940 MHz");
  EXPECT_FALSE(j["ops"].empty());
  EXPECT_EQ(j["channels"].size(), 64u);  // 32 HBM2 channels x 2 pseudo-channels
  EXPECT_TRUE(j["channels"][0].contains("row_hits"));
  EXPECT_FALSE(j["hbm_bandwidth_series"]["gbps"].empty());
}

TEST(Cli, ReportsAreByteIdenticalAcrossRuns) {
  const std::string a = testing::TempDir() + "a.json", b = testing::TempDir() + "b.json";
  ASSERT_EQ(podsim("run -q " + kExample + " --hw tpu-v2 --json " + a).code, 0);
  ASSERT_EQ(podsim("run -q " + kExample + " --hw tpu-v2 --json " + b).code, 0);
  EXPECT_EQ(read_file(a), read_file(b));
  EXPECT_FALSE(read_file(a).empty());
}

TEST(Cli, SetOverridesReachTheReport) {
  const std::string json = testing::TempDir() + "set.json";
  ASSERT_EQ(podsim("run -q " + kExample + " --set chip.hbm.bandwidth=1200GB/s --json " + json).code, 0);
  const auto j = nlohmann::json::parse(read_file(json));
  EXPECT_EQ(j["hardware"]["params"]["chip.hbm.bandwidth"], "1200 GB/s");
  EXPECT_DOUBLE_EQ(j["summary"]["hbm_peak_gbps"].get<double>(), 1200.0);
}

TEST(Cli, BadInputExitsTwoWithFileLineColumn) {
  const std::string hw = write_temp("typo.yaml", "hardware:\n  chip:\n    hbm:\n      bandwdith: 1 TB/s\n");
  const Outcome o = podsim("run " + kExample + " --hw " + hw);
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("typo.yaml:4:7: chip.hbm.bandwdith: unknown key; did you mean 'bandwidth'?"),
            std::string::npos)
      << o.output;
}

TEST(Cli, BadWorkloadAndMissingFilesExitTwo) {
  const std::string wl = write_temp("bad.yaml", "workload:\n  ops:\n    - {op: matmul, m: 8, k: 8, n: 8, dtype: fp64}\n");
  Outcome o = podsim("run " + wl);
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("bad.yaml:3:"), std::string::npos) << o.output;
  o = podsim("run /nonexistent/w.yaml");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("cannot open"), std::string::npos);
  EXPECT_EQ(podsim("run " + kExample + " --hw no-such-chip").code, 2);
  EXPECT_EQ(podsim("frobnicate").code, 2);
}

// Issue 14: a dlrm MLP width of 0 died with SIGFPE (a division by zero while planning).
TEST(Cli, DlrmWidthOfZeroIsAnInputError) {
  for (const char* key : {"bottom: [0, 128]", "top: [512, 0, 1]"}) {
    const std::string other = std::string(key).rfind("bottom", 0) == 0 ? "top: [512, 1]" : "bottom: [256, 128]";
    const std::string wl = write_temp(
        "dlrm0.yaml", "workload:\n  ops:\n    - {op: template, template: dlrm, name: d, batch: 8, tables: 2, "
                      "table_rows: 1000, dim: 128, " + std::string(key) + ", " + other + ", dtype: fp32}\n");
    const Outcome o = podsim("validate " + wl);
    EXPECT_EQ(o.code, 2) << key << ": " << o.output;
    EXPECT_NE(o.output.find("widths must be at least 1"), std::string::npos) << o.output;
  }
}

// Issue 14: a NaN tolerance compared false with every difference, so compare passed real
// regressions.
TEST(Cli, CompareRefusesANanTolerance) {
  for (const char* tol : {"--abs-tol nan", "--rel-tol nan%", "--rel-tol inf"}) {
    const Outcome o = podsim(std::string("compare a.json b.json ") + tol);
    EXPECT_EQ(o.code, 2) << tol << ": " << o.output;
    EXPECT_NE(o.output.find("finite"), std::string::npos) << o.output;
  }
}

// Issue 14: duplicate keys were accepted (the last won in hardware files, the first in
// workloads) and a second YAML document was ignored.
TEST(Cli, DuplicateKeysAndSecondDocumentsAreInputErrors) {
  const std::string hw = write_temp("dup-hw.yaml",
                                    "hardware:\n  base: tpu-v3\n  chip:\n    clock: 940 MHz\n    clock: 1 GHz\n");
  Outcome o = podsim("validate " + kExample + " --hw " + hw);
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("dup-hw.yaml:5:"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("chip.clock"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("given twice"), std::string::npos) << o.output;
  const std::string wl = write_temp(
      "dup-wl.yaml", "workload:\n  ops:\n    - {op: matmul, name: a, m: 8, m: 16, k: 8, n: 8, dtype: bf16}\n");
  o = podsim("validate " + wl);
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("given twice"), std::string::npos) << o.output;
  const std::string two = write_temp(
      "two-docs.yaml", "workload:\n  ops:\n    - {op: matmul, name: a, m: 8, k: 8, n: 8, dtype: bf16}\n---\nworkload: {}\n");
  o = podsim("validate " + two);
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("second YAML document"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("two-docs.yaml:4:1"), std::string::npos) << o.output;
  // After a document end marker, more content is a second document too.
  o = podsim("validate " + write_temp("end-marker.yaml", "workload:\n  ops: []\n...\nworkload: {}\n"));
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("end-marker.yaml:4:1"), std::string::npos) << o.output;
  // One leading '---' (and a directive before it) is one document, not two.
  o = podsim("validate " + write_temp("one-doc.yaml", "%YAML 1.2\n---\nworkload:\n  ops:\n    - {op: matmul, name: a, "
                                                       "m: 8, k: 8, n: 8, dtype: bf16}\n"));
  EXPECT_EQ(o.code, 0) << o.output;
}

// Found by fuzzing (tests/fuzz/): yaml-cpp 0.7's LoadAll loops forever, allocating, on
// some malformed YAML such as a lone comma; every loader now gives an error at once.
TEST(Cli, MalformedYamlThatHungTheParserIsAnInputError) {
  const std::string comma = write_temp("comma.yaml", ",\n");
  Outcome o = podsim_timeout("validate " + comma, 20);
  EXPECT_EQ(o.code, 2) << o.output;
  o = podsim_timeout("validate " + kExample + " --hw " + comma, 20);
  EXPECT_EQ(o.code, 2) << o.output;
}

// Issue 14: a non-UTF-8 op name validated, then `run --json` died on a JSON type error;
// `validate /dev/zero` read until memory ran out.
TEST(Cli, NonUtf8AndNonRegularInputsAreInputErrors) {
  const std::string wl = write_temp(
      "latin1.yaml", "workload:\n  ops:\n    - {op: matmul, name: caf\xe9, m: 8, k: 8, n: 8, dtype: bf16}\n");
  Outcome o = podsim("validate " + wl);
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("latin1.yaml:3:29"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("not valid UTF-8"), std::string::npos) << o.output;
  o = podsim("validate /dev/zero");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("not a regular file"), std::string::npos) << o.output;
  // An index file that is a FIFO blocked forever.
  std::string dir = testing::TempDir() + "fifo-XXXXXX";
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string fifo = dir + "/idx.txt";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string emb = write_temp(
      "fifo-wl.yaml", "workload:\n  ops:\n    - {op: embedding_lookup, name: e, table_rows: 10, dim: 64, batch: 3, "
                      "lookups: 2, distribution: file, indices: " + fifo + ", dtype: fp32}\n");
  o = podsim("validate " + emb);
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("is not a regular file"), std::string::npos) << o.output;
  std::filesystem::remove_all(dir);
}

TEST(Cli, UnsupportedDtypeIsAnInputError) {
  const std::string wl = write_temp("fp32.yaml", "workload:\n  ops:\n    - {op: matmul, m: 8, k: 8, n: 8, dtype: fp32}\n");
  const Outcome o = podsim("run " + wl + " --hw tpu-v1");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("does not support fp32"), std::string::npos) << o.output;
}

TEST(Cli, MxuCommandWritesTheFixedKeys) {
  const std::string json = testing::TempDir() + "mxu.json";
  // ws 128x128, 1024^3, no overlap: 8 x 8 = 64 folds of 2*128 + 128 + 1024 - 2 = 1406
  // cycles = 89,984 cycles (SCALE-Sim's count).
  Outcome o = podsim("mxu --rows 128 --cols 128 --dataflow ws --m 1024 --k 1024 --n 1024 --no-weight-overlap --json " + json);
  ASSERT_EQ(o.code, 0) << o.output;
  auto j = nlohmann::json::parse(read_file(json));
  EXPECT_EQ(j["cycles"], 89984);
  EXPECT_DOUBLE_EQ(j["utilization"].get<double>(), 1024.0 * 1024 * 1024 / (89984.0 * 128 * 128));
  EXPECT_FALSE(j.contains("max_abs_error"));
  // The PE model on a small array: same keys plus the error, exactly 0 for int8.
  o = podsim("mxu --rows 8 --cols 4 --dataflow is --m 20 --k 9 --n 13 --dtype int8 --model pe --json " + json);
  ASSERT_EQ(o.code, 0) << o.output;
  j = nlohmann::json::parse(read_file(json));
  EXPECT_EQ(j["max_abs_error"], 0.0);
  EXPECT_TRUE(j.contains("cycles"));
  EXPECT_TRUE(j.contains("utilization"));
}

TEST(Cli, MxuFramesShowEveryCycle) {
  const std::string frames = testing::TempDir() + "frames.json";
  const Outcome o = podsim("mxu --rows 2 --cols 2 --m 2 --k 2 --n 2 --dtype int8 --model pe --frames " + frames);
  ASSERT_EQ(o.code, 0) << o.output;
  const auto j = nlohmann::json::parse(read_file(frames));
  // 1 fold: load 2 + stream 2 + fill/drain 2 + 2 - 2 = 6 cycles, one frame each.
  EXPECT_EQ(j["frames"].size(), 6u);
  EXPECT_EQ(j["frames"][2]["pes"].size(), 1u);  // the first activation is at PE(0,0)
}

TEST(Cli, MxuRefusesPeRunsThatWouldTakeHours) {
  const Outcome o = podsim("mxu --m 16384 --k 16384 --n 16384 --model pe");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("--model tile"), std::string::npos) << o.output;
}

TEST(Cli, SelftestMemoryWritesTheFixedKeys) {
  const std::string json = testing::TempDir() + "selftest.json";
  const Outcome o = podsim("selftest memory --hw tpu-v3 --quick --json " + json);
  ASSERT_EQ(o.code, 0) << o.output;
  const auto j = nlohmann::json::parse(read_file(json));
  ASSERT_EQ(j["patterns"].size(), 11u);  // 8 access patterns and STREAM copy, add, triad
  for (const auto& p : j["patterns"])
    for (const char* key : {"name", "achieved_gbps", "peak_gbps", "mean_latency_ns", "p99_latency_ns", "row_hit_rate"})
      EXPECT_TRUE(p.contains(key)) << key;
  EXPECT_EQ(podsim("selftest memory --pattern nonsense").code, 2);
}

TEST(Cli, SelftestGeneratorParametersAreCheckedAndNamedInErrors) {
  const auto fails_on = [](const std::string& args, const std::string& says) {
    const Outcome o = podsim("selftest memory --hw tpu-v3 --quick " + args);
    EXPECT_EQ(o.code, 2) << args << "\n" << o.output;
    EXPECT_NE(o.output.find(says), std::string::npos) << args << "\n" << o.output;
  };
  fails_on("--request-bytes lots", "--request-bytes: 'lots'");
  fails_on("--request-bytes 0", "outside [1,");
  fails_on("--footprint '64 GiB'", "--footprint: 68719476736 bytes is outside");  // tpu-v3 holds 32 GiB
  fails_on("--footprint '16 GiB' --request-bytes 64", "more than 2^24 rows");    // a zipf table of 2^28 rows
  fails_on("--stride 0", "--stride");
  fails_on("--write-fraction 1.5", "--write-fraction");
  const std::string trace = write_temp("selftest-one.trace", "0x0 R\n");
  fails_on("--trace " + trace + " --stride 128", "a --trace has its own requests");
  const std::string json = testing::TempDir() + "selftest-generator.json";
  const Outcome ok = podsim("selftest memory --hw tpu-v3 --pattern strided --requests 2000 --stride '4 KiB' "
                            "--request-bytes 128 --write-fraction 0.5 --json " + json);
  EXPECT_EQ(ok.code, 0) << ok.output;
  const auto j = nlohmann::json::parse(read_file(json));
  EXPECT_EQ(j["generator"]["stride_bytes"], 4096);
  EXPECT_EQ(j["generator"]["request_bytes"], 128);
  EXPECT_FALSE(j["generator"].contains("footprint_bytes"));  // not given: the pattern's own
  ASSERT_EQ(j["patterns"].size(), 1u);
  EXPECT_EQ(j["patterns"][0]["name"], "strided");
  EXPECT_EQ(j["patterns"][0]["requests"], 2000);
  EXPECT_EQ(j["patterns"][0]["writes"], 1000);  // every other request
}

TEST(Cli, SelftestMemoryReplaysATraceClosedAndOpenLoop) {
  // Names of this test's own: ctest runs tests in parallel in the same temp folder.
  const std::string json = testing::TempDir() + "selftest-trace-replay.json";
  const std::string trace =
      write_temp("selftest-requests.trace", "# addr op cycle bytes\n0x0 R 0 64\n0x10000 W 40 256\n0x20000 READ 90\n");
  Outcome o = podsim("selftest memory --hw tpu-v3 --trace " + trace + " --outstanding 2 --check-timing --json " + json);
  ASSERT_EQ(o.code, 0) << o.output;
  auto j = nlohmann::json::parse(read_file(json));
  ASSERT_EQ(j["patterns"].size(), 1u);
  const auto& p = j["patterns"][0];
  EXPECT_EQ(p["requests"], 3);
  EXPECT_EQ(p["reads"], 2);
  EXPECT_EQ(p["writes"], 1);
  EXPECT_EQ(p["bytes"], 64 + 256 + 64);
  EXPECT_EQ(p["timing_violations"], 0);
  for (const char* key : {"p50_latency_ns", "max_latency_ns", "latency_histogram_log2_ns", "row_hits", "row_misses",
                          "row_conflicts", "commands", "bank_acts"})
    EXPECT_TRUE(p.contains(key)) << key;
  EXPECT_EQ(j["trace"]["mode"], "closed_loop");
  // A 64 B read is 2 ACTs, a 256 B write 4 ACTs (2 bursts and 8 bursts over 4 bank groups).
  EXPECT_EQ(p["commands"]["RD"], 2 + 2);
  EXPECT_EQ(p["commands"]["WR"], 8);
  EXPECT_NE(o.output.find("latency ns: mean"), std::string::npos) << o.output;
  o = podsim("selftest memory --hw tpu-v3 --trace " + trace + " --open-loop --json " + json);
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_EQ(nlohmann::json::parse(read_file(json))["trace"]["mode"], "open_loop");
  // Bad input: exit 2 with file:line:column.
  write_temp("selftest-requests.trace", "0x0 R\n0x40 Q\n");
  o = podsim("selftest memory --trace " + trace);
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.output.find("selftest-requests.trace:2:6"), std::string::npos) << o.output;
  write_temp("selftest-requests.trace", "0x0 R\n");
  EXPECT_EQ(podsim("selftest memory --trace " + trace + " --open-loop").code, 2);  // no cycles
  EXPECT_EQ(podsim("selftest memory --open-loop").code, 2);                        // no trace
  EXPECT_EQ(podsim("selftest memory --trace " + trace + " --pattern seq_read").code, 2);
  // A pattern written as a trace, then replayed with the pattern's window, gives its numbers.
  o = podsim("selftest memory --hw tpu-v3 --quick --pattern gather_256B --write-trace " + trace + " --json " + json);
  ASSERT_EQ(o.code, 0) << o.output;
  const double written = nlohmann::json::parse(read_file(json))["patterns"][0]["achieved_gbps"];
  ASSERT_EQ(podsim("selftest memory --hw tpu-v3 --trace " + trace + " --outstanding 1024 --json " + json).code, 0);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(read_file(json))["patterns"][0]["achieved_gbps"].get<double>(), written);
}

TEST(Cli, TraceOpSlicesCarryTheOpsFiguresAndTheChipsTotalBandwidth) {
  const std::string trace = testing::TempDir() + "trace-args.json", report = testing::TempDir() + "trace-args-r.json";
  ASSERT_EQ(podsim("run -q " + kExample + " --hw tpu-v3 --trace " + trace + " --json " + report).code, 0);
  const auto r = nlohmann::json::parse(read_file(report));
  const auto j = nlohmann::json::parse(read_file(trace));
  const auto& op = r["ops"][0];
  bool found = false;
  double total_bytes = 0;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "X" && e["name"] == op["name"] && e["args"].contains("flops")) {
      found = true;
      EXPECT_EQ(e["args"]["flops"].get<std::uint64_t>(), 2ull * 4096 * 4096 * 4096);  // the 4096^3 example
      EXPECT_EQ(e["args"]["hbm_read_bytes"], op["hbm_read_bytes"]);
      EXPECT_EQ(e["args"]["bound"], op["bound"]);
      EXPECT_EQ(e["args"]["tiling"], std::to_string(op["tiling"]["tm"].get<int>()) + "x" +
                                         std::to_string(op["tiling"]["tk"].get<int>()) + "x" +
                                         std::to_string(op["tiling"]["tn"].get<int>()));
    }
    if (e["ph"] == "C" && e["name"] == "total") total_bytes += e["args"]["GB/s"].get<double>();
  }
  EXPECT_TRUE(found);
  // The total counter's buckets hold every byte the run moved: GB/s x bucket = bytes.
  const double bucket_s = r["hbm_bandwidth_series"]["bucket_s"].get<double>();
  const double moved = r["summary"]["hbm_read_bytes"].get<double>() + r["summary"]["hbm_write_bytes"].get<double>();
  EXPECT_NEAR(total_bytes * 1e9 * bucket_s, moved, 1e-6 * moved);
}

TEST(Cli, TraceIsChromeTraceEventJsonWithEveryTrack) {
  const std::string trace = testing::TempDir() + "trace.json";
  const Outcome o = podsim("run -q " + kExample + " --trace " + trace);
  ASSERT_EQ(o.code, 0) << o.output;
  const auto j = nlohmann::json::parse(read_file(trace));
  ASSERT_TRUE(j["traceEvents"].is_array());
  std::set<std::string> tracks;
  std::size_t slices = 0, counters = 0;
  for (const auto& e : j["traceEvents"]) {
    // The fields chrome://tracing and Perfetto's JSON importer require per phase.
    ASSERT_TRUE(e.contains("ph") && e.contains("pid") && e.contains("name"));
    const std::string ph = e["ph"];
    if (ph == "M" && e["name"] == "thread_name") tracks.insert(e["args"]["name"].get<std::string>());
    if (ph == "X") {
      ++slices;
      EXPECT_GE(e["dur"].get<double>(), 0.0);
      EXPECT_GE(e["ts"].get<double>(), 0.0);
      EXPECT_TRUE(e.contains("tid"));
    }
    if (ph == "C") {
      ++counters;
      // HBM bandwidth counters in GB/s; the power counter (docs/energy.md) in W.
      EXPECT_TRUE(e["args"].contains(e["name"] == "power" ? "W" : "GB/s")) << e.dump();
    }
  }
  for (const char* t : {"ops", "core0.mxu0", "core0.mxu1", "core1.mxu1", "core0.read_dma", "core1.write_dma"})
    EXPECT_TRUE(tracks.count(t)) << t;
  EXPECT_GT(slices, 10u);
  EXPECT_GT(counters, 64u);  // every one of the 64 pseudo-channels has a bandwidth counter
  EXPECT_TRUE(j["otherData"].contains("aggregation"));
}

TEST(Cli, ParamsListsEveryParameterWithUnitsAndDefaults) {
  const Outcome o = podsim("params");
  ASSERT_EQ(o.code, 0);
  EXPECT_NE(o.output.find("chip.hbm.bandwidth"), std::string::npos);
  EXPECT_NE(o.output.find("900 GB/s"), std::string::npos);
  EXPECT_NE(o.output.find("chip.vmem.capacity"), std::string::npos);
  EXPECT_NE(o.output.find("dtype"), std::string::npos);
}

TEST(Cli, PresetsListPeakAndBandwidth) {
  const Outcome o = podsim("presets");
  ASSERT_EQ(o.code, 0);
  EXPECT_NE(o.output.find("tpu-v3"), std::string::npos);
  EXPECT_NE(o.output.find("123.21"), std::string::npos);  // TFLOPS
  EXPECT_NE(o.output.find("126.16"), std::string::npos);  // tpu-v3-pod: 1024 x 123.21 TFLOPS, in PFLOPS
  EXPECT_NE(o.output.find("lab-8x8"), std::string::npos);
}

TEST(Cli, TrainingFootprintIsReportedAndFlaggedWhenItDoesNotFit) {
  // 8192 x 8192 weights x 3 layers = 201 M parameters: fp32 weights, gradients and two
  // Adam moments are 16 B per parameter, 3.2 GB, on a tpu-v3 cut down to 2 GiB of HBM.
  const std::string wl = write_temp(
      "big-train.yaml",
      "workload:\n  training: {optimizer: adam}\n  ops:\n"
      "    - {op: matmul, name: a, m: 8, k: 8192, n: 8192, dtype: bf16}\n"
      "    - {op: matmul, name: b, m: 8, k: 8192, n: 8192, dtype: bf16}\n"
      "    - {op: matmul, name: c, m: 8, k: 8192, n: 8192, dtype: bf16}\n");
  const std::string json = testing::TempDir() + "train.json";
  const Outcome o = podsim("run " + wl + " --hw tpu-v3 --set chip.hbm.capacity=2GiB --json " + json);
  ASSERT_EQ(o.code, 0) << o.output;
  EXPECT_NE(o.output.find("DOES NOT FIT HBM"), std::string::npos) << o.output;
  const auto j = nlohmann::json::parse(read_file(json));
  EXPECT_EQ(j["memory_footprint"]["parameters"], 3ull * 8192 * 8192);
  EXPECT_EQ(j["memory_footprint"]["optimizer_state_bytes"], 3ull * 8192 * 8192 * 8);
  EXPECT_EQ(j["memory_footprint"]["fits_hbm"], false);
}

TEST(Cli, AModelWhoseWeightsAndCacheExceedHbmIsRefusedWithTheNumbers) {
  // Llama-2-7B, 32 layers, decode of 16 sequences against 2,048 tokens, bf16: weights
  // 32 x 202,375,168 x 2 B = 12.95 GB, K and V 32 x 2 x 16 x 32 x 2048 x 128 x 2 B =
  // 17.18 GB: 30.13 GB. tpu-v2 has 16 GiB (17.18 GB), tpu-v3 32 GiB (34.36 GB).
  const std::string w = write_temp(
      "llama2-7b.yaml",
      "workload:\n  name: llama2-7b-decode\n  ops:\n"
      "    - {op: template, template: transformer_decoder, name: m, layers: 32, batch: 16, seq: 2048, d_model: 4096,\n"
      "       heads: 32, d_ff: 11008, ffn: swiglu, norm: rmsnorm, rope: true, decode: true, kv_len: 2048, dtype: bf16}\n");
  const Outcome o = podsim("validate " + w + " --hw tpu-v2");
  EXPECT_EQ(o.code, 2) << o.output;
  for (const char* part : {"llama2-7b.yaml:4", "chip.hbm.capacity", "12.95 GB", "17.18 GB", "30.13 GB", "kv_heads"})
    EXPECT_NE(o.output.find(part), std::string::npos) << part << " in: " << o.output;
  const Outcome fits = podsim("validate " + w + " --hw tpu-v3");
  EXPECT_EQ(fits.code, 0) << fits.output;
}

TEST(Cli, EveryShippedWorkloadLowersOnEveryPresetAndRunsOnTpuV3) {
  // On every preset a workload lowers or says exactly why not (exit 2 naming the HBM
  // capacity, an unsupported dtype, or block or fine-grained sparsity on an array it is not
  // modelled for: tpu-v1's weight FIFO); on tpu-v3 each one runs with its invariants
  // holding. (ResNet-50 at batch 256 on the 8x8 lab chip would simulate for hours.)
  for (const auto& entry : std::filesystem::directory_iterator(podsim::test::source_path("workloads"))) {
    if (entry.path().extension() != ".yaml") continue;
    for (const char* hw : {"lab-8x8", "tpu-v1", "tpu-v2", "tpu-v3", "tpu-v4"}) {
      const Outcome o = podsim("validate " + entry.path().string() + " --hw " + hw);
      if (o.code == 2) {
        const bool why = o.output.find("chip.hbm.capacity") != std::string::npos ||
                         o.output.find("does not support") != std::string::npos ||
                         o.output.find("block_sparsity: skipping zero weight blocks is modelled for") != std::string::npos ||
                         o.output.find("weight_sparsity: fine-grained weight sparsity is modelled for") != std::string::npos;
        EXPECT_TRUE(why) << entry.path() << " on " << hw << ": " << o.output;
      } else {
        EXPECT_EQ(o.code, 0) << entry.path() << " on " << hw << ": " << o.output;
      }
    }
    const Outcome o = podsim("run -q " + entry.path().string() + " --hw tpu-v3");
    EXPECT_EQ(o.code, 0) << entry.path() << ": " << o.output;
  }
}

TEST(Cli, ExampleRunsOnEveryPreset) {
  for (const char* hw : {"lab-8x8", "tpu-v2", "tpu-v3", "tpu-v4"}) {
    const Outcome o = podsim("run -q " + kExample + " --hw " + hw);
    EXPECT_EQ(o.code, 0) << hw << ": " << o.output;
  }
}

}  // namespace
