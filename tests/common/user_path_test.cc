#include "common/user_path.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

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

TEST_F(UserPathTest, WorkingDirIsTheInvocationFolderElseTheCurrentOne) {
  setenv("BUILD_WORKING_DIRECTORY", "/home/ada/gcl", 1);
  EXPECT_EQ(UserWorkingDir(), "/home/ada/gcl");
  unsetenv("BUILD_WORKING_DIRECTORY");
  EXPECT_EQ(UserWorkingDir(), std::filesystem::current_path().string());
}

TEST_F(UserPathTest, ResolveAgainstAnExplicitFolderIgnoresTheEnvironment) {
  setenv("BUILD_WORKING_DIRECTORY", "/elsewhere", 1);
  EXPECT_EQ(ResolveAgainst("runs/quick", "/tmp/work"), "/tmp/work/runs/quick");
  EXPECT_EQ(ResolveAgainst("/data/market", "/tmp/work"), "/data/market");
  EXPECT_EQ(ResolveAgainst("runs", ""), "runs");
  EXPECT_EQ(ResolveAgainst("", "/tmp/work"), "");
}

}  // namespace
}  // namespace gcl
