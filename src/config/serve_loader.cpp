// Serve files (serving/serve_spec.h) and their request traces. yaml-cpp stays in the
// config layer; the scheduler and the step-cost model see plain structs.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "podsim/config/units.h"
#include "podsim/io/text_lines.h"
#include "podsim/serving/serve_spec.h"
#include "yaml_util.h"

namespace podsim {
namespace {

using detail::location_of;
namespace fs = std::filesystem;

// Bounds that keep a hostile file from asking for unbounded time or memory.
constexpr std::uint64_t kMaxRequests = 1'000'000;
constexpr std::uint64_t kMaxTokens = 1ULL << 24;  // per prompt or output: 16 M tokens
constexpr std::uintmax_t kMaxTraceBytes = 64ull << 20;

ServeSpec load_serve_spec_node(const YAML::Node& root, const std::string& path);

std::string resolve(const std::string& serve_file, const std::string& relative) {
  if (fs::path(relative).is_absolute()) return relative;
  return (fs::path(serve_file).parent_path() / relative).lexically_normal().string();
}

std::uint64_t integer(const YAML::Node& node, const std::string& key_path, const std::string& file,
                      std::uint64_t lo, std::uint64_t hi) {
  const std::string text = detail::scalar_text(node, key_path, file);
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi)
    throw ConfigError(location_of(node, file), key_path,
                      fmt::format("expected a whole number from {} to {}, got '{}'", lo, hi, text));
  return v;
}

double positive_real(const YAML::Node& node, const std::string& key_path, const std::string& file) {
  const std::string text = detail::scalar_text(node, key_path, file);
  double v = 0;
  std::size_t used = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || !std::isfinite(v) || v <= 0 || v > 1e9)
    throw ConfigError(location_of(node, file), key_path, fmt::format("expected a number > 0, got '{}'", text));
  return v;
}

double seconds(const YAML::Node& node, const std::string& key_path, const std::string& file) {
  const std::string text = detail::scalar_text(node, key_path, file);
  std::string why;
  const auto q = parse_quantity(text, UnitKind::time, &why);
  if (!q || q->value == 0)
    throw ConfigError(location_of(node, file), key_path,
                      fmt::format("expected a time > 0 such as '500 ms' ({})", q ? "zero" : why));
  return static_cast<double>(q->value) * 1e-12;
}

TokenRange token_range(const YAML::Node& node, const std::string& key_path, const std::string& file,
                       std::uint64_t lo) {
  TokenRange r;
  if (node.IsMap()) {
    detail::reject_unknown_keys(node, {"min", "max"}, key_path, file);
    if (!node["min"] || !node["max"])
      throw ConfigError(location_of(node, file), key_path, "a range gives both min and max");
    r.min = integer(node["min"], key_path + ".min", file, lo, kMaxTokens);
    r.max = integer(node["max"], key_path + ".max", file, lo, kMaxTokens);
    if (r.max < r.min) throw ConfigError(location_of(node, file), key_path, "expected min <= max");
    return r;
  }
  r.min = r.max = integer(node, key_path, file, lo, kMaxTokens);
  return r;
}

