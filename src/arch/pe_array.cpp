#include "podsim/arch/pe_array.h"

#include <algorithm>
#include <stdexcept>

namespace podsim {
namespace {

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

constexpr std::int64_t kNone = -1;

// Multiply-accumulate as the array does it.
struct Arithmetic {
  bool integer;
  double mac(double acc, double a, double w) const {
    if (integer) return acc + a * w;  // exact: |values| stay far below 2^53
    const float product = static_cast<float>(a) * static_cast<float>(w);
    return static_cast<double>(static_cast<float>(acc) + product);
  }
  double add(double acc, double x) const {
    return integer ? acc + x : static_cast<double>(static_cast<float>(acc) + static_cast<float>(x));
  }
};

// ---------------------------------------------------------------- weight stationary
// A value moving through the array with the fold and row it belongs to.
struct Token {
  std::int64_t fold = kNone;
  std::int64_t row = 0;
  double value = 0;
  bool valid() const { return fold != kNone; }
};

class WsArray {
 public:
  WsArray(const SystolicArrayShape& s, Arithmetic arith, std::uint64_t m, std::uint64_t k, std::uint64_t n,
          const std::vector<double>& a, const std::vector<double>& b, std::uint64_t max_frames,
          const PeFrameSink& sink)
      : R_(s.rows), C_(s.cols), overlap_(s.weight_overlap), arith_(arith), m_(m), k_(k), n_(n), a_(a), b_(b),
        max_frames_(max_frames), sink_(sink) {
    row_folds_ = ceil_div(k, R_);
    col_folds_ = ceil_div(n, C_);
    folds_ = row_folds_ * col_folds_;
    const std::size_t cells = std::size_t(R_) * C_;
    act_.assign(cells, Token{});
    psum_.assign(cells, Token{});
    act_next_.assign(cells, Token{});
    psum_next_.assign(cells, Token{});
    edge_.assign(R_, Token{});
    active_w_.assign(cells, 0.0);
    active_fold_.assign(cells, kNone);
    shadow_w_.assign(cells, 0.0);
    shadow_fold_.assign(cells, kNone);
    transit_.assign(cells, 0.0);
    col_load_fold_.assign(C_, kNone);
    col_load_start_.assign(C_, 0);
    result_.c.assign(m * n, 0.0);
    load_start_.assign(folds_, UINT64_MAX);
    inject_start_.assign(folds_, UINT64_MAX);
    next_load_fold_.assign(C_, 0);
    fold_outputs_.assign(folds_, 0);
  }

  PeArrayResult run() {
    if (folds_ == 0 || m_ == 0) return std::move(result_);
    load_start_[0] = 0;  // operands are ready at cycle 0
    std::uint64_t outputs_left = folds_ * m_ * C_;  // every (fold, row, column) leaves once
    for (cycle_ = 0; outputs_left > 0; ++cycle_) {
      if (cycle_ > limit()) throw std::logic_error("PE array made no progress");
      const std::vector<Token>& injected = inject();  // may start the next fold's weight shift
      start_loads();
      step(injected, outputs_left);
      latch();
    }
    result_.cycles = cycle_;
    return std::move(result_);
  }

 private:
  std::uint64_t limit() const { return (folds_ + 2) * (3ull * R_ + C_ + m_ + 4) + 16; }

  // B value for array row r, column c of fold f (0 beyond the matrix edge).
  double weight(std::uint64_t f, std::uint32_t r, std::uint32_t c) const {
    const std::uint64_t kk = (f % row_folds_) * R_ + r, nn = (f / row_folds_) * C_ + c;
    return kk < k_ && nn < n_ ? b_[kk * n_ + nn] : 0.0;
  }
  double activation(std::uint64_t f, std::uint64_t t, std::uint32_t r) const {
    const std::uint64_t kk = (f % row_folds_) * R_ + r;
    return kk < k_ ? a_[t * k_ + kk] : 0.0;
  }

