// torch::mm on square fp32 matrices: shows whether a fast BLAS serves LibTorch in this process.
// With OpenBLAS (libopenblas0-pthread) a 2-core Zen 4 machine reaches 90-170 GFLOP/s; with the reference
// libblas.so.3 about 5 (see docs/BUILDING.md). The context lines name the BLAS library and the thread count.
//
//   bazel run -c opt //benchmarks/common:blas_benchmark
//   GCL_NUM_THREADS=1 bazel run //benchmarks/common:blas_benchmark   # single-threaded
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <string>

#include "common/torch_runtime.h"

namespace {

void BM_TorchMm(benchmark::State& state) {
  const int64_t n = state.range(0);
  torch::manual_seed(0);
  const torch::Tensor a = torch::randn({n, n});
  const torch::Tensor b = torch::randn({n, n});
  torch::Tensor c = torch::empty({n, n});
  for (auto _ : state) {
    torch::mm_out(c, a, b);
    benchmark::DoNotOptimize(c.data_ptr<float>());
    benchmark::ClobberMemory();
  }
  // 2 n^3 floating-point operations per product, in units of 1e9; shown as a rate: "GFLOP=150/s".
  state.counters["GFLOP"] =
      benchmark::Counter(2.0 * n * n * n / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_TorchMm)->Arg(512)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  const gcl::ThreadSettings threads = gcl::ConfigureThreads();
  const gcl::BlasInfo blas = gcl::DetectBlas();
  gcl::WarnIfSlowBlas();
  benchmark::AddCustomContext("blas_library", blas.library.empty() ? "(none loaded)" : blas.library);
  benchmark::AddCustomContext("blas_config", blas.openblas ? blas.config : "not OpenBLAS");
  benchmark::AddCustomContext("torch_threads", std::to_string(threads.intra_op));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
