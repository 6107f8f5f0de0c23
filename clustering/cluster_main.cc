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

#include "clustering/command_line.h"
#include "common/torch_runtime.h"
#include "common/user_path.h"
#include "clustering/feature_io.h"
#include "clustering/pseudo_labels.h"

namespace gcl::clustering {
namespace {

constexpr char kUsage[] =
    "usage: cluster --features=F.npy --samples=F.csv [--k1=30] [--k2=6] [--min_samples=4]\n"
    "               [--rho=0.002 | --eps=0.55] [--no_normalize] [--threads=N] [--output=labels.csv] [--json]\n"
    "  --rho   adaptive eps (reference: 0.002 Market/Duke, 0.0012 MSMT17); --eps a fixed eps instead\n";

std::string Json(const PseudoLabelStats& s, const PseudoLabelOptions& o) {
  std::ostringstream j;
  j.precision(10);
  j << "{\"samples\": " << s.num_samples << ", \"clusters\": " << s.num_clusters << ", \"outliers\": "
    << s.num_outliers << ", \"eps\": " << s.eps << ", \"eps_rule\": \""
    << (o.eps_rule == EpsRule::kRho ? "rho" : "fixed") << "\", \"rho\": " << o.rho << ", \"k1\": " << o.k1
    << ", \"k2\": " << o.k2 << ", \"min_samples\": " << o.min_samples
    << ", \"jaccard_pairs_stored\": " << s.jaccard_nonzeros << ", \"cluster_size_histogram\": {";
  bool first = true;
  for (const auto& [size, count] : s.cluster_size_histogram) {
    j << (first ? "" : ", ") << "\"" << size << "\": " << count;
    first = false;
  }
  j << "}, \"seconds\": {\"knn\": " << s.knn_seconds << ", \"encoding\": " << s.encoding_seconds
    << ", \"jaccard\": " << s.jaccard_seconds << ", \"eps\": " << s.eps_seconds << ", \"dbscan\": "
    << s.dbscan_seconds << ", \"total\": " << s.total_seconds << "}}";
  return j.str();
}

int Run(int argc, char** argv) {
  const CommandLine cl(argc, argv,
                       {"features", "samples", "k1", "k2", "min_samples", "rho", "eps", "threads", "output"},
                       {"json", "no_normalize", "help"});
  if (cl.Bool("help")) {
    std::cout << kUsage;
    return 0;
  }
  const std::string npy = gcl::UserPath(cl.Required("features"));
  const std::string csv = gcl::UserPath(cl.Required("samples"));
  PseudoLabelOptions o;
  o.k1 = cl.Int("k1", o.k1);
  o.k2 = cl.Int("k2", o.k2);
  o.min_samples = cl.Int("min_samples", o.min_samples);
  if (cl.Has("rho") && cl.Has("eps")) throw std::invalid_argument("give --rho or --eps, not both");
  o.rho = cl.Double("rho", o.rho);
  if (cl.Has("eps")) {
    o.eps_rule = EpsRule::kFixed;
    o.fixed_eps = cl.Double("eps", o.fixed_eps);
  }
  o.l2_normalize = !cl.Bool("no_normalize");
  const int threads = cl.Int("threads", static_cast<int>(std::thread::hardware_concurrency()));
  if (threads < 1) throw std::invalid_argument("--threads must be >= 1");
  gcl::ConfigureThreads(threads);  // LibTorch and OpenBLAS threads
  o.num_threads = threads;

  if (cl.Has("output")) {
    // Writing the labels over an input (e.g. --output naming the --samples CSV) would destroy it.
    const std::string out = gcl::UserPath(cl.String("output"));
    for (const std::string& input : {npy, csv}) {
      std::error_code e1, e2, e3;
      const bool same = std::filesystem::equivalent(out, input, e1) ||
                        std::filesystem::weakly_canonical(out, e2) == std::filesystem::weakly_canonical(input, e3);
      if (same) {
        throw std::invalid_argument("--output=" + out + " is the input " + input +
                                    "; writing the labels there would destroy it. Name another file");
      }
    }
  }
  FeatureSet set = ReadFeatureSet(npy, csv);
  if (set.features.rows == 0) throw std::invalid_argument(npy + ": no samples");
  const at::Tensor x = at::from_blob(set.features.data.data(), {set.features.rows, set.features.cols}, at::kFloat);
  const PseudoLabels p = ComputePseudoLabels(x, o);

  if (cl.Has("output")) {
    const std::string out = gcl::UserPath(cl.String("output"));
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
  if (cl.Bool("json")) {
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
  try {
    return gcl::clustering::Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "cluster: error: " << e.what() << "\n" << gcl::clustering::kUsage;
    return 1;
  }
}
