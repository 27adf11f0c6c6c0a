#include "podsim/stats/stats_registry.h"

namespace podsim {

StatGroup& StatsRegistry::group(const std::string& name) {
  // A hash index beside the ordered vector: a chip of 1024 cores x 64 MXUs has ~70,000
  // groups, and a linear search per statistic took minutes.
  const auto [it, added] = index_.emplace(name, groups_.size());
  if (added) groups_.push_back({name, {}});
  return groups_[it->second];
}

void StatsRegistry::add(const std::string& g, const std::string& name, const std::string& unit,
                        std::uint64_t value, const std::string& description) {
  group(g).stats.push_back({name, unit, value, description});
}

void StatsRegistry::add(const std::string& g, const std::string& name, const std::string& unit,
                        double value, const std::string& description) {
  group(g).stats.push_back({name, unit, value, description});
}

const Stat* StatsRegistry::find(const std::string& g, const std::string& name) const {
  const auto it = index_.find(g);
  if (it == index_.end()) return nullptr;
  for (const auto& s : groups_[it->second].stats)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace podsim
