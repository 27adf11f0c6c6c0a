// One pseudo-channel's memory controller and DRAM timing, in closed form: no per-cycle
// ticking. A request is a run of bursts in one bank and row; the controller places its
// commands (PRE, ACT, RD/WR...) at the earliest cycles every timing constraint allows,
// given everything placed before, and returns when its data is through.
//
// Policies: reads are scheduled when they arrive (first-ready first-come-first-served
// within a batch of requests that arrive together: row hits first, then the oldest);
// writes are posted into a write buffer of queue_depth x 2 bursts and drained in FR-FCFS
// order when it would overflow (down to half), or in the idle time before a later read,
// or at flush(); a write that finds the buffer full is accepted once the drain is done. The read queue holds
// `queue_depth` requests: when it is full, a read enters when the first of the reads in it
// completes (not necessarily the oldest: a younger read to an idle bank finishes first). Open page keeps rows open; closed page precharges after each request (auto
// precharge, not a bus command). Read-after-write: a read whose bursts all lie in one posted
// write is served from the write queue (one controller clock, no DRAM command, as
// Ramulator's and DRAMsim3's controllers do); a read that overlaps posted writes only in
// part waits for those writes to be written first, so it never returns stale data. Refresh: per bank (one bank every tREFI / banks, the
// least recently used not yet refreshed this round, tRFCpb long; the others keep working) or all banks every tREFI, tRFC long.
// Row and column commands travel on separate buses (as in HBM), each one per cycle. A
// request's commands go into the earliest gap on each bus that keeps every spacing rule
// with the commands on both sides (command_timeline.h), so requests to idle banks overtake
// requests that wait for busy ones.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "podsim/arch/dram/command_timeline.h"
#include "podsim/config/dram_device.h"

namespace podsim {

enum class DramCommandType { ACT, PRE, PRE_AUTO, RD, WR, REF, REF_PB };
constexpr std::size_t kDramCommandTypes = 7;
const char* dram_command_name(DramCommandType t);

struct DramCommand {
  std::uint64_t cycle = 0;
  DramCommandType type = DramCommandType::ACT;
  std::uint32_t bg = 0, bank = 0, row = 0;
};

// A run of `bursts` bursts in one bank and row, starting at (first_bg, first_col).
struct DramPiece {
  std::uint64_t arrival = 0;  // cycle
  bool write = false;
  std::uint32_t bank = 0, row = 0;
  std::uint32_t first_bg = 0, first_col = 0;
  std::uint32_t bursts = 1;
  bool bg_fastest = true;     // consecutive bursts rotate bank groups (else columns)
};

enum class RowOutcome { hit, miss, conflict };

struct DramControllerSpec {
  std::uint32_t queue_depth = 32;
  bool open_page = true;
  // Adaptive (timeout) page policy when > 0: an open row is precharged this many DRAM
  // clocks after its last use unless used again (Ramulator's timeout row policy).
  std::int64_t page_timeout = 0;
  bool per_bank_refresh = true;  // REFpb: one bank at a time (else all banks at once)
  bool log_commands = false;     // keep every command for the timing checker
  // Refresh phase: this pseudo-channel's first refresh comes phase / phases of an
  // interval late, so staggered pseudo-channels never refresh together.
  std::uint32_t refresh_phase = 0, refresh_phases = 1;
  std::uint32_t write_high_percent = 100, write_low_percent = 50;  // of the write queue
  // Streaming fast path (dram_stream_path.cpp): whole-block requests appended after the
  // last column run without searching the command timelines. Approximate; off for the
  // closed and adaptive page policies. Its commands are logged like the others.
  bool stream_fast_path = false;
};

struct DramChannelStats {
  std::uint64_t read_bytes = 0, write_bytes = 0;
  std::uint64_t reads = 0, writes = 0;
  std::uint64_t row_hits = 0, row_misses = 0, row_conflicts = 0;
  std::uint64_t refreshes = 0;
  std::uint64_t forwarded_reads = 0;    // reads served from the write queue
  std::uint64_t refreshes_counted = 0;  // of those, counted in idle rounds without being placed
  std::uint64_t streamed = 0;           // requests the streaming fast path placed
  std::uint64_t busy_cycles = 0;       // data bus
  std::uint64_t queue_depth_sum = 0;   // requests waiting, summed at each arrival
  std::uint64_t arrivals = 0;
  std::uint64_t commands[kDramCommandTypes] = {};  // issued, by DramCommandType
  std::vector<std::uint64_t> bank_acts;            // ACTs per bank (bank group x banks + bank)
};

class DramChannel {
 public:
  DramChannel(const DramDevice& device, const DramControllerSpec& ctrl);

