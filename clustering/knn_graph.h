// KnnGraph: the result of an exact k-nearest-neighbour search (knn.h), as plain arrays.
#ifndef GCL_CLUSTERING_KNN_GRAPH_H_
#define GCL_CLUSTERING_KNN_GRAPH_H_

#include <cstdint>
#include <vector>

namespace gcl::clustering {

struct KnnGraph {
  int64_t num_rows = 0;
  int k = 0;
  std::vector<int32_t> indices;      // num_rows x k, row-major, nearest first.
  std::vector<float> distances;      // Squared Euclidean distances, same layout.
  std::vector<float> max_distances;  // Per row: the largest squared distance to any base row.

  const int32_t* row(int64_t i) const { return indices.data() + i * k; }
};

}  // namespace gcl::clustering

#endif  // GCL_CLUSTERING_KNN_GRAPH_H_
