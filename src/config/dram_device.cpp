#include "podsim/config/dram_device.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

#include "podsim/config/config_error.h"
#include "podsim/config/units.h"

namespace podsim {

const std::vector<DramTimingField>& dram_timing_fields() {
  static const std::vector<DramTimingField> fields = {
      {"tCL", &DramTiming::tCL, "RD to its first data (CAS latency)"},
      {"tCWL", &DramTiming::tCWL, "WR to its first data (CAS write latency)"},
      {"tRCD", &DramTiming::tRCD, "ACT to RD (HBM's tRCDRD)"},
      {"tRCDWR", &DramTiming::tRCDWR, "ACT to WR"},
      {"tRP", &DramTiming::tRP, "PRE to ACT of the same bank"},
      {"tRAS", &DramTiming::tRAS, "ACT to PRE of the same bank"},
      {"tRC", &DramTiming::tRC, "ACT to ACT of the same bank (>= tRAS + tRP)"},
      {"tRRD_S", &DramTiming::tRRD_S, "ACT to ACT, different bank groups"},
      {"tRRD_L", &DramTiming::tRRD_L, "ACT to ACT, same bank group"},
      {"tFAW", &DramTiming::tFAW, "window holding at most four ACTs (per pseudo-channel)"},
      {"tCCD_S", &DramTiming::tCCD_S, "column command to column command, different bank groups"},
      {"tCCD_L", &DramTiming::tCCD_L, "column command to column command, same bank group"},
      {"tWR", &DramTiming::tWR, "end of write data to PRE (write recovery)"},
      {"tWTR_S", &DramTiming::tWTR_S, "end of write data to RD, different bank groups"},
      {"tWTR_L", &DramTiming::tWTR_L, "end of write data to RD, same bank group"},
      {"tRTP", &DramTiming::tRTP, "RD to PRE"},
      {"tRTW", &DramTiming::tRTW, "RD to WR (read data out and the bus turned round)"},
      {"tREFI", &DramTiming::tREFI, "refresh interval (all banks once)"},
      {"tRFC", &DramTiming::tRFC, "all-bank refresh time"},
      {"tRFCpb", &DramTiming::tRFCpb, "per-bank refresh time (0: the device has no per-bank refresh)"},
  };
  return fields;
}

namespace {

struct Preset {
  const char* name;
  std::uint32_t pseudo_channels, bank_groups, banks_per_group, rows, columns, bus_bits, burst_length;
  // In dram_timing_fields() order, written as the source gives them. "auto" for tRTW:
  // tCL + BL/2 + 2 - tCWL (read data out, two cycles of bus turnaround [A], write data in).
  const char* timing[20];
};

// Sources. [S]: representative values from vendor datasheets and the JEDEC standards as
// summarised by open DRAM simulators (Ramulator 2, DRAMsim3, DRAMSys configs); [A]: ours.
//   hbm2  JESD235A/B: 8 x 128-bit channels per stack in pseudo-channel mode (2 x 64-bit),
//         4 bank groups x 4 banks, 1 KiB page per pseudo-channel, BL4, up to 2.4 Gb/s/pin.
//   hbm2e JESD235C/D: same organisation, up to 3.6 Gb/s/pin, slightly faster core [S].
//   hbm3  JESD238: 16 x 64-bit channels per stack, each 2 x 32-bit pseudo-channels,
//         4 bank groups x 4 banks per pseudo-channel, BL8, up to 6.4 Gb/s/pin [S].
//   hbm3e JESD238A: the HBM3 organisation at up to 9.6 Gb/s/pin; core timings as HBM3 [A]
//         (vendors publish the pin rate, not the core timings).
//   ddr3  JESD79-3F, DDR3-2133N (14-14-14) speed bin, 4 Gb x8 dies, eight per 64-bit rank
//         (TPU v1's weight memory, Jouppi et al. ISCA 2017): one bank group of 8 banks,
//         1 KiB page per die = 8 KiB per rank, BL8; tRRD 5 ns and tFAW 25 ns (1 KiB page),
//         tWTR and tRTP 7.5 ns, tWR 15 ns, tREFI 7.8 us, tRFC 260 ns (4 Gb); no per-bank
//         refresh.
// HBM core timings (ns) change little across generations; the column-to-column and the
// write latency are given in clocks. Refresh: tREFI 3.9 us; all-bank tRFC 350 ns and
// per-bank tRFCpb 160 ns for 8 Gb dies [S]. tRCDWR = tRCD [A] (the datasheets we have give one tRCD).
//   tCL      tCWL    tRCD     tRCDWR   tRP      tRAS    tRC      tRRD_S  tRRD_L  tFAW    tCCD_S  tCCD_L
//   tWR      tWTR_S  tWTR_L   tRTP     tRTW     tREFI   tRFC     tRFCpb
constexpr Preset kPresets[] = {
    //        PCs BGs B/G  rows   cols bits BL
    {"hbm2",  2,  4,  4,  16384, 32,  64,  4,
     {"14 ns", "4 ck", "14 ns", "14 ns", "14 ns", "33 ns", "47 ns", "4 ns", "6 ns", "16 ns", "2 ck", "4 ck",
      "16 ns", "3 ns", "8 ns", "4 ns", "auto", "3.9 us", "350 ns", "160 ns"}},
    {"hbm2e", 2,  4,  4,  32768, 32,  64,  4,
     {"14 ns", "4 ck", "14 ns", "14 ns", "14 ns", "29 ns", "43 ns", "3 ns", "5 ns", "14 ns", "2 ck", "4 ck",
      "15 ns", "3 ns", "7 ns", "4 ns", "auto", "3.9 us", "350 ns", "160 ns"}},
    {"hbm3",  2,  4,  4,  32768, 32,  32,  8,
     {"16 ns", "6 ck", "14 ns", "14 ns", "14 ns", "29 ns", "43 ns", "3 ns", "4 ns", "12 ns", "4 ck", "8 ck",
      "15 ns", "3 ns", "7 ns", "4 ns", "auto", "3.9 us", "350 ns", "160 ns"}},
    {"hbm3e", 2,  4,  4,  65536, 32,  32,  8,
     {"16 ns", "6 ck", "14 ns", "14 ns", "14 ns", "29 ns", "43 ns", "3 ns", "4 ns", "12 ns", "4 ck", "8 ck",
      "15 ns", "3 ns", "7 ns", "4 ns", "auto", "3.9 us", "350 ns", "160 ns"}},
    {"ddr3",  1,  1,  8,  65536, 128, 64,  8,
     {"14 ck", "10 ck", "13.09 ns", "13.09 ns", "13.09 ns", "33 ns", "46.09 ns", "5 ns", "5 ns", "25 ns", "4 ck",
      "4 ck", "15 ns", "7.5 ns", "7.5 ns", "7.5 ns", "auto", "7.8 us", "260 ns", "0 ck"}},
};

const Preset* find(const std::string& name) {
  for (const auto& p : kPresets)
    if (name == p.name) return &p;
  return nullptr;
}

// A canonical timing text ("14 ns", "7 ck") in cycles of tCK = 2 / data rate; a time is
// rounded up to whole cycles (a timing is a minimum).
std::uint32_t to_cycles(const std::string& text, std::uint64_t data_rate) {
  if (text.size() > 3 && text.compare(text.size() - 3, 3, " ck") == 0)
    return std::uint32_t(std::stoul(text.substr(0, text.size() - 3)));
  const auto ps = parse_quantity(text, UnitKind::time, nullptr);
  const double tck_ps = 2e12 / double(data_rate);
  return static_cast<std::uint32_t>(std::ceil(double(ps->value) / tck_ps - 1e-9));
}

void fill_organisation(DramDevice& d, const Preset& p) {
  d.name = p.name;
  d.pseudo_channels = p.pseudo_channels;
  d.bank_groups = p.bank_groups;
  d.banks_per_group = p.banks_per_group;
  d.rows = p.rows;
  d.columns = p.columns;
  d.bus_bits = p.bus_bits;
  d.burst_length = p.burst_length;
}

std::uint32_t auto_rtw(const DramDevice& d) {
  const std::int64_t v = std::int64_t(d.t.tCL) + d.burst_cycles() + 2 - std::int64_t(d.t.tCWL);
  return std::uint32_t(std::max<std::int64_t>(v, d.t.tCCD_S));
}

// The preset's timings at d.data_rate, with the JEDEC max(nCK, ns) minimums of a preset
// written in ns only: tRC >= tRAS + tRP, tCCD_S >= one burst, tCCD_L >= tCCD_S,
// tRRD_S >= 2 ck (one row command per cycle and the DDR3 4 ck floor where it applies), tRRD_L >= tRRD_S.
void fill_timing(DramDevice& d, const Preset& p) {
  const auto& fields = dram_timing_fields();
  for (std::size_t i = 0; i < fields.size(); ++i)
    if (std::string(p.timing[i]) != "auto") d.t.*fields[i].member = to_cycles(p.timing[i], d.data_rate);
  auto& t = d.t;
  t.tRC = std::max(t.tRC, t.tRAS + t.tRP);
  t.tCCD_S = std::max(t.tCCD_S, d.burst_cycles());
  t.tCCD_L = std::max(t.tCCD_L, t.tCCD_S);
  t.tRRD_S = std::max<std::uint32_t>(t.tRRD_S, d.bank_groups == 1 ? 4 : 2);
  t.tRRD_L = std::max(t.tRRD_L, t.tRRD_S);
  t.tRTW = auto_rtw(d);
}

[[noreturn]] void bad(const std::string& key, const std::string& why) { throw ConfigError({}, key, why); }

// The device must be one a controller can drive: every rule the timing model assumes.
void check_consistency(const DramDevice& d, const HbmSpec& spec) {
  const auto& t = d.t;
  const std::string k = "chip.hbm.timing.";
  auto need = [&](bool ok, const std::string& key, const std::string& why) {
    if (!ok) bad(key, why);
  };
  need(d.burst_length >= 2 && d.burst_length % 2 == 0, "chip.hbm.burst_length",
       fmt::format("must be even (two transfers per clock), got {}", d.burst_length));
  need(d.bus_bits >= 8 && d.bus_bits % 8 == 0, "chip.hbm.bus_bits",
       fmt::format("must be a whole number of bytes, got {}", d.bus_bits));
  need(d.bank_groups <= 8, "chip.hbm.bank_groups", fmt::format("at most 8 are modelled, got {}", d.bank_groups));
  for (const char* name : {"tCL", "tCWL", "tRCD", "tRCDWR", "tRP", "tRAS", "tRC", "tRRD_S", "tCCD_S", "tREFI", "tRFC"})
    for (const auto& f : dram_timing_fields())
      if (f.name == std::string(name)) need(t.*f.member >= 1, k + name, "must be at least 1 cycle");
  auto ck = [](std::uint32_t v) { return fmt::format("{} ck", v); };
  need(t.tRC >= t.tRAS + t.tRP, k + "tRC",
       fmt::format("{} is less than tRAS + tRP = {} + {}: a bank cannot open, hold and close a row that fast",
                   ck(t.tRC), ck(t.tRAS), ck(t.tRP)));
  need(t.tRAS >= t.tRCD, k + "tRAS",
       fmt::format("{} is less than tRCD ({}): the row must stay open until a column command can reach it",
                   ck(t.tRAS), ck(t.tRCD)));
  need(t.tCCD_S >= d.burst_cycles(), k + "tCCD_S",
       fmt::format("{} is shorter than one burst on the data bus (BL{} = {})", ck(t.tCCD_S), d.burst_length,
                   ck(d.burst_cycles())));
  need(t.tCCD_L >= t.tCCD_S, k + "tCCD_L", fmt::format("{} is less than tCCD_S ({})", ck(t.tCCD_L), ck(t.tCCD_S)));
  need(t.tRRD_L >= t.tRRD_S, k + "tRRD_L", fmt::format("{} is less than tRRD_S ({})", ck(t.tRRD_L), ck(t.tRRD_S)));
  need(t.tWTR_L >= t.tWTR_S, k + "tWTR_L", fmt::format("{} is less than tWTR_S ({})", ck(t.tWTR_L), ck(t.tWTR_S)));
  need(std::int64_t(t.tRTW) + t.tCWL >= std::int64_t(t.tCL) + d.burst_cycles(), k + "tRTW",
       fmt::format("{}: the write data (tCWL = {} after WR) would collide with the read data (tCL + BL/2 = {} "
                   "after RD); it must be at least tCL + BL/2 - tCWL",
                   ck(t.tRTW), ck(t.tCWL), ck(t.tCL + d.burst_cycles())));
  const std::uint64_t pcs = std::uint64_t(spec.channels) * d.pseudo_channels;
  need(!spec.xor_channel || (pcs & (pcs - 1)) == 0, "chip.hbm.xor_channel",
       fmt::format("needs a power-of-two number of pseudo-channels (an XOR must stay inside the field); "
                   "this chip has {} x {} = {}",
                   spec.channels, d.pseudo_channels, pcs));
  need(spec.write_low_watermark < spec.write_high_watermark, "chip.hbm.write_low_watermark",
       fmt::format("{} % is not below the high watermark ({} %): a drain must leave fewer writes than start it",
                   spec.write_low_watermark, spec.write_high_watermark));
  need(t.tREFI > t.tRFC, k + "tREFI",
       fmt::format("{} leaves no time between all-bank refreshes of {} (tRFC)", ck(t.tREFI), ck(t.tRFC)));
  if (spec.refresh == "per_bank") {
    need(t.tRFCpb > 0, "chip.hbm.refresh",
         fmt::format("device '{}' has no per-bank refresh (tRFCpb = 0); use all_bank", d.name));
    const std::uint32_t banks = d.bank_groups * d.banks_per_group;
    need(t.tREFI / banks > 0, k + "tREFI",
         fmt::format("{} is shorter than one cycle per bank ({} banks refreshed one at a time)", ck(t.tREFI), banks));
  }
}

}  // namespace

std::optional<std::string> parse_dram_time(const std::string& text, std::string* why) {
  for (const char* suffix : {"ck", "cycles", "cycle", "tCK", "nCK"}) {
    const std::string s(suffix);
    if (text.size() <= s.size() || text.compare(text.size() - s.size(), s.size(), s) != 0) continue;
    std::string number = text.substr(0, text.size() - s.size());
    while (!number.empty() && number.back() == ' ') number.pop_back();
    if (number.empty() || number.size() > 7 || number.find_first_not_of("0123456789") != std::string::npos) {
      if (why) *why = fmt::format("expected a whole number of cycles like '7 ck', got '{}'", text);
      return std::nullopt;
    }
    return fmt::format("{} ck", std::stoul(number));
  }
  std::string reason;
  const auto q = parse_quantity(text, UnitKind::time, &reason);
  if (!q) {
    if (why) *why = fmt::format("expected a time like '14 ns' or cycles like '7 ck', got '{}' ({})", text, reason);
    return std::nullopt;
  }
  if (q->value > 1'000'000'000'000ULL) {  // 1 s
    if (why) *why = fmt::format("{} is longer than 1 s", text);
    return std::nullopt;
  }
  return format_quantity(q->value, UnitKind::time);
}

std::optional<std::string> normalize_dram_mapping(const std::string& text, std::string* why) {
  // Split into two-letter fields: "ro_ba_ch_co_bg", "RoBaChCoBg", "ro-ba-ch-co-bg".
  std::vector<std::string> fields;
  std::string cur;
  for (char c : text) {
    if (c == '_' || c == '-' || c == ' ') continue;
    cur += char(std::tolower(static_cast<unsigned char>(c)));
    if (cur.size() == 2) fields.push_back(std::move(cur)), cur.clear();
  }
  const std::vector<std::string> known = {"ro", "ba", "bg", "ch", "co"};
  bool ok = cur.empty() && fields.size() == known.size() && text.size() <= 32;
  for (const auto& k : known) ok = ok && std::count(fields.begin(), fields.end(), k) == 1;
  if (!ok) {
    if (why)
      *why = fmt::format("expected a field order naming ro, ba, bg, ch and co once each, most significant first "
                         "(like 'ro_ba_ch_co_bg' or 'RoBaChCoBg'), got '{}'",
                         text.size() > 40 ? text.substr(0, 40) + "..." : text);
    return std::nullopt;
  }
  return fmt::format("{}", fmt::join(fields, "_"));
}

std::uint64_t hbm_data_rate(const HbmSpec& spec) {
  if (spec.device == "ideal") return 0;
  const Preset* p = find(spec.device);
  if (!p) return 0;
  const std::uint64_t pcs = spec.pseudo_channels ? spec.pseudo_channels : p->pseudo_channels;
  const std::uint64_t bits = spec.bus_bits ? spec.bus_bits : p->bus_bits;
  const std::uint64_t bytes_per_transfer = std::uint64_t(spec.channels) * pcs * std::max<std::uint64_t>(bits / 8, 1);
  return spec.bandwidth_Bps / bytes_per_transfer;
}

std::vector<std::string> dram_device_names() {
  std::vector<std::string> out;
  for (const auto& p : kPresets) out.emplace_back(p.name);
  return out;
}

std::vector<std::string> dram_preset_timing_texts(const std::string& name) {
  std::vector<std::string> out;
  if (const Preset* p = find(name))
    for (std::size_t i = 0; i < dram_timing_fields().size(); ++i) out.emplace_back(p->timing[i]);
  return out;
}

std::optional<DramDevice> dram_device(const std::string& name, std::uint64_t data_rate) {
  const Preset* p = find(name);
  if (!p) return std::nullopt;
  DramDevice d;
  fill_organisation(d, *p);
  d.data_rate = data_rate;
  fill_timing(d, *p);
  return d;
}

DramDevice resolve_dram_device(const HbmSpec& spec) {
  const Preset* p = find(spec.device);
  if (!p) bad("chip.hbm.device", fmt::format("unknown DRAM device '{}'", spec.device));
  DramDevice d;
  fill_organisation(d, *p);
  if (spec.pseudo_channels) d.pseudo_channels = spec.pseudo_channels;
  if (spec.bank_groups) d.bank_groups = spec.bank_groups;
  if (spec.banks_per_group) d.banks_per_group = spec.banks_per_group;
  if (spec.columns) d.columns = spec.columns;
  if (spec.bus_bits) d.bus_bits = spec.bus_bits;
  if (spec.burst_length) d.burst_length = spec.burst_length;
  d.data_rate = hbm_data_rate(spec);
  if (d.data_rate == 0) bad("chip.hbm.bandwidth", "gives a data rate of 0 transfers per second");
  fill_timing(d, *p);
  for (const auto& entry : spec.timing) {
    const std::string& name = entry.first;  // not a structured binding: the lambda below captures it
    const std::string& text = entry.second;
    const auto& fields = dram_timing_fields();
    const auto f = std::find_if(fields.begin(), fields.end(), [&](const DramTimingField& x) { return name == x.name; });
    if (f == fields.end()) bad("chip.hbm.timing." + name, "unknown timing");
    d.t.*f->member = to_cycles(text, d.data_rate);
  }
  // A timing that follows others keeps following them unless given: tRTW from tCL and tCWL.
  if (!spec.timing.count("tRTW")) d.t.tRTW = auto_rtw(d);
  // Rows: as many as the capacity holds (whole rows in every bank of every pseudo-channel).
  const std::uint64_t row_set = std::uint64_t(spec.channels) * d.pseudo_channels * d.bank_groups * d.banks_per_group *
                                d.row_bytes();
  if (spec.rows) {
    d.rows = spec.rows;
  } else {
    const std::uint64_t rows = spec.capacity_bytes / std::max<std::uint64_t>(row_set, 1);
    if (rows == 0)
      bad("chip.hbm.capacity", fmt::format("{} is less than one row in every bank ({})",
                                           format_quantity(spec.capacity_bytes, UnitKind::size),
                                           format_quantity(row_set, UnitKind::size)));
    if (rows > (1u << 24)) bad("chip.hbm.capacity", fmt::format("needs {} rows per bank; at most 2^24 are modelled", rows));
    d.rows = std::uint32_t(rows);
  }
  check_consistency(d, spec);
  return d;
}

}  // namespace podsim
