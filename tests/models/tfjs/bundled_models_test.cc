// models/tfjs/bundled_models.h: the models @human_models fetches are found among a test's runfiles, an unknown
// name or an absent data dependency gives a message saying what to do.
#include "models/tfjs/bundled_models.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace gcl::models::tfjs {
namespace {

TEST(BundledModels, FindsTheRunfilesCopy) {
  const std::string json = BundledModelJson("movenet-thunder");
  EXPECT_TRUE(std::filesystem::is_regular_file(json)) << json;
  EXPECT_NE(json.find("human_models/models/movenet-thunder.json"), std::string::npos) << json;
  EXPECT_TRUE(std::filesystem::is_regular_file(std::filesystem::path(json).replace_extension(".bin")));
  EXPECT_TRUE(IsBundledModel("blazepose-full"));
  EXPECT_FALSE(IsBundledModel("rvm"));
}

TEST(BundledModels, UnknownNamesAndMissingFilesSayWhatToDo) {
  try {
    BundledModelJson("movenet-multipose");
    FAIL() << "an unbundled model was found";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not one of the bundled TF.js models (movenet-thunder,"), std::string::npos)
        << e.what();
  }
  // blazepose-full is not in this test's data: the message names the target to depend on.
  try {
    BundledModelJson("blazepose-full");
    FAIL() << "found a model the test does not depend on";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("\"@human_models//:blazepose_full\" in its data"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(kHumanModelsDirEnv), std::string::npos) << e.what();
  }
}

TEST(BundledModels, TheEnvironmentFolderComesFirst) {
  const std::string dir = ::testing::TempDir() + "/human_models_env";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/blazepose-full.json") << "{}";
  ASSERT_EQ(setenv(kHumanModelsDirEnv, dir.c_str(), 1), 0);
  EXPECT_EQ(BundledModelJson("blazepose-full"), dir + "/blazepose-full.json");
  EXPECT_EQ(std::filesystem::path(BundledModelJson("movenet-thunder")).parent_path().filename(), "models");
  unsetenv(kHumanModelsDirEnv);
}

}  // namespace
}  // namespace gcl::models::tfjs
