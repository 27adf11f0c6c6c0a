// How long a serving step takes on the chip, from podsim's own simulations of the model
// (the workload's transformer_decoder template) at a grid of points, interpolated.
//
// Decode: the model at `batch` sequences, one token each, against KV caches of `kv_len`
// tokens, at every batch of {1, 2, 4, ..., max_batch} (from 16 on also halfway: 24, 48,
// ...) and four cache lengths per batch
// (from the shortest cache a decode sees to what the KV capacity allows that batch). Prefill: one sequence of `seq` tokens
// whose keys and values reach `kv_len`, at every chunk of {1, 2, 4, ..., max tokens per
// step} (from 64 on also halfway between: 96, 192, ...) and three lengths. Between grid points the time is piecewise linear in each
// coordinate (decode is close to affine in the cache length: its KV read grows with it);
// beyond the last cache length it extends the last segment. A step that decodes and
// prefills is costed as one prefill of all its tokens plus the decode sequences' KV reads
// (seconds() says why; docs/serving.md gives the measured interpolation error).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "podsim/config/hardware_spec.h"
#include "podsim/serving/batch_scheduler.h"
#include "podsim/workload/workload_spec.h"

namespace podsim {

// One row of the grid: at a batch (decode) or chunk (prefill), times at cache lengths.
struct CostRow {
  std::uint64_t at = 0;
  std::vector<std::uint64_t> kv_len;
  std::vector<double> seconds;
  std::vector<double> joules;  // dynamic energy of the same runs (energy/energy_model.h)
};

// The model's footprint on the chip: weights and KV-cache bytes per token, from the
// workload (compiler/model_capacity.h).
struct ServedModel {
  std::uint64_t weights_bytes = 0;
  std::uint64_t kv_bytes_per_token = 0;
  std::string name;
};

// The workload of one grid point: the model workload file with batch, seq, decode and
// kv_len set on its template op. Throws ConfigError when the file is not one
// transformer_decoder template (pointing at `where`, the serve file's workload key).
WorkloadSpec serving_point(const std::string& workload_path, const SourceLocation& where, bool decode,
                           std::uint64_t batch_or_tokens, std::uint64_t kv_len);
// Any pass: `batch` sequences of `seq` tokens each (decode: one), keys to `kv_len`.
WorkloadSpec serving_pass(const std::string& workload_path, const SourceLocation& where, bool decode,
                          std::uint64_t batch, std::uint64_t seq, std::uint64_t kv_len);
// Per chip: over a slice of `tensor_parallel` chips, each chip's share of the sharded model.
ServedModel served_model(const std::string& workload_path, const SourceLocation& where,
                         std::uint64_t tensor_parallel = 1);
// The program every chip of a slice runs for one pass: the pass sharded over
// `tensor_parallel` chips (its all-reduces as collective ops), or the pass itself on one chip.
WorkloadSpec on_slice(const WorkloadSpec& pass, std::uint64_t tensor_parallel);

class SimulatedStepCost : public StepCost {
 public:
  // Simulates every grid point, `jobs` at a time, each in its own process (sim/isolated_runs.h);
  // this process's one SystemC elaboration goes to the last. min_context, max_context: the
  // shortest and longest caches a decode step can see (prompt + 1, prompt + output - 1);
  // kv_capacity_tokens bounds batch x cache length.
  SimulatedStepCost(const HardwareSpec& hw, const std::string& workload_path, const SourceLocation& where,
                    const ServeScheduler& scheduler, std::uint64_t min_context, std::uint64_t max_context,
                    std::uint64_t kv_capacity_tokens, unsigned jobs, const std::string& draft_path = {},
                    const SourceLocation& draft_where = {});
  double seconds(const StepWork& work) override;
  // Dynamic energy, interpolated as the time is (static power is the report's to add).
  double joules(const StepWork& work) override;
  double decode_seconds(std::uint64_t batch, std::uint64_t kv_len) const;
  double prefill_seconds(std::uint64_t tokens, std::uint64_t kv_len) const;
  const std::vector<CostRow>& decode_rows() const { return decode_; }
  const std::vector<CostRow>& prefill_rows() const { return prefill_; }
  std::size_t simulations() const { return simulations_; }

 private:
  double decode_value(std::uint64_t batch, std::uint64_t kv_len, bool energy) const;
  double prefill_value(std::uint64_t tokens, std::uint64_t kv_len, bool energy) const;
  double step_value(const StepWork& work, bool energy) const;

  std::vector<CostRow> decode_, prefill_;
  // Speculative decoding (ServeScheduler::speculative): the served model's check of
  // draft_tokens_ + 1 positions per sequence, and the draft model's decode, at the decode
  // grid's batches and cache lengths.
  std::vector<CostRow> verify_, draft_;
  std::uint64_t draft_tokens_ = 0;
  std::uint64_t tensor_parallel_ = 1;
  std::size_t simulations_ = 0;
};

// Piecewise-linear in the row coordinate, then in kv_len within each row (extending the
// end segments), of the rows' seconds (or, with `energy`, their joules): exposed for tests.
double interpolate_rows(const std::vector<CostRow>& rows, std::uint64_t at, std::uint64_t kv_len, bool energy = false);

}  // namespace podsim