RequestGenerator generator(const YAML::Node& req, const std::string& file) {
  RequestGenerator g;
  for (const char* k : {"count", "rate", "prompt_tokens", "output_tokens"})
    if (!req[k]) throw ConfigError(location_of(req, file), std::string("serve.requests.") + k, "missing");
  g.count = integer(req["count"], "serve.requests.count", file, 1, kMaxRequests);
  g.rate_per_s = positive_real(req["rate"], "serve.requests.rate", file);
  g.seed = req["seed"] ? integer(req["seed"], "serve.requests.seed", file, 0, UINT64_MAX) : 1;
  g.prompt = token_range(req["prompt_tokens"], "serve.requests.prompt_tokens", file, 1);
  g.output = token_range(req["output_tokens"], "serve.requests.output_tokens", file, 1);
  if (const YAML::Node sp = req["shared_prefix"]) {
    detail::expect_map(sp, "serve.requests.shared_prefix", file);
    detail::reject_unknown_keys(sp, {"groups", "tokens"}, "serve.requests.shared_prefix", file);
    for (const char* k : {"groups", "tokens"})
      if (!sp[k])
        throw ConfigError(location_of(sp, file), std::string("serve.requests.shared_prefix.") + k,
                          "missing: how many distinct prefixes, and their length in tokens");
    g.shared_prefix.groups = integer(sp["groups"], "serve.requests.shared_prefix.groups", file, 1, 1'000'000);
    g.shared_prefix.tokens = integer(sp["tokens"], "serve.requests.shared_prefix.tokens", file, 1, kMaxTokens);
    if (g.shared_prefix.tokens >= g.prompt.min)
      throw ConfigError(location_of(sp["tokens"], file), "serve.requests.shared_prefix.tokens",
                        fmt::format("{} must be fewer than the shortest prompt ({} tokens): the prompt's last token is "
                                    "always computed",
                                    g.shared_prefix.tokens, g.prompt.min));
  }
  if (const YAML::Node cv = req["conversations"]) {
    detail::expect_map(cv, "serve.requests.conversations", file);
    detail::reject_unknown_keys(cv, {"turns", "turn_gap"}, "serve.requests.conversations", file);
    for (const char* k : {"turns", "turn_gap"})
      if (!cv[k])
        throw ConfigError(location_of(cv, file), std::string("serve.requests.conversations.") + k,
                          "missing: turns per conversation, and the mean time between its turns");
    if (req["shared_prefix"])
      throw ConfigError(location_of(cv, file), "serve.requests.conversations",
                        "conversations with shared_prefix are not modelled (a prefix tree); use one");
    // One number or {min, max}, from 1 to 1,000 turns.
    const YAML::Node turns = cv["turns"];
    const std::string turns_path = "serve.requests.conversations.turns";
    if (turns.IsMap()) {
      detail::reject_unknown_keys(turns, {"min", "max"}, turns_path, file);
      if (!turns["min"] || !turns["max"]) throw ConfigError(location_of(turns, file), turns_path, "a range gives both min and max");
      g.conversations.turns = {integer(turns["min"], turns_path + ".min", file, 1, 1000),
                               integer(turns["max"], turns_path + ".max", file, 1, 1000)};
      if (g.conversations.turns.max < g.conversations.turns.min)
        throw ConfigError(location_of(turns, file), turns_path, "expected min <= max");
    } else {
      g.conversations.turns.min = g.conversations.turns.max = integer(turns, turns_path, file, 1, 1000);
    }
    g.conversations.turn_gap_s = seconds(cv["turn_gap"], "serve.requests.conversations.turn_gap", file);
    if (double(g.count) * double(g.conversations.turns.max) > double(kMaxRequests))
      throw ConfigError(location_of(cv["turns"], file), "serve.requests.conversations.turns",
                        fmt::format("{} conversations of up to {} turns could make more than {} requests", g.count,
                                    g.conversations.turns.max, kMaxRequests));
    // The longest conversation's last prompt must stay a number of tokens podsim takes.
    const double longest = double(g.conversations.turns.max) * double(g.prompt.max + g.output.max);
    if (longest > double(kMaxTokens))
      throw ConfigError(location_of(cv["turns"], file), "serve.requests.conversations.turns",
                        fmt::format("a conversation of {} turns of up to {} + {} tokens would pass {} tokens",
                                    g.conversations.turns.max, g.prompt.max, g.output.max, kMaxTokens));
  }
  return g;
}

// Deterministic on every platform: the standard distributions are implementation-defined,
// so the transforms are podsim's own. Uniform integers by rejection (no modulo bias).
std::uint64_t uniform(std::mt19937_64& rng, const TokenRange& r) {
  const std::uint64_t span = r.max - r.min + 1;
  if (span == 0) return rng();  // the whole 64-bit range
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % span;
  std::uint64_t x = rng();
  while (x >= limit) x = rng();
  return r.min + x % span;
}
double unit_open(std::mt19937_64& rng) { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; }

