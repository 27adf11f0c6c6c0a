// Hostile inputs and outputs (issue 14): output paths that are devices, FIFOs, planted
// symlinks or the run's own input; write errors; huge ops refused before they allocate;
// child processes that die with their parent. Each case failed before its fix.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>
#include <vector>

#include "podsim/io/child_process.h"
#include "podsim/io/output_file.h"
#include "run_command.h"
#include "test_paths.h"

namespace {

namespace fs = std::filesystem;
using podsim::test::Outcome;
using podsim::test::read_file;

Outcome podsim_cli(const std::string& args) {
  return podsim::test::run_shell(std::string(PODSIM_BINARY) + " " + args);
}

// A fresh folder of this test's own under the test temp dir.
fs::path scratch(const std::string& name) {
  const fs::path d = fs::path(testing::TempDir()) / ("podsim_hostile_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

const std::string kGemm = std::string(PODSIM_SOURCE_DIR) + "/workloads/gemm-example.yaml";

TEST(HostileOutputs, ADeviceIsWrittenInPlaceAndAWriteErrorExitsTwo) {
  // /dev/full takes the open and fails the write: exit 2 with the reason, and the device
  // node stays a device (it was replaced by a regular file when run as root).
  Outcome o = podsim_cli("run -q " + kGemm + " --json /dev/full");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("No space left on device"), std::string::npos) << o.output;
  struct stat st {};
  ASSERT_EQ(stat("/dev/full", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  // The report on a full standard output is an error too (it exited 0).
  const std::string err = (scratch("full") / "stderr").string();
  o = podsim::test::run_shell(std::string(PODSIM_BINARY) + " run " + kGemm + " > /dev/full 2> " + err +
                              "; rc=$?; cat " + err + "; exit $rc");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("standard output"), std::string::npos) << o.output;
}

TEST(HostileOutputs, AFifoIsWrittenThroughNotReplaced) {
  const fs::path d = scratch("fifo");
  const fs::path fifo = d / "report.json";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = read_file(fifo.string()); });
  const Outcome o = podsim_cli("run -q " + kGemm + " --json " + fifo.string());
  reader.join();
  EXPECT_EQ(o.code, 0) << o.output;
  EXPECT_NE(received.find("\"schema\": \"podsim.report/1\""), std::string::npos);
  struct stat st {};
  ASSERT_EQ(lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
}

TEST(HostileOutputs, APlantedTemporarySymlinkIsNotFollowed) {
  const fs::path d = scratch("symlink");
  const fs::path victim = d / "victim", out = d / "out.json";
  std::ofstream(victim) << "precious\n";
  fs::create_symlink(victim, d / "out.json.tmp");  // the old temporary name
  const Outcome o = podsim_cli("run -q " + kGemm + " --json " + out.string());
  EXPECT_EQ(o.code, 0) << o.output;
  EXPECT_EQ(read_file(victim.string()), "precious\n");
  EXPECT_NE(read_file(out.string()).find("podsim.report/1"), std::string::npos);
  // No temporary file is left behind.
  for (const auto& e : fs::directory_iterator(d))
    EXPECT_EQ(e.path().filename().string().find(".out.json."), std::string::npos) << e.path();
}

TEST(HostileOutputs, TheRunsOwnInputIsNeverOverwritten) {
  const fs::path d = scratch("input");
  const fs::path w = d / "w.yaml";
  fs::copy_file(kGemm, w);
  const std::string before = read_file(w.string());
  Outcome o = podsim_cli("run -q " + w.string() + " --json " + w.string());
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("an input of this run"), std::string::npos) << o.output;
  o = podsim_cli("run -q " + w.string() + " --trace " + (d / "." / "w.yaml").string());  // another spelling
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_EQ(read_file(w.string()), before);
}

// --json and --trace into one file: the trace used to replace the report silently.
TEST(HostileOutputs, TwoOutputsIntoOneFileAreRefusedBeforeRunning) {
  const fs::path d = scratch("two-outputs");
  const fs::path out = d / "out.json";
  Outcome o = podsim_cli("run -q " + kGemm + " --json " + out.string() + " --trace " + (d / "." / "out.json").string());
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("--json and --trace both name"), std::string::npos) << o.output;
  EXPECT_FALSE(fs::exists(out));  // refused before anything was written
  o = podsim_cli("run -q " + kGemm + " --json " + out.string() + " --trace " + (d / "trace.json").string());
  EXPECT_EQ(o.code, 0) << o.output;
  EXPECT_NE(read_file(out.string()).find("\"summary\""), std::string::npos);
  EXPECT_NE(read_file((d / "trace.json").string()).find("traceEvents"), std::string::npos);
}

