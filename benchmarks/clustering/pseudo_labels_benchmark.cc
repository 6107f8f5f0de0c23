// Pseudo-label time and peak memory at Market-1501 (N = 12,936, 751 ids) and MSMT17 (N = 32,621, 1,041 ids)
// training-set sizes, D = 512. Targets (docs/clustering.md): Market under 10 s; MSMT under 30 s with under
// 2 GB peak. Run one size per process so VmHWM is that size's peak:
//   bazel run -c opt //benchmarks/clustering:pseudo_labels_benchmark -- --benchmark_filter=/12936/
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <thread>

#include "benchmarks/clustering/synthetic_features.h"
#include "clustering/pseudo_labels.h"

namespace gcl::clustering {
namespace {

void BM_PseudoLabels(benchmark::State& state) {
  at::set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));
  const int64_t n = state.range(0);
  const int64_t ids = state.range(1);
  const at::Tensor x = bench::BlobsOnSphere(n, 512, ids, 0.04, 7);
  PseudoLabelOptions options;
  options.rho = n > 20000 ? 0.0012 : 0.002;  // Reference §6: MSMT17 uses 0.0012.
  PseudoLabels result;
  for (auto _ : state) {
    result = ComputePseudoLabels(x, options);
    benchmark::DoNotOptimize(result.labels.data());
  }
  const PseudoLabelStats& s = result.stats;
  state.counters["knn_s"] = s.knn_seconds;
  state.counters["encoding_s"] = s.encoding_seconds;
  state.counters["jaccard_s"] = s.jaccard_seconds;
  state.counters["eps_s"] = s.eps_seconds;
  state.counters["dbscan_s"] = s.dbscan_seconds;
  state.counters["clusters"] = static_cast<double>(s.num_clusters);
  state.counters["outliers"] = static_cast<double>(s.num_outliers);
  state.counters["pairs_per_row"] = static_cast<double>(s.jaccard_nonzeros) / n;
  state.counters["jaccard_MB"] = s.jaccard_bytes / 1e6;
  state.counters["peak_rss_MB"] = bench::PeakRssMb();
}

BENCHMARK(BM_PseudoLabels)
    ->Args({12936, 751})
    ->Args({32621, 1041})
    ->ArgNames({"n", "ids"})
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
}  // namespace gcl::clustering

BENCHMARK_MAIN();
