#include "podsim/config/workload_loader.h"

#include <cctype>
#include <set>

#include <fmt/format.h>

#include "op_fields.h"

namespace podsim {
namespace {

using detail::location_of;
using detail::OpFields;

void parse_training(const YAML::Node& t, const std::string& file, TrainingSpec* out) {
  detail::expect_map(t, "workload.training", file);
  detail::reject_unknown_keys(t, {"optimizer", "precision", "recompute"}, "workload.training", file);
  OpFields f(t, "workload.training", file);
  out->enabled = true;
  const std::string opt = f.choice("optimizer", {"sgd", "momentum", "adam"}, "adam");
  out->optimizer = opt == "sgd" ? Optimizer::sgd : opt == "momentum" ? Optimizer::momentum : Optimizer::adam;
  out->recompute = f.choice("recompute", {"none", "full"}, "none") == "full";
  if (const YAML::Node p = t["precision"]) {
    detail::expect_map(p, "workload.training.precision", file);
    detail::reject_unknown_keys(p, {"compute", "master"}, "workload.training.precision", file);
    OpFields pf(p, "workload.training.precision", file);
    if (p["compute"]) out->compute = pf.dtype("compute");
    if (p["master"]) out->master = pf.dtype("master");
  }
}

void parse_parallelism(const YAML::Node& node, const std::string& file, ParallelismSpec* out) {
  detail::expect_map(node, "workload.parallelism", file);
  detail::reject_unknown_keys(node, {"data", "tensor", "pipeline", "microbatches", "schedule", "expert", "gradient_bucket",
                                      "gradient_dtype", "zero"},
                              "workload.parallelism", file);
  OpFields f(node, "workload.parallelism", file);
  out->given = true;
  out->where = location_of(node, file);
  out->data = f.integer("data", 1, 65536, 0);
  out->tensor = f.integer("tensor", 1, 65536, 1);
  out->pipeline = f.integer("pipeline", 1, 65536, 1);
  out->microbatches = f.integer("microbatches", 1, 4096, 1);
  out->one_f_one_b = f.choice("schedule", {"gpipe", "1f1b"}, "gpipe") == "1f1b";
  out->expert = f.choice("expert", {"true", "false"}, "false") == "true";
  if (const YAML::Node b = node["gradient_bucket"]) {
    std::string why;
    auto q = parse_param_text(ParamType::quantity, UnitKind::size, 1, 1ULL << 40, {},
                              detail::scalar_text(b, "workload.parallelism.gradient_bucket", file), &why);
    if (!q) throw ConfigError(location_of(b, file), "workload.parallelism.gradient_bucket", why);
    out->gradient_bucket_bytes = q->number;
  }
  if (node["gradient_dtype"]) out->gradient_dtype = f.dtype("gradient_dtype");
  out->zero = std::uint32_t(f.integer("zero", 0, 3, 0));
}

// `samples: {count: 256, unit: images}`, or a count read from the ops as written:
// `count: r50.batch` or `count: gpt.batch * gpt.seq`, so a sweep that sets the op's field
// moves the count with it.
const std::vector<std::string>& sample_units() {
  static const std::vector<std::string> units = {"images", "sequences", "tokens", "queries", "samples"};
  return units;
}

SampleSpec parse_samples(const YAML::Node& node, const YAML::Node& ops, const std::string& file) {
  const std::string path = "workload.samples";
  detail::expect_map(node, path, file);
  detail::reject_unknown_keys(node, {"count", "unit"}, path, file);
  OpFields f(node, path, file);
  SampleSpec out;
  const YAML::Node unit = node["unit"];
  if (!unit)
    throw ConfigError(location_of(node, file), path + ".unit",
                      fmt::format("missing; expected one of {}", fmt::join(sample_units(), ", ")));
  out.unit = f.choice("unit", sample_units(), "");
  const YAML::Node count = node["count"];
  if (!count)
    throw ConfigError(location_of(node, file), path + ".count",
                      "missing; expected a whole number of samples a step, or op fields like r50.batch");
  out.count_text = detail::scalar_text(count, path + ".count", file);
  constexpr std::uint64_t kMax = 1ULL << 50;
  const std::string& text = out.count_text;
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) {
    out.count = f.integer("count", 1, kMax);
    return out;
  }
  // Op fields joined by '*': each <op name>.<field>, a whole number written on that op.
  std::uint64_t product = 1;
  for (std::size_t begin = 0; begin <= text.size();) {
    std::size_t end = text.find('*', begin);
    if (end == std::string::npos) end = text.size();
    std::string term = text.substr(begin, end - begin);
    term.erase(0, term.find_first_not_of(" \t"));
    term.erase(term.find_last_not_of(" \t") + 1);
    const auto dot = term.rfind('.');
    if (term.empty() || dot == std::string::npos || dot == 0 || dot + 1 == term.size())
      throw ConfigError(location_of(count, file), path + ".count",
                        fmt::format("expected a whole number or op fields joined by '*' (like r50.batch or "
                                    "gpt.batch * gpt.seq), got '{}'",
                                    text));
    const std::string name = term.substr(0, dot), field = term.substr(dot + 1);
    YAML::Node op;
    bool found = false;  // a default Node is a null node, not an absent one: `!op` cannot tell
    for (std::size_t i = 0; i < ops.size() && !found; ++i)
      if (ops[i].IsMap() && ops[i]["name"] && ops[i]["name"].IsScalar() && ops[i]["name"].Scalar() == name) {
        op.reset(ops[i]);
        found = true;
      }
    if (!found)
      throw ConfigError(location_of(count, file), path + ".count", fmt::format("no op is named '{}'", name));
    if (!op[field])
      throw ConfigError(location_of(count, file), path + ".count",
                        fmt::format("op '{}' has no '{}' written; give the count as a number", name, field));
    std::string why;
    const std::string value = detail::scalar_text(op[field], path + ".count", file);
    const auto n = parse_param_text(ParamType::integer, UnitKind::none, 1, kMax, {}, value, &why);
    if (!n)
      throw ConfigError(location_of(op[field], file), path + ".count",
                        fmt::format("op '{}' field '{}' is '{}', not a whole number of samples: {}", name, field, value, why));
    if (product > kMax / n->number)
      throw ConfigError(location_of(count, file), path + ".count", fmt::format("'{}' is more than 2^50 samples", text));
    product *= n->number;
    begin = end + 1;
  }
  out.count = product;
  return out;
}

WorkloadSpec parse_document(const YAML::Node& root, const std::string& file) {
  detail::reject_unknown_keys(root, {"workload"}, "", file);
  const YAML::Node wl = root["workload"];
  if (!wl) throw ConfigError({file, 1, 1}, "workload", "missing; the file must start with 'workload:'");
  detail::expect_map(wl, "workload", file);
  detail::reject_unknown_keys(wl, {"name", "description", "ops", "training", "parallelism", "samples"}, "workload",
                              file);

  WorkloadSpec spec;
  spec.source = file;
  spec.name = wl["name"] ? detail::scalar_text(wl["name"], "workload.name", file) : "workload";
  const YAML::Node ops = wl["ops"];
  if (!ops) throw ConfigError(location_of(wl, file), "workload.ops", "missing; expected a list of ops");
  if (!ops.IsSequence() || ops.size() == 0)
    throw ConfigError(location_of(ops, file), "workload.ops", "expected a non-empty list of ops");
  if (const YAML::Node t = wl["training"]) parse_training(t, file, &spec.training);
  if (const YAML::Node p = wl["parallelism"]) {
    parse_parallelism(p, file, &spec.parallelism);
    if (spec.parallelism.zero > 0 && !spec.training.enabled)
      throw ConfigError(location_of(p["zero"], file), "workload.parallelism.zero",
                        "ZeRO shards what a training step holds (optimizer state, master weights, gradients); this "
                        "workload has no 'training:' section");
  }
  if (const YAML::Node n = wl["samples"]) spec.samples = parse_samples(n, ops, file);
  std::set<std::string> names;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    Op op = detail::parse_op(ops[i], i, file);
    if (!names.insert(op.name).second)
      throw ConfigError(op.where, fmt::format("workload.ops[{}].name", i),
                        fmt::format("duplicate op name '{}'", op.name));
    spec.ops.push_back(std::move(op));
  }
  return spec;
}


}  // namespace

