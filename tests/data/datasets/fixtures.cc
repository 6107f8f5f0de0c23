#include "tests/data/datasets/fixtures.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "data/datasets/reid_dataset.h"
#include "data/datasets/reid_names.h"

namespace gcl::data::testing {
namespace fs = std::filesystem;

TempDir::TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/gcl_data_XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void WriteJpeg(const std::string& path, int height, int width, int value) {
  fs::create_directories(fs::path(path).parent_path());
  cv::Mat m(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      // A gentle gradient keeps JPEG close to `value` while making images non-constant.
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uchar>(value + (x % 3)),
                                        cv::saturate_cast<uchar>(value + (y % 3)), cv::saturate_cast<uchar>(value));
    }
  }
  if (!cv::imwrite(path, m, {cv::IMWRITE_JPEG_QUALITY, 95})) throw std::runtime_error("cannot write " + path);
}

void WriteGarbage(const std::string& path) { WriteText(path, "this is not an image\n"); }

void WriteText(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path);
}

int RenderValue(int angle) { return 20 + angle / 45 * 25; }

std::vector<std::string> WriteMarketTree(const std::string& root, const std::string& mesh, const MarketSpec& spec) {
  const fs::path base = spec.subfolder.empty() ? fs::path(root) : fs::path(root) / spec.subfolder;
  std::vector<std::string> train_names;
  const auto write_split = [&](const std::vector<FixtureImage>& images, const std::string& folder,
                               const std::string& mesh_split) {
    fs::create_directories(base / folder);
    for (const FixtureImage& im : images) {
      const std::string name = FormatMarketName(im.pid, im.camera, 1, im.frame, 0);
      WriteJpeg((base / folder / name).string(), spec.height, spec.width, 60 + (im.frame * 7) % 150);
      if (folder == "bounding_box_train") train_names.push_back(name);
      if (spec.write_renders && !mesh_split.empty()) {
        for (int angle : kRenderAngles) {
          WriteJpeg((fs::path(mesh) / mesh_split / RenderFolderName(angle) / name).string(), spec.height, spec.width,
                    RenderValue(angle));
        }
      }
    }
  };
  write_split(spec.train, "bounding_box_train", "train");
  write_split(spec.query, "query", "test");
  write_split(spec.gallery, "bounding_box_test", "test");
  return train_names;
}

MarketSpec SmallMarketSpec(int train_pids, int per_pid) {
  MarketSpec spec;
  int frame = 1;
  for (int p = 0; p < train_pids; ++p) {
    for (int k = 0; k < per_pid; ++k) spec.train.push_back({2 + 3 * p, 1 + (p + k) % 6, frame++});
  }
  spec.query = {{5, 1, frame++}, {11, 2, frame++}};
  spec.gallery = {{5, 3, frame++}, {11, 4, frame++}, {0, 5, frame++}, {-1, 6, frame++}};
  return spec;
}

}  // namespace gcl::data::testing
