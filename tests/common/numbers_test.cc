#include "common/numbers.h"

#include <gtest/gtest.h>

namespace gcl {
namespace {

TEST(ParseIntegerTest, AcceptsWholeNumbersWithASign) {
  int64_t v = 0;
  EXPECT_EQ(ParseInteger("42", &v), "");
  EXPECT_EQ(v, 42);
  EXPECT_EQ(ParseInteger("-7", &v), "");
  EXPECT_EQ(v, -7);
  EXPECT_EQ(ParseInteger("+3", &v), "");
  EXPECT_EQ(v, 3);
  EXPECT_EQ(ParseInteger("9223372036854775807", &v), "");
  EXPECT_EQ(v, INT64_MAX);
}

TEST(ParseIntegerTest, RefusesWhatStoiWouldHalfAccept) {
  int64_t v = 5;
  for (const char* bad : {"", "abc", " 12", "12 ", "12abc", "1.5", "0x10", "-", "+", "1e3", "--1"}) {
    EXPECT_EQ(ParseInteger(bad, &v), "not a whole number") << bad;
  }
  EXPECT_EQ(v, 5) << "a refused text leaves the value alone";
}

TEST(ParseIntegerTest, RangeErrorsSayTheLimit) {
  int64_t v = 0;
  EXPECT_EQ(ParseInteger("0", 1, 10, &v), "must be >= 1");
  EXPECT_EQ(ParseInteger("11", 1, 10, &v), "must be <= 10");
  EXPECT_EQ(ParseInteger("99999999999999999999", 0, 100, &v), "must be <= 100");
  EXPECT_EQ(ParseInteger("-99999999999999999999", 0, 100, &v), "must be >= 0");
  EXPECT_EQ(ParseInteger("2147483648", 0, 2147483647, &v), "must be <= 2147483647");
}

TEST(ParseUnsignedTest, FullRangeAndNoSign) {
  uint64_t v = 0;
  EXPECT_EQ(ParseUnsigned("18446744073709551615", &v), "");
  EXPECT_EQ(v, UINT64_MAX);
  EXPECT_NE(ParseUnsigned("-1", &v), "");
  EXPECT_NE(ParseUnsigned("18446744073709551616", &v), "");
  EXPECT_NE(ParseUnsigned("7x", &v), "");
}

TEST(ParseRealTest, DecimalAndScientific) {
  double v = 0;
  EXPECT_EQ(ParseReal("0.5", &v), "");
  EXPECT_DOUBLE_EQ(v, 0.5);
  EXPECT_EQ(ParseReal("-3", &v), "");
  EXPECT_DOUBLE_EQ(v, -3);
  EXPECT_EQ(ParseReal("1.6e-3", &v), "");
  EXPECT_DOUBLE_EQ(v, 1.6e-3);
  EXPECT_EQ(ParseReal("1e-400", &v), "") << "underflow to 0 is harmless";
}

TEST(ParseRealTest, RefusesNonFiniteAndJunk) {
  double v = 1;
  for (const char* bad : {"nan", "NaN", "inf", "-inf", "Infinity", "1e999"}) {
    EXPECT_NE(ParseReal(bad, &v).find("not a finite number"), std::string::npos) << bad;
  }
  for (const char* bad : {"", "abc", " 1", "1 ", "0x1p3", "1,5", "1.5.2", "e"}) {
    EXPECT_EQ(ParseReal(bad, &v), "not a number") << bad;
  }
  EXPECT_EQ(v, 1);
  EXPECT_EQ(ParseReal("0", 1e-9, 10, &v), "must be >= 1e-09");
  EXPECT_EQ(ParseReal("11", 0, 10, &v), "must be <= 10");
}

}  // namespace
}  // namespace gcl
