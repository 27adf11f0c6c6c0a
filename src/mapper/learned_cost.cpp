#include "podsim/mapper/learned_cost.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace podsim {
namespace {

double lg(double v) { return std::log(std::max(v, 1e-30)); }

// FNV-1a: a hash that is the same on every platform (the folds must not depend on it).
std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// One CSV line's fields (RFC 4180: quoted fields may hold commas and doubled quotes).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

// Only regular files of bounded size: /dev/zero or a FIFO would never end.
std::string read_bounded(const std::string& path, std::uintmax_t max_bytes, const char* expected) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw std::runtime_error(fmt::format("{}: {}; expected {}", path,
                                         std::filesystem::exists(path, ec) ? "not a regular file" : "no such file", expected));
  if (std::filesystem::file_size(path, ec) > max_bytes)
    throw std::runtime_error(fmt::format("{}: larger than {} MiB; expected {}", path, max_bytes >> 20, expected));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot be read", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

BoostedTrees load_cost_model(const std::string& path) {
  const std::string text = read_bounded(path, 64ull << 20, "a model `podsim map --learn` wrote");
  try {
    return BoostedTrees::from_json(text);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("{}: {}", path, e.what()));
  }
}

const std::array<const char*, kCostFeatures>& cost_feature_names() {
  static const std::array<const char*, kCostFeatures> names = {
      "log_predicted_s", "log_m", "log_k", "log_n", "log_tm", "log_tk", "log_tn", "a_resident", "log_b_row_bytes",
      "log_a_row_bytes", "log_blocks", "log_predicted_memory_share", "log_predicted_compute_share", "log_hbm_Bps",
      "log_peak_flops"};
  return names;
}

std::array<double, kCostFeatures> cost_features(const CostSample& s) {
  const double p = std::max(s.predicted_s, 1e-15);
  const double bytes = double(s.dtype_bytes);
  return {lg(p),
          lg(double(s.m)),
          lg(double(s.k)),
          lg(double(s.n)),
          lg(double(s.tm)),
          lg(double(s.tk)),
          lg(double(s.tn)),
          s.a_resident ? 1.0 : 0.0,
          lg(double(s.tn) * bytes),  // a B tile's rows: short strided rows read below peak
          lg(double(s.tk) * bytes),
          lg(double(std::max<std::uint64_t>(1, s.blocks))),
          lg(double(s.hbm_bytes) / (p * std::max(1.0, s.hbm_Bps))),
          lg(2.0 * double(s.m) * double(s.k) * double(s.n) / (p * std::max(1.0, s.peak_flops))),
          lg(s.hbm_Bps),
          lg(s.peak_flops)};
}

void BoostedTrees::fit(const std::vector<std::array<double, kCostFeatures>>& x, const std::vector<double>& y,
                       const Options& o) {
  trees_.clear();
  rate_ = o.learning_rate;
  const std::size_t n = x.size();
  base_ = n ? std::accumulate(y.begin(), y.end(), 0.0) / double(n) : 0.0;
  if (n == 0) return;
  std::vector<double> residual(n);
  for (std::size_t i = 0; i < n; ++i) residual[i] = y[i] - base_;
  // Each feature's sample order, once: a node's split scan walks its members in it.
  std::array<std::vector<std::size_t>, kCostFeatures> order;
  for (std::size_t f = 0; f < kCostFeatures; ++f) {
    order[f].resize(n);
    std::iota(order[f].begin(), order[f].end(), 0);
    std::stable_sort(order[f].begin(), order[f].end(), [&](std::size_t a, std::size_t b) { return x[a][f] < x[b][f]; });
  }
  std::vector<int> node_of(n);
  for (std::size_t round = 0; round < o.rounds; ++round) {
    Tree tree(1);
    std::fill(node_of.begin(), node_of.end(), 0);
    std::vector<int> frontier = {0};
    for (std::size_t depth = 0; depth <= o.max_depth && !frontier.empty(); ++depth) {
      std::vector<int> next;
      for (int id : frontier) {
        double sum = 0;
        std::size_t count = 0;
        for (std::size_t i = 0; i < n; ++i)
          if (node_of[i] == id) {
            sum += residual[i];
            ++count;
          }
        tree[std::size_t(id)].value = count ? sum / double(count) : 0.0;
        if (depth == o.max_depth || count < 2 * o.min_leaf) continue;
        // The split with the largest drop in squared error: sum_l^2/n_l + sum_r^2/n_r.
        double best_gain = sum * sum / double(count) + 1e-12;
        int best_f = -1;
        double best_t = 0;
        for (std::size_t f = 0; f < kCostFeatures; ++f) {
          double left = 0;
          std::size_t nl = 0;
          double prev = 0;
          for (std::size_t i : order[f]) {
            if (node_of[i] != id) continue;
            const double v = x[i][f];
            if (nl >= o.min_leaf && count - nl >= o.min_leaf && v > prev) {
              const double gain = left * left / double(nl) + (sum - left) * (sum - left) / double(count - nl);
              if (gain > best_gain) {
                best_gain = gain;
                best_f = int(f);
                best_t = 0.5 * (prev + v);
              }
            }
            left += residual[i];
            ++nl;
            prev = v;
          }
        }
        if (best_f < 0) continue;
        const int l = int(tree.size()), r = l + 1;
        tree[std::size_t(id)].feature = best_f;
        tree[std::size_t(id)].threshold = best_t;
        tree[std::size_t(id)].left = l;
        tree[std::size_t(id)].right = r;
        tree.emplace_back();
        tree.emplace_back();
        for (std::size_t i = 0; i < n; ++i)
          if (node_of[i] == id) node_of[i] = x[i][std::size_t(best_f)] < best_t ? l : r;
        next.push_back(l);
        next.push_back(r);
      }
      frontier = std::move(next);
    }
    for (std::size_t i = 0; i < n; ++i) residual[i] -= rate_ * tree[std::size_t(node_of[i])].value;
    trees_.push_back(std::move(tree));
  }
}