// Conversations (serve_spec.h): each conversation's turns, then all of them in arrival
// order (ties: the earlier conversation, then the earlier turn). The prefix id is the
// conversation's number, from 1.
std::vector<ServeRequest> conversation_requests(const RequestGenerator& g) {
  std::mt19937_64 rng(g.seed);
  std::vector<ServeRequest> out;
  double start = 0;
  for (std::uint64_t c = 0; c < g.count; ++c) {
    start += -std::log(unit_open(rng)) / g.rate_per_s;
    const std::uint64_t turns = uniform(rng, g.conversations.turns);
    double at = start;
    std::uint64_t context = 0;  // tokens of the conversation so far
    for (std::uint64_t k = 0; k < turns; ++k) {
      if (k > 0) at += -std::log(unit_open(rng)) * g.conversations.turn_gap_s;
      ServeRequest r;
      r.arrival_s = at;
      r.prompt_tokens = context + uniform(rng, g.prompt);
      r.output_tokens = uniform(rng, g.output);
      r.prefix_id = c + 1;
      r.prefix_tokens = context > 0 ? context - 1 : 0;
      context = r.prompt_tokens + r.output_tokens;
      out.push_back(r);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const ServeRequest& a, const ServeRequest& b) { return a.arrival_s < b.arrival_s; });
  return out;
}

std::vector<ServeRequest> read_trace(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ConfigError({path, 0, 0}, "serve.requests.trace", "no such file");
  if (!fs::is_regular_file(path, ec)) throw ConfigError({path, 0, 0}, "serve.requests.trace", "not a regular file");
  if (fs::file_size(path, ec) > kMaxTraceBytes)
    throw ConfigError({path, 0, 0}, "serve.requests.trace", fmt::format("larger than {} MiB", kMaxTraceBytes >> 20));
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_serve_trace(text.str(), path);
}

}  // namespace

