// The DRAM device description (config/dram_device.h): timings overridden in ns or clocks,
// organisation overrides, consistency errors, address mappings as field orders, rows from
// the capacity, and the ddr3 preset. Expected values are the closed forms of the JEDEC
// timing rules, worked out in the comments.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "podsim/arch/dram/address_map.h"
#include "podsim/arch/dram/dram_channel.h"
#include "podsim/arch/dram/timing_checker.h"
#include "podsim/config/config_error.h"
#include "podsim/config/dram_device.h"
#include "podsim/config/hardware_loader.h"
#include "podsim/config/hardware_params.h"
#include "podsim/sim/memory_selftest.h"

namespace podsim {
namespace {

// 8 channels x 2 pseudo-channels x 8 B at 2 GT/s = 256 GB/s: tCK = 1 ns, so a time in ns
// is the same number of cycles.
std::string hbm2_chip(const std::string& extra) {
  return "hardware:\n  base: tpu-v3\n  chip:\n    hbm:\n      channels: 8\n      bandwidth: 256 GB/s\n"
         "      device: hbm2\n" +
         extra;
}

DramDevice resolved(const std::string& extra, std::vector<std::string> overrides = {}) {
  return resolve_dram_device(load_hardware_text(hbm2_chip(extra), "hw.yaml", overrides).chip.hbm);
}

ConfigError load_error(const std::string& extra, std::vector<std::string> overrides = {}) {
  try {
    load_hardware_text(hbm2_chip(extra), "hw.yaml", overrides);
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << extra;
  return ConfigError({}, "", "");
}

TEST(DramDeviceOverrides, EveryTimingIsAParameterListedByParams) {
  for (const auto& f : dram_timing_fields()) {
    const HardwareParam* p = find_hardware_param(std::string("chip.hbm.timing.") + f.name);
    ASSERT_NE(p, nullptr) << f.name;
    EXPECT_EQ(p->default_text, "preset");
  }
  for (const char* org : {"pseudo_channels", "bank_groups", "banks_per_group", "rows", "columns", "bus_bits",
                          "burst_length"})
    EXPECT_NE(find_hardware_param(std::string("chip.hbm.") + org), nullptr) << org;
}

TEST(DramDeviceOverrides, NanosecondsAndClocksConvertAtTheDataRate) {
  EXPECT_EQ(resolved("      timing: {tRCD: 20 ns}\n").t.tRCD, 20u);  // tCK = 1 ns
  EXPECT_EQ(resolved("      timing: {tRCD: 20 ck}\n").t.tRCD, 20u);
  EXPECT_EQ(resolved("      timing: {tRCD: 20500 ps}\n").t.tRCD, 21u);  // rounded up: a timing is a minimum
  // Half the bandwidth: 1 GT/s, tCK = 2 ns: 20 ns is 10 clocks, 16 ck stays 16.
  EXPECT_EQ(resolved("      timing: {tRCD: 20 ns}\n", {"chip.hbm.bandwidth=128 GB/s"}).t.tRCD, 10u);
  EXPECT_EQ(resolved("      timing: {tRCD: 16 ck}\n", {"chip.hbm.bandwidth=128 GB/s"}).t.tRCD, 16u);
  // ... where 20 ck would outlast tRAS (33 ns = 17 ck): the row would close before its RD.
  EXPECT_EQ(load_error("      timing: {tRCD: 20 ck}\n", {"chip.hbm.bandwidth=128 GB/s"}).key_path(),
            "chip.hbm.timing.tRAS");
  // --set works the same way, and "preset" restores the device's value (hbm2: tRTP 4 ns).
  EXPECT_EQ(resolved("", {"chip.hbm.timing.tRTP=9 ns"}).t.tRTP, 9u);
  EXPECT_EQ(resolved("      timing: {tRTP: 9 ns}\n", {"chip.hbm.timing.tRTP=preset"}).t.tRTP, 4u);
  // A longer tRP alone breaks tRC >= tRAS + tRP (47 < 33 + 30): an error, not a silent fix.
  EXPECT_EQ(load_error("", {"chip.hbm.timing.tRP=30 ns"}).key_path(), "chip.hbm.timing.tRC");
}

TEST(DramDeviceOverrides, AnOverriddenTimingChangesTheClosedFormLatency) {
  // Closed row: ACT, RD tRCD later, data tCL + BL/2 after that = 20 + 14 + 2 = 36 cycles.
  const DramDevice d = resolved("      timing: {tRCD: 20 ns}\n");
  DramControllerSpec ctrl;
  ctrl.per_bank_refresh = false;
  DramChannel ch(d, ctrl);
  DramPiece p;
  p.arrival = 100;
  p.bank = 1;
  p.row = 3;
  EXPECT_EQ(ch.read(p) - 100, 36u);
}

TEST(DramDeviceOverrides, WritesWaitTRCDWRAndTheCheckerKnowsIt) {
  // tRCDWR 24 ns: the WR goes 24 cycles after its ACT (reads would go after tRCD = 14).
  const DramDevice d = resolved("      timing: {tRCDWR: 24 ns}\n");
  ASSERT_EQ(d.t.tRCDWR, 24u);
  ASSERT_EQ(d.t.tRCD, 14u);
  DramControllerSpec ctrl;
  ctrl.per_bank_refresh = false;
  ctrl.log_commands = true;
  DramChannel ch(d, ctrl);
  DramPiece w;
  w.arrival = 50;
  w.write = true;
  w.row = 5;
  ch.write(w);
  ch.flush();
  const auto& cmds = ch.commands();
  const auto act = std::find_if(cmds.begin(), cmds.end(), [](const DramCommand& c) { return c.type == DramCommandType::ACT; });
  const auto wr = std::find_if(cmds.begin(), cmds.end(), [](const DramCommand& c) { return c.type == DramCommandType::WR; });
  ASSERT_NE(act, cmds.end());
  ASSERT_NE(wr, cmds.end());
  EXPECT_EQ(wr->cycle - act->cycle, 24u);
  EXPECT_TRUE(check_dram_timing(d, cmds).empty());
  // Planted: the WR one cycle early breaks tRCDWR (and only a write rule: tRCD is 14).
  std::vector<DramCommand> planted = cmds;
  for (auto& c : planted)
    if (c.type == DramCommandType::WR) c.cycle = act->cycle + 23;
  bool found = false;
  for (const auto& v : check_dram_timing(d, planted)) found = found || v.rule == "tRCDWR";
  EXPECT_TRUE(found);
}

TEST(DramDeviceOverrides, ReadToWriteFollowsTRTW) {
  // Default tRTW = tCL + BL/2 + 2 - tCWL = 14 + 2 + 2 - 4 = 14; overridden to 20.
  EXPECT_EQ(resolved("").t.tRTW, 14u);
  const DramDevice d = resolved("      timing: {tRTW: 20 ck}\n");
  ASSERT_EQ(d.t.tRTW, 20u);
  DramControllerSpec ctrl;
  ctrl.per_bank_refresh = false;
  ctrl.log_commands = true;
  DramChannel ch(d, ctrl);
  DramPiece r;
  r.arrival = 10;
  r.row = 2;
  ch.read(r);
  DramPiece w = r;
  w.write = true;
  w.arrival = 40;  // the read's RD at 10 + tRCD = 24: the WR may not go before 44
  ch.write(w);
  ch.flush();
  std::int64_t rd = -1, wr = -1;
  for (const auto& c : ch.commands()) {
    if (c.type == DramCommandType::RD) rd = std::int64_t(c.cycle);
    if (c.type == DramCommandType::WR) wr = std::int64_t(c.cycle);
  }
  ASSERT_GE(rd, 0);
  ASSERT_GE(wr, 0);
  EXPECT_GE(wr - rd, 20);
  EXPECT_TRUE(check_dram_timing(d, ch.commands()).empty());
  std::vector<DramCommand> planted = ch.commands();
  for (auto& c : planted)
    if (c.type == DramCommandType::WR) c.cycle = std::uint64_t(rd + 19);
  bool found = false;
  for (const auto& v : check_dram_timing(d, planted)) found = found || v.rule == "tRTW";
  EXPECT_TRUE(found);
}

TEST(DramDeviceOverrides, InconsistentTimingsAreErrorsNamingTheKey) {
  // hbm2: tRC 47, tRP 14: a tRAS of 40 needs tRC >= 54.
  ConfigError e = load_error("      timing: {tRAS: 40 ns}\n");
  EXPECT_EQ(e.key_path(), "chip.hbm.timing.tRC");
  EXPECT_NE(e.problem().find("tRAS + tRP"), std::string::npos) << e.problem();
  EXPECT_EQ(e.where().file, "hw.yaml");
  // ... and giving tRC as well makes it consistent.
  EXPECT_EQ(resolved("      timing: {tRAS: 40 ns, tRC: 54 ns}\n").t.tRC, 54u);
  EXPECT_EQ(load_error("      timing: {tCCD_L: 1 ck}\n").key_path(), "chip.hbm.timing.tCCD_L");  // < tCCD_S = 2
  EXPECT_EQ(load_error("      timing: {tCCD_S: 1 ck}\n").key_path(), "chip.hbm.timing.tCCD_S");  // shorter than a burst
  EXPECT_EQ(load_error("      timing: {tCCD_L: 2 ck, tCCD_S: 3 ck}\n").key_path(), "chip.hbm.timing.tCCD_L");
  EXPECT_EQ(load_error("      timing: {tRRD_L: 2 ns}\n").key_path(), "chip.hbm.timing.tRRD_L");
  EXPECT_EQ(load_error("      timing: {tRTW: 5 ck}\n").key_path(), "chip.hbm.timing.tRTW");  // < 14 + 2 - 4
  EXPECT_EQ(load_error("      timing: {tREFI: 300 ns}\n").key_path(), "chip.hbm.timing.tREFI");  // < tRFC 350
  EXPECT_EQ(load_error("      timing: {tCL: 0 ck}\n").key_path(), "chip.hbm.timing.tCL");
  EXPECT_EQ(load_error("", {"chip.hbm.device=ddr3"}).key_path(), "chip.hbm.refresh");  // DDR3 has no REFpb
  EXPECT_EQ(resolved("      refresh: all_bank\n", {"chip.hbm.device=ddr3"}).t.tRFCpb, 0u);
  EXPECT_EQ(load_error("      burst_length: 3\n").key_path(), "chip.hbm.burst_length");
  EXPECT_EQ(load_error("      xor_channel: true\n", {"chip.hbm.channels=6", "chip.hbm.bandwidth=192 GB/s"}).key_path(),
            "chip.hbm.xor_channel");  // 12 pseudo-channels: an XOR would leave the field
  EXPECT_EQ(load_error("      write_high_watermark: 40\n      write_low_watermark: 40\n").key_path(),
            "chip.hbm.write_low_watermark");  // a drain must stop below where it starts
}

TEST(DramDeviceOverrides, BadValuesAreErrorsAtTheirLine) {
  ConfigError e = load_error("      timing:\n        tFAW: 14 parsecs\n");
  EXPECT_EQ(e.key_path(), "chip.hbm.timing.tFAW");
  EXPECT_EQ(e.where().line, 9);
  EXPECT_NE(e.problem().find("'14 ns' or cycles like '7 ck'"), std::string::npos) << e.problem();
  EXPECT_EQ(load_error("      timing: {tFAW: 1.5 ck}\n").key_path(), "chip.hbm.timing.tFAW");
  EXPECT_EQ(load_error("      timing: {tWAT: 3 ns}\n").key_path(), "chip.hbm.timing.tWAT");  // unknown timing
  EXPECT_EQ(load_error("      bank_groups: 9\n").key_path(), "chip.hbm.bank_groups");
}

TEST(DramDeviceOverrides, OrganisationOverridesChangeTheDevice) {
  const DramDevice d = resolved("      bank_groups: 2\n      banks_per_group: 8\n      columns: 64\n");
  EXPECT_EQ(d.bank_groups, 2u);
  EXPECT_EQ(d.banks_per_group, 8u);
  EXPECT_EQ(d.row_bytes(), 64u * 32u);  // 64 bursts x 32 B (64-bit bus, BL4)
  // Legacy mode: one 128-bit channel = 1 pseudo-channel of 128 bits; same bytes per
  // transfer, so the same data rate (2 GT/s) and twice the burst.
  const DramDevice legacy = resolved("      pseudo_channels: 1\n      bus_bits: 128\n");
  EXPECT_EQ(legacy.pseudo_channels, 1u);
  EXPECT_EQ(legacy.data_rate, 2'000'000'000u);
  EXPECT_EQ(legacy.burst_bytes(), 64u);
}

TEST(DramDeviceOverrides, RowsFollowTheCapacity) {
  // tpu-v3: 32 GiB over 64 pseudo-channels x 16 banks x 1 KiB rows = 32768 rows per bank.
  const HardwareSpec v3 = load_hardware("tpu-v3");
  const DramDevice d = resolve_dram_device(v3.chip.hbm);
  EXPECT_EQ(d.rows, 32768u);
  // The second 16 GiB no longer wraps onto the first: distinct addresses, distinct places.
  AddressMap map(d, 64, v3.chip.hbm.mapping, false, true);
  const DramAddress lo = map.decode(0), hi = map.decode(16ull << 30);
  EXPECT_NE(std::make_tuple(lo.pc, lo.bg, lo.bank, lo.row, lo.col), std::make_tuple(hi.pc, hi.bg, hi.bank, hi.row, hi.col));
  EXPECT_EQ(map.decode((32ull << 30) - 32).row, 32767u);
  EXPECT_EQ(resolved("      rows: 1000\n").rows, 1000u);
  // One row in each of 8 x 2 pseudo-channels x 4 x 64 banks of 1 KiB is 4 MiB.
  EXPECT_EQ(load_error("      capacity: 1 MiB\n      banks_per_group: 64\n").key_path(), "chip.hbm.capacity");
}

TEST(DramMapping, FieldOrdersInEitherSpellingAreOneToOne) {
  std::string why;
  EXPECT_EQ(normalize_dram_mapping("RoBaChCoBg", &why).value_or(""), "ro_ba_ch_co_bg");
  EXPECT_EQ(normalize_dram_mapping("ro_ch_ba_bg_co", &why).value_or(""), "ro_ch_ba_bg_co");
  EXPECT_FALSE(normalize_dram_mapping("ro_ro_ch_co_bg", &why));
  EXPECT_FALSE(normalize_dram_mapping("ro_ba_ch_co", &why));
  EXPECT_FALSE(normalize_dram_mapping("ro_ba_ch_co_bg_xx", &why));
  EXPECT_NE(why.find("ro, ba, bg, ch and co once each"), std::string::npos) << why;
  EXPECT_EQ(load_hardware_text(hbm2_chip("      mapping: RoChBaBgCo\n"), "hw.yaml").chip.hbm.mapping, "ro_ch_ba_bg_co");

  // Every one of the 120 orders on a small device (2 PCs, 2 bank groups x 2 banks, 4 rows,
  // 4 columns = 128 bursts): each burst lands in a distinct place, and the run the map
  // reports from any burst stays in that burst's (pseudo-channel, bank, row).
  DramDevice d = *dram_device("hbm2", 2'000'000'000);
  d.bank_groups = 2;
  d.banks_per_group = 2;
  d.rows = 4;
  d.columns = 4;
  std::vector<std::string> fields = {"bg", "ba", "ch", "co", "ro"};
  std::sort(fields.begin(), fields.end());
  int orders = 0;
  do {
    const std::string order = fields[0] + "_" + fields[1] + "_" + fields[2] + "_" + fields[3] + "_" + fields[4];
    for (bool hash : {false, true}) {
      AddressMap map(d, 2, order, false, hash);
      std::set<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t, std::uint32_t>> seen;
      for (std::uint64_t b = 0; b < 128; ++b) {
        const DramAddress a = map.decode(b * 32);
        seen.insert({a.pc, a.bg, a.bank, a.row, a.col});
        const std::uint64_t run = map.bursts_left_in_block(a);
        ASSERT_GE(run, 1u) << order;
        for (std::uint64_t j = 1; j < run && b + j < 128; ++j) {
          const DramAddress n = map.decode((b + j) * 32);
          ASSERT_EQ(std::make_tuple(n.pc, n.bank, n.row), std::make_tuple(a.pc, a.bank, a.row)) << order << " burst " << b;
        }
      }
      EXPECT_EQ(seen.size(), 128u) << order;
    }
    ++orders;
  } while (std::next_permutation(fields.begin(), fields.end()));
  EXPECT_EQ(orders, 120);
}

TEST(Ddr3Preset, TpuV1StreamsAtPeakLessRefreshWithNoTimingViolation) {
  // tpu-v1: 2 x 64-bit DDR3 channels at 34 GB/s = 2.125 GT/s. Sequential reads: at least
  // 95 % of peak x (1 - tRFC / tREFI) = 95 % x 34 x (1 - 260 / 7800) GB/s.
  const HardwareSpec v1 = load_hardware("tpu-v1");
  ASSERT_EQ(v1.chip.hbm.device, "ddr3");
  const DramDevice d = resolve_dram_device(v1.chip.hbm);
  EXPECT_EQ(d.data_rate, 2'125'000'000u);
  EXPECT_EQ(d.t.tCL, 14u);            // 14 ck, the DDR3-2133N bin
  EXPECT_EQ(d.t.tRCD, 14u);           // 13.09 ns at 0.941 ns: 13.9 -> 14
  EXPECT_EQ(d.t.tFAW, 27u);           // 25 ns -> 26.6 -> 27
  EXPECT_EQ(d.rows, 65536u);          // 8 GiB / (2 channels x 8 banks x 8 KiB)
  MemorySelftestOptions o;
  o.stream_bytes = 16ull << 20;
  o.random_requests = 4000;
  o.only = {"seq_read", "random_read_64B", "mix_2r1w"};
  o.check_timing = true;
  const auto results = run_memory_selftest(v1, o);
  ASSERT_EQ(results.size(), 3u);
  const double bound = 0.95 * 34e9 * (1.0 - 260.0 / 7800.0);
  EXPECT_GE(results[0].achieved_gbps * 1e9, bound);
  EXPECT_GT(results[0].commands_checked, 0u);
  for (const auto& r : results) EXPECT_EQ(r.timing_violations, 0u) << r.name;
}

}  // namespace
}  // namespace podsim