double BoostedTrees::predict(const std::array<double, kCostFeatures>& x) const {
  double y = base_;
  for (const Tree& t : trees_) {
    int id = 0;
    while (t[std::size_t(id)].feature >= 0)
      id = x[std::size_t(t[std::size_t(id)].feature)] < t[std::size_t(id)].threshold ? t[std::size_t(id)].left
                                                                                     : t[std::size_t(id)].right;
    y += rate_ * t[std::size_t(id)].value;
  }
  return y;
}

std::string BoostedTrees::to_json() const {
  nlohmann::ordered_json j;
  j["format"] = "podsim-boosted-trees-1";
  j["target"] = "log(simulated_s / predicted_s)";
  j["features"] = cost_feature_names();
  j["base"] = base_;
  j["learning_rate"] = rate_;
  nlohmann::ordered_json trees = nlohmann::ordered_json::array();
  for (const Tree& t : trees_) {
    nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
    for (const Node& nd : t)
      nodes.push_back(nd.feature < 0 ? nlohmann::ordered_json::array({nd.value})
                                     : nlohmann::ordered_json::array({nd.feature, nd.threshold, nd.left, nd.right}));
    trees.push_back(nodes);
  }
  j["trees"] = trees;
  return j.dump() + "\n";
}

BoostedTrees BoostedTrees::from_json(const std::string& text) {
  BoostedTrees m;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error(fmt::format("not JSON: {}", e.what()));
  }
  if (!j.is_object() || j.value("format", "") != "podsim-boosted-trees-1")
    throw std::runtime_error("expected a model `podsim map --learn` wrote (format: podsim-boosted-trees-1)");
  if (j.at("features") != nlohmann::json(cost_feature_names()))
    throw std::runtime_error("the model was trained on other features than this podsim computes");
  try {
    m.base_ = j.at("base").get<double>();
    m.rate_ = j.at("learning_rate").get<double>();
    for (const auto& t : j.at("trees")) {
      Tree tree;
      for (const auto& nd : t) {
        Node node;
        if (nd.size() == 1) {
          node.value = nd[0].get<double>();
        } else if (nd.size() == 4) {
          node.feature = nd[0].get<int>();
          node.threshold = nd[1].get<double>();
          node.left = nd[2].get<int>();
          node.right = nd[3].get<int>();
        } else {
          throw std::runtime_error("a tree node is neither [value] nor [feature, threshold, left, right]");
        }
        tree.push_back(node);
      }
      // Children inside the tree and after their parent: prediction always ends at a leaf.
      for (std::size_t i = 0; i < tree.size(); ++i) {
        const Node& nd = tree[i];
        if (nd.feature < 0) continue;
        if (nd.feature >= int(kCostFeatures) || nd.left <= int(i) || nd.right <= int(i) || nd.left >= int(tree.size()) ||
            nd.right >= int(tree.size()))
          throw std::runtime_error(fmt::format("tree {} node {}: a feature or child out of range", m.trees_.size(), i));
      }
      if (tree.empty()) throw std::runtime_error("an empty tree");
      m.trees_.push_back(std::move(tree));
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("a field is missing or of the wrong type: {}", e.what()));
  }
  return m;
}

