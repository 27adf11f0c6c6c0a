// The controller's streaming fast path on hand-built streams: a backlogged stream of whole
// (bank, row) blocks is data-bus bound, so both paths must give the closed form; requests
// the path cannot take go to the command model, which sees the fast path's commands.
#include <cstdio>

#include <gtest/gtest.h>

#include "podsim/arch/dram/dram_channel.h"
#include "podsim/arch/dram/timing_checker.h"
#include "podsim/config/dram_device.h"

namespace podsim {
namespace {

// HBM2 at 2 GT/s: tCK = 1 ns.
DramDevice hbm2() { return *dram_device("hbm2", 2'000'000'000); }

DramPiece block(std::uint64_t arrival, std::uint32_t bank, std::uint32_t row, const DramDevice& d, bool write = false) {
  DramPiece p;
  p.arrival = arrival;
  p.bank = bank;
  p.row = row;
  p.bursts = d.bank_groups * d.columns;  // the whole block: every column of every bank group
  p.write = write;
  return p;
}

DramControllerSpec controller(bool fast) {
  DramControllerSpec c;
  c.per_bank_refresh = false;  // the first refresh at tREFI = 3900 cycles, after the stream
  c.stream_fast_path = fast;
  c.queue_depth = 64;
  return c;
}

TEST(StreamFastPath, ABackloggedStreamOfWholeRowsIsTheDataBusClosedForm) {
  const DramDevice d = hbm2();
  const std::uint32_t bursts = d.bank_groups * d.columns;
  const std::int64_t step = d.burst_cycles();
  // Bank groups rotate every burst: a group comes back every G bursts, no sooner than tCCD_L.
  ASSERT_GE(std::int64_t(d.bank_groups) * step, std::int64_t(d.t.tCCD_L));
  ASSERT_GE(step, std::int64_t(d.t.tCCD_S));
  const std::uint32_t n = 12;  // 12 x 256 cycles: done before the first refresh
  for (bool fast : {false, true}) {
    DramChannel ch(d, controller(fast));
    std::uint64_t last = 0;
    for (std::uint32_t i = 0; i < n; ++i) last = std::max(last, ch.read(block(0, i % d.banks_per_group, i, d)));
    // The first block's ACTs go tRRD_S apart, one per bank group (group g's at g tRRD_S),
    // and group g's first burst is burst g: the run starts once the last group is open,
    // at tRCD + (G - 1)(tRRD_S - BL/2). Then one burst every BL/2 cycles (later ACTs are
    // hidden behind the data), and the last data comes tCL + BL/2 after the last RD.
    const std::int64_t first_rd =
        std::int64_t(d.t.tRCD) + std::int64_t(d.bank_groups - 1) * std::max<std::int64_t>(0, d.t.tRRD_S - step);
    EXPECT_EQ(std::int64_t(last), first_rd + std::int64_t(n * bursts - 1) * step + d.t.tCL + step)
        << (fast ? "fast path" : "command model");
    EXPECT_EQ(ch.stats().streamed, fast ? n : 0u);
    EXPECT_EQ(ch.stats().busy_cycles, std::uint64_t(n) * bursts * std::uint64_t(step));
    EXPECT_EQ(ch.stats().commands[std::size_t(DramCommandType::ACT)], std::uint64_t(n) * d.bank_groups);
  }
}

TEST(StreamFastPath, ARequestItCannotTakeGoesAfterTheStreamsRuns) {
  const DramDevice d = hbm2();
  DramChannel ch(d, controller(true));
  std::uint64_t stream_end = 0;
  for (std::uint32_t i = 0; i < 4; ++i) stream_end = std::max(stream_end, ch.read(block(0, i, 1, d)));
  // One burst to a fifth row of bank 0 (a conflict), arriving with the stream: the command
  // model places it; the data bus is the stream's until stream_end, so it cannot finish
  // before that, and the stream's runs must be in its timeline for that to hold.
  DramPiece one = block(0, 0, 2, d);
  one.bursts = 1;
  const std::uint64_t done = ch.read(one);
  EXPECT_EQ(ch.stats().streamed, 4u);
  EXPECT_GT(done, stream_end);
}

TEST(StreamFastPath, ItsCommandsPassTheTimingChecker) {
  // Reads and writes of whole rows over every bank, with row conflicts, per-bank refresh and
  // partial rows between them (the command model's turns, and the hand-offs): every command
  // either path placed is logged and replayed through the independent checker.
  const DramDevice d = hbm2();
  DramControllerSpec c = controller(true);
  c.per_bank_refresh = true;
  c.log_commands = true;
  DramChannel ch(d, c);
  std::uint64_t now = 0;
  for (std::uint32_t i = 0; i < 400; ++i) {
    const std::uint32_t bank = (i * 5) % (d.bank_groups * d.banks_per_group) % d.banks_per_group;
    DramPiece p = block(now, bank, 1 + i / 3, d, i % 7 == 3);
    if (i % 11 == 5) p.bursts = 3;  // a partial row: the command model takes it
    if (p.write)
      ch.write(p);
    else
      ch.read(p);
    now += 97;  // about a third of a block's data time: a backlog builds
  }
  ch.flush();
  EXPECT_GT(ch.stats().streamed, 300u);
  EXPECT_GT(ch.stats().refreshes, 10u);
  const auto violations = check_dram_timing(d, ch.commands());
  ASSERT_TRUE(violations.empty()) << violations.size() << " violations, the first: " << violations.front().rule
                                  << " at " << violations.front().cycle << ": " << violations.front().detail;
}

TEST(StreamFastPath, OffForClosedAndAdaptivePages) {
  const DramDevice d = hbm2();
  DramControllerSpec closed = controller(true);
  closed.open_page = false;
  DramControllerSpec adaptive = controller(true);
  adaptive.page_timeout = 50;
  for (const DramControllerSpec& c : {closed, adaptive}) {
    DramChannel ch(d, c);
    for (std::uint32_t i = 0; i < 4; ++i) ch.read(block(0, i, 1, d));
    EXPECT_EQ(ch.stats().streamed, 0u);
  }
}

}  // namespace
}  // namespace podsim
