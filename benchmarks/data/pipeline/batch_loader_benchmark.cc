// Loader throughput in images per second: decode + bicubic resize to 256 x 128 + normalise, with and without the
// two structure images (s_ori, s_new) per sample, on 1 and 2 threads, over a generated Market-style folder of
// 128 x 64 JPEGs (Market-1501's native crop size) with GCL render folders. Set GCL_BENCH_MARKET to a Market-layout
// folder with its renders in <folder>/mesh (e.g. the output of //data/synth:make_dataset) to measure on it
// instead; its first 256 train images are used.
//
//   bazel run //benchmarks/data/pipeline:batch_loader_benchmark   (.bazelrc already builds with -O2)
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "data/datasets/reid_dataset.h"
#include "data/pipeline/batch_loader.h"
#include "data/pipeline/samplers.h"
#include "tests/data/datasets/fixtures.h"

namespace gcl::data {
namespace {

constexpr int kBatch = 16;  // the reference's training batch

struct Fixture {
  testing::TempDir dir;
  ReidDataset dataset;
  Fixture() {
    if (const char* market = std::getenv("GCL_BENCH_MARKET")) {
      DatasetOptions options;
      options.mesh_dir = std::string(market) + "/mesh";
      dataset = LoadMarket1501(market, options);
      if (dataset.train.records.size() > 256) dataset.train.records.resize(256);
      return;
    }
    testing::MarketSpec spec = testing::SmallMarketSpec(/*train_pids=*/32, /*per_pid=*/8);  // 256 images
    spec.height = 128;
    spec.width = 64;
    testing::WriteMarketTree(dir.path() + "/market", dir.path() + "/mesh", spec);
    DatasetOptions options;
    options.mesh_dir = dir.path() + "/mesh";
    dataset = LoadMarket1501(dir.path() + "/market", options);
  }
};

const Fixture& SharedFixture() {
  static const auto* fixture = new Fixture();
  return *fixture;
}

// Arguments: structures (0/1), threads, resize kernel (0 PIL-exact, 1 OpenCV).
void BM_LoadBatches(benchmark::State& state) {
  const Fixture& f = SharedFixture();
  PipelineOptions options;
  options.load_structures = state.range(0) != 0;
  options.threads = static_cast<int>(state.range(1));
  options.transform.resize = state.range(2) == 0 ? ResizeKernel::kPilBicubic : ResizeKernel::kOpenCvCubic;
  BatchLoader loader(f.dataset.train.records, options);
  const auto batches = ShuffledBatches(SamplesOf(f.dataset.train), kBatch, options.seed, 0);
  uint64_t n = 0;
  for (auto _ : state) {
    Batch b = loader.Load(batches[n % batches.size()], 0, n);
    benchmark::DoNotOptimize(b.image.data_ptr<float>());
    ++n;
  }
  state.SetItemsProcessed(static_cast<int64_t>(n) * kBatch);
  state.SetLabel(std::string(options.load_structures ? "image+s_ori+s_new" : "image only") + ", " +
                 (state.range(2) == 0 ? "PIL bicubic" : "OpenCV cubic"));
}
BENCHMARK(BM_LoadBatches)
    ->ArgNames({"structures", "threads", "kernel"})
    ->ArgsProduct({{0, 1}, {1, 2}, {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gcl::data

BENCHMARK_MAIN();