TEST(HostileOutputs, DashIsStandardOutput) {
  const Outcome o = podsim_cli("run -q " + kGemm + " --json -");
  EXPECT_EQ(o.code, 0) << o.output;
  EXPECT_NE(o.output.find("\"schema\": \"podsim.report/1\""), std::string::npos);
  EXPECT_FALSE(fs::exists("-"));
}

TEST(HostileOutputs, LogFilesAreNeverOpenedThroughASymlink) {
  const fs::path d = scratch("log");
  const fs::path victim = d / "victim";
  std::ofstream(victim) << "precious\n";
  fs::create_symlink(victim, d / "1.log");
  std::string why;
  EXPECT_EQ(podsim::open_log_file((d / "1.log").string(), &why), -1);
  EXPECT_NE(why.find("symlink"), std::string::npos) << why;
  EXPECT_EQ(read_file(victim.string()), "precious\n");
  // A plain path is created (and truncated when it exists).
  const int fd = podsim::open_log_file((d / "2.log").string(), &why);
  ASSERT_GE(fd, 0) << why;
  close(fd);
}

TEST(HostileChildren, AChildDiesWithItsParent) {
  // An intermediate process starts a long child through spawn_child and is then killed;
  // the child must not outlive it (a killed sweep runner left its points running).
  const fs::path d = scratch("children");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t middle = fork();
  ASSERT_GE(middle, 0);
  if (middle == 0) {
    close(fds[0]);
    pid_t child = -1;
    try {
      child = podsim::spawn_child({"/bin/sleep", "60"}, (d / "sleep.log").string());
    } catch (...) {
      _exit(1);
    }
    [[maybe_unused]] const ssize_t n = write(fds[1], &child, sizeof child);
    pause();  // until killed
    _exit(0);
  }
  close(fds[1]);
  pid_t child = -1;
  ASSERT_EQ(read(fds[0], &child, sizeof child), ssize_t(sizeof child));
  close(fds[0]);
  ASSERT_GT(child, 0);
  kill(middle, SIGKILL);
  waitpid(middle, nullptr, 0);
  // The child is gone (or a zombie awaiting its new parent) within 5 s.
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    std::ifstream stat_file("/proc/" + std::to_string(child) + "/stat");
    std::string pid, comm, state;
    if (!(stat_file >> pid >> comm >> state) || state == "Z") gone = true;
    else std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone);
  if (!gone) kill(child, SIGKILL);
}

TEST(HostileSizes, AHugeBatchIsACapacityErrorBeforeAnyAllocation) {
  // A conv2d of batch 4,000,000 died of std::bad_alloc (SystemC's message on stdout, exit
  // 1); batch 1,000,000 took 75 s and 2.8 GB before the same capacity error.
  const fs::path d = scratch("sizes");
  const fs::path w = d / "big.yaml";
  for (const char* n : {"1000000", "4000000"}) {
    std::ofstream(w) << "workload:\n  name: big\n  ops:\n    - {op: conv2d, name: c, n: " << n
                     << ", h: 56, w: 56, c_in: 64, c_out: 64, kernel: 3, dtype: bf16}\n";
    const auto start = std::chrono::steady_clock::now();
    // A 4 GB address-space limit, except under AddressSanitizer, which reserves terabytes.
#if defined(__SANITIZE_ADDRESS__)
    const std::string limit;
#else
    const std::string limit = "ulimit -v 4000000; ";
#endif
    const Outcome o = podsim::test::run_shell(limit + std::string(PODSIM_BINARY) + " run -q " + w.string());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(o.code, 2) << o.output;
    EXPECT_NE(o.output.find("chip.hbm.capacity"), std::string::npos) << o.output;
    EXPECT_LT(seconds, 20.0) << n;  // a hang guard, not a speed target: it takes 0.02 s
  }
}

