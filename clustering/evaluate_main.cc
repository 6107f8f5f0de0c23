// bazel run //clustering:evaluate -- --query_features=q.npy --query_samples=q.csv
//     --gallery_features=g.npy --gallery_samples=g.csv [--rerank] [--json]
//
// ReID metrics (reference §8): squared Euclidean distances on L2-normalised features; per query, gallery items
// with the same pid and camera (and junk, pid -1) are ignored; mAP (sklearn AP), CMC rank-1/5/10/20 and mINP.
// --rerank applies k-reciprocal re-ranking (k1 20, k2 6, lambda 0.3), blocked so MSMT17 scale fits in memory.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>

#include "clustering/command_line.h"
#include "common/torch_runtime.h"
#include "common/user_path.h"
#include "clustering/evaluation.h"
#include "clustering/feature_io.h"

namespace gcl::clustering {
namespace {

constexpr char kUsage[] =
    "usage: evaluate --query_features=Q.npy --query_samples=Q.csv --gallery_features=G.npy\n"
    "                --gallery_samples=G.csv [--rerank [--k1=20] [--k2=6] [--lambda=0.3] [--zhong_distances]]\n"
    "                [--no_normalize] [--keep_junk] [--threads=N] [--json]\n";

ReidLabels Labels(const std::vector<SampleInfo>& samples) {
  ReidLabels l;
  for (const SampleInfo& s : samples) {
    l.pids.push_back(s.pid);
    l.camids.push_back(s.camid);
  }
  return l;
}

int Run(int argc, char** argv) {
  const CommandLine cl(argc, argv,
                       {"query_features", "query_samples", "gallery_features", "gallery_samples", "k1", "k2",
                        "lambda", "threads"},
                       {"rerank", "zhong_distances", "no_normalize", "keep_junk", "json", "help"});
  if (cl.Bool("help")) {
    std::cout << kUsage;
    return 0;
  }
  EvaluationOptions o;
  o.l2_normalize = !cl.Bool("no_normalize");
  o.metrics.ignore_junk = !cl.Bool("keep_junk");
  o.rerank = cl.Bool("rerank");
  if (!o.rerank && (cl.Has("k1") || cl.Has("k2") || cl.Has("lambda") || cl.Has("zhong_distances"))) {
    throw std::invalid_argument("--k1, --k2, --lambda and --zhong_distances need --rerank");
  }
  o.rerank_options.k1 = cl.Int("k1", o.rerank_options.k1);
  o.rerank_options.k2 = cl.Int("k2", o.rerank_options.k2);
  o.rerank_options.lambda = cl.Double("lambda", o.rerank_options.lambda);
  o.rerank_options.square_input_distances = !cl.Bool("zhong_distances");
  const int threads = cl.Int("threads", static_cast<int>(std::thread::hardware_concurrency()));
  if (threads < 1) throw std::invalid_argument("--threads must be >= 1");
  gcl::ConfigureThreads(threads);  // LibTorch and OpenBLAS threads
  o.num_threads = threads;

  const std::string qn = gcl::UserPath(cl.Required("query_features")), qc = gcl::UserPath(cl.Required("query_samples"));
  const std::string gn = gcl::UserPath(cl.Required("gallery_features")),
                    gc = gcl::UserPath(cl.Required("gallery_samples"));
  FeatureSet q = ReadFeatureSet(qn, qc);
  FeatureSet g = ReadFeatureSet(gn, gc);
  if (q.features.rows == 0) throw std::invalid_argument(qn + ": the query set is empty");
  if (g.features.rows == 0) throw std::invalid_argument(gn + ": the gallery set is empty");
  if (q.features.cols != g.features.cols) {
    throw std::invalid_argument("feature dimensions differ: " + qn + " has " + std::to_string(q.features.cols) +
                                ", " + gn + " has " + std::to_string(g.features.cols));
  }
  const auto start = std::chrono::steady_clock::now();
  const at::Tensor qt = at::from_blob(q.features.data.data(), {q.features.rows, q.features.cols}, at::kFloat);
  const at::Tensor gt = at::from_blob(g.features.data.data(), {g.features.rows, g.features.cols}, at::kFloat);
  const ReidMetrics m = EvaluateFeatures(qt, gt, Labels(q.samples), Labels(g.samples), o);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (cl.Bool("json")) {
    std::ostringstream j;
    j.precision(10);
    j << "{\"mAP\": " << m.map << ", \"rank1\": " << m.Rank(1) << ", \"rank5\": " << m.Rank(5)
      << ", \"rank10\": " << m.Rank(10) << ", \"rank20\": " << m.Rank(20) << ", \"mINP\": " << m.minp
      << ", \"queries\": " << m.num_queries << ", \"valid_queries\": " << m.num_valid_queries
      << ", \"skipped_queries\": " << m.num_skipped_queries << ", \"gallery\": " << g.features.rows
      << ", \"rerank\": " << (o.rerank ? "true" : "false") << ", \"seconds\": " << seconds << "}";
    std::cout << j.str() << "\n";
    return 0;
  }
  char line[512];
  std::snprintf(line, sizeof(line),
                "query %lld (valid %lld, skipped %lld)  gallery %lld  re-ranking %s  %.2f s\n"
                "  mAP     rank-1  rank-5  rank-10 rank-20 mINP\n"
                "  %6.2f%% %6.2f%% %6.2f%% %6.2f%% %6.2f%% %6.2f%%\n",
                static_cast<long long>(m.num_queries), static_cast<long long>(m.num_valid_queries),
                static_cast<long long>(m.num_skipped_queries), static_cast<long long>(g.features.rows),
                o.rerank ? "on" : "off", seconds, 100 * m.map, 100 * m.Rank(1), 100 * m.Rank(5),
                100 * m.Rank(10), 100 * m.Rank(20), 100 * m.minp);
  std::cout << line;
  return 0;
}

}  // namespace
}  // namespace gcl::clustering

int main(int argc, char** argv) {
  try {
    return gcl::clustering::Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "evaluate: error: " << e.what() << "\n" << gcl::clustering::kUsage;
    return 1;
  }
}
