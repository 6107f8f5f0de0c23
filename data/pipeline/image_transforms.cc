#include "data/pipeline/image_transforms.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace gcl::data {
namespace {

// Pillow's resampling (libImaging/Resample.c), re-derived: bicubic kernel with a = -0.5 and support 2, widened by
// the scale when shrinking; coefficients normalised to sum 1, then rounded to 22-bit fixed point; every pass
// rounds and clips to 8 bits.
constexpr int kPrecisionBits = 32 - 8 - 2;

// PIL's Image.open does not apply EXIF orientation; OpenCV's decoders do unless told not to.
constexpr int kDecodeFlags = cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION;

double PilBicubic(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

struct Coefficients {
  int ksize = 0;
  std::vector<int> first;  // first input pixel per output pixel
  std::vector<int> count;  // number of input pixels per output pixel
  std::vector<int32_t> k;  // out_size x ksize fixed-point weights
};

Coefficients PrecomputeCoefficients(int in_size, int out_size) {
  const double scale = static_cast<double>(in_size) / out_size;
  const double filterscale = std::max(scale, 1.0);
  const double support = 2.0 * filterscale;
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(out_size);
  c.count.resize(out_size);
  c.k.assign(static_cast<size_t>(out_size) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double total = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[x] = PilBicubic((x + xmin - center + 0.5) * ss);
      total += w[x];
    }
    for (int x = 0; x < xmax; ++x) {
      const double v = total != 0.0 ? w[x] / total : w[x];
      c.k[static_cast<size_t>(xx) * c.ksize + x] =
          static_cast<int32_t>(v < 0 ? -0.5 + v * (1 << kPrecisionBits) : 0.5 + v * (1 << kPrecisionBits));
    }
    c.first[xx] = xmin;
    c.count[xx] = xmax;
  }
  return c;
}

uint8_t Clip8(int32_t v) {
  if (v >= (1 << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return static_cast<uint8_t>(v >> kPrecisionBits);
}

cv::Mat ResampleHorizontal(const cv::Mat& in, int out_width) {
  const int channels = in.channels();
  const Coefficients c = PrecomputeCoefficients(in.cols, out_width);
  cv::Mat out(in.rows, out_width, in.type());
  for (int y = 0; y < in.rows; ++y) {
    const uint8_t* src = in.ptr<uint8_t>(y);
    uint8_t* dst = out.ptr<uint8_t>(y);
    for (int xx = 0; xx < out_width; ++xx) {
      const int32_t* k = &c.k[static_cast<size_t>(xx) * c.ksize];
      const uint8_t* p = src + c.first[xx] * channels;
      // All channels in one sweep over the taps (the same sums as one channel at a time, in the same order).
      int32_t sum[3] = {1 << (kPrecisionBits - 1), 1 << (kPrecisionBits - 1), 1 << (kPrecisionBits - 1)};
      if (channels == 3) {
        for (int x = 0; x < c.count[xx]; ++x, p += 3) {
          sum[0] += p[0] * k[x];
          sum[1] += p[1] * k[x];
          sum[2] += p[2] * k[x];
        }
      } else {
        for (int x = 0; x < c.count[xx]; ++x) sum[0] += p[x] * k[x];
      }
      for (int ch = 0; ch < channels; ++ch) dst[xx * channels + ch] = Clip8(sum[ch]);
    }
  }
  return out;
}

cv::Mat ResampleVertical(const cv::Mat& in, int out_height) {
  const int row_values = in.cols * in.channels();
  const Coefficients c = PrecomputeCoefficients(in.rows, out_height);
  cv::Mat out(out_height, in.cols, in.type());
  std::vector<int32_t> sums(row_values);
  for (int yy = 0; yy < out_height; ++yy) {
    const int32_t* k = &c.k[static_cast<size_t>(yy) * c.ksize];
    std::fill(sums.begin(), sums.end(), 1 << (kPrecisionBits - 1));
    for (int y = 0; y < c.count[yy]; ++y) {
      const uint8_t* src = in.ptr<uint8_t>(c.first[yy] + y);
      const int32_t weight = k[y];
      for (int v = 0; v < row_values; ++v) sums[v] += src[v] * weight;
    }
    uint8_t* dst = out.ptr<uint8_t>(yy);
    for (int v = 0; v < row_values; ++v) dst[v] = Clip8(sums[v]);
  }
  return out;
}

// The file checked by its header (complete, at most max_pixels) and decoded; `what` names it in errors.
cv::Mat DecodeChecked(const std::string& path, int64_t max_pixels, const std::string& what) {
  std::string bytes;
  try {
    bytes = ReadCheckedImage(path, max_pixels);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error("cannot decode " + what + " " + e.what());
  }
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    throw std::runtime_error("cannot decode " + what + " " + path + ": larger than 2 GiB");
  }
  const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, bytes.data());
  cv::Mat bgr = cv::imdecode(raw, kDecodeFlags);
  if (bgr.empty()) throw std::runtime_error("cannot decode " + what + " " + path + ": corrupt image data");
  return bgr;
}

}  // namespace

