#include "common/progress_line.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace gcl {
namespace {

TEST(ProgressLineTest, FormatShowsBarCountsRateAndEta) {
  const ProgressLine line("rendering", "images", nullptr);
  // Half done in 10 s: 5 images/s, 10 s left.
  EXPECT_EQ(line.Format(50, 100, 10.0),
            "rendering [############............] 50/100 images  5.0/s  elapsed 0:10  ETA 0:10");
  EXPECT_EQ(line.Format(0, 100, 0.0), "rendering [........................] 0/100 images  0.0/s  elapsed 0:00  ETA ?");
  EXPECT_EQ(line.Format(7, 0, 1.0), "rendering [########################] 7/0 images  7.0/s  elapsed 0:01  ETA 0:00");
}

TEST(ProgressLineTest, UpdateEndsTheLineOnceAtTheEnd) {
  std::FILE* out = std::tmpfile();
  ASSERT_NE(out, nullptr);
  ProgressLine line("work", "items", out);
  line.Update(1, 3);
  line.Update(3, 3);
  line.Update(3, 3);  // after the end nothing more is drawn
  std::rewind(out);
  std::string text;
  for (int c = std::fgetc(out); c != EOF; c = std::fgetc(out)) text.push_back(static_cast<char>(c));
  std::fclose(out);
  EXPECT_EQ(text.front(), '\r');
  EXPECT_NE(text.find("1/3 items"), std::string::npos);
  EXPECT_NE(text.find("3/3 items"), std::string::npos);
  EXPECT_EQ(text.back(), '\n');
  EXPECT_EQ(text.find("3/3 items"), text.rfind("3/3 items"));
}

}  // namespace
}  // namespace gcl