TEST(HostileYaml, AnAliasInsideItsOwnAnchorIsAnErrorNotACrash) {
  // `sweep: &a [*a]` (15 bytes; found by fuzz_sweep) made every YAML input recurse until the
  // stack overflowed: exit 139 from podsim run. A cycle through a mapping and through a key,
  // in each kind of file (they share the YAML reader).
  const fs::path d = scratch("alias_cycle");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"run -q", "workload: &a [*a]\n"},
      {"run -q", "workload:\n  name: x\n  ops: &o\n    - {op: matmul, name: m, m: 8, k: 8, n: 8, x: *o}\n"},
      {"sweep", "sweep: &a {grid: *a}\n"},
      {"run -q --hw", "? &k [*k]\n: 1\n"}};
  int i = 0;
  for (const auto& [command, text] : cases) {
    const fs::path f = d / ("cycle" + std::to_string(i++) + ".yaml");
    std::ofstream(f) << text;
    const std::string args = command == "run -q --hw"  ? "run -q " + kGemm + " --hw " + f.string()
                             : command == "sweep"      ? "sweep " + f.string() + " --out " + (d / "out").string()
                                                       : command + " " + f.string();
    const Outcome o = podsim_cli(args);
    EXPECT_EQ(o.code, 2) << text << o.output;
    EXPECT_NE(o.output.find("a YAML alias refers to a node that contains it"), std::string::npos) << text << o.output;
    EXPECT_NE(o.output.find(f.string() + ":"), std::string::npos) << o.output;  // file:line:column
  }
}

TEST(HostileYaml, AnErrorBetweenTwoParametersNamesTheLineThatSetsOne) {
  // Checks across parameters ran after the file was read and named the file alone (line 0):
  // an on-chip memory without a bandwidth, and an HBM bandwidth no DRAM can run at.
  const fs::path d = scratch("cross_field");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"hardware:\n  base: tpu-v4\n  chip:\n    cmem: {capacity: 128 MiB}\n", ":4:22: chip.cmem.bandwidth: "},
      {"hardware:\n  base: tpu-v4\n  chip:\n    hbm:\n      bandwidth: 100 TB/s\n", ":5:18: chip.hbm.bandwidth: "}};
  int i = 0;
  for (const auto& [text, where] : cases) {
    const fs::path f = d / ("hw" + std::to_string(i++) + ".yaml");
    std::ofstream(f) << text;
    const Outcome o = podsim_cli("run -q " + kGemm + " --hw " + f.string());
    EXPECT_EQ(o.code, 2) << text << o.output;
    EXPECT_NE(o.output.find(f.string() + where), std::string::npos) << o.output;
  }
}

TEST(HostileYaml, AliasesThatExpandToBillionsAreRefused) {
  // Nine levels of ten aliases: 10^9 values from a few hundred bytes ("billion laughs").
  const fs::path d = scratch("alias_bomb");
  std::string text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int l = 1; l <= 9; ++l) {
    text += "l" + std::to_string(l) + ": &l" + std::to_string(l) + " [";
    for (int k = 0; k < 10; ++k) text += std::string(k ? ", " : "") + "*l" + std::to_string(l - 1);
    text += "]\n";
  }
  text += "workload: {name: b, ops: *l9}\n";
  std::ofstream(d / "bomb.yaml") << text;
  const auto start = std::chrono::steady_clock::now();
  const Outcome o = podsim_cli("run -q " + (d / "bomb.yaml").string());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("expands to more than 4000000 values"), std::string::npos) << o.output;
  EXPECT_LT(seconds, 60.0);  // a hang guard, not a speed target
}

TEST(HostileRecords, CompareNamesARecordWithoutMetrics) {
  // A results.jsonl line without "metrics" read past a const JSON object (ASan:
  // heap-buffer-overflow in load_table); now an input error naming the line.
  const fs::path d = scratch("records");
  std::ofstream(d / "a.jsonl") << "{\"point\": 0, \"metrics\": {\"time_s\": 1.0}}\n{\"point\": 1}\n";
  std::ofstream(d / "b.jsonl") << "{\"point\": 0, \"metrics\": {\"time_s\": 1.0}}\n";
  Outcome o = podsim_cli("compare " + (d / "a.jsonl").string() + " " + (d / "b.jsonl").string());
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("a.jsonl:2: not a sweep result record"), std::string::npos) << o.output;
  std::ofstream(d / "c.jsonl") << "[1, 2]\n";
  EXPECT_EQ(podsim_cli("compare " + (d / "c.jsonl").string() + " " + (d / "b.jsonl").string()).code, 2);
  std::ofstream(d / "r.json") << "{\"summary\": 3}\n";
  EXPECT_EQ(podsim_cli("compare " + (d / "r.json").string() + " " + (d / "r.json").string()).code, 2);
}

