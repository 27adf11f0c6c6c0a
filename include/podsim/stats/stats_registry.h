// One registry for every statistic of a run, grouped per block ("chip.core0.mxu1"), each
// with a unit and a description. Blocks add their numbers when the run ends; writers turn
// the registry into JSON or CSV. Groups and stats keep the order they were added in, so
// reports are byte-identical from run to run.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace podsim {

struct Stat {
  std::string name;
  std::string unit;  // "B", "cycles", "ps", "B/s", "1" for a ratio
  std::variant<std::uint64_t, double> value;
  std::string description;
};

struct StatGroup {
  std::string name;
  std::vector<Stat> stats;
};

class StatsRegistry {
 public:
  void add(const std::string& group, const std::string& name, const std::string& unit,
           std::uint64_t value, const std::string& description = "");
  void add(const std::string& group, const std::string& name, const std::string& unit,
           double value, const std::string& description = "");

  const std::vector<StatGroup>& groups() const { return groups_; }
  const Stat* find(const std::string& group, const std::string& name) const;

 private:
  StatGroup& group(const std::string& name);
  std::vector<StatGroup> groups_;                       // in the order added: reports keep it
  std::unordered_map<std::string, std::size_t> index_;  // group name -> position
};

}  // namespace podsim
