// bazel run //evaluation:evaluate -- --query_features=q.npy --query_samples=q.csv
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

#include "common/flags.h"
#include "common/json.h"
#include "common/torch_runtime.h"
#include "common/user_path.h"
#include "evaluation/evaluation.h"
#include "clustering/feature_io.h"

namespace gcl::evaluation {
namespace {

using clustering::FeatureSet;
using clustering::ReadFeatureSet;
using clustering::SampleInfo;

ReidLabels Labels(const std::vector<SampleInfo>& samples) {
  ReidLabels l;
  for (const SampleInfo& s : samples) {
    l.pids.push_back(s.pid);
    l.camids.push_back(s.camid);
  }
  return l;
}

int Run(int argc, char** argv) {
  std::string qn, qc, gn, gc;
  EvaluationOptions o;
  bool no_normalize = false, keep_junk = false, zhong = false, json = false;
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  FlagSet flags("evaluate",
                "evaluate --query_features=Q.npy --query_samples=Q.csv --gallery_features=G.npy "
                "--gallery_samples=G.csv [flags]",
                "ReID metrics (reference §8): mAP, CMC rank-1/5/10/20 and mINP on squared Euclidean distances of "
                "L2-normalised features, optionally after k-reciprocal re-ranking.");
  flags.String("query_features", &qn, "Q.npy", "query features, N x D float32 .npy").Required();
  flags.String("query_samples", &qc, "Q.csv", "query path,pid,camid rows").Required();
  flags.String("gallery_features", &gn, "G.npy", "gallery features").Required();
  flags.String("gallery_samples", &gc, "G.csv", "gallery path,pid,camid rows").Required();
  flags.Bool("rerank", &o.rerank, "k-reciprocal re-ranking");
  flags.Int("k1", &o.rerank_options.k1, "re-ranking k1 (with --rerank)").Min(1).Max(10000);
  flags.Int("k2", &o.rerank_options.k2, "re-ranking k2 (with --rerank)").Min(1).Max(10000);
  flags.Double("lambda", &o.rerank_options.lambda, "re-ranking lambda (with --rerank)").Min(0).Max(1);
  flags.Bool("zhong_distances", &zhong, "re-rank on plain (not squared) distances as Zhong et al.'s code");
  flags.Bool("no_normalize", &no_normalize, "do not L2-normalise the features first");
  flags.Bool("keep_junk", &keep_junk, "keep pid -1 gallery images");
  flags.Int("threads", &threads, "LibTorch and OpenBLAS threads").Min(1).Max(4096);
  flags.Bool("json", &json, "print the metrics as JSON");
  if (!flags.Parse(argc, argv)) return 0;
  o.l2_normalize = !no_normalize;
  o.metrics.ignore_junk = !keep_junk;
  if (!o.rerank && (flags.Given("k1") || flags.Given("k2") || flags.Given("lambda") || zhong)) {
    throw FlagError("--k1, --k2, --lambda and --zhong_distances need --rerank");
  }
  o.rerank_options.square_input_distances = !zhong;
  gcl::ConfigureThreads(threads);  // LibTorch and OpenBLAS threads
  o.num_threads = threads;
  qn = gcl::UserPath(qn);
  qc = gcl::UserPath(qc);
  gn = gcl::UserPath(gn);
  gc = gcl::UserPath(gc);
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

  if (json) {
    constexpr int kDigits = 10;
    std::cout << JsonObject()
                     .Number("mAP", m.map, kDigits)
                     .Number("rank1", m.Rank(1), kDigits)
                     .Number("rank5", m.Rank(5), kDigits)
                     .Number("rank10", m.Rank(10), kDigits)
                     .Number("rank20", m.Rank(20), kDigits)
                     .Number("mINP", m.minp, kDigits)
                     .Int("queries", m.num_queries)
                     .Int("valid_queries", m.num_valid_queries)
                     .Int("skipped_queries", m.num_skipped_queries)
                     .Int("gallery", g.features.rows)
                     .Bool("rerank", o.rerank)
                     .Number("seconds", seconds, kDigits)
                     .str()
              << "\n";
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
}  // namespace gcl::evaluation

int main(int argc, char** argv) {
  return gcl::RunCommand("evaluate", 1, [&] { return gcl::evaluation::Run(argc, argv); });
}
