#include "data/pipeline/batch_loader.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include <ATen/ATen.h>

#include "data/pipeline/sample_rng.h"

namespace gcl::data {
namespace {

// Keeps per-sample streams apart from the samplers' streams.
constexpr uint64_t kSampleStream = 0x53414D504C450002ULL;

}  // namespace

BatchLoader::BatchLoader(std::vector<ImageRecord> records, PipelineOptions options)
    : records_(std::move(records)), options_(std::move(options)) {
  ValidateTransformOptions(options_.transform);
  if (options_.threads < 1) {
    throw std::runtime_error("PipelineOptions.threads must be >= 1, got " + std::to_string(options_.threads));
  }
  if (options_.load_structures) {
    if (options_.new_angles.empty()) throw std::runtime_error("PipelineOptions.new_angles is empty");
    for (int angle : options_.new_angles) {
      if (angle == 0 || std::find(kRenderAngles.begin(), kRenderAngles.end(), angle) == kRenderAngles.end()) {
        throw std::runtime_error("PipelineOptions.new_angles holds " + std::to_string(angle) +
                                 "; new views are 45, 90, ..., 315");
      }
    }
    for (const ImageRecord& r : records_) {
      if (!r.has_structures()) {
        throw std::runtime_error("PipelineOptions.load_structures is set but image " + r.path +
                                 " has no mesh renders (load the dataset with DatasetOptions.mesh_dir)");
      }
    }
  }
  pool_ = std::make_unique<ThreadPool>(options_.threads);
}

Batch BatchLoader::Load(const std::vector<Sample>& samples, uint64_t epoch, uint64_t batch_number) {
  const int64_t n = static_cast<int64_t>(samples.size());
  const int h = options_.transform.height;
  const int w = options_.transform.width;
  for (const Sample& s : samples) {
    if (s.index < 0 || s.index >= static_cast<int64_t>(records_.size())) {
      throw std::out_of_range("BatchLoader: sample index " + std::to_string(s.index) + " outside the " +
                              std::to_string(records_.size()) + " records");
    }
  }
  const bool structures = options_.load_structures;
  Batch batch;
  batch.image = at::empty({n, 3, h, w}, at::kFloat);
  if (structures) {
    batch.s_ori = at::empty({n, 1, h, w}, at::kFloat);
    batch.s_new = at::empty({n, 1, h, w}, at::kFloat);
  }
  batch.angle = at::zeros({n}, at::kLong);
  batch.index = at::empty({n}, at::kLong);
  batch.label = at::empty({n}, at::kLong);
  float* image = batch.image.data_ptr<float>();
  float* s_ori = structures ? batch.s_ori.data_ptr<float>() : nullptr;
  float* s_new = structures ? batch.s_new.data_ptr<float>() : nullptr;
  int64_t* angle = batch.angle.data_ptr<int64_t>();
  int64_t* index = batch.index.data_ptr<int64_t>();
  int64_t* label = batch.label.data_ptr<int64_t>();
  const size_t plane = static_cast<size_t>(h) * w;
  const TransformOptions& t = options_.transform;
  pool_->ParallelFor(samples.size(), [&](size_t i) {
    const Sample& s = samples[i];
    const ImageRecord& r = records_[s.index];
    SampleRng rng(MixSeed({kSampleStream, options_.seed, epoch, batch_number, static_cast<uint64_t>(i)}));
    // The angle is drawn first so that turning augmentation on does not change which views are chosen.
    int new_angle = 0;
    if (structures) new_angle = options_.new_angles[rng.Below(options_.new_angles.size())];
    const AugmentDraw draw = DrawAugment(t, &rng);
    const auto prepare = [&](const cv::Mat& decoded) {
      cv::Mat m = Resize(decoded, h, w, t.resize);
      if (draw.flip || t.augment.pad > 0) m = ApplyGeometry(m, draw, t.augment.pad);
      return m;
    };
    float* img = image + i * 3 * plane;
    NormalizeToChw(prepare(DecodeRgb(r.path, t.max_image_pixels)), kImageNetNorm, img);
    if (draw.erase) EraseChw(img, 3, h, w, draw.erase_rect);
    if (structures) {
      NormalizeToChw(prepare(DecodeLuma(r.StructurePath(0), t.max_image_pixels)), kStructureNorm, s_ori + i * plane);
      NormalizeToChw(prepare(DecodeLuma(r.StructurePath(new_angle), t.max_image_pixels)), kStructureNorm,
                     s_new + i * plane);
    }
    angle[i] = new_angle;
    index[i] = s.index;
    label[i] = s.label;
  });
  return batch;
}

}  // namespace gcl::data
