#include <gtest/gtest.h>

#include "podsim/config/config_error.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/config/hardware_params.h"

namespace podsim {
namespace {

// Loads `text` and returns the error it raises (the test fails if it loads).
ConfigError load_error(const std::string& text, std::vector<std::string> overrides = {}) {
  try {
    load_hardware_text(text, "hw.yaml", overrides);
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << text;
  return ConfigError({}, "", "");
}

TEST(HardwareConfig, PresetsExistAndLoad) {
  const auto names = preset_names();
  for (const char* expected : {"lab-8x8", "tpu-v1", "tpu-v2", "tpu-v3", "tpu-v4"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  for (const auto& n : names) EXPECT_NO_THROW(load_hardware(n)) << n;
}

// Peak figures from ../shared/refs/PUBLISHED.md, recomputed from the preset's parts.
TEST(HardwareConfig, TpuV3PeakIs123Tflops) {
  // 2 cores x 2 MXUs x 128^2 MACs x 2 FLOPs x 0.94 GHz = 123,207,680,000,000 FLOP/s.
  EXPECT_DOUBLE_EQ(load_hardware("tpu-v3").peak_flops(), 123'207'680'000'000.0);
  EXPECT_EQ(load_hardware("tpu-v3").chip.hbm.bandwidth_Bps, 900'000'000'000u);
}

TEST(HardwareConfig, TpuV5ePeakIs197TflopsOnItsDerivedClock) {
  // Cloud TPU doc: 197 TFLOPS bf16, one TensorCore of 4 MXUs (128 x 128); the clock is
  // derived: 1 x 4 x 128^2 x 2 x 1.503 GHz = 197,001,216,000,000 FLOP/s.
  const HardwareSpec v5e = load_hardware("tpu-v5e");
  EXPECT_DOUBLE_EQ(v5e.peak_flops(), 197'001'216'000'000.0);
  EXPECT_EQ(v5e.chip.hbm.bandwidth_Bps, 819'000'000'000u);
  EXPECT_EQ(v5e.chip.hbm.capacity_bytes, 16'000'000'000u);
}

TEST(HardwareConfig, TpuV5pAndV6eMatchTheirPublishedPeaksAndMemory) {
  // Cloud TPU docs: v5p 459 TFLOPS bf16, 95 GB at 2,765 GB/s; v6e 918 TFLOPS bf16, 1,836
  // int8, 32 GB at 1,640 GB/s. The clocks are derived (1.751 GHz), so 0.1 %.
  const HardwareSpec v5p = load_hardware("tpu-v5p");
  EXPECT_NEAR(v5p.peak_flops(), 459e12, 459e9);
  EXPECT_EQ(v5p.chip.hbm.bandwidth_Bps, 2'765'000'000'000u);
  EXPECT_EQ(v5p.chip.hbm.capacity_bytes, 95'000'000'000u);
  EXPECT_EQ(v5p.chip.mxu.rate_int8, 1u);  // its int8 rate is not in our sources
  const HardwareSpec v6e = load_hardware("tpu-v6e");
  EXPECT_NEAR(v6e.peak_flops(), 918e12, 918e9);
  EXPECT_NEAR(v6e.peak_flops() * v6e.chip.mxu.rate_int8, 1836e12, 1836e9);
  EXPECT_EQ(v6e.chip.mxu.rows, 256u);
  EXPECT_EQ(v6e.chip.hbm.bandwidth_Bps, 1'640'000'000'000u);
  EXPECT_EQ(v6e.chip.hbm.capacity_bytes, 32'000'000'000u);
}

TEST(HardwareConfig, TpuV7MatchesItsPublishedPeaksMemoryAndInterconnect) {
  // Cloud TPU doc, TPU7x: 2,307 TFLOPS bf16, 4,614 fp8, 192 GiB at 7,380 GB/s, two
  // TensorCores, 1,200 GB/s bidirectional ICI per chip, 9,216 chips a pod. The clock is
  // derived (2.2 GHz), so 0.1 %.
  const HardwareSpec v7 = load_hardware("tpu-v7");
  EXPECT_NEAR(v7.peak_flops(), 2307e12, 2307e9);
  EXPECT_NEAR(v7.peak_flops() * v7.chip.mxu.rate_fp8, 4614e12, 4614e9);
  EXPECT_EQ(v7.chip.tensor_cores, 2u);
  EXPECT_EQ(v7.chip.hbm.bandwidth_Bps, 7'380'000'000'000u);
  EXPECT_EQ(v7.chip.hbm.capacity_bytes, 192ULL << 30);
  const HardwareSpec pod = load_hardware("tpu-v7-pod");
  EXPECT_EQ(pod.pod.chips(), 9216u);
  EXPECT_EQ(2 * pod.pod.links_per_chip * pod.pod.link_bandwidth_Bps, 1'200'000'000'000u);
}

TEST(HardwareConfig, TpuV5ePodMatchesItsPublishedInterconnect) {
  // Cloud TPU doc, v5e: 400 GB/s bidirectional ICI per chip, a 2D torus of 256 chips,
  // 51.2 TB/s all-reduce bandwidth and 1.6 TB/s bisection bandwidth per pod.
  const HardwareSpec pod = load_hardware("tpu-v5e-pod");
  EXPECT_EQ(pod.pod.chips(), 256u);
  EXPECT_EQ(pod.pod.dim_sizes().size(), 2u);
  EXPECT_EQ(2 * pod.pod.links_per_chip * pod.pod.link_bandwidth_Bps, 400'000'000'000u);
  EXPECT_EQ(pod.pod.chips() * pod.pod.links_per_chip * pod.pod.link_bandwidth_Bps, 51'200'000'000'000u);
  // Cutting a 16 x 16 torus in half crosses 2 x 16 links (the wraparound doubles them).
  EXPECT_EQ(2 * 16 * pod.pod.link_bandwidth_Bps, 1'600'000'000'000u);
  EXPECT_EQ(pod.peak_flops(), load_hardware("tpu-v5e").peak_flops());
}

TEST(HardwareConfig, TpuV6ePodMatchesItsPublishedInterconnect) {
  // Cloud TPU doc, v6e: 800 GB/s bidirectional ICI per chip over 4 ports, a 2D torus of 256
  // chips, 102.4 TB/s all-reduce bandwidth and 3.2 TB/s bisection bandwidth per pod.
  const HardwareSpec pod = load_hardware("tpu-v6e-pod");
  EXPECT_EQ(pod.pod.chips(), 256u);
  EXPECT_EQ(2 * pod.pod.links_per_chip * pod.pod.link_bandwidth_Bps, 800'000'000'000u);
  EXPECT_EQ(pod.pod.chips() * pod.pod.links_per_chip * pod.pod.link_bandwidth_Bps, 102'400'000'000'000u);
  EXPECT_EQ(2 * 16 * pod.pod.link_bandwidth_Bps, 3'200'000'000'000u);
}

TEST(HardwareConfig, TpuV5pPodMatchesItsPublishedInterconnect) {
  // Cloud TPU doc, v5p: 8,960 chips a pod on a 3D torus, 1,200 GB/s bidirectional ICI per chip.
  const HardwareSpec pod = load_hardware("tpu-v5p-pod");
  EXPECT_EQ(pod.pod.chips(), 8960u);
  EXPECT_EQ(pod.pod.dim_sizes().size(), 3u);
  EXPECT_EQ(2 * pod.pod.links_per_chip * pod.pod.link_bandwidth_Bps, 1'200'000'000'000u);
}

TEST(HardwareConfig, TpuV1PeakIs92Tops) {
  // 65,536 MACs x 2 x 0.7 GHz = 91.75 TOPS (Jouppi et al. 2017, Table 2).
  const HardwareSpec v1 = load_hardware("tpu-v1");
  EXPECT_DOUBLE_EQ(v1.peak_flops(), 91'750'400'000'000.0);
  EXPECT_EQ(v1.chip.mxu.weight_fifo_depth, 4u);
  EXPECT_EQ(v1.chip.vmem_bytes, 24u << 20);
}

TEST(HardwareConfig, WeightFifoNeedsOneWeightStationaryArray) {
  EXPECT_EQ(load_error("hardware:\n  base: tpu-v1\n  chip:\n    mxu: {dataflow: os}\n").key_path(),
            "chip.mxu.weight_fifo_depth");
  EXPECT_EQ(load_error("hardware:\n  base: tpu-v1\n  chip:\n    mxus_per_core: 2\n").key_path(),
            "chip.mxu.weight_fifo_depth");
}

TEST(HardwareConfig, DramDataRateMustBeAchievable) {
  // 1 GB/s over 32 HBM2 channels of 2 x 8 B = 1.95 MT/s per pin: no DRAM runs that slowly.
  const ConfigError e = load_error("hardware:\n  base: tpu-v3\n  chip:\n    hbm: {bandwidth: 1 GB/s}\n");
  EXPECT_EQ(e.key_path(), "chip.hbm.bandwidth");
  EXPECT_NE(e.problem().find("GT/s"), std::string::npos) << e.what();
  // The ideal device has no such limit.
  EXPECT_NO_THROW(load_hardware_text("hardware:\n  base: tpu-v3\n  chip:\n    hbm: {bandwidth: 1 GB/s, device: ideal}\n", "hw.yaml"));
}

TEST(HardwareConfig, TpuV2PeakIs45_9Tflops) {
  // 2 x 1 x 128^2 x 2 x 0.70 GHz = 45,875,200,000,000.
  EXPECT_DOUBLE_EQ(load_hardware("tpu-v2").peak_flops(), 45'875'200'000'000.0);
}

TEST(HardwareConfig, TpuV4PeakIs275Tflops) {
  // 2 x 4 x 128^2 x 2 x 1.05 GHz = 275,251,200,000,000 (published: 275 TFLOPS).
  EXPECT_DOUBLE_EQ(load_hardware("tpu-v4").peak_flops(), 275'251'200'000'000.0);
  EXPECT_EQ(load_hardware("tpu-v4").chip.hbm.bandwidth_Bps, 1'200'000'000'000u);
}

TEST(HardwareConfig, FileOnABasePresetOverridesOneValue) {
  const HardwareSpec hw = load_hardware_text(
      "hardware:\n  name: wide\n  base: tpu-v3\n  chip:\n    hbm: {bandwidth: 1200 GB/s}\n", "hw.yaml");
  EXPECT_EQ(hw.name, "wide");
  EXPECT_EQ(hw.chip.hbm.bandwidth_Bps, 1'200'000'000'000u);
  EXPECT_EQ(hw.chip.clock_hz, 940'000'000u);  // the rest is tpu-v3's
}

TEST(HardwareConfig, SetOverridesApplyAfterTheFile) {
  const HardwareSpec hw = load_hardware("tpu-v3", {"chip.mxu.rows=256", "chip.clock=1 GHz"});
  EXPECT_EQ(hw.chip.mxu.rows, 256u);
  EXPECT_EQ(hw.chip.clock_hz, 1'000'000'000u);
}

TEST(HardwareConfig, TypoNamesFileLineColumnAndSuggests) {
  const ConfigError e = load_error("hardware:\n  chip:\n    hbm:\n      bandwdith: 1200 GB/s\n");
  EXPECT_EQ(e.where().file, "hw.yaml");
  EXPECT_EQ(e.where().line, 4);
  EXPECT_EQ(e.where().column, 7);
  EXPECT_EQ(e.key_path(), "chip.hbm.bandwdith");
  EXPECT_NE(e.problem().find("did you mean 'bandwidth'?"), std::string::npos) << e.what();
}

TEST(HardwareConfig, BareNumberForAFrequencyIsAnError) {
  const ConfigError e = load_error("hardware:\n  chip:\n    clock: 940\n");
  EXPECT_EQ(e.key_path(), "chip.clock");
  EXPECT_EQ(e.where().line, 3);
  EXPECT_NE(e.problem().find("expected a frequency like '940 MHz'"), std::string::npos) << e.what();
}

TEST(HardwareConfig, NegativeAndZeroSizesAreRejected) {
  EXPECT_EQ(load_error("hardware:\n  chip:\n    vmem: {capacity: -16 MiB}\n").key_path(), "chip.vmem.capacity");
  const ConfigError zero = load_error("hardware:\n  chip:\n    mxu: {rows: 0}\n");
  EXPECT_EQ(zero.key_path(), "chip.mxu.rows");
  EXPECT_NE(zero.problem().find("out of range"), std::string::npos) << zero.what();
}

TEST(HardwareConfig, WrongTypesAreRejected) {
  EXPECT_NE(load_error("hardware:\n  chip:\n    tensor_cores: two\n").problem().find("whole number"),
            std::string::npos);
  EXPECT_NE(load_error("hardware:\n  chip:\n    clock: [940 MHz]\n").problem().find("got a list"),
            std::string::npos);
  EXPECT_NE(load_error("hardware:\n  chip: 5\n").problem().find("mapping"), std::string::npos);
  EXPECT_NE(load_error("hardware:\n  chip:\n    mxu: {weight_overlap: yes please}\n").problem().find("true or false"),
            std::string::npos);
}

TEST(HardwareConfig, EmptyAndNonYamlInput) {
  EXPECT_NE(load_error("").problem().find("empty"), std::string::npos);
  EXPECT_NE(load_error("hardware: [unclosed\n").problem().find("not valid YAML"), std::string::npos);
  EXPECT_NE(load_error("- just\n- a list\n").problem().find("mapping"), std::string::npos);
  EXPECT_NE(load_error("hardwar:\n  chip: {}\n").problem().find("did you mean 'hardware'"), std::string::npos);
}

TEST(HardwareConfig, NonTextFileIsRejected) {
  const std::string path = testing::TempDir() + "binary.yaml";
  FILE* f = fopen(path.c_str(), "wb");
  const unsigned char bytes[] = {0x7f, 'E', 'L', 'F', 0x02, 0x01, 0x00, 0x00};
  fwrite(bytes, 1, sizeof bytes, f);
  fclose(f);
  try {
    load_hardware(path);
    FAIL() << "a binary file loaded";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("not a text file"), std::string::npos) << e.what();
  }
}

TEST(HardwareConfig, UnknownBasePresetSuggestsOne) {
  const ConfigError e = load_error("hardware:\n  base: tpu-v33\n");
  EXPECT_EQ(e.key_path(), "hardware.base");
  EXPECT_NE(e.problem().find("did you mean 'tpu-v3'"), std::string::npos) << e.what();
}

TEST(HardwareConfig, BadOverrides) {
  EXPECT_NE(load_error("hardware: {}\n", {"chip.hbm.bandwith=1 TB/s"}).problem().find("did you mean 'chip.hbm.bandwidth'"),
            std::string::npos);
  EXPECT_NE(load_error("hardware: {}\n", {"chip.clock"}).problem().find("path=value"), std::string::npos);
  EXPECT_EQ(load_error("hardware: {}\n", {"chip.clock=fast"}).where().file, "--set");
}

TEST(HardwareConfig, ResolvedValuesReloadToTheSameSpec) {
  // The report's resolved hardware must be a valid hardware file of its own.
  for (const auto& name : preset_names()) {
    const auto resolved = resolved_hardware(load_hardware(name));
    std::vector<std::string> sets;
    for (const auto& [path, value] : resolved) sets.push_back(path + "=" + value);
    const HardwareSpec again = load_hardware_text("hardware: {}\n", "empty.yaml", sets);
    EXPECT_EQ(resolved_hardware(again), resolved) << name;
  }
}

TEST(HardwareConfig, EveryParameterHasADescriptionAndAValidDefault) {
  for (const auto& p : hardware_params()) {
    EXPECT_FALSE(p.description.empty()) << p.path;
    std::string why;
    EXPECT_TRUE(parse_param_value(p, p.default_text, &why).has_value()) << p.path << ": " << why;
  }
}

}  // namespace
}  // namespace podsim
