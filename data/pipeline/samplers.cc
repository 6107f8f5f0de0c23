#include "data/pipeline/samplers.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "data/pipeline/sample_rng.h"

namespace gcl::data {
namespace {

void CheckBatchSize(int batch_size) {
  if (batch_size < 1) throw std::invalid_argument("batch_size must be >= 1, got " + std::to_string(batch_size));
}

// A fixed key so sampler streams never coincide with the per-sample streams of the batch loader.
constexpr uint64_t kSamplerStream = 0x5A4D504C45520001ULL;

}  // namespace

std::vector<Sample> SamplesOf(const ReidSplit& split) {
  std::vector<Sample> samples;
  samples.reserve(split.records.size());
  for (const ImageRecord& r : split.records) samples.push_back({r.index, r.label});
  return samples;
}

std::vector<std::vector<Sample>> ShuffledBatches(std::vector<Sample> samples, int batch_size, uint64_t seed,
                                                 uint64_t epoch) {
  CheckBatchSize(batch_size);
  SampleRng rng(MixSeed({kSamplerStream, seed, epoch}));
  for (size_t i = samples.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(rng.Below(i));
    std::swap(samples[i - 1], samples[j]);
  }
  std::vector<std::vector<Sample>> batches;
  const size_t full = samples.size() / static_cast<size_t>(batch_size);
  batches.reserve(full);
  for (size_t b = 0; b < full; ++b) {
    batches.emplace_back(samples.begin() + b * batch_size, samples.begin() + (b + 1) * batch_size);
  }
  return batches;
}

std::vector<std::vector<Sample>> SequentialBatches(const std::vector<Sample>& samples, int batch_size) {
  CheckBatchSize(batch_size);
  std::vector<std::vector<Sample>> batches;
  for (size_t begin = 0; begin < samples.size(); begin += batch_size) {
    const size_t end = std::min(samples.size(), begin + static_cast<size_t>(batch_size));
    batches.emplace_back(samples.begin() + begin, samples.begin() + end);
  }
  return batches;
}

}  // namespace gcl::data
