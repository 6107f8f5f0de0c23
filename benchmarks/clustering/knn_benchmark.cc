// Exact self-kNN (k = 30, D = 512) at Market-1501 and MSMT17 training-set sizes: our blocked torch::mm + topk
// against Debian's faiss IndexFlatIP (BLAS sgemm + heaps), to decide which one the pipeline uses.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <faiss/IndexFlat.h>

#include <thread>
#include <vector>

#include "benchmarks/clustering/synthetic_features.h"
#include "clustering/knn.h"

namespace gcl::clustering {
namespace {

void BM_ExactKnnTorch(benchmark::State& state) {
  at::set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));
  const at::Tensor x = bench::BlobsOnSphere(state.range(0), 512, state.range(0) / 31, 0.04, 7);
  KnnOptions options;
  options.block_rows = state.range(1);
  for (auto _ : state) {
    const KnnGraph g = ExactKnn(x, x, 30, options);
    benchmark::DoNotOptimize(g.indices.data());
  }
}

void BM_ExactKnnFaiss(benchmark::State& state) {
  const int64_t n = state.range(0);
  const at::Tensor x = bench::BlobsOnSphere(n, 512, n / 31, 0.04, 7);
  std::vector<float> distances(n * 30);
  std::vector<faiss::Index::idx_t> labels(n * 30);
  for (auto _ : state) {
    faiss::IndexFlatIP index(512);
    index.add(n, x.data_ptr<float>());
    index.search(n, x.data_ptr<float>(), 30, distances.data(), labels.data());
    benchmark::DoNotOptimize(labels.data());
  }
}

BENCHMARK(BM_ExactKnnTorch)->Args({12936, 512})->Args({12936, 1024})->Args({12936, 4096})->Args({32621, 1024})
    ->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_ExactKnnFaiss)->Arg(12936)->Arg(32621)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
}  // namespace gcl::clustering

BENCHMARK_MAIN();
