// Evaluation at Market-1501 scale (3,368 queries x 15,913 gallery, D = 512): distances + mAP/CMC/mINP.
// Target (docs/clustering.md): under 2 s without re-ranking.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <thread>

#include "benchmarks/clustering/synthetic_features.h"
#include "evaluation/evaluation.h"

namespace gcl::evaluation {
namespace {

void BM_EvaluateMarket(benchmark::State& state) {
  at::set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));
  const int64_t nq = 3368, ng = 15913, ids = 751;
  at::Tensor id;
  const at::Tensor all = clustering::bench::BlobsOnSphere(nq + ng, 512, ids, 0.04, 3, &id);
  ReidLabels ql, gl;
  for (int64_t i = 0; i < nq + ng; ++i) {
    ReidLabels& l = i < nq ? ql : gl;
    l.pids.push_back(id[i].item<int64_t>());
    l.camids.push_back(i % 6);
  }
  EvaluationOptions options;
  options.rerank = state.range(0) != 0;
  ReidMetrics m;
  for (auto _ : state) {
    m = EvaluateFeatures(all.narrow(0, 0, nq), all.narrow(0, nq, ng), ql, gl, options);
    benchmark::DoNotOptimize(m.map);
  }
  state.counters["mAP"] = m.map;
  state.counters["peak_rss_MB"] = clustering::bench::PeakRssMb();
}

BENCHMARK(BM_EvaluateMarket)->Arg(0)->Arg(1)->ArgName("rerank")->Iterations(1)->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
}  // namespace gcl::evaluation

BENCHMARK_MAIN();
