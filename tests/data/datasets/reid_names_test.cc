// The name parsers against std::regex versions of the reference's patterns (§9), on random strings and
// on valid names.
#include "data/datasets/reid_names.h"

#include <cstdint>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "data/pipeline/sample_rng.h"

namespace gcl::data {
namespace {

// Python's re.search + int() on the groups; int() of "1-2" raises, which we call unparsable.
bool RegexMarket(const std::string& name, MarketName* out) {
  static const std::regex re("([-0-9]+)_c([0-9])");
  std::smatch m;
  if (!std::regex_search(name, m, re)) return false;
  int pid = 0;
  if (!ParseInt(m[1].str(), &pid)) return false;
  const int camera = std::stoi(m[2].str());
  if (camera < 1) return false;
  *out = {pid, camera};
  return true;
}

bool RegexMsmt(const std::string& name, MsmtName* out) {
  static const std::regex re("([-0-9]+)_([-0-9]+)_([-0-9]+)");
  std::smatch m;
  if (!std::regex_search(name, m, re)) return false;
  int pid = 0;
  int middle = 0;
  int camera = 0;
  if (!ParseInt(m[1].str(), &pid) || !ParseInt(m[2].str(), &middle) || !ParseInt(m[3].str(), &camera) ||
      camera < 1) {
    return false;
  }
  *out = {pid, camera};
  return true;
}

// Random strings over an alphabet rich in the characters the patterns care about.
std::string RandomName(SampleRng* rng) {
  static const std::string kAlphabet = "0123456789-_cs.jpgmorning/ \x01\xff";
  const size_t length = rng->Below(24);
  std::string s;
  for (size_t i = 0; i < length; ++i) s += kAlphabet[rng->Below(kAlphabet.size())];
  return s;
}

// A valid name with 0-3 random edits (replace, insert or delete one character), so fuzzing also lands near the
// patterns, where the parsers' edge cases are.
std::string MutatedName(SampleRng* rng, bool msmt) {
  static const std::string kAlphabet = "0123456789-_cs.jpg";
  std::string s = msmt ? FormatMsmtName(static_cast<int>(rng->Below(2000)), static_cast<int>(rng->Below(300)),
                                        1 + static_cast<int>(rng->Below(15)), "0303morning",
                                        static_cast<int>(rng->Below(9999)), static_cast<int>(rng->Below(3)))
                       : FormatMarketName(static_cast<int>(rng->Below(1502)) - 1, static_cast<int>(rng->Below(10)),
                                          static_cast<int>(rng->Below(7)), static_cast<int>(rng->Below(999999)),
                                          static_cast<int>(rng->Below(9)));
  const int edits = static_cast<int>(rng->Below(4));
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const size_t at = rng->Below(s.size());
    const char c = kAlphabet[rng->Below(kAlphabet.size())];
    switch (rng->Below(3)) {
      case 0:
        s[at] = c;
        break;
      case 1:
        s.insert(s.begin() + at, c);
        break;
      default:
        s.erase(at, 1);
    }
  }
  return s;
}

TEST(ReidNames, MarketParsesKnownNames) {
  MarketName n;
  ASSERT_TRUE(ParseMarketName("0002_c1s1_000451_03.jpg", &n));
  EXPECT_EQ(n.pid, 2);
  EXPECT_EQ(n.camera, 1);
  ASSERT_TRUE(ParseMarketName("/data/market/bounding_box_test/-1_c3s2_012345_00.jpg", &n));
  EXPECT_EQ(n.pid, -1);
  EXPECT_EQ(n.camera, 3);
  ASSERT_TRUE(ParseMarketName("0000_c6s4_002452_02.jpg", &n));
  EXPECT_EQ(n.pid, 0);
  ASSERT_TRUE(ParseMarketName("0005_c8_f0021349.jpg", &n));  // DukeMTMC-reID
  EXPECT_EQ(n.camera, 8);
  EXPECT_FALSE(ParseMarketName("Thumbs.db", &n));
  EXPECT_FALSE(ParseMarketName("1-2_c1s1.jpg", &n));
  EXPECT_FALSE(ParseMarketName("0001_c0s1.jpg", &n));
  EXPECT_FALSE(ParseMarketName("99999999999_c1s1.jpg", &n));
}

TEST(ReidNames, MsmtParsesKnownNames) {
  MsmtName n;
  ASSERT_TRUE(ParseMsmtName("0000/0000_000_01_0303morning_0015_0.jpg", &n));
  EXPECT_EQ(n.pid, 0);
  EXPECT_EQ(n.camera, 1);
  ASSERT_TRUE(ParseMsmtName("1040_013_15_0113noon_1131_1.jpg", &n));
  EXPECT_EQ(n.pid, 1040);
  EXPECT_EQ(n.camera, 15);
  EXPECT_FALSE(ParseMsmtName("0000_000.jpg", &n));
  EXPECT_FALSE(ParseMsmtName("0000_000_00_x.jpg", &n));
}

TEST(ReidNames, MsmtListLines) {
  MsmtListLine l;
  ASSERT_TRUE(ParseMsmtListLine("0007/0007_012_03_0303afternoon_0021_2.jpg 7\r", &l));
  EXPECT_EQ(l.relative_path, "0007/0007_012_03_0303afternoon_0021_2.jpg");
  EXPECT_EQ(l.label, 7);
  EXPECT_FALSE(ParseMsmtListLine("0007/0007_012_03_0303afternoon_0021_2.jpg", &l));
  EXPECT_FALSE(ParseMsmtListLine("a.jpg x", &l));
  EXPECT_FALSE(ParseMsmtListLine("a.jpg -3", &l));
  EXPECT_FALSE(ParseMsmtListLine("", &l));
}

TEST(ReidNames, FuzzMarketAgreesWithRegex) {
  SampleRng rng(7);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string s = i % 2 == 0 ? RandomName(&rng) : MutatedName(&rng, /*msmt=*/false);
    MarketName ours;
    MarketName theirs;
    const bool a = ParseMarketName(s, &ours);
    const size_t slash = s.find_last_of('/');
    const bool b = RegexMarket(slash == std::string::npos ? s : s.substr(slash + 1), &theirs);
    ASSERT_EQ(a, b) << "name '" << s << "'";
    if (a) {
      ++parsed;
      EXPECT_EQ(ours.pid, theirs.pid) << s;
      EXPECT_EQ(ours.camera, theirs.camera) << s;
    }
  }
  EXPECT_GT(parsed, 2000);  // the mutated names exercise the success path as well as the failures
}