std::vector<ServeRequest> parse_serve_trace(const std::string& all, const std::string& path) {
  TextLines lines(all);
  std::string_view line;
  std::vector<ServeRequest> out;
  bool header = false;
  std::size_t columns = 3;  // 5 with the shared-prefix columns
  double last = 0;
  std::unordered_map<std::uint64_t, std::pair<std::uint64_t, std::size_t>> prefix_seen;  // id -> tokens, line
  while (lines.next(&line)) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    if (!header) {
      if (line == "arrival_s,prompt_tokens,output_tokens,prefix_id,prefix_tokens") {
        columns = 5;
      } else if (line != "arrival_s,prompt_tokens,output_tokens") {
        throw ConfigError({path, lines.number(), 1}, "serve.requests.trace",
                          "expected the header 'arrival_s,prompt_tokens,output_tokens' (optionally followed by "
                          "',prefix_id,prefix_tokens')");
      }
      header = true;
      continue;
    }
    std::vector<std::pair<std::string, int>> fields;  // text, 1-based column
    std::size_t start = 0;
    for (;;) {
      const std::size_t comma = line.find(',', start);
      fields.emplace_back(std::string(line.substr(start, comma - start)), static_cast<int>(start) + 1);
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    auto fail = [&](std::size_t f, const std::string& why) {
      throw ConfigError({path, lines.number(), f < fields.size() ? fields[f].second : 1}, "serve.requests.trace", why);
    };
    if (fields.size() != columns)
      fail(0, fmt::format("expected {} fields ({}), got {}", columns,
                          columns == 3 ? "arrival_s,prompt_tokens,output_tokens"
                                       : "arrival_s,prompt_tokens,output_tokens,prefix_id,prefix_tokens",
                          fields.size()));
    ServeRequest r;
    std::size_t used = 0;
    try {
      r.arrival_s = std::stod(fields[0].first, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != fields[0].first.size() || !std::isfinite(r.arrival_s) || r.arrival_s < 0 || r.arrival_s > 1e9)
      fail(0, fmt::format("arrival_s: expected seconds >= 0, got '{}'", fields[0].first));
    if (r.arrival_s < last) fail(0, "arrival_s: the requests must come in arrival order");
    last = r.arrival_s;
    for (std::size_t f = 1; f <= 2; ++f) {
      std::uint64_t v = 0;
      const std::string& s = fields[f].first;
      const auto [end, e] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (e != std::errc() || end != s.data() + s.size() || v < 1 || v > kMaxTokens)
        fail(f, fmt::format("{}: expected a whole number from 1 to {}, got '{}'",
                            f == 1 ? "prompt_tokens" : "output_tokens", kMaxTokens, s));
      (f == 1 ? r.prompt_tokens : r.output_tokens) = v;
    }
    if (columns == 5) {
      for (std::size_t f = 3; f <= 4; ++f) {
        std::uint64_t v = 0;
        const std::string& s = fields[f].first;
        const auto [end, e] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (e != std::errc() || end != s.data() + s.size() || v > kMaxTokens)
          fail(f, fmt::format("{}: expected a whole number from 0 to {}, got '{}'", f == 3 ? "prefix_id" : "prefix_tokens",
                              kMaxTokens, s));
        (f == 3 ? r.prefix_id : r.prefix_tokens) = v;
      }
      if (r.prefix_id == 0 && r.prefix_tokens != 0)
        fail(4, "prefix_tokens: a prefix needs a prefix_id above 0 (0, 0: no prefix; id, 0: a conversation's first turn)");
      if (r.prefix_tokens >= r.prompt_tokens)
        fail(4, fmt::format("prefix_tokens: {} must be fewer than the prompt's {} tokens (the prompt's last token is "
                            "always computed)",
                            r.prefix_tokens, r.prompt_tokens));
      // A prefix keeps its length (a shared system prompt) or grows (a conversation's
      // turns: each continues the one before); a shorter one would be another branch.
      if (r.prefix_id != 0) {
        const auto [it, fresh] = prefix_seen.emplace(r.prefix_id, std::pair{r.prefix_tokens, lines.number()});
        if (!fresh && r.prefix_tokens < it->second.first)
          fail(4, fmt::format("prefix_tokens: prefix {} has {} tokens on line {}, {} here: a prefix keeps its length "
                              "or grows (a conversation), never shrinks",
                              r.prefix_id, it->second.first, it->second.second, r.prefix_tokens));
        it->second = {r.prefix_tokens, lines.number()};
      }
    }
    if (out.size() >= kMaxRequests) fail(0, fmt::format("more than {} requests", kMaxRequests));
    out.push_back(r);
  }
  if (out.empty()) throw ConfigError({path, 0, 0}, "serve.requests.trace", "no requests");
  return out;
}

ServeSpec load_serve_spec(const std::string& path) {
  return load_serve_spec_node(detail::parse_yaml_file(path), path);
}

bool is_serve_path(const std::string& path) { return path.rfind("serve.", 0) == 0; }

ServeSpec load_serve_spec(const std::string& path, const std::vector<std::string>& overrides) {
  if (overrides.empty()) return load_serve_spec(path);
  YAML::Node root = detail::parse_yaml_file(path);
  const SourceLocation where{"--sset", 0, 0};
  YAML::Node s = root["serve"];
  if (!s || !s.IsMap()) throw ConfigError({path, 1, 1}, "serve", "missing; the file must start with 'serve:'");
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0) throw ConfigError(where, "", fmt::format("expected path=value, got '{}'", o));
    const std::string key = o.substr(0, eq), value = o.substr(eq + 1);
    if (!is_serve_path(key) || key.size() == 6)
      throw ConfigError(where, key, "a serve path starts with 'serve.' (serve.requests.rate, serve.scheduler.max_batch)");
    // Sections are created as needed; the document is then checked in full, so a field
    // that does not exist is refused there with the fields that do.
    YAML::Node node = s;
    std::string tail = key.substr(6);
    for (std::size_t dot; (dot = tail.find('.')) != std::string::npos; tail = tail.substr(dot + 1)) {
      const std::string part = tail.substr(0, dot);
      if (part.empty()) throw ConfigError(where, key, "an empty part in the path");
      if (!node[part]) node[part] = YAML::Node(YAML::NodeType::Map);
      YAML::Node next = node[part];
      if (!next.IsMap()) throw ConfigError(where, key, fmt::format("'{}' is not a section", part));
      node.reset(next);  // rebind the handle (operator= would overwrite the section with `next`)
    }
    if (tail.empty()) throw ConfigError(where, key, "expected serve.<section>.<field>");
    node[tail] = value;
  }
  YAML::Emitter out;
  out << root;
  // Relative files resolve against the real file's folder (the name below keeps it).
  return load_serve_spec_text(out.c_str(), path + " (with --sset)");
}

ServeSpec load_serve_spec_text(const std::string& text, const std::string& path) {
  return load_serve_spec_node(detail::parse_yaml_text(text, path), path);
}

