#include "podsim/arch/dram/address_map.h"

#include <algorithm>
#include <stdexcept>

namespace podsim {

AddressMap::AddressMap(const DramDevice& d, std::uint32_t pcs, const std::string& order, bool xor_bank,
                       bool channel_hash, bool xor_channel, std::uint32_t xor_row_shift)
    : burst_bytes_(d.burst_bytes()), banks_per_group_(d.banks_per_group), xor_bank_(xor_bank),
      channel_hash_(channel_hash), xor_channel_(xor_channel), xor_row_shift_(std::min(xor_row_shift, 31u)) {
  if (xor_channel && (pcs & (pcs - 1)) != 0)
    throw std::invalid_argument("xor_channel needs a power-of-two number of pseudo-channels");
  // "ro_ba_ch_co_bg": most significant first; fields_ is lowest first.
  for (std::size_t end = order.size(); end >= 2; end = end >= 3 ? end - 3 : 0) {
    const std::string f = order.substr(end - 2, 2);
    if (f == "bg") fields_.push_back(Field::bg);
    else if (f == "co") fields_.push_back(Field::co);
    else if (f == "ch") fields_.push_back(Field::ch);
    else if (f == "ba") fields_.push_back(Field::ba);
    else if (f == "ro") fields_.push_back(Field::ro);
    else throw std::invalid_argument("unknown address mapping " + order);
    if (end < 3) break;
  }
  if (fields_.size() != 5) throw std::invalid_argument("unknown address mapping " + order);
  sizes_[int(Field::bg)] = d.bank_groups;
  sizes_[int(Field::co)] = d.columns;
  sizes_[int(Field::ch)] = pcs;
  sizes_[int(Field::ba)] = d.banks_per_group;
  sizes_[int(Field::ro)] = d.rows;
}

std::uint64_t AddressMap::bursts_left_in_block(const DramAddress& a) const {
  const std::uint64_t G = sizes_[int(Field::bg)], cols = sizes_[int(Field::co)];
  const Field lo = fields_[0], next = fields_[1];
  if (lo == Field::bg && next == Field::co) return G * cols - (std::uint64_t(a.col) * G + a.bg);
  if (lo == Field::co && next == Field::bg) return G * cols - (std::uint64_t(a.bg) * cols + a.col);
  if (lo == Field::bg) return G - a.bg;       // then another channel, bank or row
  if (lo == Field::co) return cols - a.col;
  return 1;                                   // channel, bank or row changes every burst
}

DramAddress AddressMap::decode(std::uint64_t addr) const {
  std::uint64_t x = addr / burst_bytes_;
  std::uint32_t v[5] = {};
  std::uint64_t above_channel = 0;
  for (Field f : fields_) {
    const std::uint32_t size = sizes_[int(f)];
    v[int(f)] = std::uint32_t(x % size);
    x /= size;
    if (f == Field::ch) above_channel = x;
  }
  if (channel_hash_) {
    const std::uint32_t pcs = sizes_[int(Field::ch)];
    std::uint64_t rotate = 0;
    for (std::uint64_t u = above_channel; u; u /= pcs) rotate += u % pcs;
    v[int(Field::ch)] = std::uint32_t((v[int(Field::ch)] + rotate) % pcs);
  }
  DramAddress a;
  a.pc = v[int(Field::ch)];
  a.bg = v[int(Field::bg)];
  a.bank = v[int(Field::ba)];
  a.row = v[int(Field::ro)];
  a.col = v[int(Field::co)];
  const std::uint32_t row_bits = a.row >> xor_row_shift_;
  if (xor_bank_) a.bank = (a.bank ^ row_bits) % banks_per_group_;
  if (xor_channel_) a.pc = (a.pc ^ row_bits) & (sizes_[int(Field::ch)] - 1);
  return a;
}

}  // namespace podsim
