#include "data/synth/synthetic_world.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "data/synth/market_naming.h"

namespace gcl::data {
namespace {

namespace fs = std::filesystem;

const char* const kImageFolders[] = {"bounding_box_train", "query", "bounding_box_test"};
const char* const kRenderFolders[] = {"render",      "render_45",  "render_90",  "render_135",
                                      "render_180",  "render_225", "render_270", "render_315"};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every regular file under `root`, relative path -> bytes.
std::map<std::string, std::string> ReadTree(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) files[fs::relative(entry.path(), root).string()] = ReadFile(entry.path());
  }
  return files;
}

std::vector<std::string> ListJpgs(const fs::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().extension() == ".jpg") names.push_back(entry.path().filename().string());
  }
  return names;
}

class SyntheticWorldTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new fs::path(fs::path(testing::TempDir()) / "synthetic_world_test");
    fs::remove_all(*root_);
    fs::create_directories(*root_);
    summary_ = GenerateSyntheticDataset(WorldSpecForPreset("tiny"), 7, (*root_ / "a").string(), /*threads=*/2);
  }
  static void TearDownTestSuite() { delete root_; }
  static fs::path Dataset() { return *root_ / "a"; }

  static fs::path* root_;
  static GenerationSummary summary_;
};

fs::path* SyntheticWorldTest::root_ = nullptr;
GenerationSummary SyntheticWorldTest::summary_;

TEST_F(SyntheticWorldTest, SameSeedGivesIdenticalBytesWhateverTheThreadCount) {
  GenerateSyntheticDataset(WorldSpecForPreset("tiny"), 7, (*root_ / "b").string(), /*threads=*/1);
  const auto a = ReadTree(Dataset());
  const auto b = ReadTree(*root_ / "b");
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [path, bytes] : a) {
    const auto it = b.find(path);
    ASSERT_NE(it, b.end()) << path;
    EXPECT_TRUE(it->second == bytes) << path << " differs";
  }
  GenerateSyntheticDataset(WorldSpecForPreset("tiny"), 8, (*root_ / "c").string(), 2);
  EXPECT_NE(ReadFile(*root_ / "c" / "ground_truth.jsonl"), ReadFile(Dataset() / "ground_truth.jsonl"));
}

TEST_F(SyntheticWorldTest, NamesFollowMarketNamingAndSplitsAreDisjoint) {
  std::set<int> train_pids, test_pids, query_pids;
  std::set<std::string> all_names;
  for (const char* folder : kImageFolders) {
    const auto names = ListJpgs(Dataset() / folder);
    EXPECT_FALSE(names.empty()) << folder;
    for (const std::string& name : names) {
      const MarketName parsed = ParseMarketName(name);
      EXPECT_EQ(FormatMarketName(parsed), name);
      EXPECT_TRUE(all_names.insert(name).second) << name << " appears twice";
      EXPECT_GE(parsed.camera, 1);
      EXPECT_LE(parsed.camera, WorldSpecForPreset("tiny").num_cameras);
      const std::string f = folder;
      if (f == "bounding_box_train") {
        EXPECT_GT(parsed.pid, 0);
        train_pids.insert(parsed.pid);
      } else if (parsed.pid > 0) {
        test_pids.insert(parsed.pid);
        if (f == "query") query_pids.insert(parsed.pid);
      }
    }
  }
  EXPECT_EQ(static_cast<int>(train_pids.size()), summary_.train_ids);
  EXPECT_EQ(static_cast<int>(test_pids.size()), summary_.test_ids);
  for (int pid : train_pids) EXPECT_EQ(test_pids.count(pid), 0u) << "pid " << pid << " in train and test";
  EXPECT_EQ(query_pids, test_pids);
}

TEST_F(SyntheticWorldTest, EveryQueryHasAGalleryMatchFromAnotherCamera) {
  std::set<std::pair<int, int>> gallery;  // (pid, camera)
  for (const std::string& name : ListJpgs(Dataset() / "bounding_box_test")) {
    const MarketName n = ParseMarketName(name);
    gallery.insert({n.pid, n.camera});
  }
  for (const std::string& name : ListJpgs(Dataset() / "query")) {
    const MarketName q = ParseMarketName(name);
    bool other_camera = false;
    for (const auto& [pid, camera] : gallery) other_camera |= (pid == q.pid && camera != q.camera);
    EXPECT_TRUE(other_camera) << name;
  }
}

TEST_F(SyntheticWorldTest, RendersExistForEveryImageAtAllEightAngles) {
  const WorldSpec spec = WorldSpecForPreset("tiny");
  for (const char* folder : kImageFolders) {
    const std::string split = std::string(folder) == "bounding_box_train" ? "train" : "test";
    for (const std::string& name : ListJpgs(Dataset() / folder)) {
      const cv::Mat image = cv::imread((Dataset() / folder / name).string(), cv::IMREAD_UNCHANGED);
      ASSERT_EQ(image.type(), CV_8UC3) << name;
      ASSERT_EQ(image.rows, spec.crop_height);
      ASSERT_EQ(image.cols, spec.crop_width);
      for (const char* render : kRenderFolders) {
        const fs::path path = Dataset() / "mesh" / split / render / name;
        const cv::Mat s = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
        ASSERT_FALSE(s.empty()) << path;
        EXPECT_EQ(s.type(), CV_8UC1) << path;  // grey body on white, 1 channel
        EXPECT_EQ(s.size(), image.size()) << path;
        EXPECT_GT(cv::mean(s)[0], 128.0) << path << ": mostly white background expected";
      }
    }
  }
  // The mesh folders hold nothing but those renders.
  for (const char* split : {"train", "test"}) {
    for (const char* render : kRenderFolders) {
      for (const std::string& name : ListJpgs(Dataset() / "mesh" / split / render)) {
        const bool found = fs::exists(Dataset() / "bounding_box_train" / name) ||
                           fs::exists(Dataset() / "query" / name) || fs::exists(Dataset() / "bounding_box_test" / name);
        EXPECT_TRUE(found) << split << "/" << render << "/" << name;
      }
    }
  }
}

