// What an image file is before it is decoded: format, size, and whether the file is complete. The dataset
// loaders' checks (data/datasets, ImageCheck::kHeader) and every decoder of the pipeline (DecodeRgb, DecodeLuma)
// go through it, so that
//   - an image larger than a pixel limit is refused by its header, before a decoder allocates its pixels
//     (one 20000 x 20000 JPEG slowed training 20x and took 2.6 GB);
//   - a truncated file is refused: libjpeg decodes a JPEG cut short with a grey fill and only a warning, so a
//     damaged image would be trained on. JPEG: the markers are walked to the end-of-image marker after the last
//     scan; PNG: the chunks to IEND; BMP: the pixel array must fit in the file.
// Only the file's structure is read (no pixel is decoded): one pass over the bytes.
//
//   gcl::StatusOr<gcl::data::ImageHeader> h = gcl::data::InspectImage(bytes);
//   if (!h.ok()) ...                          // "JPEG ends before its end-of-image marker (truncated)"
//   std::string problem = gcl::data::CheckPixelLimit(*h, gcl::data::kDefaultMaxImagePixels);
#ifndef GCL_DATA_PIPELINE_IMAGE_HEADER_H_
#define GCL_DATA_PIPELINE_IMAGE_HEADER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status_or.h"

namespace gcl::data {

// Default limit on width x height: 4096 x 4096. Person crops are a few hundred pixels a side (Market-1501:
// 128 x 64; the pipeline resizes to 256 x 128), so anything near this is a mistake in the dataset, not a crop.
inline constexpr int64_t kDefaultMaxImagePixels = int64_t{1} << 24;

enum class ImageFormat { kJpeg, kPng, kBmp };

const char* ImageFormatName(ImageFormat format);

struct ImageHeader {
  ImageFormat format = ImageFormat::kJpeg;
  int64_t width = 0;
  int64_t height = 0;
};

// The header of a JPEG, PNG or BMP file held in `bytes`, after checking that the file is complete. The error
// says what is wrong ("not a JPEG, PNG or BMP file", "JPEG ends before its end-of-image marker (truncated)",
// "PNG chunk IDAT at byte 1234 runs past the end of the file (truncated)", "width 0").
StatusOr<ImageHeader> InspectImage(std::string_view bytes);

// "" when width x height <= max_pixels, otherwise the problem ("20000 x 20000 = 400000000 pixels, above the
// limit of 16777216 (max_image_pixels)").
std::string CheckPixelLimit(const ImageHeader& header, int64_t max_pixels);

// The largest image file read for a pixel limit: no JPEG, PNG or BMP of max_pixels pixels needs more than 4 bytes
// per pixel plus metadata, so a larger file is refused before it is read.
uint64_t MaxImageFileBytes(int64_t max_pixels);

// Reads `path` (size-checked against MaxImageFileBytes), checks it with InspectImage and CheckPixelLimit, and
// returns the bytes. Throws std::runtime_error naming the file and the problem.
std::string ReadCheckedImage(const std::string& path, int64_t max_pixels, ImageHeader* header = nullptr);

}  // namespace gcl::data

#endif  // GCL_DATA_PIPELINE_IMAGE_HEADER_H_
