// Exact k-nearest neighbours by squared Euclidean distance, blocked so only a block_rows x N slab of distances
// exists at a time (N = 32,621 MSMT17 train images fit easily; the dense N x N matrix would not).
//
//   const KnnGraph g = ExactKnn(features, features, /*k=*/30);   // self-kNN: row i starts with i itself
//
// Each block is one matrix product on the tensors' device (torch::mm through OpenBLAS on CPU), then a top-k.
// Ties between equal distances are broken by torch::topk, i.e. unspecified (faiss, used by the reference, does not
// promise an order either). For L2-normalised rows the distances are 2 - 2 cos, the reference's metric (§6).
#ifndef GCL_CLUSTERING_KNN_H_
#define GCL_CLUSTERING_KNN_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "clustering/knn_graph.h"

namespace gcl::clustering {

struct KnnOptions {
  int64_t block_rows = 1024;  // Query rows per matrix product; memory is block_rows x base rows floats.
};

// query: Q x D, base: N x D, float32, same device. Returns Q x k neighbours of each query among base rows,
// nearest first, with their squared distances and each row's largest distance. Throws std::invalid_argument on
// bad shapes, dtypes or k outside [1, N].
KnnGraph ExactKnn(const at::Tensor& query, const at::Tensor& base, int k, const KnnOptions& options = {});

}  // namespace gcl::clustering

#endif  // GCL_CLUSTERING_KNN_H_
