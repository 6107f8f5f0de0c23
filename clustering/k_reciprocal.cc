#include "clustering/k_reciprocal.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

#include "common/parallel_for.h"

namespace gcl::clustering {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// R(i, m) = { c in rank[i][:m] : i in rank[c][:m] }, in rank order.
void ReciprocalSet(const int32_t* rank, int rank_cols, int64_t i, int m, std::vector<int32_t>* out) {
  out->clear();
  const int32_t* forward = rank + i * rank_cols;
  for (int a = 0; a < m; ++a) {
    const int32_t c = forward[a];
    const int32_t* back = rank + static_cast<int64_t>(c) * rank_cols;
    for (int b = 0; b < m; ++b) {
      if (back[b] == i) {
        out->push_back(c);
        break;
      }
    }
  }
}

// Rows built in parallel chunks, then stitched into one CSR matrix.
struct RowChunk {
  std::vector<int64_t> lengths;
  std::vector<int32_t> columns;
  std::vector<float> values;
};

SparseRows Stitch(int64_t num_rows, int64_t num_cols, std::vector<RowChunk>* chunks) {
  SparseRows m;
  m.num_rows = num_rows;
  m.num_cols = num_cols;
  m.offsets.assign(static_cast<size_t>(num_rows) + 1, 0);
  int64_t total = 0;
  int64_t r = 0;
  for (const RowChunk& c : *chunks) {
    for (const int64_t len : c.lengths) {
      total += len;
      m.offsets[++r] = total;
    }
  }
  m.columns.reserve(total);
  m.values.reserve(total);
  for (RowChunk& c : *chunks) {
    m.columns.insert(m.columns.end(), c.columns.begin(), c.columns.end());
    m.values.insert(m.values.end(), c.values.begin(), c.values.end());
    c = RowChunk();  // Free as we go: keeps the peak near one copy.
  }
  return m;
}

constexpr int64_t kChunkRows = 128;

}  // namespace

