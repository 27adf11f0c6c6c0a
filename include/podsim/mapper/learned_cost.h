// A learned cost model for the mapper (issue 15, "learning to learn"): gradient-boosted
// regression trees trained on simulated samples that `podsim map --csv` writes, predicting
// how far the simulation lands from the analytical estimate, log(simulated / predicted),
// from features of the op, the tiling and the chip. `podsim map --learn A.csv,B.csv
// --model m.json` trains one and reports its error on held-out shapes; `podsim map W
// --model m.json` ranks each op's candidate tilings by it before simulating them.
// Plain C++ (no Eigen needed: the trees are a few hundred lines of arithmetic); nothing
// in Python at run time. docs/mapping.md gives the measured error and the search saved.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace podsim {

// What the model sees of one (op, tiling, chip) candidate: all known before simulating.
struct CostSample {
  std::string group;       // the op and chip it belongs to (candidates of one search)
  double predicted_s = 0;  // the analytical estimate
  double simulated_s = 0;  // 0 when not simulated (ranking)
  std::uint64_t m = 0, k = 0, n = 0, dtype_bytes = 2;
  std::uint64_t tm = 0, tk = 0, tn = 0;
  bool a_resident = false;
  std::uint64_t blocks = 0;          // tiles of the op
  std::uint64_t hbm_bytes = 0;       // the tiling's HBM reads and writes
  double peak_flops = 0, hbm_Bps = 0;  // the chip's
};

constexpr std::size_t kCostFeatures = 15;
std::array<double, kCostFeatures> cost_features(const CostSample& s);
const std::array<const char*, kCostFeatures>& cost_feature_names();

// Squared-loss gradient boosting over depth-limited regression trees.
class BoostedTrees {
 public:
  struct Options {
    std::size_t rounds = 300, max_depth = 3, min_leaf = 4;
    double learning_rate = 0.1;
  };
  void fit(const std::vector<std::array<double, kCostFeatures>>& x, const std::vector<double>& y, const Options& o);
  double predict(const std::array<double, kCostFeatures>& x) const;
  std::string to_json() const;
  // Throws std::runtime_error naming what is wrong with the text.
  static BoostedTrees from_json(const std::string& text);
  std::size_t trees() const { return trees_.size(); }

 private:
  struct Node {
    int feature = -1;  // -1: a leaf
    double threshold = 0, value = 0;
    int left = -1, right = -1;
  };
  using Tree = std::vector<Node>;
  double base_ = 0;
  double rate_ = 0.1;
  std::vector<Tree> trees_;
};

// A model file (regular, at most 64 MiB). Throws std::runtime_error naming the file and
// what is wrong.
BoostedTrees load_cost_model(const std::string& path);

// The analytical estimate corrected by the model: predicted x exp(model(features)).
double learned_seconds(const BoostedTrees& model, const CostSample& s);

// Samples from a CSV file `podsim map --csv` wrote (its header names the columns; a
// regular file of at most 256 MiB).
// Throws std::runtime_error with the file, line and column of a bad field.
std::vector<CostSample> read_cost_samples(const std::string& path);

// Trains on every sample, and reports how the model does on shapes it has not seen: the
// samples' groups split in five by a hash of the op's shape, each fifth predicted by a
// model trained on the other four (cross-validation); and on chips it has not seen.
struct LearnReport {
  std::size_t samples = 0, groups = 0;
  double analytical_mape = 0, learned_mape = 0;  // held-out, |predicted - simulated| / simulated
  // Per group, how many candidates simulated in each order (analytical, learned) find
  // that group's best simulated time; the mean over held-out groups.
  double analytical_sims_to_best = 0, learned_sims_to_best = 0;
  std::size_t candidates_per_group = 0;  // mean candidates in a group
  // Each chip held out in turn (when the samples span more than one): a model trained on
  // the other chips' samples, scored on this one's.
  struct ChipHoldout {
    std::string hardware;
    std::size_t samples = 0;
    double analytical_mape = 0, learned_mape = 0;
  };
  std::vector<ChipHoldout> chips;
  BoostedTrees model;  // trained on every sample
};
LearnReport learn_cost_model(const std::vector<CostSample>& samples, const BoostedTrees::Options& o = {});
std::string learn_report_text(const LearnReport& r);

}  // namespace podsim
