// Per-image steps of the GCL input pipeline (reference §3): decode, bicubic resize to H x W, optional
// traditional augmentation, normalisation into a float C x H x W buffer. OpenCV only; batch_loader.h assembles
// tensors from these.
//
//   gcl::data::TransformOptions t;                      // 256 x 128, PIL-exact bicubic, no augmentation
//   cv::Mat rgb = gcl::data::DecodeRgb(path);           // 8UC3, RGB order
//   cv::Mat resized = gcl::data::Resize(rgb, t.height, t.width, t.resize);
//   std::vector<float> chw(3 * t.height * t.width);
//   gcl::data::NormalizeToChw(resized, gcl::data::kImageNetNorm, chw.data());
//
// Structure images (the mesh renders) go through DecodeLuma (PIL's convert('L')) and kStructureNorm.
#ifndef GCL_DATA_PIPELINE_IMAGE_TRANSFORMS_H_
#define GCL_DATA_PIPELINE_IMAGE_TRANSFORMS_H_

#include <array>
#include <cstdint>
#include <string>

#include <opencv2/core.hpp>

#include "data/pipeline/image_header.h"
#include "data/pipeline/sample_rng.h"

namespace gcl::data {

struct Normalization {
  std::array<float, 3> mean;
  std::array<float, 3> std;
};
// torchvision Normalize after ToTensor (x / 255): ImageNet statistics for photos, 0.5 / 0.5 for the 1-channel
// structure images, giving [-1, 1] (reference §3).
inline constexpr Normalization kImageNetNorm = {{0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
inline constexpr Normalization kStructureNorm = {{0.5f, 0.5f, 0.5f}, {0.5f, 0.5f, 0.5f}};

enum class ResizeKernel {
  // PIL's Image.resize(BICUBIC) bit for bit (a = -0.5, antialiased when shrinking, 8-bit fixed point, horizontal
  // pass first), which is what the reference's torchvision Resize on PIL images does. Default.
  kPilBicubic,
  // cv::resize INTER_CUBIC (a = -0.75, no antialiasing): faster, slightly different pixels. A named deviation.
  kOpenCvCubic,
};

// Traditional ReID augmentation. All off by default: GCL uses none in stages 2 and 3 (reference §3).
struct AugmentOptions {
  double flip_probability = 0.0;  // horizontal flip of the image and its structure images together
  int pad = 0;                    // zero padding on every side, then a random H x W crop (same for structures)
  double erasing_probability = 0.0;  // random erasing (Zhong et al., AAAI 2020) on the photo only
  double erasing_area_min = 0.02;    // erased area as a fraction of H x W
  double erasing_area_max = 0.4;
  double erasing_aspect_min = 0.3;  // height/width ratio, uniform in [min, 1/min] as in the paper

  // The usual recipe of torchreid / fast-reid baselines: flip 0.5, pad 10 + crop, erasing 0.5.
  static AugmentOptions Traditional();
  bool any() const { return flip_probability > 0.0 || pad > 0 || erasing_probability > 0.0; }
};

struct TransformOptions {
  int height = 256;
  int width = 128;
  ResizeKernel resize = ResizeKernel::kPilBicubic;
  AugmentOptions augment;
  // Images (and structure renders) with more pixels than this are refused by their header before decoding.
  int64_t max_image_pixels = kDefaultMaxImagePixels;
};

// Throws std::runtime_error naming the option when a field is out of range.
void ValidateTransformOptions(const TransformOptions& options);

// The random choices of one sample's augmentation, drawn once and applied to the photo and its structures.
struct AugmentDraw {
  bool flip = false;
  int crop_x = 0;  // top-left of the crop inside the padded image
  int crop_y = 0;
  bool erase = false;
  cv::Rect erase_rect;  // in H x W output coordinates
};
AugmentDraw DrawAugment(const TransformOptions& options, SampleRng* rng);

// Decoders. Each reads the file once, checks it by its header and structure (data/pipeline/image_header.h: a JPEG,
// PNG or BMP that is complete and has at most `max_pixels` pixels) and decodes it without EXIF rotation (as PIL).
// They throw std::runtime_error naming the file and the problem: missing, truncated, too large, undecodable.
cv::Mat DecodeBgr(const std::string& path, int64_t max_pixels = kDefaultMaxImagePixels);  // 8UC3, OpenCV's BGR
cv::Mat DecodeRgb(const std::string& path, int64_t max_pixels = kDefaultMaxImagePixels);  // 8UC3 in RGB order
// 8UC1, PIL convert('L'): (19595 R + 38470 G + 7471 B + 2^15) >> 16
cv::Mat DecodeLuma(const std::string& path, int64_t max_pixels = kDefaultMaxImagePixels);

// Resizes an 8-bit 1- or 3-channel image to height x width.
cv::Mat Resize(const cv::Mat& image, int height, int width, ResizeKernel kernel);

// Flip, then pad + crop, as drawn; returns an image of the same size.
cv::Mat ApplyGeometry(const cv::Mat& image, const AugmentDraw& draw, int pad);

// Writes (x / 255 - mean[c]) / std[c] in C x H x W order into `out` (C * H * W floats).
void NormalizeToChw(const cv::Mat& image, const Normalization& norm, float* out);

// Structure-guided background swap (a named deviation from GCL, used in stage 1 where it is switched on,
// docs/training.md): the person stays, the background becomes another image's. The structure render of a crop
// (GCL's mesh render: grey body on white, same framing as the crop) marks where the body is; the mask is the
// render's non-white pixels, dilated by about 2/128 of the render's height (hair, bags and loose clothes lie
// outside the bare-body mesh), resized bilinearly to height x width, as a CV_32FC1 in [0, 1].
cv::Mat ForegroundMask(const cv::Mat& structure_luma, int height, int width);

// mask * person + (1 - mask) * background, per pixel, rounded to 8 bits. `person` and `background` are 8UC3 of
// the mask's size. Throws std::invalid_argument when the sizes or types differ.
cv::Mat SwapBackground(const cv::Mat& person, const cv::Mat& mask, const cv::Mat& background);

// Sets the erased rectangle of a normalised C x H x W buffer to 0, i.e. to the mean colour.
void EraseChw(float* chw, int channels, int height, int width, const cv::Rect& rect);

}  // namespace gcl::data

#endif  // GCL_DATA_PIPELINE_IMAGE_TRANSFORMS_H_