SparseRows KReciprocalEncoding(const int32_t* rank, int64_t num_rows, int rank_cols, const EncodingParams& params,
                               const PairDistanceFn& distance) {
  if (params.forward_len < 1 || params.half_len < 1 || params.k2 < 1) {
    throw std::invalid_argument("KReciprocalEncoding: forward_len, half_len and k2 must be >= 1");
  }
  if (rank_cols < std::max({params.forward_len, params.half_len, params.k2})) {
    throw std::invalid_argument("KReciprocalEncoding: the neighbour lists have " + std::to_string(rank_cols) +
                                " columns; need max(forward_len, half_len, k2) = " +
                                std::to_string(std::max({params.forward_len, params.half_len, params.k2})));
  }
  for (int64_t e = 0; e < num_rows * rank_cols; ++e) {
    if (rank[e] < 0 || rank[e] >= num_rows) {
      throw std::invalid_argument("KReciprocalEncoding: neighbour index " + std::to_string(rank[e]) + " in row " +
                                  std::to_string(e / rank_cols) + " is outside [0, " + std::to_string(num_rows) +
                                  ")");
    }
  }
  const int64_t num_chunks = (num_rows + kChunkRows - 1) / kChunkRows;

  // R(c, m_half) for every c: CSR of sorted sets, so the 2/3 test is a sorted intersection.
  SparseRows half;
  {
    std::vector<RowChunk> chunks(num_chunks);
    ParallelFor(num_chunks, params.num_threads, 1, [&](int64_t begin, int64_t end, int) {
      std::vector<int32_t> set;
      for (int64_t c = begin; c < end; ++c) {
        RowChunk& chunk = chunks[c];
        for (int64_t i = c * kChunkRows; i < std::min(num_rows, (c + 1) * kChunkRows); ++i) {
          ReciprocalSet(rank, rank_cols, i, params.half_len, &set);
          std::sort(set.begin(), set.end());
          chunk.lengths.push_back(static_cast<int64_t>(set.size()));
          chunk.columns.insert(chunk.columns.end(), set.begin(), set.end());
        }
        chunk.values.assign(chunk.columns.size(), 0.f);
      }
    });
    half = Stitch(num_rows, num_rows, &chunks);
  }

  // V[i, E_i] = softmax(-dist(i, E_i)).
  SparseRows v;
  {
    std::vector<RowChunk> chunks(num_chunks);
    ParallelFor(num_chunks, params.num_threads, 1, [&](int64_t begin, int64_t end, int) {
      std::vector<int32_t> full;
      std::vector<int32_t> sorted_full;
      std::vector<int32_t> expanded;
      std::vector<double> dist;
      for (int64_t c = begin; c < end; ++c) {
        RowChunk& chunk = chunks[c];
        for (int64_t i = c * kChunkRows; i < std::min(num_rows, (c + 1) * kChunkRows); ++i) {
          ReciprocalSet(rank, rank_cols, i, params.forward_len, &full);
          sorted_full = full;
          std::sort(sorted_full.begin(), sorted_full.end());
          expanded = full;
          for (const int32_t cand : full) {
            const int32_t* h_begin = half.columns.data() + half.offsets[cand];
            const int32_t* h_end = half.columns.data() + half.offsets[cand + 1];
            int64_t common = 0;
            for (const int32_t* a = h_begin; a != h_end; ++a) {
              common += std::binary_search(sorted_full.begin(), sorted_full.end(), *a) ? 1 : 0;
            }
            // Same double expression as the reference: len(intersect) > 2/3 * len(candidate set).
            if (static_cast<double>(common) > 2.0 / 3.0 * static_cast<double>(h_end - h_begin)) {
              expanded.insert(expanded.end(), h_begin, h_end);
            }
          }
          std::sort(expanded.begin(), expanded.end());
          expanded.erase(std::unique(expanded.begin(), expanded.end()), expanded.end());
          dist.assign(expanded.size(), 0.0);
          distance(i, expanded, &dist);
          double lowest = 0;
          for (size_t t = 0; t < dist.size(); ++t) lowest = (t == 0) ? dist[t] : std::min(lowest, dist[t]);
          double total = 0;
          for (double& d : dist) {
            d = std::exp(lowest - d);  // softmax(-d), shifted for stability; the ratio is unchanged.
            total += d;
          }
          chunk.lengths.push_back(static_cast<int64_t>(expanded.size()));
          chunk.columns.insert(chunk.columns.end(), expanded.begin(), expanded.end());
          for (const double d : dist) chunk.values.push_back(static_cast<float>(d / total));
        }
      }
    });
    v = Stitch(num_rows, num_rows, &chunks);
  }
  if (params.k2 == 1) return v;

  // V_qe[i] = mean of V[rank[i][:k2]]: merge k2 sparse rows through a dense scratch row per worker.
  const int threads = ResolveThreads(params.num_threads);
  std::vector<std::vector<double>> scratch(threads);
  std::vector<std::vector<int32_t>> touched(threads);
  std::vector<RowChunk> chunks(num_chunks);
  ParallelFor(num_chunks, params.num_threads, 1, [&](int64_t begin, int64_t end, int worker) {
    std::vector<double>& acc = scratch[worker];
    std::vector<int32_t>& seen = touched[worker];
    if (acc.empty()) acc.assign(num_rows, 0.0);
    for (int64_t c = begin; c < end; ++c) {
      RowChunk& chunk = chunks[c];
      for (int64_t i = c * kChunkRows; i < std::min(num_rows, (c + 1) * kChunkRows); ++i) {
        seen.clear();
        for (int a = 0; a < params.k2; ++a) {
          const int32_t r = rank[i * rank_cols + a];
          for (int64_t e = v.offsets[r]; e < v.offsets[r + 1]; ++e) {
            if (acc[v.columns[e]] == 0.0) seen.push_back(v.columns[e]);
            acc[v.columns[e]] += v.values[e];
          }
        }
        std::sort(seen.begin(), seen.end());
        chunk.lengths.push_back(static_cast<int64_t>(seen.size()));
        for (const int32_t col : seen) {
          chunk.columns.push_back(col);
          chunk.values.push_back(static_cast<float>(acc[col] / params.k2));
          acc[col] = 0.0;
        }
      }
    }
  });
  return Stitch(num_rows, num_rows, &chunks);
}

JaccardAccumulator::JaccardAccumulator(int64_t num_rows) : sums_(num_rows, 0.0) {}

void JaccardAccumulator::Row(const SparseRows& v, const SparseRows& v_transposed, int64_t i,
                             std::vector<int32_t>* cols, std::vector<float>* distances) {
  touched_.clear();
  for (int64_t e = v.offsets[i]; e < v.offsets[i + 1]; ++e) {
    const int32_t k = v.columns[e];
    const float vik = v.values[e];
    for (int64_t f = v_transposed.offsets[k]; f < v_transposed.offsets[k + 1]; ++f) {
      const int32_t j = v_transposed.columns[f];
      const float vjk = v_transposed.values[f];
      // V entries are softmax weights, strictly positive, so a zero sum means "not touched yet".
      if (sums_[j] == 0.0) touched_.push_back(j);
      sums_[j] += std::min(vik, vjk);
    }
  }
  std::sort(touched_.begin(), touched_.end());
  cols->assign(touched_.begin(), touched_.end());
  distances->resize(touched_.size());
  for (size_t t = 0; t < touched_.size(); ++t) {
    const double s = sums_[touched_[t]];
    sums_[touched_[t]] = 0.0;
    (*distances)[t] = static_cast<float>(std::max(0.0, 1.0 - s / (2.0 - s)));
  }
}

