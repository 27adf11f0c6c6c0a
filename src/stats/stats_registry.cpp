#include "podsim/stats/stats_registry.h"

namespace podsim {

StatGroup& StatsRegistry::group(const std::string& name) {
  for (auto& g : groups_)
    if (g.name == name) return g;
  groups_.push_back({name, {}});
  return groups_.back();
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
  for (const auto& grp : groups_)
    if (grp.name == g)
      for (const auto& s : grp.stats)
        if (s.name == name) return &s;
  return nullptr;
}

}  // namespace podsim
