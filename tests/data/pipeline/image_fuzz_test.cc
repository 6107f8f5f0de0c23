// The image readers (data/pipeline/image_header.h and the decoders of image_transforms.h) fed seeded random
// mutations of real encoder output: baseline, progressive and restart-interval JPEGs, PNGs and BMPs. Every mutant
// is checked and, when it passes, decoded, within 10 s and a 512 MB memory budget: it decodes or is refused with a
// std::exception. (libjpeg's warnings about damaged data inside complete files, "Corrupt JPEG data: ...", are
// printed by the decoder for mutants that still decode.)
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/pipeline/image_header.h"
#include "data/pipeline/image_transforms.h"
#include "tests/support/child_process.h"
#include "tests/support/hostile_input.h"

namespace gcl::data {
namespace {

using testing_support::FuzzFile;
using testing_support::FuzzOptions;
using testing_support::FuzzReport;
using testing_support::TestTmpDir;

// A person-crop-like picture: a gradient with noise, 48 x 24.
std::string Encoded(const std::string& extension, const std::vector<int>& params = {}) {
  cv::Mat image(48, 24, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(60));
  for (int y = 0; y < image.rows; ++y) image.row(y) += cv::Scalar(4 * y, 2 * y, 255 - 5 * y);
  std::vector<uchar> bytes;
  EXPECT_TRUE(cv::imencode(extension, image, bytes, params));
  return std::string(bytes.begin(), bytes.end());
}

TEST(ImageFuzz, EncodedImages) {
  const std::vector<std::string> samples = {Encoded(".jpg"), Encoded(".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}),
                                            Encoded(".jpg", {cv::IMWRITE_JPEG_RST_INTERVAL, 1}), Encoded(".png"),
                                            Encoded(".bmp")};
  FuzzOptions options;
  options.seed = 1;
  options.iterations = 10000;
  options.limits.seconds = 10;
  options.limits.memory_bytes = uint64_t{512} << 20;
  options.focus.bytes = 700;  // headers: JPEG tables and frame, PNG IHDR, BMP info header
  const FuzzReport r = FuzzFile(samples, TestTmpDir() / "mutant.img", options, [&](const std::string& path) {
    const cv::Mat rgb = DecodeRgb(path);
    if (rgb.empty() || rgb.type() != CV_8UC3) throw std::logic_error("DecodeRgb returned no image without an error");
  });
  EXPECT_GT(r.returned, 0);
  EXPECT_GT(r.threw, 0);
  std::printf("images: %d decoded, %d refused, slowest %.3f s\n", r.returned, r.threw, r.slowest_seconds);
}

}  // namespace
}  // namespace gcl::data
