#include "data/synth/market_naming.h"

#include <regex>
#include <stdexcept>

#include <gtest/gtest.h>

namespace gcl::data {
namespace {

TEST(MarketNamingTest, FormatsLikeMarket1501) {
  EXPECT_EQ(FormatMarketName({2, 1, 1, 451, 3}), "0002_c1s1_000451_03.jpg");
  EXPECT_EQ(FormatMarketName({0, 6, 4, 12, 0}), "0000_c6s4_000012_00.jpg");
  EXPECT_EQ(FormatMarketName({-1, 3, 2, 7, 1}), "-1_c3s2_000007_01.jpg");
}

TEST(MarketNamingTest, ParsesBackWhatItFormats) {
  for (const MarketName& name : {MarketName{2, 1, 1, 451, 3}, MarketName{9999, 9, 9, 999999, 99},
                                 MarketName{0, 2, 1, 0, 0}, MarketName{-1, 5, 3, 17, 2}}) {
    EXPECT_EQ(ParseMarketName(FormatMarketName(name)), name);
    EXPECT_EQ(ParseMarketName("/some/dir/" + FormatMarketName(name)), name);
  }
}

TEST(MarketNamingTest, GclsRegexReadsPidAndCamera) {
  // Reference §9: pid and camera come from the regex ([-\d]+)_c(\d).
  const std::regex pattern(R"(([-\d]+)_c(\d))");
  std::smatch match;
  const std::string name = FormatMarketName({42, 5, 2, 1234, 0});
  ASSERT_TRUE(std::regex_search(name, match, pattern));
  EXPECT_EQ(std::stoi(match[1].str()), 42);
  EXPECT_EQ(std::stoi(match[2].str()), 5);
}

TEST(MarketNamingTest, RejectsOutOfRangeFields) {
  EXPECT_THROW(FormatMarketName({10000, 1, 1, 0, 0}), std::runtime_error);
  EXPECT_THROW(FormatMarketName({1, 0, 1, 0, 0}), std::runtime_error);
  EXPECT_THROW(FormatMarketName({1, 1, 10, 0, 0}), std::runtime_error);
  EXPECT_THROW(FormatMarketName({1, 1, 1, 1000000, 0}), std::runtime_error);
  EXPECT_THROW(FormatMarketName({1, 1, 1, 0, 100}), std::runtime_error);
}

TEST(MarketNamingTest, RejectsMalformedNames) {
  EXPECT_THROW(ParseMarketName("0002_c1s1_000451_03.png"), std::runtime_error);
  EXPECT_THROW(ParseMarketName("002_c1s1_000451_03.jpg"), std::runtime_error);
  EXPECT_THROW(ParseMarketName("0002_c0s1_000451_03.jpg"), std::runtime_error);
  EXPECT_THROW(ParseMarketName("0002_c1s1_451_03.jpg"), std::runtime_error);
  EXPECT_THROW(ParseMarketName(""), std::runtime_error);
}

}  // namespace
}  // namespace gcl::data
