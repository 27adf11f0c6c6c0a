#include "podsim/config/dram_device.h"

#include <cmath>

namespace podsim {
namespace {

struct Preset {
  const char* name;
  std::uint32_t pseudo_channels, bank_groups, banks_per_group, rows, columns, bus_bits, burst_length;
  DramTimingNs ns;
};

// Sources. [S]: representative values from vendor datasheets and the JEDEC standards as
// summarised by open DRAM simulators (Ramulator 2, DRAMSys configs); [A]: ours.
//   hbm2  JESD235A/B: 8 x 128-bit channels per stack in pseudo-channel mode (2 x 64-bit),
//         4 bank groups x 4 banks, 1 KiB page per pseudo-channel, BL4, up to 2.4 Gb/s/pin.
//   hbm2e JESD235C/D: same organisation, up to 3.6 Gb/s/pin, slightly faster core [S].
//   hbm3  JESD238: 16 x 64-bit channels per stack, each 2 x 32-bit pseudo-channels,
//         4 bank groups x 4 banks per pseudo-channel, BL8, up to 6.4 Gb/s/pin [S].
// Core timings (ns) change little across generations; the column-to-column and the
// write latency are given in clocks. Refresh: tREFI 3.9 us; all-bank tRFC 350 ns and
// per-bank tRFCpb 160 ns for 8 Gb dies [S].
constexpr Preset kPresets[] = {
    //        PCs BGs B/G  rows   cols bits BL
    {"hbm2",  2,  4,  4,  16384, 32,  64,  4,
     // tRCD tRP  tRAS tRC  tCL  tCWL tCCDS tCCDL tRRDS tRRDL tFAW tWR tWTRS tWTRL tRTP tRFC  tREFI tRFCpb
     {14,   14,  33,  47,  14,  4,   2,    4,    4,    6,    16,  16, 3,    8,    4,   350,  3900, 160}},
    {"hbm2e", 2,  4,  4,  32768, 32,  64,  4,
     {14,   14,  29,  43,  14,  4,   2,    4,    3,    5,    14,  15, 3,    7,    4,   350,  3900, 160}},
    {"hbm3",  2,  4,  4,  32768, 32,  32,  8,
     {14,   14,  29,  43,  16,  6,   4,    8,    3,    4,    12,  15, 3,    7,    4,   350,  3900, 160}},
};

std::uint32_t cycles(double ns, double tck_ns) { return static_cast<std::uint32_t>(std::ceil(ns / tck_ns - 1e-9)); }

}  // namespace

std::uint64_t hbm_data_rate(const HbmSpec& spec) {
  if (spec.device == "ideal") return 0;
  const auto d = dram_device(spec.device, 1'000'000'000);
  if (!d) return 0;
  const std::uint64_t bytes_per_transfer = std::uint64_t(spec.channels) * d->pseudo_channels * d->bus_bits / 8;
  return spec.bandwidth_Bps / bytes_per_transfer;
}

std::vector<std::string> dram_device_names() {
  std::vector<std::string> out;
  for (const auto& p : kPresets) out.emplace_back(p.name);
  return out;
}

std::optional<DramDevice> dram_device(const std::string& name, std::uint64_t data_rate) {
  for (const auto& p : kPresets) {
    if (name != p.name) continue;
    DramDevice d;
    d.name = p.name;
    d.pseudo_channels = p.pseudo_channels;
    d.bank_groups = p.bank_groups;
    d.banks_per_group = p.banks_per_group;
    d.rows = p.rows;
    d.columns = p.columns;
    d.bus_bits = p.bus_bits;
    d.burst_length = p.burst_length;
    d.data_rate = data_rate;
    const double tck = 2e9 / double(data_rate);  // ns per clock
    const DramTimingNs& n = p.ns;
    d.t.tRCD = cycles(n.tRCD, tck);
    d.t.tRP = cycles(n.tRP, tck);
    d.t.tRAS = cycles(n.tRAS, tck);
    d.t.tRC = std::max(cycles(n.tRC, tck), d.t.tRAS + d.t.tRP);
    d.t.tCL = cycles(n.tCL, tck);
    d.t.tCWL = std::uint32_t(n.tCWL_ck);
    d.t.tCCD_S = std::max<std::uint32_t>(std::uint32_t(n.tCCD_S_ck), d.burst_cycles());
    d.t.tCCD_L = std::max<std::uint32_t>(std::uint32_t(n.tCCD_L_ck), d.t.tCCD_S);
    d.t.tRRD_S = std::max<std::uint32_t>(cycles(n.tRRD_S, tck), 2);
    d.t.tRRD_L = std::max(cycles(n.tRRD_L, tck), d.t.tRRD_S);
    d.t.tFAW = cycles(n.tFAW, tck);
    d.t.tWR = cycles(n.tWR, tck);
    d.t.tWTR_S = cycles(n.tWTR_S, tck);
    d.t.tWTR_L = cycles(n.tWTR_L, tck);
    d.t.tRTP = cycles(n.tRTP, tck);
    d.t.tRFC = cycles(n.tRFC, tck);
    d.t.tREFI = cycles(n.tREFI, tck);
    d.t.tRFCpb = cycles(n.tRFCpb, tck);
    return d;
  }
  return std::nullopt;
}

}  // namespace podsim