  void start_loads() {
    // A column begins shifting fold f's weights c cycles after column 0.
    for (std::uint32_t c = 0; c < C_; ++c) {
      if (col_load_fold_[c] != kNone) continue;
      const std::int64_t f = next_load_fold_[c];
      if (f < std::int64_t(folds_) && load_start_[f] != UINT64_MAX && cycle_ >= load_start_[f] + c) {
        col_load_fold_[c] = f;
        col_load_start_[c] = cycle_;
        ++next_load_fold_[c];
      }
    }
    // Shift every loading column by one: the value for the bottom row enters first.
    for (std::uint32_t c = 0; c < C_; ++c) {
      if (col_load_fold_[c] == kNone) continue;
      const std::uint64_t step = cycle_ - col_load_start_[c];
      for (std::uint32_t r = R_ - 1; r > 0; --r) transit_[idx(r, c)] = transit_[idx(r - 1, c)];
      transit_[idx(0, c)] = weight(col_load_fold_[c], R_ - 1 - std::uint32_t(step), c);
    }
  }

  // After R shifts a column latches the fold into its shadow registers (end of cycle).
  void latch() {
    for (std::uint32_t c = 0; c < C_; ++c) {
      if (col_load_fold_[c] == kNone || cycle_ - col_load_start_[c] + 1 < R_) continue;
      for (std::uint32_t r = 0; r < R_; ++r) {
        shadow_w_[idx(r, c)] = transit_[idx(r, c)];
        shadow_fold_[idx(r, c)] = col_load_fold_[c];
      }
      if (c == 0) latched_col0_ = col_load_fold_[c];
      col_load_fold_[c] = kNone;
    }
  }

  // The left edge: fold f's row t enters array row r at inject_start_[f] + t + r.
  const std::vector<Token>& inject() {
    // Start the next fold once column 0 holds its weights (latched before this cycle)
    // and the previous fold's rows have all entered row 0.
    const std::int64_t f = next_inject_fold_;
    if (f < std::int64_t(folds_) && latched_col0_ >= f && cycle_ >= port_free_) {
      inject_start_[f] = cycle_;
      port_free_ = cycle_ + m_;
      ++next_inject_fold_;
      // With overlap the next fold's weights start shifting now.
      if (overlap_ && f + 1 < std::int64_t(folds_)) load_start_[f + 1] = cycle_;
    }
    std::vector<Token>& edge = edge_;
    std::fill(edge.begin(), edge.end(), Token{});
    for (std::int64_t g = std::max<std::int64_t>(0, next_inject_fold_ - 2); g < next_inject_fold_; ++g) {
      for (std::uint32_t r = 0; r < R_; ++r) {
        if (cycle_ < inject_start_[g] + r) continue;
        const std::uint64_t t = cycle_ - inject_start_[g] - r;
        if (t < m_) edge[r] = Token{g, std::int64_t(t), activation(g, t, r)};
      }
    }
    return edge;
  }

  void step(const std::vector<Token>& edge, std::uint64_t& outputs_left) {
    std::vector<Token>& act_next = act_next_;
    std::vector<Token>& psum_next = psum_next_;
    std::fill(act_next.begin(), act_next.end(), Token{});
    std::fill(psum_next.begin(), psum_next.end(), Token{});
    PeFrame frame;
    const bool record = frames_seen_ < max_frames_;
    if (record) {
      frame.cycle = cycle_;
      frame.pes.resize(act_.size());
    }
    for (std::uint32_t r = 0; r < R_; ++r)
      for (std::uint32_t c = 0; c < C_; ++c) {
        const std::size_t i = idx(r, c);
        const Token in = c == 0 ? edge[r] : act_[idx(r, c - 1)];
        act_next[i] = in;
        if (!in.valid()) continue;
        if (active_fold_[i] != in.fold) {  // the first row of a new fold: switch weights
          if (shadow_fold_[i] != in.fold) throw std::logic_error("PE reached a fold whose weights are not latched");
          active_w_[i] = shadow_w_[i];
          active_fold_[i] = in.fold;
        }
        const Token above = r == 0 ? Token{in.fold, in.row, 0.0} : psum_[idx(r - 1, c)];
        if (above.fold != in.fold || above.row != in.row) throw std::logic_error("partial sum out of step");
        psum_next[i] = Token{in.fold, in.row, arith_.mac(above.value, in.value, active_w_[i])};
        if (record) frame.pes[i] = PeState{true, in.value, active_w_[i], psum_next[i].value};
      }
    // The bottom row's partial sums leave the array: accumulate across row folds.
    for (std::uint32_t c = 0; c < C_; ++c) {
      const Token& out = psum_next[idx(R_ - 1, c)];
      if (!out.valid()) continue;
      const std::uint64_t nn = std::uint64_t(out.fold / std::int64_t(row_folds_)) * C_ + c;
      if (nn < n_) {
        double& dst = result_.c[std::uint64_t(out.row) * n_ + nn];
        dst = arith_.add(dst, out.value);
      }
      --outputs_left;
      // Without overlap the next fold's weights may shift in once this fold has left.
      if (++fold_outputs_[out.fold] == m_ * C_ && !overlap_ && std::uint64_t(out.fold) + 1 < folds_)
        load_start_[out.fold + 1] = cycle_ + 1;
    }
    act_.swap(act_next);
    psum_.swap(psum_next);
    if (record) {
      ++frames_seen_;
      if (sink_) sink_(frame);
      else result_.frames.push_back(std::move(frame));
    }
  }