SparseRows KReciprocalJaccard(const float* features, int64_t num_rows, int64_t dim, const KnnGraph& knn,
                              const JaccardParams& params, JaccardTimes* times) {
  if (params.k1 < 1 || params.k2 < 1 || params.k2 > params.k1) {
    throw std::invalid_argument("KReciprocalJaccard: need 1 <= k2 <= k1, got k1 = " + std::to_string(params.k1) +
                                ", k2 = " + std::to_string(params.k2));
  }
  if (knn.num_rows != num_rows || knn.k < params.k1) {
    throw std::invalid_argument("KReciprocalJaccard: the kNN graph has " + std::to_string(knn.num_rows) + " x " +
                                std::to_string(knn.k) + " entries; need " + std::to_string(num_rows) + " x k1 = " +
                                std::to_string(params.k1));
  }
  const auto start = std::chrono::steady_clock::now();
  // Reference §6: initial_rank has exactly k1 columns, so R(i, k1) sees k1 entries and
  // R(c, round(k1/2)) sees round(k1/2) + 1 (np.around rounds half to even, as nearbyint does).
  EncodingParams enc;
  enc.forward_len = params.k1;
  enc.half_len = std::min(params.k1, static_cast<int>(std::nearbyint(params.k1 / 2.0)) + 1);
  enc.k2 = params.k2;
  enc.num_threads = params.num_threads;
  const auto distance = [&](int64_t i, const std::vector<int32_t>& cols, std::vector<double>* dist) {
    const float* xi = features + i * dim;
    for (size_t t = 0; t < cols.size(); ++t) {
      const float* xj = features + static_cast<int64_t>(cols[t]) * dim;
      float dot[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      int64_t d = 0;
      for (; d + 8 <= dim; d += 8) {
        for (int l = 0; l < 8; ++l) dot[l] += xi[d + l] * xj[d + l];
      }
      double total = 0;
      for (; d < dim; ++d) total += static_cast<double>(xi[d]) * xj[d];
      for (int l = 0; l < 8; ++l) total += dot[l];
      (*dist)[t] = 2.0 - 2.0 * total;  // Squared distance of unit vectors, as the reference computes it.
    }
  };
  // Build a contiguous k1-column rank table when the graph holds more neighbours than k1.
  std::vector<int32_t> trimmed;
  const int32_t* rank = knn.indices.data();
  if (knn.k != params.k1) {
    trimmed.resize(static_cast<size_t>(num_rows) * params.k1);
    for (int64_t i = 0; i < num_rows; ++i) {
      std::copy(knn.row(i), knn.row(i) + params.k1, trimmed.begin() + i * params.k1);
    }
    rank = trimmed.data();
  }
  const SparseRows v = KReciprocalEncoding(rank, num_rows, params.k1, enc, distance);
  if (times != nullptr) {
    times->encoding_seconds = Seconds(start);
    times->encoding_nonzeros = v.nnz();
  }

  const auto jaccard_start = std::chrono::steady_clock::now();
  const SparseRows vt = Transpose(v);
  const int threads = ResolveThreads(params.num_threads);
  std::vector<JaccardAccumulator> accumulators;
  accumulators.reserve(threads);
  for (int t = 0; t < threads; ++t) accumulators.emplace_back(num_rows);
  const int64_t num_chunks = (num_rows + kChunkRows - 1) / kChunkRows;
  std::vector<RowChunk> chunks(num_chunks);
  ParallelFor(num_chunks, params.num_threads, 1, [&](int64_t begin, int64_t end, int worker) {
    std::vector<int32_t> cols;
    std::vector<float> dists;
    for (int64_t c = begin; c < end; ++c) {
      RowChunk& chunk = chunks[c];
      for (int64_t i = c * kChunkRows; i < std::min(num_rows, (c + 1) * kChunkRows); ++i) {
        accumulators[worker].Row(v, vt, i, &cols, &dists);
        chunk.lengths.push_back(static_cast<int64_t>(cols.size()));
        chunk.columns.insert(chunk.columns.end(), cols.begin(), cols.end());
        chunk.values.insert(chunk.values.end(), dists.begin(), dists.end());
      }
    }
  });
  SparseRows jaccard = Stitch(num_rows, num_rows, &chunks);
  if (times != nullptr) times->jaccard_seconds = Seconds(jaccard_start);
  return jaccard;
}

}  // namespace gcl::clustering
