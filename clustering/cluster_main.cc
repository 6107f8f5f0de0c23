// bazel run //clustering:cluster -- --features=train.npy --samples=train.csv [options]
//
// Pseudo labels for a feature file (reference §6): exact kNN, sparse k-reciprocal Jaccard distance, eps by the
// rho rule (or --eps), DBSCAN. Prints the statistics as a table, or as JSON with --json; --output writes one
// `path,pid,camid,label` row per sample (label -1: outlier).
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/flags.h"
#include "common/json.h"
#include "common/torch_runtime.h"
#include "common/user_path.h"
#include "clustering/feature_io.h"
#include "clustering/pseudo_labels.h"

namespace gcl::clustering {
namespace {

std::string Json(const PseudoLabelStats& s, const PseudoLabelOptions& o) {
  constexpr int kDigits = 10;
  JsonObject histogram;
  for (const auto& [size, count] : s.cluster_size_histogram) histogram.Int(std::to_string(size), count);
  const std::string seconds = JsonObject()
                                  .Number("knn", s.knn_seconds, kDigits)
                                  .Number("encoding", s.encoding_seconds, kDigits)
                                  .Number("jaccard", s.jaccard_seconds, kDigits)
                                  .Number("eps", s.eps_seconds, kDigits)
                                  .Number("dbscan", s.dbscan_seconds, kDigits)
                                  .Number("total", s.total_seconds, kDigits)
                                  .str();
  return JsonObject()
      .Int("samples", s.num_samples)
      .Int("clusters", s.num_clusters)
      .Int("outliers", s.num_outliers)
      .Number("eps", s.eps, kDigits)
      .String("eps_rule", o.eps_rule == EpsRule::kRho ? "rho" : "fixed")
      .Number("rho", o.rho, kDigits)
      .Int("k1", o.k1)
      .Int("k2", o.k2)
      .Int("min_samples", o.min_samples)
      .Int("jaccard_pairs_stored", s.jaccard_nonzeros)
      .Raw("cluster_size_histogram", histogram.str())
      .Raw("seconds", seconds)
      .str();
}

int Run(int argc, char** argv) {
  std::string npy, csv, output;
  PseudoLabelOptions o;
  double eps = o.fixed_eps;
  bool no_normalize = false, json = false;
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  FlagSet flags("cluster", "cluster --features=F.npy --samples=F.csv [--rho=0.002 | --eps=0.55] [flags]",
                "Pseudo labels of a feature file (reference §6): exact kNN, sparse k-reciprocal Jaccard distance, "
                "eps by the rho rule (or --eps), DBSCAN.");
  flags.String("features", &npy, "F.npy", "features, N x D float32 .npy").Required();
  flags.String("samples", &csv, "F.csv", "path,pid,camid rows, one per feature row").Required();
  flags.Int("k1", &o.k1, "k-reciprocal neighbours").Min(1).Max(10000);
  flags.Int("k2", &o.k2, "query expansion neighbours").Min(1).Max(10000);
  flags.Int("min_samples", &o.min_samples, "DBSCAN core-point neighbourhood size").Min(1).Max(100000);
  flags.Double("rho", &o.rho, "adaptive eps (reference: 0.002 Market/Duke, 0.0012 MSMT17)").Min(1e-9).Max(1);
  flags.Double("eps", &eps, "a fixed eps (Jaccard distance) instead of the rho rule").Min(1e-9).Max(1);
  flags.Bool("no_normalize", &no_normalize, "do not L2-normalise the features first");
  flags.Int("threads", &threads, "LibTorch and OpenBLAS threads").Min(1).Max(4096);
  flags.String("output", &output, "labels.csv", "writes one path,pid,camid,label row per sample (-1: outlier)");
  flags.Bool("json", &json, "print the statistics as JSON");
  if (!flags.Parse(argc, argv)) return 0;
  npy = gcl::UserPath(npy);
  csv = gcl::UserPath(csv);
  if (flags.Given("rho") && flags.Given("eps")) throw FlagError("give --rho or --eps, not both");
  if (flags.Given("eps")) {
    o.eps_rule = EpsRule::kFixed;
    o.fixed_eps = eps;
  }
  o.l2_normalize = !no_normalize;
  gcl::ConfigureThreads(threads);  // LibTorch and OpenBLAS threads
  o.num_threads = threads;

  if (flags.Given("output")) {
    // Writing the labels over an input (e.g. --output naming the --samples CSV) would destroy it.
    const std::string out = gcl::UserPath(output);
    for (const std::string& input : {npy, csv}) {
      std::error_code e1, e2, e3;
      const bool same = std::filesystem::equivalent(out, input, e1) ||
                        std::filesystem::weakly_canonical(out, e2) == std::filesystem::weakly_canonical(input, e3);
      if (same) {
        throw FlagError("--output=" + out + " is the input " + input +
                                    "; writing the labels there would destroy it. Name another file");
      }
    }
  }
  FeatureSet set = ReadFeatureSet(npy, csv);
  if (set.features.rows == 0) throw std::invalid_argument(npy + ": no samples");
  const at::Tensor x = at::from_blob(set.features.data.data(), {set.features.rows, set.features.cols}, at::kFloat);
  const PseudoLabels p = ComputePseudoLabels(x, o);

  if (flags.Given("output")) {
    const std::string out = gcl::UserPath(output);
    std::ofstream f(out);
    if (!f) throw std::runtime_error(out + ": cannot open for writing");
    f << "path,pid,camid,label\n";
    for (size_t i = 0; i < set.samples.size(); ++i) {
      const SampleInfo& s = set.samples[i];
      const bool quote = s.path.find_first_of(",\"") != std::string::npos;
      std::string path = s.path;
      if (quote) {
        std::string q = "\"";
        for (const char c : path) q += (c == '"') ? std::string("\"\"") : std::string(1, c);
        path = q + "\"";
      }
      f << path << "," << s.pid << "," << s.camid << "," << p.labels[i] << "\n";
    }
    if (!f.flush()) throw std::runtime_error(out + ": write failed");
  }
  if (json) {
    std::cout << Json(p.stats, o) << "\n";
  } else {
    std::cout << "features " << npy << " (" << set.features.rows << " x " << set.features.cols << ")\n"
              << FormatStats(p.stats);
  }
  return 0;
}

}  // namespace
}  // namespace gcl::clustering

int main(int argc, char** argv) {
  return gcl::RunCommand("cluster", 1, [&] { return gcl::clustering::Run(argc, argv); });
}
