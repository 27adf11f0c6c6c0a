#include "podsim/arch/dram/timing_checker.h"

#include <algorithm>
#include <deque>

#include <fmt/format.h>

namespace podsim {

std::vector<TimingViolation> check_dram_timing(const DramDevice& d, std::vector<DramCommand> cmds) {
  std::stable_sort(cmds.begin(), cmds.end(),
                   [](const DramCommand& a, const DramCommand& b) { return a.cycle < b.cycle; });
  const auto& t = d.t;
  const std::int64_t bl = d.burst_cycles();
  constexpr std::int64_t never = -(std::int64_t(1) << 40);
  struct Bank {
    std::int64_t row = -1, act = never, pre = never, rd = never, wr = never, ref = never;
  };
  std::vector<Bank> banks(std::size_t(d.bank_groups) * d.banks_per_group);
  std::vector<std::int64_t> act_bg(d.bank_groups, never), col_bg(d.bank_groups, never), wr_bg(d.bank_groups, never);
  std::deque<std::int64_t> acts;  // ACT times, for tFAW
  std::int64_t last_act = never, last_col = never, last_rd = never, last_wr = never, last_ref = never;
  std::int64_t row_bus = never, col_bus = never;
  std::vector<TimingViolation> out;

  auto need = [&](bool ok, std::int64_t cycle, const char* rule, std::string detail) {
    if (!ok) out.push_back({std::uint64_t(cycle), rule, std::move(detail)});
  };
  for (const DramCommand& c : cmds) {
    const std::int64_t now = std::int64_t(c.cycle);
    Bank& b = banks[std::size_t(c.bg) * d.banks_per_group + c.bank];
    const std::string where = fmt::format("{} bg{} bank{} row{} at {}", dram_command_name(c.type), c.bg, c.bank, c.row, now);
    const bool row_cmd = c.type == DramCommandType::ACT || c.type == DramCommandType::PRE ||
                         c.type == DramCommandType::REF || c.type == DramCommandType::REF_PB;
    const bool col_cmd = c.type == DramCommandType::RD || c.type == DramCommandType::WR;
    if (row_cmd) {
      need(now > row_bus, now, "row bus", where + ": two row commands in one cycle");
      row_bus = now;
    }
    if (col_cmd) {
      need(now > col_bus, now, "column bus", where + ": two column commands in one cycle");
      col_bus = now;
    }
    switch (c.type) {
      case DramCommandType::ACT:
        need(b.row < 0, now, "ACT to open bank", where);
        need(now >= b.pre + t.tRP, now, "tRP", where);
        need(now >= b.act + t.tRC, now, "tRC", where);
        need(now >= last_act + t.tRRD_S, now, "tRRD_S", where);
        need(now >= act_bg[c.bg] + t.tRRD_L, now, "tRRD_L", where);
        need(acts.size() < 4 || now >= acts.front() + t.tFAW, now, "tFAW", where);
        need(now >= last_ref + t.tRFC, now, "tRFC", where);
        need(now >= b.ref + t.tRFCpb, now, "tRFCpb", where);
        b.row = c.row;
        b.act = now;
        last_act = act_bg[c.bg] = now;
        acts.push_back(now);
        if (acts.size() > 4) acts.pop_front();
        break;
      case DramCommandType::PRE:
      case DramCommandType::PRE_AUTO:
        need(b.row >= 0, now, "PRE to closed bank", where);
        need(now >= b.act + t.tRAS, now, "tRAS", where);
        need(now >= b.rd + t.tRTP, now, "tRTP", where);
        need(now >= b.wr + t.tCWL + bl + t.tWR, now, "tWR", where);
        b.row = -1;
        b.pre = now;
        break;
      case DramCommandType::RD:
      case DramCommandType::WR: {
        const bool wr = c.type == DramCommandType::WR;
        need(b.row == std::int64_t(c.row), now, wr ? "WR to closed row" : "RD to closed row", where);
        if (wr) need(now >= b.act + t.tRCDWR, now, "tRCDWR", where);
        else need(now >= b.act + t.tRCD, now, "tRCD", where);
        need(now >= last_col + t.tCCD_S, now, "tCCD_S", where);
        need(now >= col_bg[c.bg] + t.tCCD_L, now, "tCCD_L", where);
        if (wr) {
          need(now >= last_rd + t.tRTW, now, "tRTW", where);
          b.wr = last_wr = wr_bg[c.bg] = now;
        } else {
          need(now >= last_wr + t.tCWL + bl + t.tWTR_S, now, "tWTR_S", where);
          need(now >= wr_bg[c.bg] + t.tCWL + bl + t.tWTR_L, now, "tWTR_L", where);
          b.rd = last_rd = now;
        }
        last_col = col_bg[c.bg] = now;
        break;
      }
      case DramCommandType::REF:
        for (const Bank& x : banks) {
          need(x.row < 0, now, "REF with a bank open", where);
          need(now >= x.pre + t.tRP, now, "tRP before REF", where);
          need(now >= x.act + t.tRC, now, "tRC before REF", where);
        }
        need(last_ref == never || now - last_ref <= 9 * std::int64_t(t.tREFI), now, "tREFI",
             where + ": refresh postponed more than 8 intervals");
        last_ref = now;
        break;
      case DramCommandType::REF_PB:
        need(b.row < 0, now, "REFpb to an open bank", where);
        need(now >= b.pre + t.tRP, now, "tRP before REFpb", where);
        need(now >= b.act + t.tRC, now, "tRC before REFpb", where);
        need(b.ref == never || now - b.ref <= 9 * std::int64_t(t.tREFI), now, "tREFI",
             where + ": bank refresh postponed more than 8 intervals");
        b.ref = now;
        break;
    }
  }
  return out;
}

}  // namespace podsim
