#include "clustering/pseudo_labels.h"

#include <ATen/ATen.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>

#include "clustering/dbscan.h"
#include "clustering/k_reciprocal.h"
#include "clustering/knn.h"

namespace gcl::clustering {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

PseudoLabels ComputePseudoLabels(const at::Tensor& features, const PseudoLabelOptions& options) {
  if (!features.defined() || features.dim() != 2 || features.scalar_type() != at::kFloat) {
    throw std::invalid_argument("ComputePseudoLabels: features must be a 2-D float32 tensor (N x D)");
  }
  const int64_t n = features.size(0);
  if (options.k1 < 1 || options.k2 < 1 || options.k2 > options.k1) {
    throw std::invalid_argument("ComputePseudoLabels: need 1 <= k2 <= k1");
  }
  if (n <= options.k1) {
    throw std::invalid_argument("ComputePseudoLabels: " + std::to_string(n) + " samples; need more than k1 = " +
                                std::to_string(options.k1));
  }
  if (options.eps_rule == EpsRule::kFixed && !(options.fixed_eps >= 0.0 && std::isfinite(options.fixed_eps))) {
    throw std::invalid_argument("ComputePseudoLabels: fixed_eps must be finite and >= 0");
  }
  if (!at::isfinite(features).all().item<bool>()) {
    throw std::invalid_argument("ComputePseudoLabels: features hold NaN or Inf");
  }
  const auto start = std::chrono::steady_clock::now();
  PseudoLabels out;
  PseudoLabelStats& st = out.stats;
  st.num_samples = n;

  at::Tensor x = features;
  if (options.l2_normalize) x = x / x.norm(2, 1, /*keepdim=*/true).clamp_min(1e-12);
  KnnOptions knn_options;
  knn_options.block_rows = options.knn_block_rows;
  const KnnGraph knn = ExactKnn(x, x, options.k1, knn_options);
  st.knn_seconds = Seconds(start);

  const at::Tensor cpu = x.cpu().contiguous();
  JaccardParams jp;
  jp.k1 = options.k1;
  jp.k2 = options.k2;
  jp.num_threads = options.num_threads;
  JaccardTimes times;
  const SparseRows jaccard = KReciprocalJaccard(cpu.data_ptr<float>(), n, cpu.size(1), knn, jp, &times);
  st.encoding_seconds = times.encoding_seconds;
  st.encoding_nonzeros = times.encoding_nonzeros;
  st.jaccard_seconds = times.jaccard_seconds;
  st.jaccard_nonzeros = jaccard.nnz();
  st.jaccard_bytes = jaccard.bytes();

  auto step = std::chrono::steady_clock::now();
  st.eps = options.eps_rule == EpsRule::kRho ? EpsFromRho(jaccard, options.rho) : options.fixed_eps;
  st.eps_seconds = Seconds(step);

  step = std::chrono::steady_clock::now();
  out.labels = Dbscan(jaccard, st.eps, options.min_samples);
  st.dbscan_seconds = Seconds(step);

  std::vector<int64_t> sizes;
  for (const int64_t l : out.labels) {
    if (l < 0) {
      ++st.num_outliers;
      continue;
    }
    if (l >= static_cast<int64_t>(sizes.size())) sizes.resize(l + 1, 0);
    ++sizes[l];
  }
  st.num_clusters = static_cast<int64_t>(sizes.size());
  for (const int64_t s : sizes) ++st.cluster_size_histogram[s];
  st.total_seconds = Seconds(start);
  return out;
}

std::string FormatStats(const PseudoLabelStats& s) {
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof(line), "samples %lld  clusters %lld  outliers %lld (%.1f%%)  eps %.6f\n",
                static_cast<long long>(s.num_samples), static_cast<long long>(s.num_clusters),
                static_cast<long long>(s.num_outliers),
                s.num_samples > 0 ? 100.0 * s.num_outliers / s.num_samples : 0.0, s.eps);
  o << line;
  std::snprintf(line, sizeof(line), "jaccard pairs stored %lld (%.1f MB), encoding non-zeros %lld\n",
                static_cast<long long>(s.jaccard_nonzeros), s.jaccard_bytes / 1e6,
                static_cast<long long>(s.encoding_nonzeros));
  o << line;
  std::snprintf(line, sizeof(line),
                "time  knn %.3fs  encoding %.3fs  jaccard %.3fs  eps %.3fs  dbscan %.3fs  total %.3fs\n",
                s.knn_seconds, s.encoding_seconds, s.jaccard_seconds, s.eps_seconds, s.dbscan_seconds,
                s.total_seconds);
  o << line;
  o << "cluster size histogram (size: clusters):";
  for (const auto& [size, count] : s.cluster_size_histogram) o << " " << size << ":" << count;
  o << "\n";
  return o.str();
}

}  // namespace gcl::clustering
