#include "common/status_or.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace gcl {
namespace {

StatusOr<int> ParseDigit(char c) {
  if (c < '0' || c > '9') return MakeError(std::string("'") + c + "' is not a digit");
  return c - '0';
}

TEST(StatusOr, HoldsAValue) {
  const StatusOr<int> seven = ParseDigit('7');
  ASSERT_TRUE(seven.ok());
  EXPECT_TRUE(static_cast<bool>(seven));
  EXPECT_EQ(*seven, 7);
  EXPECT_EQ(seven.value(), 7);
  EXPECT_EQ(seven.error(), "");
}

TEST(StatusOr, HoldsAnErrorAndThrowsItOnAccess) {
  const StatusOr<int> bad = ParseDigit('x');
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), "'x' is not a digit");
  EXPECT_THAT([&] { (void)bad.value(); },
              ::testing::ThrowsMessage<std::runtime_error>(::testing::StrEq("'x' is not a digit")));
  EXPECT_THROW((void)*bad, std::runtime_error);
}

TEST(StatusOr, MovesMoveOnlyValuesOut) {
  StatusOr<std::unique_ptr<std::vector<int>>> made = std::make_unique<std::vector<int>>(3, 1);
  ASSERT_TRUE(made.ok());
  EXPECT_EQ(made->get()->size(), 3u);
  const std::unique_ptr<std::vector<int>> owned = std::move(made).value();
  EXPECT_EQ(owned->size(), 3u);
}

TEST(StatusOr, HoldsStringsWithoutConfusingThemWithErrors) {
  const StatusOr<std::string> text = std::string("a value");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "a value");
  const StatusOr<std::string> failed = MakeError("a message");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error(), "a message");
}

}  // namespace
}  // namespace gcl