double learned_seconds(const BoostedTrees& model, const CostSample& s) {
  return s.predicted_s * std::exp(model.predict(cost_features(s)));
}

std::vector<CostSample> read_cost_samples(const std::string& path) {
  std::istringstream in(read_bounded(path, 256ull << 20, "a CSV file `podsim map --csv` wrote"));
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(fmt::format("{}:1: empty; expected `podsim map --csv` output", path));
  const std::vector<std::string> header = csv_fields(line);
  const std::vector<std::string> need = {"op", "shape", "hardware", "m", "k", "n", "dtype_bytes", "tm", "tk", "tn",
                                         "a_resident", "blocks", "hbm_bytes", "peak_flops", "hbm_Bps", "predicted_s",
                                         "simulated_s"};
  std::map<std::string, std::size_t> col;
  for (std::size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
  for (const std::string& h : need)
    if (!col.count(h))
      throw std::runtime_error(fmt::format("{}:1: no column '{}'; expected the header `podsim map --csv` writes", path, h));
  std::vector<CostSample> out;
  std::size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    const std::vector<std::string> f = csv_fields(line);
    if (f.size() != header.size())
      throw std::runtime_error(fmt::format("{}:{}: {} fields, the header has {}", path, line_no, f.size(), header.size()));
    auto num = [&](const std::string& name) {
      const std::string& t = f[col[name]];
      std::size_t used = 0;
      double v = 0;
      try {
        v = std::stod(t, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != t.size() || t.empty() || !std::isfinite(v) || v < 0)
        throw std::runtime_error(fmt::format("{}:{}:{}: {}: expected a number >= 0, got '{}'", path, line_no,
                                             col[name] + 1, name, t));
      return v;
    };
    CostSample s;
    s.group = f[col["hardware"]] + "|" + f[col["shape"]] + "|" + f[col["op"]];
    s.predicted_s = num("predicted_s");
    s.simulated_s = num("simulated_s");
    s.m = std::uint64_t(num("m"));
    s.k = std::uint64_t(num("k"));
    s.n = std::uint64_t(num("n"));
    s.dtype_bytes = std::uint64_t(num("dtype_bytes"));
    s.tm = std::uint64_t(num("tm"));
    s.tk = std::uint64_t(num("tk"));
    s.tn = std::uint64_t(num("tn"));
    s.a_resident = num("a_resident") != 0;
    s.blocks = std::uint64_t(num("blocks"));
    s.hbm_bytes = std::uint64_t(num("hbm_bytes"));
    s.peak_flops = num("peak_flops");
    s.hbm_Bps = num("hbm_Bps");
    if (s.predicted_s <= 0 || s.simulated_s <= 0)
      throw std::runtime_error(fmt::format("{}:{}: predicted_s and simulated_s must be > 0", path, line_no));
    out.push_back(s);
  }
  return out;
}

namespace {

// Simulations, in the order `time` ranks a group's candidates, until one within 0.5 % of
// the group's best simulated time is found.
std::size_t sims_to_best(const std::vector<const CostSample*>& group, const std::vector<double>& time) {
  std::vector<std::size_t> idx(group.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return time[a] < time[b]; });
  double best = HUGE_VAL;
  for (const CostSample* s : group) best = std::min(best, s->simulated_s);
  for (std::size_t r = 0; r < idx.size(); ++r)
    if (group[idx[r]]->simulated_s <= best * 1.005) return r + 1;
  return idx.size();
}

}  // namespace

