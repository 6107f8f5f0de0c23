// Batch samplers over (index, label) lists: shuffled batches with drop_last for training (reference §6:
// batch 16, shuffle, drop_last over the clustered images) and sequential batches for feature extraction.
//
//   std::vector<gcl::data::Sample> clustered = ...;  // (train row, pseudo label) of non-outliers
//   for (const auto& batch : gcl::data::ShuffledBatches(clustered, 16, seed, epoch)) { ... }
//   for (const auto& batch : gcl::data::SequentialBatches(gcl::data::SamplesOf(dataset.gallery), 128)) { ... }
//
// The same (seed, epoch) gives the same batches on every platform (sample_rng.h).
#ifndef GCL_DATA_PIPELINE_SAMPLERS_H_
#define GCL_DATA_PIPELINE_SAMPLERS_H_

#include <cstdint>
#include <vector>

#include "data/datasets/reid_dataset.h"

namespace gcl::data {

struct Sample {
  int64_t index = 0;  // row of the split's records (for train: the memory-bank row)
  int64_t label = 0;  // training label (relabelled pid or pseudo label); kNoLabel where there is none
  bool operator==(const Sample& o) const { return index == o.index && label == o.label; }
};

// One sample per record, in record order, with the record's label.
std::vector<Sample> SamplesOf(const ReidSplit& split);

// A seeded Fisher-Yates shuffle of `samples`, cut into batches of `batch_size`; the incomplete tail is dropped
// (drop_last), so every batch is full. Throws std::invalid_argument if batch_size < 1.
std::vector<std::vector<Sample>> ShuffledBatches(std::vector<Sample> samples, int batch_size, uint64_t seed,
                                                 uint64_t epoch);

// `samples` in order, cut into batches of `batch_size`; the last batch may be smaller (nothing is dropped).
std::vector<std::vector<Sample>> SequentialBatches(const std::vector<Sample>& samples, int batch_size);

}  // namespace gcl::data

#endif  // GCL_DATA_PIPELINE_SAMPLERS_H_