WorkloadSpec load_workload(const std::string& path) {
  return parse_document(detail::parse_yaml_file(path), path);
}

bool is_workload_path(const std::string& path) { return path.rfind("workload.", 0) == 0; }

WorkloadSpec load_workload(const std::string& path, const std::vector<std::string>& overrides) {
  if (overrides.empty()) return load_workload(path);
  YAML::Node root = detail::parse_yaml_file(path);
  const SourceLocation where{"--wset", 0, 0};
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError(where, "", fmt::format("expected path=value, got '{}'", o));
    const std::string key = o.substr(0, eq), value = o.substr(eq + 1);
    if (!is_workload_path(key))
      throw ConfigError(where, key, "a workload path starts with 'workload.' (workload.ops[0].m, workload.ops.<name>.m)");
    YAML::Node wl = root["workload"];
    if (!wl || !wl.IsMap()) throw ConfigError({path, 0, 0}, "workload", "missing; the file must start with 'workload:'");
    const std::string rest = key.substr(9);  // after "workload."
    if (rest == "name") {
      wl["name"] = value;
      continue;
    }
    // training.<field> and parallelism.<field> (nested: training.precision.compute): a
    // field of a section the workload has (setting one never turns training or
    // parallelism on by itself); the document is checked in full once set.
    for (const char* section : {"training", "parallelism", "samples"}) {
      const std::string prefix = std::string(section) + ".";
      if (rest.rfind(prefix, 0) != 0) continue;
      YAML::Node node = wl[section];
      if (!node || !node.IsMap())
        throw ConfigError(where, key,
                          fmt::format("the workload has no '{}:' section to set a field of; add one to the file", section));
      std::string tail = rest.substr(prefix.size());
      if (tail.empty()) throw ConfigError(where, key, fmt::format("expected workload.{}.<field>", section));
      for (std::size_t dot; (dot = tail.find('.')) != std::string::npos; tail = tail.substr(dot + 1)) {
        YAML::Node next = node[tail.substr(0, dot)];
        if (!next) {
          node[tail.substr(0, dot)] = YAML::Node(YAML::NodeType::Map);
          next = node[tail.substr(0, dot)];
        }
        if (!next.IsMap()) throw ConfigError(where, key, fmt::format("'{}' is not a section", tail.substr(0, dot)));
        node.reset(next);  // rebind the handle: operator= would overwrite the section with `next`
      }
      node[tail] = value;
    }
    if (rest.rfind("training.", 0) == 0 || rest.rfind("parallelism.", 0) == 0 || rest.rfind("samples.", 0) == 0) continue;
    YAML::Node ops = wl["ops"];
    if (!ops || !ops.IsSequence()) throw ConfigError({path, 0, 0}, "workload.ops", "missing; expected a list of ops");
    // ops[i].field or ops.<name>.field
    std::size_t index = SIZE_MAX;
    std::string field;
    if (rest.rfind("ops[", 0) == 0) {
      const auto close = rest.find(']');
      if (close == std::string::npos || close + 2 > rest.size() || rest[close + 1] != '.')
        throw ConfigError(where, key, "expected workload.ops[<index>].<field>");
      try {
        index = std::stoul(rest.substr(4, close - 4));
      } catch (...) {
        throw ConfigError(where, key, "expected a number between the brackets");
      }
      field = rest.substr(close + 2);
    } else if (rest.rfind("ops.", 0) == 0) {
      const std::string tail = rest.substr(4);
      const auto dot = tail.rfind('.');
      if (dot == std::string::npos) throw ConfigError(where, key, "expected workload.ops.<op name>.<field>");
      const std::string name = tail.substr(0, dot);
      field = tail.substr(dot + 1);
      for (std::size_t i = 0; i < ops.size(); ++i)
        if (ops[i]["name"] && ops[i]["name"].Scalar() == name) index = i;
      if (index == SIZE_MAX) throw ConfigError(where, key, fmt::format("no op is named '{}'", name));
    } else {
      throw ConfigError(where, key,
                        "expected workload.name, workload.ops[<index>].<field>, workload.ops.<name>.<field>, "
                        "workload.training.<field>, workload.parallelism.<field> or workload.samples.<field>");
    }
    if (index >= ops.size())
      throw ConfigError(where, key, fmt::format("the workload has {} ops", ops.size()));
    if (field.empty() || field == "op") throw ConfigError(where, key, "an override sets a field of an op, not its kind");
    ops[index][field] = value;
  }
  YAML::Emitter out;
  out << root;
  return load_workload_text(out.c_str(), path + " (with --wset)");
}

WorkloadSpec load_workload_text(const std::string& text, const std::string& source) {
  return parse_document(detail::parse_yaml_text(text, source), source);
}


}  // namespace podsim