LearnReport learn_cost_model(const std::vector<CostSample>& samples, const BoostedTrees::Options& o) {
  LearnReport r;
  r.samples = samples.size();
  std::map<std::string, std::vector<const CostSample*>> groups;
  for (const CostSample& s : samples) groups[s.group].push_back(&s);
  r.groups = groups.size();
  if (samples.empty()) return r;
  auto shape_of = [](const std::string& group) {
    const std::size_t a = group.find('|'), b = group.find('|', a + 1);
    return group.substr(a + 1, b - a - 1);
  };
  // Five folds by the op's shape: a held-out shape is unseen on every chip.
  constexpr std::uint64_t kFolds = 5;
  double abs_a = 0, abs_l = 0, sims_a = 0, sims_l = 0;
  std::size_t scored = 0, scored_groups = 0, members = 0;
  for (std::uint64_t fold = 0; fold < kFolds; ++fold) {
    std::vector<std::array<double, kCostFeatures>> x;
    std::vector<double> y;
    for (const CostSample& s : samples)
      if (fnv1a(shape_of(s.group)) % kFolds != fold) {
        x.push_back(cost_features(s));
        y.push_back(std::log(s.simulated_s / s.predicted_s));
      }
    if (x.empty()) continue;
    BoostedTrees m;
    m.fit(x, y, o);
    for (const auto& [name, g] : groups) {
      if (fnv1a(shape_of(name)) % kFolds != fold) continue;
      std::vector<double> analytical, learned;
      for (const CostSample* s : g) {
        analytical.push_back(s->predicted_s);
        learned.push_back(learned_seconds(m, *s));
        abs_a += std::abs(s->predicted_s - s->simulated_s) / s->simulated_s;
        abs_l += std::abs(learned.back() - s->simulated_s) / s->simulated_s;
        ++scored;
      }
      sims_a += double(sims_to_best(g, analytical));
      sims_l += double(sims_to_best(g, learned));
      members += g.size();
      ++scored_groups;
    }
  }
  if (scored) {
    r.analytical_mape = abs_a / double(scored);
    r.learned_mape = abs_l / double(scored);
  }
  if (scored_groups) {
    r.analytical_sims_to_best = sims_a / double(scored_groups);
    r.learned_sims_to_best = sims_l / double(scored_groups);
    r.candidates_per_group = members / scored_groups;
  }
  auto hardware_of = [](const std::string& group) { return group.substr(0, group.find('|')); };
  std::vector<std::string> chips;
  for (const CostSample& s : samples)
    if (std::find(chips.begin(), chips.end(), hardware_of(s.group)) == chips.end()) chips.push_back(hardware_of(s.group));
  std::sort(chips.begin(), chips.end());
  for (const std::string& chip : chips.size() > 1 ? chips : std::vector<std::string>{}) {
    std::vector<std::array<double, kCostFeatures>> x;
    std::vector<double> y;
    for (const CostSample& s : samples)
      if (hardware_of(s.group) != chip) {
        x.push_back(cost_features(s));
        y.push_back(std::log(s.simulated_s / s.predicted_s));
      }
    BoostedTrees m;
    m.fit(x, y, o);
    LearnReport::ChipHoldout h;
    h.hardware = chip;
    for (const CostSample& s : samples)
      if (hardware_of(s.group) == chip) {
        h.analytical_mape += std::abs(s.predicted_s - s.simulated_s) / s.simulated_s;
        h.learned_mape += std::abs(learned_seconds(m, s) - s.simulated_s) / s.simulated_s;
        ++h.samples;
      }
    h.analytical_mape /= double(std::max<std::size_t>(1, h.samples));
    h.learned_mape /= double(std::max<std::size_t>(1, h.samples));
    r.chips.push_back(h);
  }
  std::vector<std::array<double, kCostFeatures>> x;
  std::vector<double> y;
  for (const CostSample& s : samples) {
    x.push_back(cost_features(s));
    y.push_back(std::log(s.simulated_s / s.predicted_s));
  }
  r.model.fit(x, y, o);
  return r;
}

std::string learn_report_text(const LearnReport& r) {
  std::string chips;
  for (const auto& h : r.chips)
    chips += fmt::format("  {} held out ({} samples, trained on the other chips): analytical {:.2f} %, learned {:.2f} %\n",
                         h.hardware, h.samples, 100 * h.analytical_mape, 100 * h.learned_mape);
  return fmt::format(
      "learned cost model: {} samples in {} searches (op x chip), {} trees\n"
      "  held out by shape (5-fold): mean |estimate - simulated| / simulated: analytical {:.2f} %, learned {:.2f} %\n"
      "  simulations to reach the best tiling (within 0.5 %) of a search of about {} candidates: analytical order "
      "{:.2f}, learned order {:.2f}\n",
      r.samples, r.groups, r.model.trees(), 100 * r.analytical_mape, 100 * r.learned_mape, r.candidates_per_group,
      r.analytical_sims_to_best, r.learned_sims_to_best) + chips;
}

}  // namespace podsim
