// How fast podsim simulates. For each (workload, preset) one benchmark iteration runs
// `podsim run` in a child process and reports:
//   wall time (the benchmark's own time, manual), peak RSS of the child (MiB),
//   simulated seconds per wall second, and SystemC process wake-ups (events) per wall
//   second, read from the report's stats.
// Also in-process: the mapper's tiling search and the closed-form systolic timing.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "podsim/compiler/matmul_tiling.h"
#include "podsim/compiler/systolic_timing.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/sim/memory_selftest.h"
#include "podsim/sim/mxu_experiment.h"
#include "podsim/serving/batch_scheduler.h"

extern char** environ;

namespace {

struct ChildRun {
  double wall_s = 0;
  double peak_rss_mib = 0;
  int status = -1;
};

ChildRun run_child(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  ChildRun r;
  const auto start = std::chrono::steady_clock::now();
  pid_t pid;
  if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) return r;
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.peak_rss_mib = double(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
  r.status = status;
  return r;
}

void BM_Simulate(benchmark::State& state, std::string workload, std::string hw) {
  const std::string json = "/tmp/podsim_bench_" + std::to_string(getpid()) + ".json";
  const std::string path = std::string(PODSIM_SOURCE_DIR) + "/" + workload;
  double wakeups = 0, simulated_s = 0, rss = 0, wall = 0;
  for (auto _ : state) {
    const ChildRun r = run_child({PODSIM_BINARY, "run", "-q", path, "--hw", hw, "--json", json});
    if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
      state.SkipWithError("podsim run failed");
      break;
    }
    state.SetIterationTime(r.wall_s);
    std::ifstream in(json);
    const auto j = nlohmann::json::parse(in);
    wakeups = j["stats"]["sim"]["process_wakeups"]["value"].get<double>();
    simulated_s = j["summary"]["time_s"].get<double>();
    rss = std::max(rss, r.peak_rss_mib);
    wall += r.wall_s;
  }
  const double per_iter = wall / double(state.iterations());
  state.counters["peak_rss_MiB"] = rss;
  state.counters["events"] = wakeups;
  state.counters["events_per_s"] = per_iter > 0 ? wakeups / per_iter : 0;
  state.counters["sim_s_per_wall_s"] = per_iter > 0 ? simulated_s / per_iter : 0;
  std::remove(json.c_str());
}

// A pod run (or any podsim command line): wall time and peak memory of the child.
void BM_Command(benchmark::State& state, std::vector<std::string> args) {
  std::vector<std::string> argv = {PODSIM_BINARY};
  for (const auto& a : args)
    argv.push_back(a.rfind("workloads/", 0) == 0 || a.rfind("bench/", 0) == 0 ? std::string(PODSIM_SOURCE_DIR) + "/" + a
                                                                              : a);
  double rss = 0;
  for (auto _ : state) {
    const ChildRun r = run_child(argv);
    if (!WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0) {
      state.SkipWithError("podsim failed");
      break;
    }
    state.SetIterationTime(r.wall_s);
    rss = std::max(rss, r.peak_rss_mib);
  }
  state.counters["peak_rss_MiB"] = rss;
}

void BM_ChooseTiling(benchmark::State& state) {
  const podsim::HardwareSpec hw = podsim::load_hardware("tpu-v3");
  podsim::MatmulOp op;
  op.m = op.k = op.n = 4096;
  for (auto _ : state) benchmark::DoNotOptimize(podsim::choose_matmul_tiling(op, hw, {}));
}

void BM_SystolicFoldRun(benchmark::State& state) {
  podsim::SystolicPipeline p({128, 128, podsim::Dataflow::ws, true});
  std::uint64_t t = 0;
  for (auto _ : state) {
    t = p.run(t, 16, 512).stream_end;
    benchmark::DoNotOptimize(t);
  }
}