  // Schedules a read now; returns the cycle its last data arrives.
  std::uint64_t read(const DramPiece& piece);
  // Posts a write; returns the cycle it is accepted (later than arrival only when the
  // write queue is full and must drain first).
  std::uint64_t write(const DramPiece& piece);
  // Drains every posted write; returns the cycle the last one's data is in.
  std::uint64_t flush();

  // Whether the piece would hit an open row now (for FR-FCFS ordering).
  bool row_hit(const DramPiece& piece) const;
  std::size_t pending_writes() const { return write_queue_.size(); }

  const DramChannelStats& stats() const { return stats_; }
  const std::vector<DramCommand>& commands() const { return log_; }
  const DramDevice& device() const { return d_; }

  // The memory sits idle until `cycle` (an op replayed in between, arch/chip.h): posted
  // writes are drained, rows closed, refreshes due in between skipped (the replayed op's
  // counters stand for them), and nothing is placed before `cycle`.
  void idle_until(std::int64_t cycle);
  // The cycle the data bus is idle from, given everything placed so far.
  std::int64_t data_free() const { return data_free_; }
  void list_counters(std::vector<std::uint64_t*>& out) {
    out.insert(out.end(), {&stats_.read_bytes, &stats_.write_bytes, &stats_.reads, &stats_.writes, &stats_.row_hits,
                           &stats_.row_misses, &stats_.row_conflicts, &stats_.refreshes, &stats_.busy_cycles,
                           &stats_.queue_depth_sum, &stats_.arrivals, &stats_.forwarded_reads, &stats_.streamed});
    for (auto& c : stats_.commands) out.push_back(&c);
    for (auto& c : stats_.bank_acts) out.push_back(&c);
  }

 private:
  struct Bank {
    std::int64_t open_row = -1;
    std::int64_t act = kLongAgo;         // last ACT
    std::int64_t ready = kLongAgo;       // earliest next ACT (tRP, tRC, tRFC)
    std::int64_t last_rd = kLongAgo;     // last RD command
    std::int64_t last_wr = kLongAgo;     // last WR command
  };
  static constexpr std::int64_t kLongAgo = -(std::int64_t(1) << 40);

  std::int64_t schedule(const DramPiece& p, std::int64_t earliest);
  void advance_to(std::int64_t now);  // the present moves on: forget what cannot matter
  // Adaptive page policy: precharges every row idle for page_timeout before `now`.
  void close_idle_rows(std::int64_t now);
  void refresh_until(std::int64_t t);
  // Counts whole refresh rounds due before t in a stretch with no request (see the .cpp).
  void skip_idle_refresh_rounds(std::int64_t t);
  void refresh_banks_until(std::int64_t t);
  std::int64_t precharge_time(const Bank& b) const;
  // The run's column commands, placed (run.start set): bank state, counts, the log and the
  // data bus; returns when its last data is through. Shared by both paths.
  std::int64_t issue_columns(const DramPiece& p, const ColumnRun& run, std::uint64_t activations);
  // Cycles between refresh commands: tREFI, or tREFI / banks refreshing bank by bank.
  std::int64_t refresh_interval() const {
    return ctrl_.per_bank_refresh ? d_.t.tREFI / (d_.bank_groups * d_.banks_per_group) : d_.t.tREFI;
  }
  // Precharges the bank if a row is open, no earlier than `not_before` (for a refresh).
  void close_bank(std::uint32_t bg, std::uint32_t bank, std::int64_t not_before);
  // Where opening `row` in the bank would put its PRE (a conflict) and ACT, no earlier
  // than t; both -1 when the row is open already.
  struct ActPlan {
    std::int64_t pre = -1, act = -1;
  };
  ActPlan plan_activate(std::uint32_t bg, std::uint32_t bank, std::uint32_t row, std::int64_t t) const;
  // Places the plan's commands; returns when a column command (a write if `write`) may follow.
  std::int64_t activate(std::uint32_t bg, std::uint32_t bank, std::uint32_t row, const ActPlan& plan, bool write);
  void log(std::int64_t cycle, DramCommandType type, std::uint32_t bg, std::uint32_t bank, std::uint32_t row);
  // Drains posted writes (row hits first) until at most `keep_bursts` remain; returns
  // when the last drained write's data is in.
  std::int64_t drain_writes_to(std::uint64_t keep_bursts);
  // Where a piece's bursts begin in its (bank, row) block, in the mapping's order: a piece
  // covers [block_offset, block_offset + bursts).
  std::uint64_t block_offset(const DramPiece& p) const {
    return p.bg_fastest ? std::uint64_t(p.first_col) * d_.bank_groups + p.first_bg
                        : std::uint64_t(p.first_bg) * d_.columns + p.first_col;
  }
  // Read-after-write: true if a posted write holds all of the read's bursts. Otherwise
  // posted writes that overlap it are written now; *after is when the last one's data is in.
  bool forward_or_order(const DramPiece& read, std::int64_t* after);
  // Streaming fast path (dram_stream_path.cpp). A whole (bank, row) block from its first
  // burst: its ACTs go at their earliest cycle after the latest ACTs (tRRD, tFAW), its
  // column run right after the latest run, refresh by arithmetic; no timeline is searched
  // for spacing (row commands only take a free cycle).
  bool stream_eligible(const DramPiece& p) const;
  std::int64_t schedule_streaming(const DramPiece& p, std::int64_t t);
  void enter_streaming();
  // Hands the fast path's latest column runs to the column timeline, so the command model
  // resumes without overlapping them (its row commands are in the row timeline already).
  void leave_streaming();
  void refresh_streaming_until(std::int64_t t);
  // Per-bank refresh: the bank refreshed next, the least recently used not yet refreshed
  // this round (both paths use it, so they pick alike).
  std::uint32_t least_recently_used_unrefreshed() const;
  std::int64_t stream_act(std::uint32_t bg, std::int64_t earliest);
  Bank& bank(std::uint32_t bg, std::uint32_t b) { return banks_[bg * d_.banks_per_group + b]; }
  void mark_use(std::uint32_t bg, std::uint32_t b, std::int64_t cycle) {
    std::int64_t& u = last_use_[bg * d_.banks_per_group + b];
    u = std::max(u, cycle);
  }
  const Bank& bank(std::uint32_t bg, std::uint32_t b) const { return banks_[bg * d_.banks_per_group + b]; }