TEST(HostileRecords, MergeSkipsARecordWithoutParamsAndSaysSo) {
  // `sweep --merge` over a point record without "params" read past a const JSON object
  // (ASan: heap-buffer-overflow in write_results). Now the record is left out, with a
  // warning, and the good records are merged.
  const fs::path d = scratch("merge");
  const fs::path sweep = d / "sweep.yaml";
  std::ofstream(sweep) << "sweep:\n  hardware: tpu-v3\n  workload: " << kGemm
                       << "\n  grid:\n    chip.mxu.rows: [64, 128]\n  metrics: [time_s]\n";
  ASSERT_EQ(podsim_cli("sweep " + sweep.string() + " --out " + (d / "a").string()).code, 0);
  const fs::path bad = d / "a" / "points" / "7.result.json";
  std::ofstream(bad) << "{\"point\": 7, \"metrics\": {}, \"status\": \"ok\", \"error\": \"\"}\n";
  const Outcome o = podsim_cli("sweep --merge " + (d / "a").string() + " --out " + (d / "m").string());
  EXPECT_EQ(o.code, 0) << o.output;
  EXPECT_NE(o.output.find("7.result.json: ignored"), std::string::npos) << o.output;
  const std::string csv = read_file((d / "m" / "results.csv").string());
  EXPECT_NE(csv.find("\n0,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n1,"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("\n7,"), std::string::npos) << csv;
}

TEST(HostileIndexFiles, IndexFilesStayInTheWorkloadsFolderAndAreQuotedShort) {
  // Any path was read, and the error quoted the file's first token ('root:x:0:0:...').
  const fs::path d = scratch("index");
  fs::create_directories(d / "wl");
  std::ofstream(d / "outside.txt") << "1 2 3\n";
  std::ofstream(d / "wl" / "inside.txt") << "1 2 3\n";
  std::ofstream(d / "wl" / "words.txt") << "root:x:0:0:root:/root:/bin/bash\n";
  auto workload = [&](const std::string& indices) {
    const fs::path w = d / "wl" / "w.yaml";
    std::ofstream(w) << "workload:\n  ops:\n    - {op: embedding_lookup, name: e, table_rows: 10, dim: 8, batch: 2, "
                        "distribution: file, indices: " << indices << ", dtype: fp32}\n";
    return w.string();
  };
  EXPECT_EQ(podsim_cli("validate " + workload("inside.txt")).code, 0);
  for (const std::string& bad : std::vector<std::string>{"../outside.txt", (d / "outside.txt").string(), "/etc/passwd"}) {
    const Outcome o = podsim_cli("validate " + workload(bad));
    EXPECT_EQ(o.code, 2) << bad << ": " << o.output;
    EXPECT_NE(o.output.find("outside the workload's folder"), std::string::npos) << o.output;
    EXPECT_EQ(o.output.find("root:x"), std::string::npos) << o.output;
  }
  // Allowed explicitly, a file that is no index file is quoted by a short prefix only.
  Outcome o = podsim::test::run_shell("PODSIM_INDEX_FILES_ANYWHERE=1 " + std::string(PODSIM_BINARY) + " validate " +
                                      workload("../outside.txt"));
  EXPECT_EQ(o.code, 0) << o.output;
  o = podsim_cli("validate " + workload("words.txt"));
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("'root:x:0:0:root:...'"), std::string::npos) << o.output;
  EXPECT_EQ(o.output.find("/bin/bash"), std::string::npos) << o.output;
}