namespace {
ServeSpec load_serve_spec_node(const YAML::Node& root, const std::string& path) {
  detail::reject_unknown_keys(root, {"serve"}, "", path);
  const YAML::Node s = root["serve"];
  if (!s) throw ConfigError({path, 1, 1}, "serve", "missing; the file must start with 'serve:'");
  detail::expect_map(s, "serve", path);
  detail::reject_unknown_keys(s, {"name", "workload", "requests", "scheduler", "slo", "speculative", "disaggregation", "replicas",
                               "tensor_parallel"},
                              "serve", path);
  ServeSpec spec;
  spec.source = path;
  spec.name = s["name"] ? detail::scalar_text(s["name"], "serve.name", path) : "serve";
  if (!s["workload"]) throw ConfigError(location_of(s, path), "serve.workload", "missing: the model's workload file");
  spec.workload = resolve(path, detail::scalar_text(s["workload"], "serve.workload", path));
  spec.workload_where = location_of(s["workload"], path);

  const YAML::Node req = s["requests"];
  if (!req) throw ConfigError(location_of(s, path), "serve.requests", "missing: a generator or a trace");
  detail::expect_map(req, "serve.requests", path);
  if (req["trace"]) {
    detail::reject_unknown_keys(req, {"trace"}, "serve.requests", path);
    spec.trace = resolve(path, detail::scalar_text(req["trace"], "serve.requests.trace", path));
    spec.trace_where = location_of(req["trace"], path);
  } else {
    detail::reject_unknown_keys(req,
                                {"count", "rate", "seed", "prompt_tokens", "output_tokens", "shared_prefix",
                                 "conversations", "trace"},
                                "serve.requests", path);
    spec.generator = generator(req, path);
  }

  if (const YAML::Node sch = s["scheduler"]) {
    detail::expect_map(sch, "serve.scheduler", path);
    detail::reject_unknown_keys(sch,
                                {"max_batch", "max_tokens_per_step", "kv_block_tokens", "kv_capacity_tokens", "preemption",
                                 "prefix_caching"},
                                "serve.scheduler", path);
    ServeScheduler& c = spec.scheduler;
    if (sch["max_batch"]) c.max_batch = integer(sch["max_batch"], "serve.scheduler.max_batch", path, 1, 4096);
    // At most 65,536: each grid point is simulated, and a prefill chunk's attention grows
    // with its square (serving engines schedule a few thousand tokens a step).
    if (sch["max_tokens_per_step"])
      c.max_tokens_per_step = integer(sch["max_tokens_per_step"], "serve.scheduler.max_tokens_per_step", path, 1, 65536);
    if (sch["kv_block_tokens"])
      c.kv_block_tokens = integer(sch["kv_block_tokens"], "serve.scheduler.kv_block_tokens", path, 1, 1 << 16);
    if (const YAML::Node cap = sch["kv_capacity_tokens"]) {
      spec.capacity_where = location_of(cap, path);
      if (!(cap.IsScalar() && cap.Scalar() == "auto"))
        c.kv_capacity_tokens = integer(cap, "serve.scheduler.kv_capacity_tokens", path, 1, 1ULL << 40);
    }
    if (const YAML::Node pre = sch["preemption"]) {
      spec.preemption_where = location_of(pre, path);
      c.preemption = detail::scalar_text(pre, "serve.scheduler.preemption", path);
      if (c.preemption != "recompute" && c.preemption != "swap") {
        const std::string near = suggest_nearest(c.preemption, {"recompute", "swap"});
        throw ConfigError(spec.preemption_where, "serve.scheduler.preemption",
                          fmt::format("unknown preemption '{}'{}; expected recompute or swap", c.preemption,
                                      near.empty() ? "" : " (" + near + ")"));
      }
    }
    if (const YAML::Node pc = sch["prefix_caching"]) {
      const std::string v = detail::scalar_text(pc, "serve.scheduler.prefix_caching", path);
      if (v != "true" && v != "false")
        throw ConfigError(location_of(pc, path), "serve.scheduler.prefix_caching",
                          fmt::format("expected true or false, got '{}'", v));
      c.prefix_caching = v == "true";
      spec.prefix_caching_where = location_of(pc, path);
    }
    if (c.max_tokens_per_step < c.max_batch)
      throw ConfigError(location_of(sch, path), "serve.scheduler.max_tokens_per_step",
                        fmt::format("must be at least max_batch ({}): every running sequence decodes a token a step",
                                    c.max_batch));
  }
  if (!spec.capacity_where.line) spec.capacity_where = location_of(s, path);
  if (const YAML::Node sp = s["speculative"]) {
    detail::expect_map(sp, "serve.speculative", path);
    detail::reject_unknown_keys(sp, {"draft", "tokens", "acceptance", "seed"}, "serve.speculative", path);
    for (const char* key : {"draft", "tokens", "acceptance"})
      if (!sp[key])
        throw ConfigError(location_of(sp, path), std::string("serve.speculative.") + key,
                          "missing: speculative decoding needs a draft model, its tokens per step and their acceptance");
    spec.draft = resolve(path, detail::scalar_text(sp["draft"], "serve.speculative.draft", path));
    spec.draft_where = location_of(sp["draft"], path);
    SpeculativeDecoding& d = spec.scheduler.speculative;
    d.tokens = integer(sp["tokens"], "serve.speculative.tokens", path, 1, 16);
    const std::string text = detail::scalar_text(sp["acceptance"], "serve.speculative.acceptance", path);
    std::size_t used = 0;
    try {
      d.acceptance = std::stod(text, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != text.size() || !std::isfinite(d.acceptance) || d.acceptance < 0 || d.acceptance >= 1)
      throw ConfigError(location_of(sp["acceptance"], path), "serve.speculative.acceptance",
                        fmt::format("expected a probability from 0 up to (not including) 1, got '{}'", text));
    if (sp["seed"]) d.seed = integer(sp["seed"], "serve.speculative.seed", path, 0, UINT64_MAX);
    if (spec.scheduler.max_batch * (d.tokens + 1) > spec.scheduler.max_tokens_per_step)
      throw ConfigError(location_of(sp["tokens"], path), "serve.speculative.tokens",
                        fmt::format("max_batch ({}) x (tokens + 1) = {} verified tokens a step exceed "
                                    "serve.scheduler.max_tokens_per_step ({})",
                                    spec.scheduler.max_batch, spec.scheduler.max_batch * (d.tokens + 1),
                                    spec.scheduler.max_tokens_per_step));
  }
  if (const YAML::Node dn = s["disaggregation"]) {
    detail::expect_map(dn, "serve.disaggregation", path);
    detail::reject_unknown_keys(dn, {"prefill_chips", "decode_chips", "kv_link", "kv_latency"}, "serve.disaggregation",
                                path);
    for (const char* key : {"prefill_chips", "decode_chips", "kv_link"})
      if (!dn[key])
        throw ConfigError(location_of(dn, path), std::string("serve.disaggregation.") + key,
                          "missing: disaggregation needs its prefill and decode chip counts and the KV link's bandwidth");
    if (spec.scheduler.speculative.tokens > 0)
      throw ConfigError(location_of(dn, path), "serve.disaggregation",
                        "speculative decoding and disaggregation together are not modelled; use one");
    Disaggregation& d = spec.scheduler.disaggregation;
    d.prefill_chips = integer(dn["prefill_chips"], "serve.disaggregation.prefill_chips", path, 1, 4096);
    d.decode_chips = integer(dn["decode_chips"], "serve.disaggregation.decode_chips", path, 1, 4096);
    const std::string bw = detail::scalar_text(dn["kv_link"], "serve.disaggregation.kv_link", path);
    std::string why;
    const auto q = parse_quantity(bw, UnitKind::bandwidth, &why);
    if (!q || q->value == 0)
      throw ConfigError(location_of(dn["kv_link"], path), "serve.disaggregation.kv_link",
                        fmt::format("expected a bandwidth > 0 such as '100 GB/s' ({})", q ? "zero" : why));
    d.kv_link_Bps = double(q->value);
    if (dn["kv_latency"]) {
      const std::string lat = detail::scalar_text(dn["kv_latency"], "serve.disaggregation.kv_latency", path);
      const auto l = parse_quantity(lat, UnitKind::time, &why);
      if (!l)
        throw ConfigError(location_of(dn["kv_latency"], path), "serve.disaggregation.kv_latency",
                          fmt::format("expected a time such as '10 us' ({})", why));
      d.kv_latency_s = double(l->value) * 1e-12;
    }
  }
  if (const YAML::Node rp = s["replicas"]) {
    detail::expect_map(rp, "serve.replicas", path);
    detail::reject_unknown_keys(rp, {"count", "routing", "balance"}, "serve.replicas", path);
    if (!rp["count"]) throw ConfigError(location_of(rp, path), "serve.replicas.count", "missing: how many replicas");
    if (spec.scheduler.disaggregation.prefill_chips > 0)
      throw ConfigError(location_of(rp, path), "serve.replicas",
                        "replicas and disaggregation together are not modelled; use one");
    Replicas& r = spec.scheduler.replicas;
    r.count = integer(rp["count"], "serve.replicas.count", path, 1, 4096);
    if (rp["routing"]) {
      r.routing = detail::scalar_text(rp["routing"], "serve.replicas.routing", path);
      const std::vector<std::string> known = {"round_robin", "least_outstanding", "least_kv", "prefix_affinity"};
      if (std::find(known.begin(), known.end(), r.routing) == known.end()) {
        const std::string near = suggest_nearest(r.routing, known);
        throw ConfigError(location_of(rp["routing"], path), "serve.replicas.routing",
                          fmt::format("unknown routing '{}'{}; expected round_robin, least_outstanding, least_kv or "
                                      "prefix_affinity",
                                      r.routing,
                                      near.empty() ? "" : " (" + near + ")"));
      }
    }
  }
  if (spec.scheduler.prefix_caching && spec.scheduler.disaggregation.prefill_chips > 0)
    throw ConfigError(spec.prefix_caching_where, "serve.scheduler.prefix_caching",
                      "prefix caching with disaggregation is not modelled; use one");
  if (const YAML::Node rp = s["replicas"]; rp && rp["balance"]) {
    if (spec.scheduler.replicas.routing != "prefix_affinity")
      throw ConfigError(location_of(rp["balance"], path), "serve.replicas.balance",
                        "a balance threshold is for routing: prefix_affinity");
    spec.scheduler.replicas.balance = integer(rp["balance"], "serve.replicas.balance", path, 1, 1'000'000);
  }
  if (const YAML::Node tp = s["tensor_parallel"]) {
    spec.scheduler.tensor_parallel = integer(tp, "serve.tensor_parallel", path, 1, 4096);
    spec.tensor_parallel_where = location_of(tp, path);
    const bool speculative = spec.scheduler.speculative.tokens > 0;
    if (spec.scheduler.tensor_parallel > 1 && (speculative || spec.scheduler.disaggregation.prefill_chips > 0))
      throw ConfigError(spec.tensor_parallel_where, "serve.tensor_parallel",
                        fmt::format("tensor parallelism with {} is not modelled; use one",
                                    speculative ? "speculative decoding" : "disaggregation"));
  }
  if (!spec.tensor_parallel_where.line) spec.tensor_parallel_where = location_of(s, path);
  if (const YAML::Node slo = s["slo"]) {
    detail::expect_map(slo, "serve.slo", path);
    detail::reject_unknown_keys(slo, {"ttft", "tpot"}, "serve.slo", path);
    if (slo["ttft"]) spec.slo_ttft_s = seconds(slo["ttft"], "serve.slo.ttft", path);
    if (slo["tpot"]) spec.slo_tpot_s = seconds(slo["tpot"], "serve.slo.tpot", path);
  }
  return spec;
}
}  // namespace

std::vector<ServeRequest> serve_requests(const ServeSpec& spec) {
  if (!spec.generator) return read_trace(spec.trace);
  const RequestGenerator& g = *spec.generator;
  if (g.conversations.turns.max > 0) return conversation_requests(g);
  std::mt19937_64 rng(g.seed);
  std::vector<ServeRequest> out;
  out.reserve(g.count);
  double t = 0;
  for (std::uint64_t i = 0; i < g.count; ++i) {
    t += -std::log(unit_open(rng)) / g.rate_per_s;  // exponential gaps: Poisson arrivals
    ServeRequest r;
    r.arrival_s = t;
    r.prompt_tokens = uniform(rng, g.prompt);
    r.output_tokens = uniform(rng, g.output);
    out.push_back(r);
  }
  // The prefixes from a stream of their own, so a file without them draws the same
  // arrivals and lengths as before they existed.
  if (g.shared_prefix.groups > 0) {
    std::mt19937_64 prefix_rng(g.seed ^ 0x9E3779B97F4A7C15ULL);
    for (ServeRequest& r : out) {
      r.prefix_id = uniform(prefix_rng, {1, g.shared_prefix.groups});
      r.prefix_tokens = g.shared_prefix.tokens;
    }
  }
  return out;
}

}  // namespace podsim
