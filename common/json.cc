#include "common/json.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace gcl {

std::string JsonQuote(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (byte < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(byte));
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string JsonNumber(double value, int significant) {
  if (!std::isfinite(value)) return "null";
  std::ostringstream s;
  s.precision(significant);
  s << value;
  return s.str();
}

JsonObject& JsonObject::Number(const std::string& key, double value, int significant) {
  return Raw(key, JsonNumber(value, significant));
}

JsonObject& JsonObject::Int(const std::string& key, int64_t value) { return Raw(key, std::to_string(value)); }

JsonObject& JsonObject::Bool(const std::string& key, bool value) { return Raw(key, value ? "true" : "false"); }

JsonObject& JsonObject::String(const std::string& key, const std::string& value) {
  return Raw(key, JsonQuote(value));
}

JsonObject& JsonObject::Null(const std::string& key) { return Raw(key, "null"); }

JsonObject& JsonObject::Raw(const std::string& key, const std::string& json) {
  members_.push_back(JsonQuote(key) + ": " + json);
  return *this;
}

namespace {

std::string Join(const std::vector<std::string>& items, char open, char close, bool one_per_line) {
  if (items.empty()) return std::string{open, close};
  std::string out(1, open);
  for (size_t i = 0; i < items.size(); ++i) {
    out += one_per_line ? (i == 0 ? "\n  " : ",\n  ") : (i == 0 ? "" : ", ");
    if (!one_per_line) {
      out += items[i];
      continue;
    }
    for (const char c : items[i]) {  // a nested multi-line value moves right with its member
      out += c;
      if (c == '\n') out += "  ";
    }
  }
  out += one_per_line ? "\n" : "";
  return out + close;
}

}  // namespace

std::string JsonObject::str(bool one_member_per_line) const {
  return Join(members_, '{', '}', one_member_per_line);
}

std::string JsonArray(const std::vector<std::string>& values, bool one_value_per_line) {
  return Join(values, '[', ']', one_value_per_line);
}

}  // namespace gcl
