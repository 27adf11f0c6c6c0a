// Chip area (energy/chip_area.h). Expected numbers come from the published figures the area
// tables cite (TPU v1's floor plan and die bound, Jouppi et al. ISCA 2017; gate and metal
// pitches and bit cells; LLMCompass's PHY areas and transistor counts; Khan and Mann's
// densities) and from counting blocks by hand, not from what the code printed.
#include <gtest/gtest.h>

#include <cmath>

#include "podsim/config/config_error.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/energy/chip_area.h"

namespace podsim {
namespace {

double block_mm2(const ChipArea& a, const std::string& name) {
  for (const AreaBlock& b : a.blocks)
    if (b.name == name) return b.mm2;
  return 0;
}

TEST(ChipArea, TwentyEightNanometreDensitiesComeFromTpuV1sFloorPlan) {
  // Die < 331 mm2; matrix unit 24 % for 65,536 MACs, unified buffer 29 % for 24 MiB,
  // activation pipeline 6 % for 256 lanes (Fig. 2).
  const AreaCosts c = area_costs("28nm");
  EXPECT_NEAR(c.pe_int8_um2, 0.24 * 331e6 / 65536, 0.1);
  EXPECT_NEAR(c.sram_mm2_per_mib, 0.29 * 331 / 24, 0.001);
  EXPECT_NEAR(c.vector_lane_um2, 0.06 * 331e6 / 256, 1);
  EXPECT_DOUBLE_EQ(c.uncore_percent, 100 - 37 - 30 - 10);  // buffers, compute and I/O are the blocks
  // A bf16 PE: Horowitz's fp16 multiply + fp32 add (1,640 + 4,184 um2 at 45 nm) x (28/45)^2,
  // plus 80 register bits at the int8 PE's area per bit.
  const double s = std::pow(28.0 / 45.0, 2);
  const double per_bit = (c.pe_int8_um2 - (282 + 137) * s) / 56;
  EXPECT_NEAR(c.pe_bf16_um2, (1640 + 4184) * s + 80 * per_bit, 1);
  EXPECT_NEAR(c.pe_fp32_um2, (7700 + 4184) * s + 128 * per_bit, 1);
}

TEST(ChipArea, OtherNodesScaleLogicByPitchesAndSramByBitCells) {
  const AreaCosts base = area_costs("28nm");
  const struct { const char* node; double logic, sram, density; } nodes[] = {
      {"16nm", 90.0 * 64 / (117 * 90), 0.074 / 0.127, 28.9},
      {"7nm", 57.0 * 40 / (117 * 90), 0.027 / 0.127, 96.3},
      {"45nm", std::pow(45.0 / 28, 2), std::pow(45.0 / 28, 2), 7.7}};
  for (const auto& n : nodes) {
    const AreaCosts c = area_costs(n.node);
    // The tables round to four significant digits.
    EXPECT_NEAR(c.pe_int8_um2 / base.pe_int8_um2, n.logic, n.logic * 1e-3) << n.node;
    EXPECT_NEAR(c.pe_bf16_um2 / base.pe_bf16_um2, n.logic, n.logic * 1e-3) << n.node;
    EXPECT_NEAR(c.pe_fp32_um2 / base.pe_fp32_um2, n.logic, n.logic * 1e-3) << n.node;
    EXPECT_NEAR(c.vector_lane_um2 / base.vector_lane_um2, n.logic, n.logic * 1e-3) << n.node;
    EXPECT_NEAR(c.sram_mm2_per_mib / base.sram_mm2_per_mib, n.sram, n.sram * 1e-3) << n.node;
    // PHYs do not shrink; controllers are a fixed transistor count over the node's density.
    EXPECT_DOUBLE_EQ(c.hbm_phy_mm2, 10.45) << n.node;
    EXPECT_DOUBLE_EQ(c.ici_mm2_per_25GBps, 1.888) << n.node;
    EXPECT_NEAR(c.hbm_ctrl_mm2 * n.density, 552.7, 552.7 * 3e-3) << n.node;
    EXPECT_NEAR(c.ici_ctrl_mm2_per_25GBps * n.density, 74.6, 74.6 * 3e-3) << n.node;
  }
}

TEST(ChipArea, AChipIsItsCountsTimesItsDensitiesOverTheNonUncoreShare) {
  // One core, one 64x64 bf16 MXU, 8 MiB of vector memory, 128 x 8 vector lanes, 16 HBM2
  // channels (2 stacks), with round densities so the sum can be done by hand.
  const HardwareSpec hw = load_hardware(
      "tpu-v3", {"chip.tensor_cores=1", "chip.mxus_per_core=1", "chip.mxu.rows=64", "chip.mxu.cols=64",
                 "chip.vmem.capacity=8 MiB", "chip.hbm.channels=16", "chip.area.pe_bf16_um2=1000",
                 "chip.area.sram_mm2_per_mib=2", "chip.area.vector_lane_um2=10000", "chip.area.hbm_phy_mm2=10",
                 "chip.area.hbm_ctrl_mm2=5", "chip.area.uncore_percent=20"});
  const ChipArea a = chip_area(hw);
  EXPECT_EQ(a.pe_dtype, "bf16");
  EXPECT_NEAR(block_mm2(a, "mxu"), 64 * 64 * 1000e-6, 1e-9);
  EXPECT_NEAR(block_mm2(a, "vmem"), 8 * 2, 1e-9);
  EXPECT_NEAR(block_mm2(a, "vector"), 128 * 8 * 10000e-6, 1e-9);
  EXPECT_NEAR(block_mm2(a, "memory_io"), 2 * (10 + 5), 1e-9);
  EXPECT_EQ(block_mm2(a, "ici"), 0);   // one chip: no links
  EXPECT_EQ(block_mm2(a, "pcie"), 0);  // no host link configured
  const double blocks = 4.096 + 16 + 10.24 + 30;
  EXPECT_NEAR(a.total_mm2, blocks / 0.8, 1e-9);
  EXPECT_NEAR(block_mm2(a, "uncore"), blocks * 0.25, 1e-9);
}

TEST(ChipArea, PesArePricedAsTheWidestDtypeAtFullRate) {
  EXPECT_EQ(chip_area(load_hardware("tpu-v1", {})).pe_dtype, "int8");  // bf16 at quarter rate
  EXPECT_EQ(chip_area(load_hardware("tpu-v3", {})).pe_dtype, "bf16");
  const ChipArea fp32 = chip_area(load_hardware("tpu-v3", {"chip.mxu.passes.fp32=1"}));
  EXPECT_EQ(fp32.pe_dtype, "fp32");
  EXPECT_NEAR(block_mm2(fp32, "mxu"), 4 * 128 * 128 * area_costs("16nm").pe_fp32_um2 * 1e-6, 1e-9);
}

TEST(ChipArea, MoreMxusAddExactlyTheirPesAndTheUncoreShare) {
  const ChipArea two = chip_area(load_hardware("tpu-v3", {}));
  const ChipArea four = chip_area(load_hardware("tpu-v3", {"chip.mxus_per_core=4"}));
  const double added = 2 * 2 * 128 * 128 * area_costs("16nm").pe_bf16_um2 * 1e-6;
  EXPECT_NEAR(four.total_mm2 - two.total_mm2, added / (1 - 0.23), 1e-6);
}

TEST(ChipArea, LinksCountInAPodByTheirBandwidth) {
  const HardwareSpec pod = load_hardware("tpu-v3-pod", {});
  const ChipArea a = chip_area(pod);
  const AreaCosts c = area_costs("16nm");
  const double units = double(pod.pod.links_per_chip) * double(pod.pod.link_bandwidth_Bps) / 25e9;
  EXPECT_NEAR(block_mm2(a, "ici"), units * (c.ici_mm2_per_25GBps + c.ici_ctrl_mm2_per_25GBps), 1e-9);
  // tpu-v1: two DDR3 channels and a PCIe x16 host link, no HBM.
  const ChipArea v1 = chip_area(load_hardware("tpu-v1", {}));
  const AreaCosts c28 = area_costs("28nm");
  EXPECT_NEAR(block_mm2(v1, "memory_io"), 2 * (c28.ddr_phy_mm2 + c28.ddr_ctrl_mm2), 1e-9);
  EXPECT_NEAR(block_mm2(v1, "pcie"), 16 * (c28.pcie_lane_mm2 + c28.pcie_ctrl_lane_mm2), 1e-9);
}

TEST(ChipArea, BadOverridesAreRefusedWithTheirKey) {
  for (const char* bad : {"chip.area.pe_bf16_um2=-1", "chip.area.pe_bf16_um2=1e400", "chip.area.pe_bf16_um2=1e300",
                          "chip.area.pe_bf16_um2=nan", "chip.area.uncore_percent=100",
                          "chip.area.sram_mm2_per_mib=2 mm2"}) {
    try {
      load_hardware("tpu-v3", {bad});
      FAIL() << bad << " was accepted";
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.key_path().rfind("chip.area.", 0), 0u) << e.key_path();
    }
  }
}

}  // namespace
}  // namespace podsim
