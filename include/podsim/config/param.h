// A parameter is declared once: its dotted path, type, unit, default, allowed range and
// description. The same declaration parses YAML and `--set path=value`, fills defaults,
// lists itself in `podsim params`, and words the error when a value is wrong.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "podsim/config/units.h"

namespace podsim {

// shape: sizes joined by 'x' ("16x16"), each 1..4096; also read from "[16, 16]" or a YAML list.
enum class ParamType { integer, quantity, boolean, choice, text, shape };

struct ParamValue {
  std::uint64_t number = 0;  // integer, quantity (canonical unit), boolean (0/1)
  std::string text;          // choice, text
};

template <typename Spec>
struct ParamDecl {
  std::string path;          // "chip.hbm.bandwidth"
  ParamType type = ParamType::integer;
  UnitKind unit = UnitKind::none;
  std::string default_text;  // written as a user would: "900 GB/s"
  std::uint64_t min = 0;     // inclusive, canonical unit (integer and quantity)
  std::uint64_t max = UINT64_MAX;
  std::vector<std::string> choices;  // for ParamType::choice
  std::string description;
  // For ParamType::text: checks the text and returns its canonical form (nullopt and a
  // reason when it is not a valid value); unset, any text is taken as given.
  std::function<std::optional<std::string>(const std::string&, std::string*)> normalize;
  std::function<void(Spec&, const ParamValue&)> set;
  std::function<ParamValue(const Spec&)> get;
};

// Parses `text` for `decl`. Returns nullopt and a reason ("expected a bandwidth like
// '900 GB/s': missing unit") when the text is not a valid value.
template <typename Spec>
std::optional<ParamValue> parse_param_value(const ParamDecl<Spec>& decl, const std::string& text,
                                            std::string* why);

// The value rendered as a user would write it ("900 GB/s", "true", "128").
template <typename Spec>
std::string format_param_value(const ParamDecl<Spec>& decl, const ParamValue& value);

std::string param_type_name(ParamType type, UnitKind unit);

// Shared by every Spec type; defined in param.cpp.
std::optional<ParamValue> parse_param_text(ParamType type, UnitKind unit, std::uint64_t min,
                                           std::uint64_t max, const std::vector<std::string>& choices,
                                           const std::string& text, std::string* why);
std::string format_param_text(ParamType type, UnitKind unit, const ParamValue& value);

template <typename Spec>
std::optional<ParamValue> parse_param_value(const ParamDecl<Spec>& decl, const std::string& text,
                                            std::string* why) {
  if (decl.type == ParamType::text && decl.normalize) {
    auto canonical = decl.normalize(text, why);
    if (!canonical) return std::nullopt;
    ParamValue v;
    v.text = *canonical;
    return v;
  }
  return parse_param_text(decl.type, decl.unit, decl.min, decl.max, decl.choices, text, why);
}

template <typename Spec>
std::string format_param_value(const ParamDecl<Spec>& decl, const ParamValue& value) {
  return format_param_text(decl.type, decl.unit, value);
}

}  // namespace podsim
