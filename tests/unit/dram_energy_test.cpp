// Off-chip memory energy by command (energy/dram_energy.h). Expected values are worked out
// here from the IDD currents and timings the source gives (DRAMsim3's HBM2 and DDR3
// configurations, datasheet figures) with the standard method (IDD0 loop less standby;
// IDD4R/W over IDD3N for a burst; IDD5 over IDD3N for tRFC), not copied from a run.
#include <gtest/gtest.h>

#include "podsim/config/dram_device.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/energy/dram_energy.h"

namespace podsim {
namespace {

TEST(DramEnergy, HbmCommandsComeFromItsCurrents) {
  const HardwareSpec hw = load_hardware("tpu-v3", {});
  const DramCommandEnergy e = dram_command_energy(hw);
  ASSERT_TRUE(e.known);
  // VDD 1.2 V; tRC = tRAS + tRP = 34 + 14 ns; a 1 KiB row either way.
  EXPECT_NEAR(e.act_j, 1.2 * (65 * 48 - (55 * 34 + 40 * 14)) * 1e-12, 1e-15);  // 828 pJ
  // A burst: 2 ns of data for 128 bits x 4.
  EXPECT_NEAR(e.read_bit_j, 1.2 * (390 - 55) * 2 / 512.0 * 1e-12, 1e-17);
  EXPECT_NEAR(e.write_bit_j, 1.2 * (500 - 55) * 2 / 512.0 * 1e-12, 1e-17);
  // A pseudo-channel's share (half) of the channel's all-bank refresh; one bank of 16.
  EXPECT_NEAR(e.refresh_j, 1.2 * (250 - 55) * 260 * 0.5 * 1e-12, 1e-15);
  EXPECT_NEAR(e.bank_refresh_j, e.refresh_j / 16, 1e-18);
  // The rest of tpu-v3's 3.9 pJ per bit after a streaming read's array share.
  EXPECT_NEAR(e.io_bit_j, 3.9e-12 - e.read_bit_j - e.act_j / 8192, 1e-18);
}

TEST(DramEnergy, Ddr3CommandsComeFromEightDevicesCurrents) {
  const DramCommandEnergy e = dram_command_energy(load_hardware("tpu-v1", {}));
  ASSERT_TRUE(e.known);
  const double ck = 1.07e-12;  // V x mA x clock
  EXPECT_NEAR(e.act_j, 1.35 * (62 * 45 - (41 * 32 + 35 * 13)) * ck * 8 *
                           double(resolve_dram_device(load_hardware("tpu-v1", {}).chip.hbm).row_bytes()) * 8 / 65536,
              1e-14);
  EXPECT_NEAR(e.read_bit_j, 1.35 * (174 - 41) * 4 * ck * 8 / 512, 1e-17);
  EXPECT_NEAR(e.refresh_j, 1.35 * (242 - 41) * 243 * ck * 8, 1e-13);
}

TEST(DramEnergy, AStreamCostsWhatPerBitDoesAndEachActAddsItsEnergy) {
  const HardwareSpec hw = load_hardware("tpu-v3", {});
  const DramCommandEnergy e = dram_command_energy(hw);
  const std::uint64_t bytes = 1 << 20;
  const std::uint64_t rows = bytes / 1024;
  const DramEnergyParts stream = dram_energy(e, {bytes, 0, rows, 0, 0});
  EXPECT_NEAR(stream.total_j(), bytes * 8 * 3.9e-12, bytes * 8 * 3.9e-12 * 1e-9);
  // The same bytes as 64 B reads, each its own ACT: 15 more ACTs per KiB.
  const DramEnergyParts scattered = dram_energy(e, {bytes, 0, bytes / 64, 0, 0});
  EXPECT_NEAR(scattered.total_j() - stream.total_j(), double(bytes / 64 - rows) * e.act_j, 1e-15);
  // Writes cost their own currents' share more than reads.
  const DramEnergyParts written = dram_energy(e, {0, bytes, rows, 0, 0});
  EXPECT_NEAR(written.total_j() - stream.total_j(), bytes * 8 * (e.write_bit_j - e.read_bit_j), 1e-15);
}

TEST(DramEnergy, TheIdealDeviceHasNoCommands) {
  EXPECT_FALSE(dram_command_energy(load_hardware("tpu-v3", {"chip.hbm.device=ideal"})).known);
}

}  // namespace
}  // namespace podsim