AugmentOptions AugmentOptions::Traditional() {
  AugmentOptions a;
  a.flip_probability = 0.5;
  a.pad = 10;
  a.erasing_probability = 0.5;
  return a;
}

void ValidateTransformOptions(const TransformOptions& o) {
  const auto fail = [](const std::string& what) { throw std::runtime_error("TransformOptions." + what); };
  if (o.height < 1 || o.width < 1) fail("height/width must be >= 1");
  if (o.max_image_pixels < 1) fail("max_image_pixels must be >= 1");
  const AugmentOptions& a = o.augment;
  if (!(a.flip_probability >= 0 && a.flip_probability <= 1)) fail("augment.flip_probability must lie in [0, 1]");
  if (a.pad < 0) fail("augment.pad must be >= 0");
  if (!(a.erasing_probability >= 0 && a.erasing_probability <= 1)) {
    fail("augment.erasing_probability must lie in [0, 1]");
  }
  if (!(a.erasing_area_min > 0 && a.erasing_area_min <= a.erasing_area_max && a.erasing_area_max <= 1)) {
    fail("augment.erasing_area_min/max must satisfy 0 < min <= max <= 1");
  }
  if (!(a.erasing_aspect_min > 0 && a.erasing_aspect_min <= 1)) fail("augment.erasing_aspect_min must lie in (0, 1]");
}

AugmentDraw DrawAugment(const TransformOptions& options, SampleRng* rng) {
  const AugmentOptions& a = options.augment;
  AugmentDraw d;
  if (a.flip_probability > 0) d.flip = rng->Bernoulli(a.flip_probability);
  if (a.pad > 0) {
    d.crop_x = static_cast<int>(rng->Below(2 * a.pad + 1));
    d.crop_y = static_cast<int>(rng->Below(2 * a.pad + 1));
  }
  if (a.erasing_probability > 0 && rng->Bernoulli(a.erasing_probability)) {
    // Zhong et al.: up to 100 tries for a rectangle of the drawn area and aspect that fits.
    const double area = static_cast<double>(options.height) * options.width;
    for (int attempt = 0; attempt < 100; ++attempt) {
      const double target = rng->Uniform(a.erasing_area_min, a.erasing_area_max) * area;
      const double aspect = rng->Uniform(a.erasing_aspect_min, 1.0 / a.erasing_aspect_min);
      const int h = static_cast<int>(std::lround(std::sqrt(target * aspect)));
      const int w = static_cast<int>(std::lround(std::sqrt(target / aspect)));
      if (h < 1 || w < 1 || h >= options.height || w >= options.width) continue;
      const int y = static_cast<int>(rng->Below(options.height - h + 1));
      const int x = static_cast<int>(rng->Below(options.width - w + 1));
      d.erase = true;
      d.erase_rect = cv::Rect(x, y, w, h);
      break;
    }
  }
  return d;
}

cv::Mat DecodeBgr(const std::string& path, int64_t max_pixels) { return DecodeChecked(path, max_pixels, "image"); }