// The tile-level and the PE-level model on the same matmul: 1024^3 on a 128x128
// weight-stationary array. The target: the tile model at least 10,000x faster.
void BM_Mxu1024(benchmark::State& state, bool pe) {
  podsim::MxuExperimentOptions o;
  o.shape = {128, 128, podsim::Dataflow::ws, true};
  o.m = o.k = o.n = 1024;
  o.dtype = podsim::DType::bf16;
  o.pe_model = pe;
  std::uint64_t cycles = 0;
  for (auto _ : state) cycles = podsim::run_mxu_experiment(o).cycles;
  state.counters["cycles"] = double(cycles);
}

// The DRAM model's own speed, through the memory self-test (no SystemC): simulated DRAM
// clock cycles per wall second on a sequential stream, and random 64 B reads per wall
// second. Targets: 10 million cycles/s and 1 million accesses/s.
void BM_DramPattern(benchmark::State& state, std::string pattern, std::string device) {
  const podsim::HardwareSpec hw = podsim::load_hardware("tpu-v3", {"chip.hbm.device=" + device});
  podsim::MemorySelftestOptions o;
  o.only = {pattern};
  o.stream_bytes = 1ull << 30;
  o.random_requests = 1'000'000;
  podsim::MemoryPatternResult r;
  for (auto _ : state) r = podsim::run_memory_selftest(hw, o).at(0);
  state.counters["dram_cycles_per_s"] = benchmark::Counter(double(r.dram_cycles), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["requests_per_s"] = benchmark::Counter(double(r.requests), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["achieved_gbps"] = r.achieved_gbps;
}

}  // namespace

BENCHMARK_CAPTURE(BM_Simulate, gemm4096_tpu_v3, "workloads/gemm-example.yaml", "tpu-v3")
    ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK_CAPTURE(BM_Simulate, gemm4096_tpu_v4, "workloads/gemm-example.yaml", "tpu-v4")
    ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK_CAPTURE(BM_Simulate, fc_memory_bound_tpu_v3, "bench/workloads/memory-bound-fc.yaml", "tpu-v3")
    ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK_CAPTURE(BM_Simulate, mlp_mixed_tpu_v3, "bench/workloads/mlp-mixed.yaml", "tpu-v3")
    ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK_CAPTURE(BM_Simulate, gemm16384_tpu_v3, "bench/workloads/large-gemm.yaml", "tpu-v3")
    ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK_CAPTURE(BM_Simulate, gemm4096_lab_8x8, "workloads/gemm-example.yaml", "lab-8x8")
    ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);
// The ready-to-run workloads (issue targets: < 5 s each on one tpu-v3 chip; pods < 10 s).
#define PODSIM_WORKLOAD(name, file) \
  BENCHMARK_CAPTURE(BM_Simulate, name, file, "tpu-v3")->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(1)
PODSIM_WORKLOAD(resnet50_infer, "workloads/resnet50-infer.yaml");
PODSIM_WORKLOAD(resnet50_train, "workloads/resnet50-train.yaml");
PODSIM_WORKLOAD(bert_large_layer, "workloads/bert-large-layer.yaml");
PODSIM_WORKLOAD(gpt_decode, "workloads/gpt-decode.yaml");
PODSIM_WORKLOAD(dlrm, "workloads/dlrm.yaml");
PODSIM_WORKLOAD(switch_moe, "workloads/switch-moe.yaml");
PODSIM_WORKLOAD(distill, "workloads/distill.yaml");
#define PODSIM_COMMAND(name, ...) \
  BENCHMARK_CAPTURE(BM_Command, name, std::vector<std::string>{__VA_ARGS__}) \
      ->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(1)
PODSIM_COMMAND(pod_resnet50_dp_1_to_1024_chips, "run", "-q", "workloads/pod/resnet50-dp.yaml", "--hw", "tpu-v3-pod",
               "--chips", "1,8,64,256,1024");
// Symmetric pods (sim/pod_simulate.h): chip 0's transfers stand for every chip's
// (targets: 4,096 chips <= 1.5 s and <= 300 MB; an 8,960-chip v5p-size pod runs).
PODSIM_COMMAND(pod_resnet50_dp_4096_chips, "run", "-q", "workloads/pod/resnet50-dp.yaml", "--hw", "tpu-v4-pod");
PODSIM_COMMAND(pod_resnet50_dp_8960_chips, "run", "-q", "workloads/pod/resnet50-dp.yaml", "--hw", "tpu-v4-pod", "--set",
               "pod.dims=16x20x28");
