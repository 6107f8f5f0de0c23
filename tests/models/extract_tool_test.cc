// tools/extract: listing, labels from names, .npy/.csv writers, and features equal to a direct forward pass of
// the exported encoder on the same preprocessed images.
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

#include "evaluation/feature_extraction.h"
#include "models/identity_encoder_io.h"
#include "tests/support/temp_dir.h"

namespace gcl::evaluation {
namespace {
namespace fs = std::filesystem;

std::string TempDir(const std::string& name) { return testing_support::FreshTestDir(name).string(); }

void WriteImage(const std::string& path, int seed) {
  cv::Mat image(40 + seed, 20 + seed, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
  ASSERT_TRUE(cv::imwrite(path, image)) << path;
}

TEST(ExtractTool, LabelsFromMarketNames) {
  EXPECT_EQ(LabelFromPath("/x/0002_c3s1_000451_03.jpg").pid, 2);
  EXPECT_EQ(LabelFromPath("/x/0002_c3s1_000451_03.jpg").camid, 2);
  EXPECT_EQ(LabelFromPath("-1_c1s1_000401_03.jpg").pid, -1);
  EXPECT_EQ(LabelFromPath("-1_c1s1_000401_03.jpg").camid, 0);
  EXPECT_EQ(LabelFromPath("holiday.png").pid, -1);
  EXPECT_EQ(LabelFromPath("holiday.png").camid, -1);
}

TEST(ExtractTool, ListImagesIsRecursiveSortedAndFiltered) {
  const std::string dir = TempDir("list");
  fs::create_directories(dir + "/sub");
  WriteImage(dir + "/b.PNG", 0);
  WriteImage(dir + "/sub/a.jpg", 1);
  std::ofstream(dir + "/notes.txt") << "x";
  EXPECT_EQ(ListImages(dir), (std::vector<std::string>{dir + "/b.PNG", dir + "/sub/a.jpg"}));
  EXPECT_THROW(ListImages(dir + "/missing"), std::runtime_error);
  EXPECT_THROW(ListImages(TempDir("empty")), std::runtime_error);
}

// A `self -> .` link (and a second link to a folder already listed): each folder is listed once. Before, `extract`
// and `search` followed the link until the path grew too long and listed every image dozens of times.
TEST(ExtractTool, ListImagesEntersEachFolderOnce) {
  const std::string dir = TempDir("links");
  fs::create_directories(dir + "/sub");
  WriteImage(dir + "/a.jpg", 0);
  WriteImage(dir + "/sub/b.jpg", 1);
  fs::create_directory_symlink(".", dir + "/self");
  fs::create_directory_symlink("sub", dir + "/again");
  fs::create_directory_symlink("..", dir + "/sub/up");
  const std::vector<std::string> images = ListImages(dir);
  ASSERT_EQ(images.size(), 2u) << images.size() << " paths listed";
  EXPECT_EQ(fs::path(images[0]).filename(), "a.jpg");
  EXPECT_EQ(fs::path(images[1]).filename(), "b.jpg");
}

// An export whose weights hold a NaN (loaded without the load-time check, e.g. built in memory): the features
// would be NaN; extraction stops naming the first image instead of writing them.
TEST(ExtractTool, NonFiniteFeaturesAreRefusedNamingTheImage) {
  const std::string dir = TempDir("nan_images");
  WriteImage(dir + "/0002_c3s1_000451_03.jpg", 0);
  models::IdentityEncoderOptions o;
  o.depth = 18;
  o.width = 1.0 / 16;
  o.embedding_dim = 8;
  models::IdentityEncoder net(o);
  {
    torch::NoGradGuard no_grad;
    net->named_parameters()["feat.weight"].fill_(std::numeric_limits<float>::quiet_NaN());
  }
  ExtractOptions options;
  options.height = 64;
  options.width = 32;
  try {
    ExtractFeatures(net, ListImages(dir), options, torch::kCPU);
    ADD_FAILURE() << "NaN features were returned";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("non-finite (NaN or Inf) feature for " + dir + "/0002_c3s1_000451_03.jpg"),
              std::string::npos)
        << e.what();
  }
}

// `search --image_height=0` ended in a LibTorch backtrace; the options are checked first.
TEST(ExtractTool, InputSizesOutOfRangeAreRefusedBeforeTheNetworkRuns) {
  const std::string dir = TempDir("sizes");
  WriteImage(dir + "/a.jpg", 0);
  models::IdentityEncoderOptions o;
  o.depth = 18;
  o.width = 1.0 / 16;
  o.embedding_dim = 8;
  models::IdentityEncoder net(o);
  for (const auto& [h, w, problem] :
       std::vector<std::tuple<int, int, std::string>>{{0, 128, "image height 0 is outside 32..4096"},
                                                      {256, 8, "image width 8 is outside 16..4096"},
                                                      {100000, 128, "image height 100000 is outside 32..4096"}}) {
    ExtractOptions options;
    options.height = h;
    options.width = w;
    try {
      ExtractFeatures(net, ListImages(dir), options, torch::kCPU);
      ADD_FAILURE() << h << " x " << w << " was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()), problem);
    } catch (const std::exception& e) {
      ADD_FAILURE() << h << " x " << w << ": not a clear error: " << e.what();
    }
  }
}

TEST(ExtractTool, NpyHeaderAndData) {
  const std::string path = TempDir("npy") + "/f.npy";
  const torch::Tensor m = torch::randn({3, 5});
  WriteNpy(path, m);
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0u);
  const std::string header = bytes.substr(10, header_len);
  EXPECT_NE(header.find("'descr': '<f4'"), std::string::npos) << header;
  EXPECT_NE(header.find("'shape': (3, 5)"), std::string::npos) << header;
  EXPECT_EQ(header.back(), '\n');
  ASSERT_EQ(bytes.size(), 10 + header_len + 15 * sizeof(float));
  torch::Tensor back = torch::empty({3, 5});
  std::memcpy(back.data_ptr<float>(), bytes.data() + 10 + header_len, 15 * sizeof(float));
  EXPECT_TRUE(torch::equal(back, m));
}

TEST(ExtractTool, FeaturesMatchDirectForwardAndCsvListsLabels) {
  const std::string dir = TempDir("images");
  WriteImage(dir + "/0002_c3s1_000451_03.jpg", 0);
  WriteImage(dir + "/0007_c1s2_000100_01.jpg", 3);
  WriteImage(dir + "/street.png", 5);
  models::IdentityEncoderOptions o;
  o.depth = 18;
  o.width = 1.0 / 16;
  o.embedding_dim = 8;
  models::IdentityEncoder net(o);
  const std::string model = TempDir("model") + "/eid.safetensors";
  models::ExportIdentityEncoder(net, model);
  models::IdentityEncoder loaded = models::LoadExportedIdentityEncoder(model);

  ExtractOptions options;
  options.height = 64;
  options.width = 32;
  options.batch_size = 2;  // two batches, the second partial
  const std::vector<std::string> images = ListImages(dir);
  const torch::Tensor f = ExtractFeatures(loaded, images, options, torch::kCPU);
  ASSERT_EQ(f.sizes(), torch::IntArrayRef({3, 8}));
  net->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor batch = LoadBatch(images, options);
  EXPECT_EQ(batch.sizes(), torch::IntArrayRef({3, 3, 64, 32}));
  EXPECT_TRUE(torch::allclose(f, net->forward(batch), 1e-5, 1e-6));

  const std::string csv = TempDir("csv") + "/labels.csv";
  WriteLabelsCsv(csv, images);
  std::ifstream in(csv);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "path,pid,camid\n" + dir + "/0002_c3s1_000451_03.jpg,2,2\n" + dir +
                      "/0007_c1s2_000100_01.jpg,7,0\n" + dir + "/street.png,-1,-1\n");
}

}  // namespace
}  // namespace gcl::evaluation