  DramDevice d_;
  DramControllerSpec ctrl_;
  std::vector<Bank> banks_;
  // Per bank, max(ACT, last RD, last WR): refresh picks the least recently used bank by it.
  // Apart from Bank so the refresh's scan reads two cache lines, not every bank's state.
  std::vector<std::int64_t> last_use_;
  RowTimeline rows_;
  ColumnTimeline cols_;
  std::int64_t data_free_ = 0;
  std::int64_t floor_ = 0;       // the latest arrival: nothing is placed before it   // the data bus is idle from here on
  std::int64_t next_refresh_;
  std::vector<std::uint8_t> refreshed_;  // per-bank refresh: banks done this tREFI round
  std::uint32_t refreshed_this_round_ = 0;
  std::vector<std::int64_t> read_completions_;  // min-heap: the queue_depth latest read completions
  std::deque<DramPiece> write_queue_;
  std::uint64_t pending_write_bursts_ = 0;
  DramChannelStats stats_;
  std::vector<DramCommand> log_;
  // Streaming fast path state.
  bool streaming_ = false;
  bool have_last_run_ = false;
  ColumnRun last_run_;
  // The latest runs the fast path placed (a ring, the oldest at recent_run_next_): handed to
  // the column timeline when the path is left.
  static constexpr std::uint32_t kRecentRuns = 4;
  ColumnRun recent_runs_[kRecentRuns];
  std::uint32_t recent_run_count_ = 0, recent_run_next_ = 0;
  ColumnRun block_run_[2][2];  // indexed prototypes: [write][bg_fastest]
  // Earliest start of a whole-block run after another, from the other's start:
  // [previous write][write][bg_fastest] (ColumnTimeline::after on the prototypes).
  std::int64_t block_gap_[2][2][2] = {};
  bool last_run_is_block_ = false;
  std::int64_t recent_act_[4] = {kLongAgo, kLongAgo, kLongAgo, kLongAgo};  // ring, for tFAW
  std::uint32_t recent_next_ = 0;  // the ring's oldest entry
  std::int64_t last_act_ = kLongAgo;
  std::uint32_t last_act_bg_ = 0;
  std::int64_t last_act_of_bg_[ColumnRun::kMaxGroups] = {kLongAgo, kLongAgo, kLongAgo, kLongAgo,
                                                          kLongAgo, kLongAgo, kLongAgo, kLongAgo};
};

}  // namespace podsim