TEST(ReidNames, FuzzMsmtAgreesWithRegex) {
  SampleRng rng(11);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string s = i % 2 == 0 ? RandomName(&rng) : MutatedName(&rng, /*msmt=*/true);
    MsmtName ours;
    MsmtName theirs;
    const bool a = ParseMsmtName(s, &ours);
    const size_t slash = s.find_last_of('/');
    const bool b = RegexMsmt(slash == std::string::npos ? s : s.substr(slash + 1), &theirs);
    ASSERT_EQ(a, b) << "name '" << s << "'";
    if (a) {
      ++parsed;
      EXPECT_EQ(ours.pid, theirs.pid) << s;
      EXPECT_EQ(ours.camera, theirs.camera) << s;
    }
    MsmtListLine line;
    ParseMsmtListLine(s, &line);  // must not crash on anything
  }
  EXPECT_GT(parsed, 2000);
}

TEST(ReidNames, ValidNamesRoundTrip) {
  SampleRng rng(3);
  for (int i = 0; i < 5000; ++i) {
    const int pid = static_cast<int>(rng.Below(1502)) - 1;  // -1 (junk) .. 1500
    const int camera = 1 + static_cast<int>(rng.Below(9));
    MarketName m;
    const std::string market = FormatMarketName(pid, camera, 1 + static_cast<int>(rng.Below(6)),
                                                static_cast<int>(rng.Below(999999)), static_cast<int>(rng.Below(9)));
    ASSERT_TRUE(ParseMarketName(market, &m)) << market;
    EXPECT_EQ(m.pid, pid);
    EXPECT_EQ(m.camera, camera);

    const int msmt_pid = static_cast<int>(rng.Below(3060));
    const int msmt_camera = 1 + static_cast<int>(rng.Below(15));
    const std::string msmt = FormatMsmtName(msmt_pid, static_cast<int>(rng.Below(300)), msmt_camera, "0303morning",
                                            static_cast<int>(rng.Below(9999)), static_cast<int>(rng.Below(3)));
    MsmtName n;
    ASSERT_TRUE(ParseMsmtName(msmt, &n)) << msmt;
    EXPECT_EQ(n.pid, msmt_pid);
    EXPECT_EQ(n.camera, msmt_camera);
  }
}

}  // namespace
}  // namespace gcl::data