  std::size_t idx(std::uint32_t r, std::uint32_t c) const { return std::size_t(r) * C_ + c; }

  std::uint32_t R_, C_;
  bool overlap_;
  Arithmetic arith_;
  std::uint64_t m_, k_, n_;
  const std::vector<double>& a_;
  const std::vector<double>& b_;
  std::uint64_t max_frames_;
  const PeFrameSink& sink_;
  std::uint64_t frames_seen_ = 0;
  std::uint64_t row_folds_ = 0, col_folds_ = 0, folds_ = 0;
  std::uint64_t cycle_ = 0;
  std::vector<Token> act_, psum_, act_next_, psum_next_, edge_;
  std::vector<double> active_w_, shadow_w_, transit_;
  std::vector<std::int64_t> active_fold_, shadow_fold_, col_load_fold_;
  std::vector<std::uint64_t> col_load_start_;
  std::vector<std::uint64_t> load_start_, inject_start_;
  std::vector<std::int64_t> next_load_fold_;
  std::vector<std::uint64_t> fold_outputs_;
  std::int64_t next_inject_fold_ = 0;
  std::int64_t latched_col0_ = kNone;
  std::uint64_t port_free_ = 0;
  PeArrayResult result_;
};

// ---------------------------------------------------------------- output stationary
PeArrayResult run_os(const SystolicArrayShape& s, Arithmetic arith, std::uint64_t m, std::uint64_t k, std::uint64_t n,
                     const std::vector<double>& a, const std::vector<double>& b, std::uint64_t max_frames,
                     const PeFrameSink& sink) {
  std::uint64_t frames_seen = 0;
  const std::uint32_t R = s.rows, C = s.cols;
  const std::uint64_t row_folds = ceil_div(m, R), col_folds = ceil_div(n, C), folds = row_folds * col_folds;
  PeArrayResult res;
  res.c.assign(m * n, 0.0);
  if (folds == 0 || k == 0) return res;
  const std::size_t cells = std::size_t(R) * C;
  struct Val {
    bool valid = false;
    double v = 0;
  };
  std::vector<Val> a_reg(cells), b_reg(cells), a_next(cells), b_next(cells);
  std::vector<double> acc(cells, 0.0);
  std::vector<std::uint64_t> last_mac(cells, 0);
  std::uint64_t cycle = 0;
  for (std::uint64_t f = 0; f < folds; ++f) {
    const std::uint64_t m0 = (f / col_folds) * R, n0 = (f % col_folds) * C;
    const std::uint64_t start = cycle;
    std::uint64_t macs_seen = 0;
    const std::uint64_t macs_expected = std::uint64_t(cells) * k;  // every PE, every k (padding included)
    // Compute phase: stream until every PE has done its k MACs.
    for (; macs_seen < macs_expected; ++cycle) {
      for (std::uint32_t r = 0; r < R; ++r)
        for (std::uint32_t c = 0; c < C; ++c) {
          const std::size_t i = std::size_t(r) * C + c;
          Val ain, bin;
          if (c == 0) {
            if (cycle >= start + r && cycle - start - r < k) {
              const std::uint64_t kk = cycle - start - r, mm = m0 + r;
              ain = {true, mm < m ? a[mm * k + kk] : 0.0};
            }
          } else {
            ain = a_reg[i - 1];
          }
          if (r == 0) {
            if (cycle >= start + c && cycle - start - c < k) {
              const std::uint64_t kk = cycle - start - c, nn = n0 + c;
              bin = {true, nn < n ? b[kk * n + nn] : 0.0};
            }
          } else {
            bin = b_reg[i - C];
          }
          a_next[i] = ain;
          b_next[i] = bin;
          if (ain.valid && bin.valid) {
            acc[i] = arith.mac(acc[i], ain.v, bin.v);
            ++macs_seen;
          }
        }
      if (frames_seen < max_frames) {
        ++frames_seen;
        PeFrame fr;
        fr.cycle = cycle;
        fr.pes.resize(cells);
        for (std::size_t i = 0; i < cells; ++i) fr.pes[i] = PeState{a_next[i].valid, a_next[i].v, b_next[i].v, acc[i]};
        if (sink) sink(fr);
        else res.frames.push_back(std::move(fr));
      }
      a_reg.swap(a_next);
      b_reg.swap(b_next);
    }
    // Drain: the accumulators shift down and out of the bottom, one row per cycle.
    for (std::uint32_t j = 0; j < R; ++j, ++cycle) {
      const std::uint64_t mm = m0 + (R - 1);
      for (std::uint32_t c = 0; c < C; ++c) {
        const std::uint64_t row = mm - j, nn = n0 + c;  // the row now at the bottom
        if (row < m && nn < n) res.c[row * n + nn] = acc[std::size_t(R - 1) * C + c];
      }
      for (std::uint32_t r = R - 1; r > 0; --r)
        for (std::uint32_t c = 0; c < C; ++c) acc[std::size_t(r) * C + c] = acc[std::size_t(r - 1) * C + c];
      for (std::uint32_t c = 0; c < C; ++c) acc[c] = 0.0;
    }
    std::fill(a_reg.begin(), a_reg.end(), Val{});
    std::fill(b_reg.begin(), b_reg.end(), Val{});
  }
  res.cycles = cycle;
  return res;
}

}  // namespace

PeArrayResult run_pe_array(const SystolicArrayShape& shape, DType dtype, std::uint64_t m, std::uint64_t k,
                           std::uint64_t n, const std::vector<double>& a, const std::vector<double>& b,
                           std::uint64_t max_frames, const PeFrameSink& sink) {
  if (a.size() != m * k || b.size() != k * n) throw std::invalid_argument("operand sizes do not match m, k, n");
  const Arithmetic arith{dtype_is_integer(dtype)};
  PeArrayResult r;
  switch (shape.dataflow) {
    case Dataflow::ws:
      r = WsArray(shape, arith, m, k, n, a, b, max_frames, sink).run();
      break;
    case Dataflow::os:
      r = run_os(shape, arith, m, k, n, a, b, max_frames, sink);
      break;
    case Dataflow::is: {
      // C^T (n x m) = B^T (n x k) A^T (k x m) on a weight-stationary array.
      std::vector<double> bt(n * k), at(k * m);
      for (std::uint64_t i = 0; i < k; ++i)
        for (std::uint64_t j = 0; j < n; ++j) bt[j * k + i] = b[i * n + j];
      for (std::uint64_t i = 0; i < m; ++i)
        for (std::uint64_t j = 0; j < k; ++j) at[j * m + i] = a[i * k + j];
      SystolicArrayShape ws = shape;
      ws.dataflow = Dataflow::ws;
      PeArrayResult t = WsArray(ws, arith, n, k, m, bt, at, max_frames, sink).run();
      r.cycles = t.cycles;
      r.frames = std::move(t.frames);
      r.c.assign(m * n, 0.0);
      for (std::uint64_t i = 0; i < n; ++i)
        for (std::uint64_t j = 0; j < m; ++j) r.c[j * n + i] = t.c[i * m + j];
      break;
    }
  }
  r.macs = m * k * n;
  return r;
}

}  // namespace podsim
