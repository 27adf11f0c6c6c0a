// Physical address -> (pseudo-channel, bank group, bank, row, column). Fields are taken
// from the burst index in the order given, lowest first (mixed radix, so any count works).
//   ro_ba_ch_co_bg  (default) consecutive bursts rotate over bank groups, then columns;
//                   each pseudo-channel gets bank-groups x row-size bytes in turn: a
//                   stream hides tCCD_L and reaches peak bandwidth
//   ro_ba_ch_bg_co  columns fastest: a stream stays in one bank group per row (tCCD_L-bound)
//   ro_ch_ba_bg_co  a pseudo-channel's whole row set before the next channel: poor spread
// With xor_bank the bank index is XORed with the row's low bits, spreading same-bank row
// conflicts of strided streams.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "podsim/config/dram_device.h"

namespace podsim {

struct DramAddress {
  std::uint32_t pc = 0;    // pseudo-channel across the chip: channel x pseudo_channels + pc
  std::uint32_t bg = 0, bank = 0;
  std::uint32_t row = 0, col = 0;
};

class AddressMap {
 public:
  AddressMap(const DramDevice& device, std::uint32_t pseudo_channels_total, const std::string& order, bool xor_bank);
  DramAddress decode(std::uint64_t addr) const;
  std::uint32_t burst_bytes() const { return burst_bytes_; }
  bool bank_groups_fastest() const { return fields_.front() == Field::bg; }
  static std::vector<std::string> orders();

 private:
  enum class Field { bg, co, ch, ba, ro };
  std::vector<Field> fields_;  // lowest first
  std::uint32_t sizes_[5] = {};
  std::uint32_t burst_bytes_;
  std::uint32_t banks_per_group_;
  bool xor_bank_;
};

}  // namespace podsim
