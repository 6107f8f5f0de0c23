#include "common/user_path.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace gcl {
namespace {

class UserPathTest : public ::testing::Test {
 protected:
  void TearDown() override { unsetenv("BUILD_WORKING_DIRECTORY"); }
};

TEST_F(UserPathTest, UnchangedOutsideBazelRun) {
  unsetenv("BUILD_WORKING_DIRECTORY");
  EXPECT_EQ(UserPath("runs/quick"), "runs/quick");
  EXPECT_EQ(UserPath("/data/market"), "/data/market");
}

TEST_F(UserPathTest, RelativePathsMeanTheInvocationFolder) {
  setenv("BUILD_WORKING_DIRECTORY", "/home/ada/gcl", 1);
  EXPECT_EQ(UserPath("runs/quick"), "/home/ada/gcl/runs/quick");
  EXPECT_EQ(UserPath("./data/../out"), "/home/ada/gcl/out");
}

TEST_F(UserPathTest, AbsoluteAndEmptyPathsStay) {
  setenv("BUILD_WORKING_DIRECTORY", "/home/ada/gcl", 1);
  EXPECT_EQ(UserPath("/data/market"), "/data/market");
  EXPECT_EQ(UserPath(""), "");
}

TEST_F(UserPathTest, EmptyVariableIsIgnored) {
  setenv("BUILD_WORKING_DIRECTORY", "", 1);
  EXPECT_EQ(UserPath("runs"), "runs");
}

}  // namespace
}  // namespace gcl
