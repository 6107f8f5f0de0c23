// Turns (index, label) batches into GCL's training tensors: the photo, its original-view render s_ori, a render at
// a random new angle s_new (reference §3 and §4), the angle, the record index and the label.
//
//   gcl::data::PipelineOptions options;                // 256 x 128, angles {45..315}, no augmentation, seed 1
//   options.threads = 2;
//   gcl::data::BatchLoader loader(dataset.train.records, options);
//   for (const auto& b : gcl::data::ShuffledBatches(samples, 16, options.seed, epoch)) {
//     gcl::data::Batch batch = loader.Load(b, epoch, batch_number++);
//   }
//
// Every random choice of a sample (its new angle, its augmentation) comes from a stream keyed by
// (seed, epoch, batch number, position in the batch), so the same seed gives the same batches whatever the
// number of threads. Load throws std::runtime_error naming the file when an image or render cannot be decoded,
// and std::out_of_range for an index outside the records. For feature extraction set load_structures = false.
#ifndef GCL_DATA_PIPELINE_BATCH_LOADER_H_
#define GCL_DATA_PIPELINE_BATCH_LOADER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include "data/datasets/reid_dataset.h"
#include "data/pipeline/image_transforms.h"
#include "data/pipeline/samplers.h"
#include "data/pipeline/thread_pool.h"

namespace gcl::data {

// The new-view angles s_new is drawn from, uniformly. Default: the 7 turned views 45..315 that the paper and the
// render folders have. The reference draws randint(1, 7) * 45, i.e. 45..270 and never 315 (§3, §13.1):
// kReferenceNewAngles reproduces that.
inline const std::vector<int> kAllNewAngles = {45, 90, 135, 180, 225, 270, 315};
inline const std::vector<int> kReferenceNewAngles = {45, 90, 135, 180, 225, 270};

struct PipelineOptions {
  TransformOptions transform;
  bool load_structures = true;  // read s_ori and s_new; the records need renders (DatasetOptions.mesh_dir)
  std::vector<int> new_angles = kAllNewAngles;
  uint64_t seed = 1;
  int threads = 1;  // decoding threads, counting the caller
};

struct Batch {
  at::Tensor image;  // B x 3 x H x W float32, ImageNet-normalised
  at::Tensor s_ori;  // B x 1 x H x W float32 in [-1, 1]; undefined without structures
  at::Tensor s_new;  // B x 1 x H x W float32 in [-1, 1]; undefined without structures
  at::Tensor angle;  // B int64, the angle of s_new (0 without structures)
  at::Tensor index;  // B int64, record index (memory row for train)
  at::Tensor label;  // B int64, the sample's label
};

class BatchLoader {
 public:
  // Throws std::runtime_error naming the option for invalid options (bad angles, size, probabilities).
  BatchLoader(std::vector<ImageRecord> records, PipelineOptions options);

  Batch Load(const std::vector<Sample>& samples, uint64_t epoch, uint64_t batch_number);

  const PipelineOptions& options() const { return options_; }
  size_t size() const { return records_.size(); }

 private:
  std::vector<ImageRecord> records_;
  PipelineOptions options_;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace gcl::data

#endif  // GCL_DATA_PIPELINE_BATCH_LOADER_H_
