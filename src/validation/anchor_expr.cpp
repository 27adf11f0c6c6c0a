// The value expression of an anchor: numbers, run references and + - * / with
// parentheses, parsed by recursive descent, evaluated against the runs' JSON reports.
#include "podsim/validation/anchor_expr_eval.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <fmt/format.h>

namespace podsim {
namespace {

class Parser {
 public:
  Parser(const std::string& text, const std::vector<std::string>& runs, const SourceLocation& where,
         const std::string& key_path)
      : t_(text), runs_(runs), where_(where), key_path_(key_path) {}

  std::unique_ptr<AnchorExpr> parse() {
    auto e = sum();
    skip();
    if (i_ != t_.size()) fail(fmt::format("unexpected '{}'", t_.substr(i_, 20)));
    return e;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ConfigError(where_, key_path_, fmt::format("{} at character {} of the expression", what, i_ + 1));
  }
  void skip() {
    while (i_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[i_]))) ++i_;
  }
  static std::unique_ptr<AnchorExpr> binary(AnchorExpr::Kind k, std::unique_ptr<AnchorExpr> l,
                                            std::unique_ptr<AnchorExpr> r) {
    auto e = std::make_unique<AnchorExpr>();
    e->kind = k;
    e->lhs = std::move(l);
    e->rhs = std::move(r);
    return e;
  }
  // One precedence level: operands from `next`, joined left to right by `ops[0]` (kind
  // `kinds[0]`) or `ops[1]` (kind `kinds[1]`).
  template <typename Next>
  std::unique_ptr<AnchorExpr> level(const char (&ops)[3], const AnchorExpr::Kind (&kinds)[2], Next next) {
    auto e = (this->*next)();
    for (;;) {
      skip();
      if (i_ >= t_.size() || (t_[i_] != ops[0] && t_[i_] != ops[1])) return e;
      const AnchorExpr::Kind k = t_[i_++] == ops[0] ? kinds[0] : kinds[1];
      e = binary(k, std::move(e), (this->*next)());
    }
  }
  std::unique_ptr<AnchorExpr> sum() {
    return level("+-", {AnchorExpr::Kind::kAdd, AnchorExpr::Kind::kSub}, &Parser::product);
  }
  std::unique_ptr<AnchorExpr> product() {
    return level("*/", {AnchorExpr::Kind::kMul, AnchorExpr::Kind::kDiv}, &Parser::factor);
  }
  std::unique_ptr<AnchorExpr> factor() {
    skip();
    if (i_ >= t_.size()) fail("expected a number, a run's value or '('");
    if (t_[i_] == '(') {
      ++i_;
      auto e = sum();
      skip();
      if (i_ >= t_.size() || t_[i_] != ')') fail("expected ')'");
      ++i_;
      return e;
    }
    if (std::isdigit(static_cast<unsigned char>(t_[i_])) || t_[i_] == '.') {
      std::size_t used = 0;
      double v = 0;
      try {
        v = std::stod(t_.substr(i_), &used);
      } catch (const std::exception&) {
        fail("expected a number");
      }
      i_ += used;
      auto e = std::make_unique<AnchorExpr>();
      e->number = v;
      return e;
    }
    if (std::isalpha(static_cast<unsigned char>(t_[i_]))) return reference();
    fail(fmt::format("unexpected '{}'", t_.substr(i_, 1)));
  }
  // run.key.key[3].key
  std::unique_ptr<AnchorExpr> reference() {
    auto e = std::make_unique<AnchorExpr>();
    e->kind = AnchorExpr::Kind::kReference;
    auto ident = [&] {
      const std::size_t start = i_;
      while (i_ < t_.size() && (std::isalnum(static_cast<unsigned char>(t_[i_])) || t_[i_] == '_')) ++i_;
      if (start == i_) fail("expected a name");
      return t_.substr(start, i_ - start);
    };
    e->run = ident();
    if (std::find(runs_.begin(), runs_.end(), e->run) == runs_.end())
      fail(fmt::format("'{}' is not one of the anchor's runs", e->run));
    while (i_ < t_.size() && (t_[i_] == '.' || t_[i_] == '[')) {
      if (t_[i_] == '.') {
        ++i_;
        e->path.push_back(ident());
      } else {
        const std::size_t close = t_.find(']', i_);
        if (close == std::string::npos) fail("expected ']'");
        const std::string index = t_.substr(i_ + 1, close - i_ - 1);
        if (index.empty() || !std::all_of(index.begin(), index.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
          fail("expected a list index like [0]");
        e->path.push_back("[" + index + "]");
        i_ = close + 1;
      }
    }
    if (e->path.empty()) fail(fmt::format("'{}' needs a path into its report, like {}.summary.time_s", e->run, e->run));
    return e;
  }

  const std::string& t_;
  const std::vector<std::string>& runs_;
  SourceLocation where_;
  std::string key_path_;
  std::size_t i_ = 0;
};

std::string path_text(const AnchorExpr& e) {
  std::string s = e.run;
  for (const auto& k : e.path) s += k.front() == '[' ? k : "." + k;
  return s;
}

}  // namespace

std::shared_ptr<const AnchorExpr> parse_anchor_expr(const std::string& text, const std::vector<std::string>& runs,
                                                    const SourceLocation& where, const std::string& key_path) {
  return Parser(text, runs, where, key_path).parse();
}

double evaluate_anchor_expr(const AnchorExpr& e, const std::map<std::string, nlohmann::json>& reports) {
  switch (e.kind) {
    case AnchorExpr::Kind::kNumber: return e.number;
    case AnchorExpr::Kind::kReference: {
      const auto it = reports.find(e.run);
      if (it == reports.end()) throw std::runtime_error(fmt::format("run '{}' has no report", e.run));
      const nlohmann::json* node = &it->second;
      for (const auto& key : e.path) {
        if (key.front() == '[') {
          const std::size_t index = std::stoul(key.substr(1));
          if (!node->is_array() || index >= node->size())
            throw std::runtime_error(fmt::format("{}: no such list entry in the report", path_text(e)));
          node = &(*node)[index];
        } else {
          if (!node->is_object() || !node->contains(key))
            throw std::runtime_error(fmt::format("{}: no key '{}' in the report", path_text(e), key));
          node = &(*node)[key];
        }
      }
      if (!node->is_number()) throw std::runtime_error(fmt::format("{}: not a number in the report", path_text(e)));
      return node->get<double>();
    }
    case AnchorExpr::Kind::kAdd: return evaluate_anchor_expr(*e.lhs, reports) + evaluate_anchor_expr(*e.rhs, reports);
    case AnchorExpr::Kind::kSub: return evaluate_anchor_expr(*e.lhs, reports) - evaluate_anchor_expr(*e.rhs, reports);
    case AnchorExpr::Kind::kMul: return evaluate_anchor_expr(*e.lhs, reports) * evaluate_anchor_expr(*e.rhs, reports);
    case AnchorExpr::Kind::kDiv: {
      const double d = evaluate_anchor_expr(*e.rhs, reports);
      if (d == 0) throw std::runtime_error("division by zero in the anchor's value");
      return evaluate_anchor_expr(*e.lhs, reports) / d;
    }
  }
  return 0;
}

}  // namespace podsim
