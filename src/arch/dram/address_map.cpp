#include "podsim/arch/dram/address_map.h"

#include <stdexcept>

namespace podsim {

std::vector<std::string> AddressMap::orders() { return {"ro_ba_ch_co_bg", "ro_ba_ch_bg_co", "ro_ch_ba_bg_co"}; }

AddressMap::AddressMap(const DramDevice& d, std::uint32_t pcs, const std::string& order, bool xor_bank,
                       bool channel_hash)
    : burst_bytes_(d.burst_bytes()), banks_per_group_(d.banks_per_group), xor_bank_(xor_bank),
      channel_hash_(channel_hash) {
  if (order == "ro_ba_ch_co_bg") fields_ = {Field::bg, Field::co, Field::ch, Field::ba, Field::ro};
  else if (order == "ro_ba_ch_bg_co") fields_ = {Field::co, Field::bg, Field::ch, Field::ba, Field::ro};
  else if (order == "ro_ch_ba_bg_co") fields_ = {Field::co, Field::bg, Field::ba, Field::ch, Field::ro};
  else throw std::invalid_argument("unknown address mapping " + order);
  sizes_[int(Field::bg)] = d.bank_groups;
  sizes_[int(Field::co)] = d.columns;
  sizes_[int(Field::ch)] = pcs;
  sizes_[int(Field::ba)] = d.banks_per_group;
  sizes_[int(Field::ro)] = d.rows;
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
  if (xor_bank_) a.bank = (a.bank ^ a.row) % banks_per_group_;
  return a;
}

}  // namespace podsim
