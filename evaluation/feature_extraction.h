// The pieces of `extract` (//tools/extract:extract): list a folder's images, run E_id over them in batches, and
// write the features as a NumPy `.npy` (N x D float32, row i = image i) plus a CSV `path,pid,camid`.
//
//   gcl::models::IdentityEncoder net = gcl::models::LoadExportedIdentityEncoder("eid.safetensors");
//   std::vector<std::string> images = gcl::evaluation::ListImages("market/query");
//   torch::Tensor f = gcl::evaluation::ExtractFeatures(net, images, {}, torch::kCPU);
//   gcl::evaluation::WriteNpy("query.npy", f);
//   gcl::evaluation::WriteLabelsCsv("query.csv", images);
#ifndef GCL_EVALUATION_FEATURE_EXTRACTION_H_
#define GCL_EVALUATION_FEATURE_EXTRACTION_H_

#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "data/pipeline/image_header.h"
#include "data/pipeline/image_transforms.h"
#include "models/identity_encoder.h"

namespace gcl::evaluation {

// Image files (.jpg, .jpeg, .png, .bmp, any case) under `dir`, recursively, sorted by path. Symbolic links to
// folders are followed, but each folder is entered once (a `self -> .` link or two links to one folder list its
// images once). Throws std::runtime_error naming the folder when it does not exist or holds no image.
std::vector<std::string> ListImages(const std::string& dir);

struct ImageLabel {
  int pid = -1;
  int camid = -1;  // 0-based, as the reference's Market/Duke loaders make it
};
// pid and camid from a Market-1501 / DukeMTMC-style basename (`0002_c3s1_000451_03.jpg` -> 2, 2); -1, -1 when
// the name does not parse.
ImageLabel LabelFromPath(const std::string& path);

// Input sizes E_id accepts: ResNet's stride needs at least 32 x 16 pixels; the upper bound keeps a typo
// (--image_height=25600) from allocating a batch of gigabytes.
inline constexpr int kMinImageHeight = 32;
inline constexpr int kMinImageWidth = 16;
inline constexpr int kMaxImageSide = 4096;

struct ExtractOptions {
  int height = 256;  // reference input size (§14): 256 x 128, bicubic, ImageNet mean/std, no flip
  int width = 128;
  data::ResizeKernel resize = data::ResizeKernel::kPilBicubic;
  int batch_size = 64;
  // Images above this many pixels (by their header) are refused before decoding (data/pipeline/image_header.h).
  int64_t max_image_pixels = data::kDefaultMaxImagePixels;
};

// Throws std::invalid_argument naming the field when an option is out of range (height 32..4096, width 16..4096,
// batch_size >= 1, max_image_pixels >= 1).
void ValidateExtractOptions(const ExtractOptions& options);

// Preprocessed images, B x 3 x H x W float32 on the CPU (decode RGB, resize, ImageNet normalisation).
torch::Tensor LoadBatch(const std::vector<std::string>& paths, const ExtractOptions& options);

// L2-normalised test features of `net` (eval mode, no grad), N x embedding_dim float32 on the CPU. `progress`,
// when set, is called after each batch with the number of images done. Throws std::runtime_error naming the
// image when a feature is not finite (a model with NaN or Inf weights), so no NaN ever reaches a feature file.
torch::Tensor ExtractFeatures(models::IdentityEncoder& net, const std::vector<std::string>& paths,
                              const ExtractOptions& options, const c10::Device& device,
                              const std::function<void(size_t)>& progress = nullptr);

// Writes a 2-D float32 tensor as a little-endian NumPy .npy (format 1.0, C order). Throws std::runtime_error
// naming the file on failure.
void WriteNpy(const std::string& path, const torch::Tensor& matrix);

// Writes `path,pid,camid` with a header line; paths with commas or quotes are quoted (RFC 4180).
void WriteLabelsCsv(const std::string& path, const std::vector<std::string>& images);

}  // namespace gcl::evaluation

#endif  // GCL_EVALUATION_FEATURE_EXTRACTION_H_