TEST_F(SyntheticWorldTest, GroundTruthDescribesEveryImageConsistently) {
  std::ifstream in(Dataset() / "ground_truth.jsonl");
  const std::regex file_re(R"rx("file":"([^"]+)","split":"(train|query|gallery)","kind":"([a-z_]+)","pid":(-?\d+),"camera":(\d+),"sequence":(\d+),"frame":(\d+),"yaw_deg":([-\d.]+),"pose":"(\w+)")rx");
  std::string line;
  int lines = 0;
  std::map<int, std::string> identity_of_pid;
  while (std::getline(in, line)) {
    ++lines;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(line, m, file_re)) << line;
    const std::string file = m[1], split = m[2], kind = m[3];
    const MarketName name = ParseMarketName(file);
    EXPECT_EQ(name.pid, std::stoi(m[4].str()));
    EXPECT_EQ(name.camera, std::stoi(m[5].str()));
    EXPECT_EQ(name.sequence, std::stoi(m[6].str()));
    EXPECT_EQ(name.frame, std::stoi(m[7].str()));
    const float yaw = std::stof(m[8].str());
    EXPECT_GE(yaw, 0.f);
    EXPECT_LT(yaw, 360.f);
    const char* folder = split == "train" ? "bounding_box_train" : split == "query" ? "query" : "bounding_box_test";
    EXPECT_TRUE(fs::exists(Dataset() / folder / file)) << file;
    EXPECT_EQ(kind == "person", name.pid > 0) << line;
    if (kind == "background_distractor") {
      EXPECT_NE(line.find("\"identity\":null"), std::string::npos);
    } else {
      EXPECT_NE(line.find("\"shape\":{"), std::string::npos);
      EXPECT_NE(line.find("\"outfit\":{"), std::string::npos);
    }
    if (name.pid > 0) {
      // One identity per pid: the same shape and outfit in every line.
      const std::string identity = line.substr(line.find("\"identity\":"));
      auto [it, inserted] = identity_of_pid.emplace(name.pid, identity);
      EXPECT_TRUE(inserted || it->second == identity) << "pid " << name.pid;
    }
  }
  EXPECT_EQ(lines, summary_.train_images + summary_.query_images + summary_.gallery_images);
  EXPECT_EQ(static_cast<int>(ListJpgs(Dataset() / "bounding_box_train").size()), summary_.train_images);
  EXPECT_EQ(static_cast<int>(ListJpgs(Dataset() / "query").size()), summary_.query_images);
  EXPECT_EQ(static_cast<int>(ListJpgs(Dataset() / "bounding_box_test").size()), summary_.gallery_images);
  EXPECT_EQ(summary_.distractor_images, WorldSpecForPreset("tiny").num_distractors);
  EXPECT_TRUE(fs::exists(Dataset() / "cameras.json"));
  const cv::Mat sheet = cv::imread((Dataset() / "contact_sheet.png").string());
  EXPECT_FALSE(sheet.empty());
}

TEST_F(SyntheticWorldTest, RefusesToOverwriteAndCleansUpOnBadSpec) {
  EXPECT_THROW(GenerateSyntheticDataset(WorldSpecForPreset("tiny"), 7, Dataset().string()), std::runtime_error);
  WorldSpec bad = WorldSpecForPreset("tiny");
  bad.num_cameras = 12;
  EXPECT_THROW(GenerateSyntheticDataset(bad, 7, (*root_ / "bad").string()), std::runtime_error);
  EXPECT_FALSE(fs::exists(*root_ / "bad"));
}

TEST_F(SyntheticWorldTest, EnsureGeneratesOnceAndReuses) {
  const fs::path cache = *root_ / "cache";
  const std::string path = EnsureSyntheticDataset("tiny", 3, cache.string());
  EXPECT_EQ(fs::path(path).filename().string(), SyntheticDatasetName("tiny", 3));
  EXPECT_TRUE(IsCompleteSyntheticDataset(path, WorldSpecForPreset("tiny"), 3));
  EXPECT_FALSE(IsCompleteSyntheticDataset(path, WorldSpecForPreset("tiny"), 4));
  const auto before = fs::last_write_time(fs::path(path) / "ground_truth.jsonl");
  EXPECT_EQ(EnsureSyntheticDataset("tiny", 3, cache.string()), path);
  EXPECT_EQ(fs::last_write_time(fs::path(path) / "ground_truth.jsonl"), before);  // reused, not regenerated
  for (const auto& entry : fs::directory_iterator(cache)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << "temporary folder left over";
  }
  // A folder of that name without a matching stamp is reported, never silently reused or deleted.
  const fs::path broken = cache / SyntheticDatasetName("tiny", 5);
  fs::create_directories(broken);
  EXPECT_THROW(EnsureSyntheticDataset("tiny", 5, cache.string()), std::runtime_error);
  EXPECT_TRUE(fs::exists(broken));
  EXPECT_THROW(EnsureSyntheticDataset("no_such_preset", 1, cache.string()), std::runtime_error);
}

}  // namespace
}  // namespace gcl::data
