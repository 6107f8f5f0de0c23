// Resize against Pillow's own output, normalisation values, luma conversion, augmentation shapes and draws.
#include "data/pipeline/image_transforms.h"

#include <cmath>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tests/data/datasets/fixtures.h"
#include "tests/support/hostile_input.h"

namespace gcl::data {
namespace {

// Expected pixels written by Pillow 9.4 (Debian 12's python3-pil) for the 5 x 3 RGB image of TestImage():
// Image.fromarray(a).resize((w, h), Image.BICUBIC), .convert('L'), and the 'L' image resized to 10 x 6.
const std::vector<int> kPilRgb10x6 = {
    0, 39, 90, 10, 63, 127, 61, 114, 205, 123, 176, 186, 188, 241, 73, 219, 255, 19, 8, 54, 111, 28, 82, 129,
    85, 142, 163, 128, 186, 147, 154, 208, 81, 166, 218, 50, 36, 85, 158, 66, 123, 131, 135, 203, 76, 140, 207, 64,
    81, 138, 99, 54, 105, 116, 65, 123, 203, 104, 144, 155, 185, 188, 53, 173, 178, 46, 72, 117, 138, 24, 89, 181,
    93, 167, 244, 138, 143, 198, 230, 94, 101, 227, 96, 100, 131, 151, 196, 85, 177, 242, 130, 209, 197, 155, 166, 177,
    207, 77, 137, 212, 64, 141, 172, 130, 189, 152, 162, 213, 173, 251, 60, 154, 214, 92, 114, 136, 161, 127, 81, 169,
    196, 55, 119, 227, 43, 94, 212, 201, 23, 175, 191, 56, 99, 169, 126, 97, 121, 140, 170, 52, 98, 204, 19, 77,
    243, 69, 82, 216, 103, 68, 159, 175, 40, 119, 179, 59, 100, 115, 125, 91, 85, 156, 255, 7, 109, 235, 61, 74,
    187, 178, 0, 129, 206, 21, 67, 145, 138, 38, 116, 194,
};
const std::vector<int> kPilRgb3x2 = {
    61, 114, 133, 130, 188, 99, 152, 156, 146, 156, 109, 150, 185, 145, 69, 124, 109, 112,
};
const std::vector<int> kPilRgb7x5 = {
    0, 43, 94, 26, 79, 149, 92, 145, 213, 168, 221, 105, 211, 255, 25, 25, 74, 139, 69, 128, 123, 135, 205, 98,
    115, 175, 92, 94, 146, 91, 68, 127, 204, 130, 155, 128, 205, 188, 29, 105, 135, 116, 29, 95, 185, 112, 184, 237,
    174, 125, 178, 253, 50, 103, 178, 129, 182, 119, 191, 244, 169, 247, 70, 143, 190, 116, 115, 98, 177, 177, 64, 137,
    222, 52, 103, 223, 153, 43, 170, 164, 69, 98, 168, 108, 132, 92, 108, 163, 42, 104, 254, 16, 106, 221, 97, 53,
    158, 211, 0, 86, 160, 105, 45, 114, 187,
};
const std::vector<int> kPilLuma = {
    43, 140, 208, 104, 189, 76, 165, 117, 171, 197, 118, 87, 108, 167, 105,
};
const std::vector<int> kPilLuma10x6 = {
    29, 54, 108, 161, 206, 227, 44, 71, 127, 164, 177, 184, 77, 107, 168, 171, 117, 91, 114, 133, 171, 162, 106, 80,
    153, 148, 135, 137, 150, 157, 184, 164, 123, 118, 150, 165, 206, 182, 132, 105, 105, 104, 184, 171, 143, 116, 92, 81,
    123, 133, 155, 147, 111, 95, 94, 116, 160, 162, 120, 101,
};

// The 5 x 3 RGB test image, value (97 x + 61 y + 53 c + 17 x y) mod 256.
cv::Mat TestImage() {
  cv::Mat m(5, 3, CV_8UC3);
  for (int y = 0; y < 5; ++y) {
    for (int x = 0; x < 3; ++x) {
      for (int c = 0; c < 3; ++c) m.at<cv::Vec3b>(y, x)[c] = (x * 97 + y * 61 + c * 53 + x * y * 17) % 256;
    }
  }
  return m;
}

std::vector<int> Values(const cv::Mat& m) {
  std::vector<int> v;
  for (int y = 0; y < m.rows; ++y) {
    for (int x = 0; x < m.cols * m.channels(); ++x) v.push_back(m.ptr<uint8_t>(y)[x]);
  }
  return v;
}

TEST(Resize, PilBicubicMatchesPillowExactly) {
  const cv::Mat rgb = TestImage();
  EXPECT_EQ(Values(Resize(rgb, 10, 6, ResizeKernel::kPilBicubic)), kPilRgb10x6);  // 2x up, as Market 128x64
  EXPECT_EQ(Values(Resize(rgb, 3, 2, ResizeKernel::kPilBicubic)), kPilRgb3x2);    // down, antialiased
  EXPECT_EQ(Values(Resize(rgb, 7, 5, ResizeKernel::kPilBicubic)), kPilRgb7x5);    // non-integer scales
}

TEST(Resize, LumaLikePilConvertL) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/rgb.png";
  cv::Mat bgr;
  cv::cvtColor(TestImage(), bgr, cv::COLOR_RGB2BGR);
  ASSERT_TRUE(cv::imwrite(path, bgr));  // PNG is lossless, so the decoded pixels are the test image
  const cv::Mat luma = DecodeLuma(path);
  EXPECT_EQ(Values(luma), kPilLuma);
  EXPECT_EQ(Values(Resize(luma, 10, 6, ResizeKernel::kPilBicubic)), kPilLuma10x6);
  const cv::Mat rgb = DecodeRgb(path);
  EXPECT_EQ(Values(rgb), Values(TestImage()));
}

TEST(Resize, OpenCvOptionAndShapes) {
  const cv::Mat out = Resize(TestImage(), 10, 6, ResizeKernel::kOpenCvCubic);
  EXPECT_EQ(out.rows, 10);
  EXPECT_EQ(out.cols, 6);
  EXPECT_EQ(out.type(), CV_8UC3);
  // Constant images stay constant under both kernels (the weights sum to one).
  const cv::Mat flat(13, 7, CV_8UC1, cv::Scalar(77));
  for (ResizeKernel k : {ResizeKernel::kPilBicubic, ResizeKernel::kOpenCvCubic}) {
    const cv::Mat r = Resize(flat, 256, 128, k);
    double lo = 0;
    double hi = 0;
    cv::minMaxLoc(r, &lo, &hi);
    EXPECT_EQ(lo, 77);
    EXPECT_EQ(hi, 77);
  }
  EXPECT_THROW(Resize(cv::Mat(4, 4, CV_32FC1), 2, 2, ResizeKernel::kPilBicubic), std::invalid_argument);
}

// A JPEG whose EXIF block says "rotate 90 degrees" (Orientation = 6): PIL ignores it, and so must we.
TEST(Decode, IgnoresExifOrientationLikePil) {
  testing::TempDir dir;
  std::vector<uchar> jpeg;
  ASSERT_TRUE(cv::imencode(".jpg", cv::Mat(8, 4, CV_8UC3, cv::Scalar(10, 200, 90)), jpeg));
  // APP1 "Exif\0\0", little-endian TIFF header, one IFD entry: tag 0x0112 (Orientation), SHORT, count 1, value 6.
  const std::vector<uchar> exif = {0xFF, 0xE1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 0x2A, 0x00,
                                   0x08, 0x00, 0x00, 0x00, 0x01, 0x00, 0x12, 0x01, 0x03, 0x00, 0x01, 0x00,
                                   0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  jpeg.insert(jpeg.begin() + 2, exif.begin(), exif.end());
  const std::string path = dir.path() + "/rotated.jpg";
  testing::WriteText(path, std::string(jpeg.begin(), jpeg.end()));
  ASSERT_EQ(cv::imread(path, cv::IMREAD_COLOR).rows, 4);  // OpenCV's default applies the rotation
  EXPECT_EQ(DecodeRgb(path).rows, 8);
  EXPECT_EQ(DecodeRgb(path).cols, 4);
  EXPECT_EQ(DecodeLuma(path).rows, 8);
}

TEST(Decode, CorruptFilesNameThePath) {
  testing::TempDir dir;
  testing::WriteGarbage(dir.path() + "/bad.jpg");
  EXPECT_THAT([&] { DecodeRgb(dir.path() + "/bad.jpg"); },
              ::testing::ThrowsMessage<std::runtime_error>(::testing::HasSubstr(dir.path() + "/bad.jpg")));
  EXPECT_THAT([&] { DecodeLuma(dir.path() + "/missing.jpg"); },
              ::testing::ThrowsMessage<std::runtime_error>(::testing::HasSubstr("missing.jpg")));
}

// Encoded noise (so that every format's data section is large), as a real encoder writes it.
std::string Encoded(const std::string& extension, int height, int width) {
  cv::Mat image(height, width, CV_8UC3);
  cv::randu(image, cv::Scalar::all(0), cv::Scalar::all(255));
  std::vector<uchar> bytes;
  EXPECT_TRUE(cv::imencode(extension, image, bytes));
  return std::string(bytes.begin(), bytes.end());
}

// Issue 18: a truncated JPEG decoded with a grey fill (libjpeg only warns), so it passed both dataset checks and was
// trained on. Each format is now walked to its end first.
TEST(Decode, TruncatedImagesAreRefusedNotFilledWithGrey) {
  testing::TempDir dir;
  for (const std::string extension : {".jpg", ".png", ".bmp"}) {
    const std::string whole = Encoded(extension, 64, 32);
    const std::string path = dir.path() + "/cut" + extension;
    testing::WriteText(path, whole);
    EXPECT_EQ(DecodeRgb(path).rows, 64) << extension;
    testing::WriteText(path, whole.substr(0, whole.size() * 6 / 10));
    EXPECT_THAT([&] { DecodeRgb(path); },
                ::testing::ThrowsMessage<std::runtime_error>(::testing::HasSubstr("(truncated)")))
        << extension;
    EXPECT_THAT([&] { DecodeLuma(path); }, ::testing::ThrowsMessage<std::runtime_error>(::testing::HasSubstr(path)))
        << extension;
  }
}

// Issue 18: one 20000 x 20000 JPEG slowed training 20x and took 2.6 GB. Its header is read first and the image
// refused before any pixel is decoded (within a 512 MB budget: decoding it needs 1.2 GB).
TEST(Decode, ImagesAboveThePixelLimitAreRefusedByTheirHeader) {
  testing::TempDir dir;
  std::string jpeg = Encoded(".jpg", 16, 8);
  const size_t sof = jpeg.find("\xFF\xC0");  // baseline frame header: length, precision, height, width
  ASSERT_NE(sof, std::string::npos);
  for (const size_t at : {sof + 5, sof + 7}) {
    jpeg[at] = static_cast<char>(20000 >> 8);
    jpeg[at + 1] = static_cast<char>(20000 & 0xFF);
  }
  const std::string path = dir.path() + "/huge.jpg";
  testing::WriteText(path, jpeg);
  const gcl::testing_support::Outcome o = gcl::testing_support::RunBounded(
      "decoding a 20000 x 20000 JPEG", {20, uint64_t{512} << 20}, [&] { DecodeRgb(path); });
  EXPECT_EQ(o.kind, gcl::testing_support::Outcome::Kind::kThrew) << o.message;
  EXPECT_THAT(o.message, ::testing::HasSubstr(path + ": JPEG of 20000 x 20000 = 400000000 pixels, above the limit of "
                                                     "16777216 (max_image_pixels)"));
}

TEST(Normalize, ImageNetAndStructureValues) {
  cv::Mat rgb(1, 3, CV_8UC3);
  rgb.at<cv::Vec3b>(0, 0) = cv::Vec3b(0, 0, 0);
  rgb.at<cv::Vec3b>(0, 1) = cv::Vec3b(255, 255, 255);
  rgb.at<cv::Vec3b>(0, 2) = cv::Vec3b(124, 116, 104);
  std::vector<float> out(9);
  NormalizeToChw(rgb, kImageNetNorm, out.data());
  const double mean[3] = {0.485, 0.456, 0.406};
  const double std[3] = {0.229, 0.224, 0.225};
  const int third[3] = {124, 116, 104};
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(out[c * 3 + 0], (0.0 - mean[c]) / std[c], 1e-6);
    EXPECT_NEAR(out[c * 3 + 1], (1.0 - mean[c]) / std[c], 1e-6);
    EXPECT_NEAR(out[c * 3 + 2], (third[c] / 255.0 - mean[c]) / std[c], 1e-6);
  }
  cv::Mat gray(1, 3, CV_8UC1);
  gray.at<uint8_t>(0, 0) = 0;
  gray.at<uint8_t>(0, 1) = 255;
  gray.at<uint8_t>(0, 2) = 51;
  std::vector<float> s(3);
  NormalizeToChw(gray, kStructureNorm, s.data());
  EXPECT_FLOAT_EQ(s[0], -1.0f);
  EXPECT_FLOAT_EQ(s[1], 1.0f);
  EXPECT_NEAR(s[2], (51 / 255.0 - 0.5) / 0.5, 1e-6);
}

TEST(Augment, OffByDefault) {
  TransformOptions t;
  EXPECT_FALSE(t.augment.any());
  SampleRng rng(1);
  const AugmentDraw d = DrawAugment(t, &rng);
  EXPECT_FALSE(d.flip);
  EXPECT_FALSE(d.erase);
  EXPECT_EQ(d.crop_x, 0);
  EXPECT_EQ(d.crop_y, 0);
}

TEST(Augment, ShapesAndGeometry) {
  TransformOptions t;
  t.height = 16;
  t.width = 8;
  t.augment = AugmentOptions::Traditional();
  ValidateTransformOptions(t);
  cv::Mat img(16, 8, CV_8UC1);
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 8; ++x) img.at<uint8_t>(y, x) = static_cast<uint8_t>(10 * x + y + 1);
  }
  int flips = 0;
  int erases = 0;
  SampleRng rng(5);
  for (int i = 0; i < 400; ++i) {
    const AugmentDraw d = DrawAugment(t, &rng);
    flips += d.flip;
    ASSERT_GE(d.crop_x, 0);
    ASSERT_LE(d.crop_x, 2 * t.augment.pad);
    ASSERT_LE(d.crop_y, 2 * t.augment.pad);
    const cv::Mat out = ApplyGeometry(img, d, t.augment.pad);
    ASSERT_EQ(out.rows, 16);
    ASSERT_EQ(out.cols, 8);
    // Output pixel (y, x) comes from padded (y + crop_y, x + crop_x) of the (flipped) image, zero outside.
    for (int y = 0; y < 16; ++y) {
      for (int x = 0; x < 8; ++x) {
        const int sy = y + d.crop_y - t.augment.pad;
        int sx = x + d.crop_x - t.augment.pad;
        int expected = 0;
        if (sy >= 0 && sy < 16 && sx >= 0 && sx < 8) {
          if (d.flip) sx = 7 - sx;
          expected = img.at<uint8_t>(sy, sx);
        }
        ASSERT_EQ(out.at<uint8_t>(y, x), expected);
      }
    }
    if (d.erase) {
      ++erases;
      const cv::Rect r = d.erase_rect;
      ASSERT_GE(r.x, 0);
      ASSERT_GE(r.y, 0);
      ASSERT_LE(r.x + r.width, 8);
      ASSERT_LE(r.y + r.height, 16);
      const double area = static_cast<double>(r.area()) / (16 * 8);
      ASSERT_GT(area, 0.0);
      ASSERT_LT(area, 0.6);  // 0.4 of the image, plus rounding on a 16 x 8 grid
      std::vector<float> chw(3 * 16 * 8, 1.0f);
      EraseChw(chw.data(), 3, 16, 8, r);
      int zeros = 0;
      for (float v : chw) zeros += v == 0.0f;
      ASSERT_EQ(zeros, 3 * r.area());
    }
  }
  EXPECT_GT(flips, 150);
  EXPECT_LT(flips, 250);
  EXPECT_GT(erases, 120);
  EXPECT_LT(erases, 250);
}

