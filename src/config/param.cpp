#include "podsim/config/param.h"

#include <fmt/format.h>

namespace podsim {

std::string param_type_name(ParamType type, UnitKind unit) {
  switch (type) {
    case ParamType::integer: return "integer";
    case ParamType::quantity: return unit_kind_name(unit);
    case ParamType::boolean: return "boolean";
    case ParamType::choice: return "choice";
    case ParamType::text: return "text";
    case ParamType::shape: return "shape";
  }
  return "?";
}

std::optional<ParamValue> parse_param_text(ParamType type, UnitKind unit, std::uint64_t min,
                                           std::uint64_t max, const std::vector<std::string>& choices,
                                           const std::string& text, std::string* why) {
  auto fail = [&](const std::string& reason) -> std::optional<ParamValue> {
    if (why) *why = reason;
    return std::nullopt;
  };
  ParamValue value;
  switch (type) {
    case ParamType::text:
      value.text = text;
      return value;
    case ParamType::shape: {
      // "16x16", "16, 16" or "[16, 16]": sizes 1..4096 (product checked by the owner).
      std::string canon, digits;
      std::size_t sizes = 0;
      auto flush = [&]() -> bool {
        if (digits.empty() || digits.size() > 4) return false;
        const unsigned long v = std::stoul(digits);
        if (v < 1 || v > 4096) return false;
        canon += (sizes++ ? "x" : "") + std::to_string(v);
        digits.clear();
        return true;
      };
      const std::string bad = fmt::format("expected sizes like '16x16' or '[16, 16]' (each 1 to 4096), got '{}'", text);
      for (char c : text) {
        if (c >= '0' && c <= '9') digits += c;
        else if (c == 'x' || c == ',') {
          if (!flush()) return fail(bad);
        } else if (c != ' ' && c != '[' && c != ']') {
          return fail(bad);
        }
      }
      if (!flush() || sizes > 3) return fail(sizes > 3 ? bad + ": at most 3 dimensions" : bad);
      value.text = canon;
      return value;
    }
    case ParamType::boolean:
      if (text == "true") value.number = 1;
      else if (text == "false") value.number = 0;
      else return fail(fmt::format("expected true or false, got '{}'", text));
      return value;
    case ParamType::choice:
      for (const auto& c : choices)
        if (c == text) {
          value.text = text;
          return value;
        }
      return fail(fmt::format("expected one of {}, got '{}'", fmt::join(choices, ", "), text));
    case ParamType::integer:
    case ParamType::quantity: {
      const UnitKind kind = type == ParamType::integer ? UnitKind::none : unit;
      std::string reason;
      auto parsed = parse_quantity(text, kind, &reason);
      if (!parsed) {
        if (type == ParamType::integer)
          return fail(fmt::format("expected a whole number, got '{}' ({})", text, reason));
        return fail(fmt::format("expected a {} like '{}', got '{}' ({})", unit_kind_name(unit),
                                unit_example(unit), text, reason));
      }
      value.number = parsed->value;
      if (value.number < min || value.number > max) {
        return fail(fmt::format("{} is out of range [{}, {}]", text,
                                format_quantity(min, kind), format_quantity(max, kind)));
      }
      return value;
    }
  }
  return fail("unknown parameter type");
}

std::string format_param_text(ParamType type, UnitKind unit, const ParamValue& value) {
  switch (type) {
    case ParamType::text:
    case ParamType::shape:
    case ParamType::choice: return value.text;
    case ParamType::boolean: return value.number ? "true" : "false";
    case ParamType::integer: return std::to_string(value.number);
    case ParamType::quantity: return format_quantity(value.number, unit);
  }
  return "";
}

}  // namespace podsim
