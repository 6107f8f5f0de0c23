// Strict conversion of text to numbers, shared by the command-line flags (common/flags.h) and every reader that
// finds numbers in text (CSV columns, file metadata, environment variables, config overrides).
//
//   int64_t top = 0;
//   if (std::string problem = gcl::ParseInteger(text, 1, 1000, &top); !problem.empty()) {
//     throw std::invalid_argument("--top=" + text + ": " + problem);   // "--top=abc: not a whole number"
//   }
//
// The whole text must be the number: no blanks, no trailing characters, no "0x" prefix; a leading '+' or '-' is
// allowed. std::stoi and friends accept " 12abc" as 12 and report "stoi" for "abc"; these say what is wrong.
#ifndef GCL_COMMON_NUMBERS_H_
#define GCL_COMMON_NUMBERS_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace gcl {

// Parses a whole number in [min, max] into *value. Returns "" on success, otherwise the problem in words
// ("not a whole number", "must be >= 1", "must be <= 65535"); *value is left unchanged then.
std::string ParseInteger(std::string_view text, int64_t min, int64_t max, int64_t* value);

// The same for an unsigned 64-bit number (seeds).
std::string ParseUnsigned(std::string_view text, uint64_t* value);

// Parses a finite decimal number ("0.5", "-3", "1e-4") in [min, max] into *value; "nan", "inf" and hexadecimal
// floats are refused ("not a finite number"). Returns "" on success, otherwise the problem.
std::string ParseReal(std::string_view text, double min, double max, double* value);

// Convenience overloads without a range (the type's own range for integers; every finite value for reals).
inline std::string ParseInteger(std::string_view text, int64_t* value) {
  return ParseInteger(text, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), value);
}
inline std::string ParseReal(std::string_view text, double* value) {
  return ParseReal(text, -std::numeric_limits<double>::max(), std::numeric_limits<double>::max(), value);
}

}  // namespace gcl

#endif  // GCL_COMMON_NUMBERS_H_
