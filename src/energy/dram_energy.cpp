#include "podsim/energy/dram_energy.h"

#include <algorithm>

#include "podsim/config/dram_device.h"

namespace podsim {
namespace {

// A device's datasheet currents as DRAMsim3 ships them (umd-memsys/DRAMsim3, configs/*.ini),
// with the timings of the IDD0 loop they were measured over, in ns.
struct DeviceCurrents {
  const char* source;
  double vdd;                                   // V
  double idd0, idd2n, idd3n, idd4r, idd4w, idd5ab;  // mA
  double t_ras, t_rp, t_rfc, burst_ns;          // ns; burst_ns = a burst's data time
  double burst_bits;                            // bits one burst moves across the devices
  double row_bits;                              // bits one ACT senses across the devices
  double devices;                               // devices sharing a command (a rank)
  double banks;                                 // banks an all-bank refresh covers
  double refresh_share;                         // of the all-bank refresh energy, per channel refreshed here
};

// HBM2: configs/HBM2_8Gb_x128.ini (VDD 1.2 V; IDD0 65, IDD2N 40, IDD3N 55, IDD4R 390,
// IDD4W 500, IDD5AB 250 mA; tCK 1 ns, tRAS 34, tRP 14, tRFC 260, BL4 on 128 bits, a 1 KB
// row: 64 columns x 128 bits). podsim's HBM2 runs pseudo-channels of 64 bits with a
// 1 KiB page: an ACT senses the same page, and a pseudo-channel's refresh is taken as half
// the 128-bit channel's [A]. HBM2E, HBM3 and HBM3E use these currents too [A]: DRAMsim3
// ships no configuration for them.
constexpr DeviceCurrents kHbm2 = {"DRAMsim3 configs/HBM2_8Gb_x128.ini (IDD currents)",
                                  1.2, 65, 40, 55, 390, 500, 250, 34, 14, 260, 2, 512, 8192, 1, 16, 0.5};
// DDR3: configs/DDR3_4Gb_x8_1866.ini (VDD 1.35 V; IDD0 62, IDD2N 35, IDD3N 41, IDD4R 174,
// IDD4W 141, IDD5AB 242 mA; tCK 1.07 ns, tRAS 32, tRP 13, tRFC 243 clocks; BL8), eight x8
// devices on a 64-bit channel (TPU v1's 4 GiB per channel of 4 Gb parts), an 8 KiB row.
constexpr double kDdr3Ck = 1.07;
constexpr DeviceCurrents kDdr3 = {"DRAMsim3 configs/DDR3_4Gb_x8_1866.ini (IDD currents), 8 x8 devices a channel",
                                  1.35, 62, 35, 41, 174, 141, 242, 32 * kDdr3Ck, 13 * kDdr3Ck, 243 * kDdr3Ck,
                                  4 * kDdr3Ck, 512, 65536, 8, 8, 1};

}  // namespace

DramCommandEnergy dram_command_energy(const HardwareSpec& hw) {
  DramCommandEnergy e;
  const HbmSpec& spec = hw.chip.hbm;
  if (spec.device == "ideal") return e;
  const DeviceCurrents& c = spec.device == "ddr3" ? kDdr3 : kHbm2;
  const DramDevice d = resolve_dram_device(spec);
  const double pj = 1e-12;  // V x mA x ns
  // The IDD0 loop (ACT, PRE every tRC) less the standby current the bank would draw
  // anyway: active for tRAS, precharged for tRP (DRAMsim3's and DRAMPower's method).
  const double t_rc = c.t_ras + c.t_rp;
  const double act_ref = c.vdd * (c.idd0 * t_rc - (c.idd3n * c.t_ras + c.idd2n * c.t_rp)) * c.devices * pj;
  // An ACT senses one row: a device whose rows are longer or shorter scales with them [A].
  e.act_j = act_ref * double(d.row_bytes()) * 8.0 / c.row_bits;
  e.read_bit_j = c.vdd * (c.idd4r - c.idd3n) * c.burst_ns * c.devices * pj / c.burst_bits;
  e.write_bit_j = c.vdd * (c.idd4w - c.idd3n) * c.burst_ns * c.devices * pj / c.burst_bits;
  e.refresh_j = c.vdd * (c.idd5ab - c.idd3n) * c.t_rfc * c.devices * pj * c.refresh_share;
  e.bank_refresh_j = e.refresh_j / c.banks;
  // chip.energy.dram_bit is the preset's whole figure per bit; taken as a streaming read's
  // (whole rows, one ACT per row) [A], what the currents above leave of it is the I/O's and
  // the interface's: a stream costs the same in both models, a scattered access pays its ACTs.
  const double per_bit = double(hw.chip.energy.dram_bit_aJ) * 1e-18;
  e.io_bit_j = std::max(0.0, per_bit - e.read_bit_j - e.act_j / (double(d.row_bytes()) * 8.0));
  e.row_bytes = double(d.row_bytes());
  e.known = true;
  e.source = c.source;
  return e;
}

DramEnergyParts dram_energy(const DramCommandEnergy& e, const DramCounts& n) {
  DramEnergyParts p;
  p.act_j = double(n.acts) * e.act_j;
  p.read_j = double(n.read_bytes) * 8.0 * e.read_bit_j;
  p.write_j = double(n.write_bytes) * 8.0 * e.write_bit_j;
  p.refresh_j = double(n.refreshes) * e.refresh_j + double(n.bank_refreshes) * e.bank_refresh_j;
  p.io_j = double(n.read_bytes + n.write_bytes) * 8.0 * e.io_bit_j;
  return p;
}

}  // namespace podsim