PODSIM_COMMAND(pod_switch_moe_ep64, "run", "-q", "workloads/pod/switch-moe-ep64.yaml", "--hw", "tpu-v3-pod", "--set",
               "pod.dims=8x8");
PODSIM_COMMAND(pod_transformer_tp_pp16, "run", "-q", "workloads/pod/transformer-tp-pp16.yaml", "--hw", "tpu-v3-pod",
               "--set", "pod.dims=4x4");
// 1024 cores x 64 MXUs: ~70,000 statistics groups (found by linear search: 161 s; hashed: < 1 s).
PODSIM_COMMAND(matmul64_on_1024_cores_x_64_mxus, "run", "-q", "bench/workloads/matmul-64.yaml", "--set",
               "chip.tensor_cores=1024", "--set", "chip.mxus_per_core=64");
PODSIM_COMMAND(allreduce_64MiB_1024_chips, "collective", "all_reduce", "--hw", "tpu-v3-pod", "--bytes", "64MiB");
PODSIM_COMMAND(alltoall_64MiB_1024_chips, "collective", "all_to_all", "--hw", "tpu-v3-pod", "--bytes", "64MiB");
BENCHMARK(BM_ChooseTiling)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SystolicFoldRun);

// After the child-process benchmarks: these grow this process, and a child started by
// posix_spawn would report this process's peak RSS as its own.
BENCHMARK_CAPTURE(BM_DramPattern, seq_read_1GiB_hbm2, "seq_read", "hbm2")->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_DramPattern, seq_read_1GiB_hbm3, "seq_read", "hbm3")->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_DramPattern, random_64B_1M_hbm2, "random_read_64B", "hbm2")->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_Mxu1024, tile_128x128, false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Mxu1024, pe_128x128, true)->Unit(benchmark::kMillisecond)->Iterations(1);
// The serving scheduler alone: 100,000 requests at a fixed step cost (what podsim serve adds
// to its grid simulations).
void BM_ServeScheduler100k(benchmark::State& state) {
  struct Fixed : podsim::StepCost {
    double seconds(const podsim::StepWork& w) override { return w.prefill_tokens ? 0.05 : 0.02; }
  } cost;
  std::vector<podsim::ServeRequest> reqs;
  for (int i = 0; i < 100000; ++i) reqs.push_back({i * 0.01, 64 + std::uint64_t(i % 900), 16 + std::uint64_t(i % 200)});
  podsim::ServeScheduler sch;
  for (auto _ : state) benchmark::DoNotOptimize(podsim::simulate_serving(reqs, sch, 1 << 20, cost, {}).steps);
}
BENCHMARK(BM_ServeScheduler100k)->Unit(benchmark::kMillisecond)->Iterations(1);
// podsim serve end to end: grid simulations of Llama-3-8B on tpu-v4, then 200 requests.
PODSIM_COMMAND(serve_llama3_8b_200_requests_v4, "serve", "-q", "workloads/serve/llama3-8b-chat.yaml", "--hw", "tpu-v4");
// Issue 16's target: 1,000 requests of Llama-2-7B on one v5e chip in < 10 s.
PODSIM_COMMAND(serve_llama2_7b_1000_requests_v5e, "serve", "-q", "workloads/serve/llama2-7b-v5e.yaml", "--hw", "tpu-v5e");
// Issue 16's target: 10,000 requests of Llama-3-70B on a v5e 2x4 slice (tensor parallel) in < 60 s.
PODSIM_COMMAND(serve_llama3_70b_10000_requests_v5e_2x4, "serve", "-q", "workloads/serve/llama3-70b-v5e-slice.yaml", "--hw",
               "tpu-v5e-pod", "--set", "pod.dims=2x4");
BENCHMARK_MAIN();
