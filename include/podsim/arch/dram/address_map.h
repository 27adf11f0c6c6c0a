// Physical address -> (pseudo-channel, bank group, bank, row, column). The mapping is a
// field order, most significant first ("ro_ba_ch_co_bg", written "RoBaChCoBg" by other DRAM
// simulators); fields are taken from the burst index lowest first (mixed radix, so any
// count works). For example:
//   ro_ba_ch_co_bg  (default) consecutive bursts rotate over bank groups, then columns;
//                   each pseudo-channel gets bank-groups x row-size bytes in turn: a
//                   stream hides tCCD_L and reaches peak bandwidth
//   ro_ba_ch_bg_co  columns fastest: a stream stays in one bank group per row (tCCD_L-bound)
//   ro_ch_ba_bg_co  a pseudo-channel's whole row set before the next channel: poor spread
// With xor_bank the bank index is XORed with the row's bits from xor_row_shift up,
// spreading same-bank row conflicts of strided streams; xor_channel does the same to the
// pseudo-channel (a power of two: the XOR must stay inside the field). For a fixed row an
// XOR is a permutation of the field, so the map stays one-to-one. With channel_hash the
// pseudo-channel is rotated by the sum of the base-PC digits of everything above the
// channel field (bank and row, or row), as real controllers hash address bits into the
// channel (Zhang et al., MICRO 2000, permutation-based interleaving; Pessl et al., USENIX
// Security 2016, reverse-engineered channel hashes). A rotation by bits above the field is a permutation for every value of
// those bits: the map stays one-to-one, and a run of bursts inside one (channel, bank,
// row) block stays in one pseudo-channel. Without it, tiles whose row pitch is a multiple
// of the channel stride touch only a fraction of the pseudo-channels (docs/memory.md).
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
  // `order` in the canonical form ("ro_ba_ch_co_bg", config/dram_device.h normalises it).
  AddressMap(const DramDevice& device, std::uint32_t pseudo_channels_total, const std::string& order, bool xor_bank,
             bool channel_hash = false, bool xor_channel = false, std::uint32_t xor_row_shift = 0);
  DramAddress decode(std::uint64_t addr) const;
  std::uint32_t burst_bytes() const { return burst_bytes_; }
  // Whether consecutive bursts change bank group before column (else column first).
  bool bank_groups_fastest() const { return fields_.front() == Field::bg; }
  // Consecutive bursts from `a` (decoded) that stay in its (pseudo-channel, bank, row): a
  // run the controller serves as one request (dram_channel.h).
  std::uint64_t bursts_left_in_block(const DramAddress& a) const;

 private:
  enum class Field { bg, co, ch, ba, ro };
  std::vector<Field> fields_;  // lowest first
  std::uint32_t sizes_[5] = {};
  std::uint32_t burst_bytes_;
  std::uint32_t banks_per_group_;
  bool xor_bank_;
  bool channel_hash_;
  bool xor_channel_;
  std::uint32_t xor_row_shift_;
};

}  // namespace podsim
