// JSON text the project writes (summary.json, metrics.jsonl, `cluster --json`, `evaluate --json`, the synthetic
// world's ground truth): one escaper and one number format, so that a run name, a path or an error message with a
// quote, a backslash or a newline still makes valid JSON, and so does a NaN (JSON has no NaN or Infinity: null).
//
//   JsonObject row;
//   row.String("run", name).Int("steps", 120).Number("mAP", 0.164311).Bool("completed", true);
//   row.Raw("eval", JsonObject().Number("mAP", m).str());
//   out << row.str();                     // {"run": "quick", "steps": 120, "mAP": 0.164311, ...}
#ifndef GCL_COMMON_JSON_H_
#define GCL_COMMON_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

namespace gcl {

// `text` as a JSON string literal: quotes, backslashes and control characters escaped (RFC 8259 §7); other bytes,
// UTF-8 included, pass through.
std::string JsonQuote(const std::string& text);

// `value` with `significant` digits in the shortest of fixed and exponent notation, or null when not finite.
std::string JsonNumber(double value, int significant = 8);

// One JSON object, members in the order they are added. Keys are escaped as strings are.
class JsonObject {
 public:
  JsonObject& Number(const std::string& key, double value, int significant = 8);
  JsonObject& Int(const std::string& key, int64_t value);
  JsonObject& Bool(const std::string& key, bool value);
  JsonObject& String(const std::string& key, const std::string& value);
  JsonObject& Null(const std::string& key);
  // An already-encoded value: a nested object's str(), a JsonArray's, or "null".
  JsonObject& Raw(const std::string& key, const std::string& json);

  // {"a": 1, "b": 2}; with one_member_per_line, each member on its own line indented by two spaces.
  std::string str(bool one_member_per_line = false) const;

 private:
  std::vector<std::string> members_;
};

// A JSON array of already-encoded values.
std::string JsonArray(const std::vector<std::string>& values, bool one_value_per_line = false);

}  // namespace gcl

#endif  // GCL_COMMON_JSON_H_
