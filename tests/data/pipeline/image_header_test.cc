// Image headers without decoding: format and size of real encoder output, every truncation of it detected, the
// pixel limit, and damaged headers refused with the problem named.
#include "data/pipeline/image_header.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "data/pipeline/image_transforms.h"
#include "tests/data/datasets/fixtures.h"

namespace gcl::data {
namespace {

using ::testing::HasSubstr;

std::string Encoded(const std::string& extension, int height, int width, const std::vector<int>& params = {}) {
  cv::Mat image(height, width, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
  std::vector<uchar> bytes;
  EXPECT_TRUE(cv::imencode(extension, image, bytes, params));
  return std::string(bytes.begin(), bytes.end());
}

TEST(InspectImage, FormatAndSizeOfRealFiles) {
  struct Case {
    std::string extension;
    std::vector<int> params;
    ImageFormat format;
  };
  const std::vector<Case> cases = {{".jpg", {}, ImageFormat::kJpeg},
                                   {".jpg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}, ImageFormat::kJpeg},
                                   {".jpg", {cv::IMWRITE_JPEG_RST_INTERVAL, 2}, ImageFormat::kJpeg},
                                   {".png", {}, ImageFormat::kPng},
                                   {".bmp", {}, ImageFormat::kBmp}};
  for (const Case& c : cases) {
    const StatusOr<ImageHeader> h = InspectImage(Encoded(c.extension, 37, 19, c.params));
    ASSERT_TRUE(h.ok()) << c.extension << ": " << h.error();
    EXPECT_EQ(h->format, c.format);
    EXPECT_EQ(h->height, 37);
    EXPECT_EQ(h->width, 19);
  }
}

// Every proper prefix of a real file is refused: truncation anywhere, not only in the middle of the data.
TEST(InspectImage, EveryTruncationIsDetected) {
  for (const std::string extension : {".jpg", ".png", ".bmp"}) {
    const std::string whole = Encoded(extension, 24, 12);
    for (size_t cut = 0; cut < whole.size(); ++cut) {
      EXPECT_FALSE(InspectImage(whole.substr(0, cut)).ok()) << extension << " cut at " << cut << " of " << whole.size();
    }
  }
  const std::string progressive = Encoded(".jpg", 24, 12, {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  for (size_t cut = 0; cut < progressive.size(); ++cut) {
    EXPECT_FALSE(InspectImage(progressive.substr(0, cut)).ok()) << "progressive JPEG cut at " << cut;
  }
  const std::string jpeg = Encoded(".jpg", 24, 12);
  EXPECT_EQ(InspectImage(jpeg.substr(0, jpeg.size() - 2)).error(),
            "JPEG ends before its end-of-image marker (truncated)");
  EXPECT_TRUE(InspectImage(jpeg + "trailing bytes after the end-of-image marker").ok());
}

TEST(InspectImage, DamagedHeadersNameTheProblem) {
  EXPECT_EQ(InspectImage("").error(), "empty file, not an image");
  EXPECT_EQ(InspectImage("GIF89a......").error(), "not a JPEG, PNG or BMP file");
  std::string jpeg = Encoded(".jpg", 8, 8);
  const size_t sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  jpeg[sof + 5] = jpeg[sof + 6] = 0;  // height 0
  EXPECT_THAT(InspectImage(jpeg).error(), HasSubstr("JPEG frame of 8 x 0 pixels"));
  std::string png = Encoded(".png", 8, 8);
  png.replace(16, 4, std::string("\0\0\0\0", 4));  // IHDR width 0
  EXPECT_THAT(InspectImage(png).error(), HasSubstr("PNG image of 0 x 8 pixels"));
  std::string bmp = Encoded(".bmp", 8, 8);
  bmp[28] = 7;  // bits per pixel
  EXPECT_THAT(InspectImage(bmp).error(), HasSubstr("BMP with 7 bits per pixel"));
}

TEST(PixelLimit, RefusesOnlyAboveTheLimit) {
  ImageHeader h;
  h.format = ImageFormat::kPng;
  h.width = 4096;
  h.height = 4096;
  EXPECT_EQ(CheckPixelLimit(h, kDefaultMaxImagePixels), "");
  h.width = 4097;
  EXPECT_EQ(CheckPixelLimit(h, kDefaultMaxImagePixels),
            "PNG of 4097 x 4096 = 16781312 pixels, above the limit of 16777216 (max_image_pixels)");
  EXPECT_GT(MaxImageFileBytes(kDefaultMaxImagePixels), uint64_t{4} * kDefaultMaxImagePixels);
}

TEST(PixelLimit, IsConfigurableInTheDecoders) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/a.png";
  testing::WriteText(path, Encoded(".png", 40, 30));
  EXPECT_EQ(DecodeRgb(path, 1200).rows, 40);
  EXPECT_THAT([&] { DecodeRgb(path, 1199); }, ::testing::ThrowsMessage<std::runtime_error>(
                                                  HasSubstr("PNG of 30 x 40 = 1200 pixels, above the limit of 1199")));
  EXPECT_THAT([&] { DecodeLuma(path, 100); },
              ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("cannot decode structure image " + path)));
  ImageHeader header;
  EXPECT_EQ(ReadCheckedImage(path, 1200, &header).size(), Encoded(".png", 40, 30).size());
  EXPECT_EQ(header.width, 30);
}

}  // namespace
}  // namespace gcl::data