cv::Mat DecodeRgb(const std::string& path, int64_t max_pixels) {
  const cv::Mat bgr = DecodeChecked(path, max_pixels, "image");
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

cv::Mat DecodeLuma(const std::string& path, int64_t max_pixels) {
  const cv::Mat bgr = DecodeChecked(path, max_pixels, "structure image");
  // Decoding to colour first and converting like PIL's convert('L') keeps the reference's values; libjpeg's own
  // grayscale output (IMREAD_GRAYSCALE) rounds differently.
  cv::Mat luma(bgr.rows, bgr.cols, CV_8UC1);
  for (int y = 0; y < bgr.rows; ++y) {
    const uint8_t* src = bgr.ptr<uint8_t>(y);
    uint8_t* dst = luma.ptr<uint8_t>(y);
    for (int x = 0; x < bgr.cols; ++x) {
      const uint32_t b = src[3 * x];
      const uint32_t g = src[3 * x + 1];
      const uint32_t r = src[3 * x + 2];
      dst[x] = static_cast<uint8_t>((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
    }
  }
  return luma;
}

cv::Mat Resize(const cv::Mat& image, int height, int width, ResizeKernel kernel) {
  if (image.depth() != CV_8U || (image.channels() != 1 && image.channels() != 3)) {
    throw std::invalid_argument("Resize: expects an 8-bit image with 1 or 3 channels");
  }
  if (image.rows == height && image.cols == width) return image.clone();
  if (kernel == ResizeKernel::kOpenCvCubic) {
    cv::Mat out;
    cv::resize(image, out, cv::Size(width, height), 0, 0, cv::INTER_CUBIC);
    return out;
  }
  cv::Mat out = image;
  if (image.cols != width) out = ResampleHorizontal(out, width);
  if (image.rows != height) out = ResampleVertical(out, height);
  return out;
}

cv::Mat ApplyGeometry(const cv::Mat& image, const AugmentDraw& draw, int pad) {
  cv::Mat out;
  if (draw.flip) {
    cv::flip(image, out, 1);  // into a new buffer: the caller's image stays as it is
  } else {
    out = image;
  }
  if (pad > 0) {
    cv::Mat padded;
    cv::copyMakeBorder(out, padded, pad, pad, pad, pad, cv::BORDER_CONSTANT, cv::Scalar::all(0));
    out = padded(cv::Rect(draw.crop_x, draw.crop_y, image.cols, image.rows)).clone();
  }
  return out;
}

void NormalizeToChw(const cv::Mat& image, const Normalization& norm, float* out) {
  const int channels = image.channels();
  const size_t plane = static_cast<size_t>(image.rows) * image.cols;
  // torchvision: ToTensor divides by 255 in float, Normalize subtracts the mean and divides by the std. A table
  // per channel holds exactly those float results for the 256 byte values.
  float table[3][256];
  for (int c = 0; c < channels; ++c) {
    for (int v = 0; v < 256; ++v) table[c][v] = (static_cast<float>(v) / 255.0f - norm.mean[c]) / norm.std[c];
  }
  for (int y = 0; y < image.rows; ++y) {
    const uint8_t* src = image.ptr<uint8_t>(y);
    for (int c = 0; c < channels; ++c) {
      float* dst = out + c * plane + static_cast<size_t>(y) * image.cols;
      const float* t = table[c];
      for (int x = 0; x < image.cols; ++x) dst[x] = t[src[x * channels + c]];
    }
  }
}

void EraseChw(float* chw, int channels, int height, int width, const cv::Rect& rect) {
  const cv::Rect r = rect & cv::Rect(0, 0, width, height);
  for (int c = 0; c < channels; ++c) {
    for (int y = r.y; y < r.y + r.height; ++y) {
      std::fill_n(chw + (static_cast<size_t>(c) * height + y) * width + r.x, r.width, 0.0f);
    }
  }
}

}  // namespace gcl::data

namespace gcl::data {

cv::Mat ForegroundMask(const cv::Mat& structure_luma, int height, int width) {
  if (structure_luma.empty() || structure_luma.type() != CV_8UC1 || height <= 0 || width <= 0) {
    throw std::invalid_argument("ForegroundMask: expects a non-empty 8-bit 1-channel render and a positive size");
  }
  // The renders' background is white (255); JPEG ringing keeps it above 250.
  cv::Mat body = structure_luma < 250;
  const int radius = std::max(1, static_cast<int>(std::lround(2.0 * structure_luma.rows / 128.0)));
  cv::dilate(body, body, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(2 * radius + 1, 2 * radius + 1)));
  cv::Mat mask;
  body.convertTo(mask, CV_32F, 1.0 / 255.0);
  if (mask.rows != height || mask.cols != width) cv::resize(mask, mask, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
  return mask;
}

cv::Mat SwapBackground(const cv::Mat& person, const cv::Mat& mask, const cv::Mat& background) {
  if (person.type() != CV_8UC3 || background.type() != CV_8UC3 || mask.type() != CV_32FC1 ||
      person.size() != mask.size() || background.size() != mask.size()) {
    throw std::invalid_argument("SwapBackground: expects two 8UC3 images and a CV_32FC1 mask of one size");
  }
  cv::Mat out(person.size(), CV_8UC3);
  for (int y = 0; y < person.rows; ++y) {
    const uint8_t* p = person.ptr<uint8_t>(y);
    const uint8_t* b = background.ptr<uint8_t>(y);
    const float* m = mask.ptr<float>(y);
    uint8_t* o = out.ptr<uint8_t>(y);
    for (int x = 0; x < person.cols; ++x) {
      for (int c = 0; c < 3; ++c) {
        const float v = m[x] * p[3 * x + c] + (1.f - m[x]) * b[3 * x + c];
        o[3 * x + c] = static_cast<uint8_t>(std::lround(std::clamp(v, 0.f, 255.f)));
      }
    }
  }
  return out;
}

}  // namespace gcl::data