TEST(Augment, BadOptionsNameTheField) {
  TransformOptions t;
  t.augment.flip_probability = 1.5;
  EXPECT_THAT([&] { ValidateTransformOptions(t); },
              ::testing::ThrowsMessage<std::runtime_error>(::testing::HasSubstr("augment.flip_probability")));
  t = TransformOptions();
  t.height = 0;
  EXPECT_THROW(ValidateTransformOptions(t), std::runtime_error);
  t = TransformOptions();
  t.augment.pad = -1;
  EXPECT_THROW(ValidateTransformOptions(t), std::runtime_error);
}

TEST(BackgroundSwap, MaskCoversTheDilatedBodyOnly) {
  // A 128 x 64 render: white, with a grey body block in rows 40..79, columns 24..39.
  cv::Mat render(128, 64, CV_8UC1, cv::Scalar(255));
  render(cv::Rect(24, 40, 16, 40)).setTo(cv::Scalar(128));
  const cv::Mat mask = ForegroundMask(render, 128, 64);
  ASSERT_EQ(mask.type(), CV_32FC1);
  // Dilated by 2 pixels at 128 rows: rows 38..81, columns 22..41 are body.
  EXPECT_FLOAT_EQ(mask.at<float>(60, 30), 1.f);
  EXPECT_FLOAT_EQ(mask.at<float>(38, 22), 1.f);
  EXPECT_FLOAT_EQ(mask.at<float>(81, 41), 1.f);
  EXPECT_FLOAT_EQ(mask.at<float>(37, 30), 0.f);
  EXPECT_FLOAT_EQ(mask.at<float>(60, 42), 0.f);
  EXPECT_FLOAT_EQ(mask.at<float>(0, 0), 0.f);
  EXPECT_NEAR(cv::sum(mask)[0], 44.0 * 20.0, 1e-3);
  // Resized to the network's input: still in [0, 1], body where the block was.
  const cv::Mat small = ForegroundMask(render, 80, 40);
  ASSERT_EQ(small.rows, 80);
  ASSERT_EQ(small.cols, 40);
  double lo, hi;
  cv::minMaxLoc(small, &lo, &hi);
  EXPECT_GE(lo, 0.0);
  EXPECT_LE(hi, 1.0);
  EXPECT_FLOAT_EQ(small.at<float>(37, 19), 1.f);
  EXPECT_FLOAT_EQ(small.at<float>(5, 5), 0.f);
  EXPECT_THROW(ForegroundMask(cv::Mat(8, 8, CV_8UC3), 8, 8), std::invalid_argument);
}

TEST(BackgroundSwap, BlendsPersonOverTheOtherImageByTheMask) {
  const cv::Mat person(4, 2, CV_8UC3, cv::Scalar(200, 100, 0));
  const cv::Mat other(4, 2, CV_8UC3, cv::Scalar(0, 50, 250));
  cv::Mat mask(4, 2, CV_32FC1, cv::Scalar(0.f));
  mask.at<float>(1, 0) = 1.f;
  mask.at<float>(2, 1) = 0.25f;
  const cv::Mat out = SwapBackground(person, mask, other);
  EXPECT_EQ(out.at<cv::Vec3b>(1, 0), cv::Vec3b(200, 100, 0));  // person
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 50, 250));   // background from the other image
  // 0.25 * person + 0.75 * other, rounded: 50, 62.5 -> 63, 187.5 -> 188.
  EXPECT_EQ(out.at<cv::Vec3b>(2, 1), cv::Vec3b(50, 63, 188));
  EXPECT_THROW(SwapBackground(person, mask, cv::Mat(4, 3, CV_8UC3)), std::invalid_argument);
}

}  // namespace
}  // namespace gcl::data
