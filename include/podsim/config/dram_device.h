// A DRAM device as the controller sees it: organisation, data rate and the JEDEC timing
// set. Presets (dram_device.cpp) carry their sources; the memory model in arch/dram/
// uses them, and the hardware loader checks the data rate a chip implies. Timings are in device clock cycles
// (tCK = 2 / data rate: two transfers per clock).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "podsim/config/hardware_spec.h"

namespace podsim {

struct DramTiming {  // all in tCK
  std::uint32_t tRCD = 0;    // ACT to RD (HBM's tRCDRD)
  std::uint32_t tRCDWR = 0;  // ACT to WR
  std::uint32_t tRP = 0, tRAS = 0, tRC = 0;
  std::uint32_t tCL = 0, tCWL = 0;
  std::uint32_t tCCD_S = 0, tCCD_L = 0;
  std::uint32_t tRRD_S = 0, tRRD_L = 0, tFAW = 0;
  std::uint32_t tWR = 0, tWTR_S = 0, tWTR_L = 0, tRTP = 0;
  std::uint32_t tRTW = 0;    // RD to WR command (read data out, bus turned round, write data in)
  std::uint32_t tRFC = 0, tREFI = 0;
  std::uint32_t tRFCpb = 0;  // per-bank refresh; one bank every tREFI / banks; 0: the device has none
};

// Every timing by its JEDEC name, for overrides (chip.hbm.timing.<name>) and listings.
struct DramTimingField {
  const char* name;
  std::uint32_t DramTiming::*member;
  const char* description;
};
const std::vector<DramTimingField>& dram_timing_fields();

struct DramDevice {
  std::string name;             // "hbm2"
  std::uint32_t pseudo_channels = 2;  // per channel, each with its own banks and data bus
  std::uint32_t bank_groups = 4;
  std::uint32_t banks_per_group = 4;
  std::uint32_t rows = 16384;
  std::uint32_t columns = 32;   // bursts per row per bank (row size = columns x burst bytes)
  std::uint32_t bus_bits = 64;  // data bus of one pseudo-channel
  std::uint32_t burst_length = 4;
  std::uint64_t data_rate = 0;  // transfers per second per pin (set from the chip's bandwidth)
  DramTiming t;                 // at data_rate

  std::uint32_t burst_bytes() const { return bus_bits / 8 * burst_length; }
  std::uint32_t burst_cycles() const { return burst_length / 2; }  // data bus time of one burst
  std::uint64_t clock_hz() const { return data_rate / 2; }
  std::uint64_t row_bytes() const { return std::uint64_t(columns) * burst_bytes(); }
};

std::vector<std::string> dram_device_names();  // "hbm2", "hbm2e", "hbm3", "hbm3e", "ddr3"
// The preset device at `data_rate` transfers/s; nullopt for an unknown name.
std::optional<DramDevice> dram_device(const std::string& name, std::uint64_t data_rate);
// The preset's timings as written in its source ("14 ns", "4 ck"), in dram_timing_fields() order.
std::vector<std::string> dram_preset_timing_texts(const std::string& name);

// A timing as a user writes it: "14 ns" (any time unit) or "7 ck" (also "cycles", "tCK").
// Returns the canonical text ("14 ns", "7 ck"), or nullopt and a reason.
std::optional<std::string> parse_dram_time(const std::string& text, std::string* why);

// An address mapping as a field order, most significant first: "ro_ba_ch_co_bg" or
// "RoBaChCoBg" (ro, ba, bg, ch, co each once). Returns the canonical "ro_ba_ch_co_bg" form.
std::optional<std::string> normalize_dram_mapping(const std::string& text, std::string* why);

// The device a chip's HBM spec describes: the preset at the data rate its bandwidth implies,
// with every override under chip.hbm applied, rows from the capacity, checked for
// consistency (tRC >= tRAS + tRP, ...). Throws ConfigError (no location) naming the key.
DramDevice resolve_dram_device(const HbmSpec& spec);
// The DRAM data rate a chip's HBM spec implies: bandwidth / (pseudo-channels x bytes per
// transfer), in transfers per second; 0 for the ideal device.
std::uint64_t hbm_data_rate(const HbmSpec& spec);

// Its peak bandwidth per pseudo-channel: bus_bits / 8 x data_rate.
inline std::uint64_t dram_pc_peak_Bps(const DramDevice& d) { return std::uint64_t(d.bus_bits) / 8 * d.data_rate; }

}  // namespace podsim
