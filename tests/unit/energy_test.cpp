// Energy per action (energy/energy_table.h) and joules from a run (energy/energy_model.h).
// Expected numbers come from the published figures the tables cite (Horowitz, ISSCC 2014)
// and the scaling rule configs/energy/*.yaml states, not from what the code printed.
#include <gtest/gtest.h>

#include <cmath>

#include "podsim/config/config_error.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/energy/energy_model.h"
#include "podsim/energy/energy_table.h"

namespace podsim {
namespace {

EnergyCosts costs_of(const std::string& node) {
  EnergySpec spec;
  spec.node = node;
  return resolve_energy_costs(spec);
}

TEST(EnergyTable, FortyFiveNanometresAreHorowitzsFigures) {
  const EnergyCosts c = costs_of("45nm");
  // int8 multiply 0.2 pJ + int32 add 0.1 pJ; fp16 multiply 1.1 + fp32 add 0.9; fp32 3.7 + 0.9.
  EXPECT_NEAR(c.mac_int8_j, 0.3e-12, 1e-18);
  EXPECT_NEAR(c.mac_fp16_j, 2.0e-12, 1e-18);
  EXPECT_NEAR(c.mac_fp32_j, 4.6e-12, 1e-18);
  // 32 KB SRAM: 20 pJ per 64-bit read = 2.5 pJ per byte.
  EXPECT_NEAR(c.sram_byte_j, 2.5e-12, 1e-18);
}

TEST(EnergyTable, EveryNodeFollowsTheStatedScalingRule) {
  // E ~ C V^2, C ~ feature size: (L / 45) x (V / 0.9)^2 with the voltages the tables state.
  const struct { const char* node; double nm, volts; } nodes[] = {{"28nm", 28, 0.9}, {"16nm", 16, 0.8}, {"7nm", 7, 0.75}};
  const EnergyCosts base = costs_of("45nm");
  for (const auto& n : nodes) {
    const double f = n.nm / 45.0 * std::pow(n.volts / 0.9, 2);
    const EnergyCosts c = costs_of(n.node);
    // Tables round to three significant digits (and parsing to the femtojoule).
    EXPECT_NEAR(c.mac_int8_j / base.mac_int8_j, f, f * 0.01) << n.node;
    EXPECT_NEAR(c.mac_bf16_j / base.mac_bf16_j, f, f * 0.01) << n.node;
    EXPECT_NEAR(c.mac_fp32_j / base.mac_fp32_j, f, f * 0.01) << n.node;
    EXPECT_NEAR(c.vector_op_j / base.vector_op_j, f, f * 0.01) << n.node;
    EXPECT_NEAR(c.sram_byte_j / base.sram_byte_j, f, f * 0.01) << n.node;
  }
  EXPECT_EQ(energy_table_nodes(), (std::vector<std::string>{"16nm", "28nm", "45nm", "7nm"}));
}

TEST(EnergyTable, OverridesReplaceOneEntryAndBadOnesAreRefused) {
  const HardwareSpec hw = load_hardware("tpu-v3", {"chip.energy.mac_bf16=1 pJ", "chip.energy.static_power=150 W"});
  const EnergyCosts c = resolve_energy_costs(hw.chip.energy);
  EXPECT_NEAR(c.mac_bf16_j, 1e-12, 1e-18);
  EXPECT_NEAR(c.mac_int8_j, costs_of("16nm").mac_int8_j, 1e-18);  // the rest keep the table's
  EXPECT_DOUBLE_EQ(c.static_power_w, 150.0);
  try {
    load_hardware("tpu-v3", {"chip.energy.mac_bf16=1 pj"});
    FAIL() << "a bad unit was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "chip.energy.mac_bf16");
    EXPECT_NE(e.problem().find("unknown energy unit 'pj'"), std::string::npos) << e.problem();
  }
  try {
    load_hardware("tpu-v3", {"chip.energy.node=5nm"});
    FAIL() << "an unknown node was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(e.key_path(), "chip.energy.node");
    EXPECT_NE(e.problem().find("16nm"), std::string::npos) << e.problem();
  }
}

TEST(EnergyModel, JoulesAreActionsTimesEnergyPerAction) {
  RunResult run;
  run.hw = load_hardware("tpu-v1");  // 28 nm table, 20 pJ per DDR3 bit, 28 W static
  run.chips = 1;
  run.end_ps = 2'000'000'000;        // 2 ms
  OpResult a;
  a.dtype = "int8";
  a.macs = 1'000'000'000;
  a.onchip_bytes = 4'000'000;
  a.hbm_read_bytes = 1'000'000;
  a.start_ps = 0;
  a.end_ps = 1'500'000'000;
  OpResult b;
  b.dtype = "bf16";
  b.macs = 10'000'000;
  b.vpu_busy_cycles = 1000;
  b.hbm_write_bytes = 500'000;
  b.start_ps = 1'500'000'000;
  b.end_ps = 2'000'000'000;
  run.ops = {a, b};
  const RunEnergy e = run_energy(run);
  // 28 nm: int8 MAC 0.187 pJ, bf16 MAC 1.24 pJ, SRAM 1.56 pJ/B, vector op 2.86 pJ per lane
  // (256 lanes x 1 sublane on TPU v1); DDR3 20 pJ/bit; 28 W for 2 ms.
  const double mac = 1e9 * 0.187e-12 + 1e7 * 1.24e-12;
  const double sram = 4e6 * 1.56e-12;
  const double vector = 1000.0 * 256 * 2.86e-12;
  const double dram = 1.5e6 * 8 * 20e-12;
  const double stat = 28.0 * 2e-3;
  EXPECT_NEAR(e.total.mac_j, mac, mac * 1e-9);
  EXPECT_NEAR(e.total.sram_j, sram, sram * 1e-9);
  EXPECT_NEAR(e.total.vector_j, vector, vector * 1e-9);
  EXPECT_NEAR(e.total.dram_j, dram, dram * 1e-9);
  EXPECT_NEAR(e.total.static_j, stat, stat * 1e-9);
  EXPECT_EQ(e.total.ici_j, 0.0);
  const double total = mac + sram + vector + dram + stat;
  EXPECT_NEAR(e.total.total_j(), total, total * 1e-9);
  EXPECT_NEAR(e.average_power_w, total / 2e-3, 1e-6);
  EXPECT_NEAR(e.tops_per_w, 2.0 * (1e9 + 1e7) / total * 1e-12, 1e-9);
  // Per op: the same actions; static over each op's span (1.5 ms and 0.5 ms).
  ASSERT_EQ(e.ops.size(), 2u);
  EXPECT_NEAR(e.ops[0].static_j, 28.0 * 1.5e-3, 1e-12);
  EXPECT_NEAR(e.ops[0].dynamic_j() + e.ops[1].dynamic_j(), e.total.dynamic_j(), 1e-15);
  EXPECT_TRUE(e.static_known);
}

TEST(EnergyModel, StaticPowerNotSetMeansDynamicOnly) {
  RunResult run;
  run.hw = load_hardware("tpu-v2")  /* no published static power */;
  run.end_ps = 1'000'000'000;
  const RunEnergy e = run_energy(run);
  EXPECT_FALSE(e.static_known);
  EXPECT_EQ(e.total.static_j, 0.0);
}

}  // namespace
}  // namespace podsim
