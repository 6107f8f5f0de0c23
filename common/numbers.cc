#include "common/numbers.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace gcl {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Digits with an optional sign in front, nothing else.
bool LooksLikeInteger(std::string_view text) {
  size_t i = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
  if (i == text.size()) return false;
  for (; i < text.size(); ++i) {
    if (!IsDigit(text[i])) return false;
  }
  return true;
}

std::string Shortest(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

}  // namespace

std::string ParseInteger(std::string_view text, int64_t min, int64_t max, int64_t* value) {
  if (!LooksLikeInteger(text)) return "not a whole number";
  const std::string copy(text);
  errno = 0;
  char* end = nullptr;
  const long long parsed = std::strtoll(copy.c_str(), &end, 10);
  const bool overflow = errno == ERANGE;  // beyond int64: below min when negative, above max otherwise
  if (overflow ? copy[0] == '-' : parsed < min) return "must be >= " + std::to_string(min);
  if (overflow || parsed > max) return "must be <= " + std::to_string(max);
  *value = parsed;
  return "";
}

std::string ParseUnsigned(std::string_view text, uint64_t* value) {
  if (text.empty() || text[0] == '-' || !LooksLikeInteger(text)) return "not a whole number >= 0";
  const std::string copy(text);
  errno = 0;
  char* end = nullptr;
  const unsigned long long parsed = std::strtoull(copy.c_str(), &end, 10);
  if (errno == ERANGE) return "must be <= " + std::to_string(std::numeric_limits<uint64_t>::max());
  *value = parsed;
  return "";
}

std::string ParseReal(std::string_view text, double min, double max, double* value) {
  // Only what a person writes for a decimal number: digits, one point, an exponent, signs. strtod alone would also
  // take "inf", "nan", "0x1p3" and leading blanks.
  std::string lower;
  for (const char c : text) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower.find("nan") != std::string::npos || lower.find("inf") != std::string::npos) return "not a finite number";
  if (text.empty()) return "not a number";
  for (const char c : text) {
    if (!IsDigit(c) && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E') return "not a number";
  }
  const std::string copy(text);
  char* end = nullptr;
  const double parsed = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return "not a number";
  if (!std::isfinite(parsed)) return "not a finite number (too large)";  // overflow; underflow to 0 is harmless
  if (parsed < min) return "must be >= " + Shortest(min);
  if (parsed > max) return "must be <= " + Shortest(max);
  *value = parsed;
  return "";
}

}  // namespace gcl