TEST(HostileSizes, HugeCollectivesAreRefusedWithTheEstimateAndTheWayPast) {
  // 64 B chunks of a 1 GiB all-reduce on 32 x 32 chips took 4.2 GB; 1024 TiB would run for
  // weeks (and wrap the per-transfer chunk counter); a 1 GiB all-to-all on the 4096-chip
  // v4 pod built 16.8 M transfers (3.4 GB, > 120 s). Each now stops at once, exit 2.
  const std::vector<std::pair<std::string, std::string>> cases = {
      // Every chip's transfers; chip 0's alone (a symmetric torus collective) are 1/1024 of
      // the chunk-hops and run (6 s, 28 MB here).
      {"all_reduce --hw tpu-v3-pod --bytes 1GiB --set pod.chunk=64B --full-network", "PODSIM_MAX_CHUNK_HOPS"},
      {"all_reduce --hw tpu-v3-pod --bytes 1024TiB", "PODSIM_MAX_CHUNK_HOPS"},
      {"all_to_all --hw tpu-v4-pod --bytes 1GiB", "PODSIM_MAX_NET_TRANSFERS"},
  };
  for (const auto& [args, option] : cases) {
    const auto start = std::chrono::steady_clock::now();
    const Outcome o = podsim_cli("collective " + args);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(o.code, 2) << args << ": " << o.output;
    EXPECT_NE(o.output.find(option), std::string::npos) << o.output;
    EXPECT_LT(seconds, 60.0) << args;  // a hang guard: each takes about a second
  }
  // The limit is the environment's when set: a tiny one stops a small collective too.
  const Outcome o = podsim::test::run_shell("PODSIM_MAX_CHUNK_HOPS=10 " + std::string(PODSIM_BINARY) +
                                            " collective all_reduce --hw tpu-v3-pod --bytes 64MiB");
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("the limit is 10"), std::string::npos) << o.output;
}

TEST(HostileSizes, APodTooLargeForTheNetworkModelIsRefusedBeforeItsNodesAreBuilt) {
  // --chips 65536 built 8 M network nodes one by one (after a quadratic walk over the data
  // group of every chip: 9.2 GB at first, then 55 s and 1.5 GB) before the transfer limit
  // stopped it. The op nodes are now counted first, so the error names the whole count:
  // every chip runs at least ResNet-50's 54 convolutions and fc forward and twice in the
  // backward pass, so more than 65536 x 150 nodes. A mesh (no wraparound) is not symmetric,
  // so every chip's nodes would be built (a torus with wraparound runs: chip 0 stands for
  // all, sim/pod_simulate.h; 6 s and 340 MB here).
  const auto start = std::chrono::steady_clock::now();
  const Outcome o = podsim_cli("run " + podsim::test::source_path("workloads/pod/resnet50-dp.yaml") +
                               " --hw tpu-v3-pod --set pod.wraparound=false --chips 65536");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("PODSIM_MAX_NET_TRANSFERS"), std::string::npos) << o.output;
  const auto at = o.output.find("needs ");
  ASSERT_NE(at, std::string::npos) << o.output;
  EXPECT_GT(std::stoull(o.output.substr(at + 6)), 65536ull * 150) << o.output;
  EXPECT_LT(seconds, 60.0);  // a hang guard: about 5 s (the one chip simulation) here
}

TEST(HostileSizes, PeFramesOfAHugeArrayAreRefusedBeforeRecording) {
  // 1000 frames of a 512 x 512 PE array took 8.2 GB; the estimate (32 B per PE and frame)
  // refuses it at once, naming --max-frames, and a few frames still work.
  const fs::path d = scratch("frames");
  const std::string out = (d / "frames.json").string();
  Outcome o = podsim_cli("mxu --rows 512 --cols 512 --m 64 --k 512 --n 512 --model pe --frames " + out);
  EXPECT_EQ(o.code, 2) << o.output;
  EXPECT_NE(o.output.find("--max-frames"), std::string::npos) << o.output;
  EXPECT_FALSE(fs::exists(out));
  o = podsim_cli("mxu --rows 16 --cols 16 --m 16 --k 16 --n 16 --model pe --frames " + out);
  EXPECT_EQ(o.code, 0) << o.output;
  EXPECT_TRUE(fs::exists(out));
}

}  // namespace

namespace {

TEST(HostileInputs, AModelConfigThatIsADeviceOrADirectoryExitsTwo) {
  // `model:` names a file to read: /dev/zero would never end, a directory has no text.
  const fs::path d = scratch("model_config");
  for (const std::string& target : {std::string("/dev/zero"), d.string()}) {
    const fs::path w = d / "w.yaml";
    std::ofstream(w) << "workload:\n  ops:\n    - {op: template, template: transformer_decoder, name: m, model: "
                     << target << ", batch: 1, seq: 8}\n";
    const Outcome o = podsim_cli("validate " + w.string());
    EXPECT_EQ(o.code, 2) << target << ": " << o.output;
    EXPECT_NE(o.output.find("not a regular file"), std::string::npos) << o.output;
  }
}

}  // namespace
