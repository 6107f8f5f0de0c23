// Generation speed of the synthetic world: images per second, each with its 8 structure renders, JPEG
// encoding and file writes included.
//
//   bazel run -c opt //benchmarks/data/synth:synthetic_world_benchmark
#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>

#include "data/synth/synthetic_world.h"
#include "data/synth/world_spec.h"

namespace gcl::data {
namespace {

// args: crop height (width = height / 2), threads.
void BM_GenerateImages(benchmark::State& state) {
  WorldSpec spec = WorldSpecForPreset("quick");
  spec.crop_height = static_cast<int>(state.range(0));
  spec.crop_width = spec.crop_height / 2;
  spec.num_train_ids = 20;
  spec.num_test_ids = 10;
  spec.num_distractors = 10;
  const int threads = static_cast<int>(state.range(1));
  const std::filesystem::path root = std::filesystem::temp_directory_path() / "gcl_synth_benchmark";
  int64_t images = 0;
  uint64_t seed = 1;
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(root);
    state.ResumeTiming();
    const GenerationSummary s = GenerateSyntheticDataset(spec, seed++, root.string(), threads);
    images += s.train_images + s.query_images + s.gallery_images;
  }
  std::filesystem::remove_all(root);
  state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GenerateImages)
    ->Args({128, 1})
    ->Args({128, 2})
    ->Args({256, 1})
    ->Args({256, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace
}  // namespace gcl::data

BENCHMARK_MAIN();
