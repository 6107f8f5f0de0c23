// SparseRows: a compressed-sparse-row float matrix, the O(N k) storage of k-reciprocal encodings (V) and of
// Jaccard distances. What an absent entry means is the owner's convention: 0 for V, exactly 1 for a Jaccard
// distance (no shared k-reciprocal neighbour, d_J = 1 - 0 / (2 - 0)).
#ifndef GCL_CLUSTERING_SPARSE_ROWS_H_
#define GCL_CLUSTERING_SPARSE_ROWS_H_

#include <algorithm>
#include <cstdint>
#include <vector>

namespace gcl::clustering {

struct SparseRows {
  int64_t num_rows = 0;
  int64_t num_cols = 0;
  std::vector<int64_t> offsets{0};  // num_rows + 1 entries; row r is [offsets[r], offsets[r + 1]).
  std::vector<int32_t> columns;     // Ascending within each row.
  std::vector<float> values;

  int64_t nnz() const { return static_cast<int64_t>(columns.size()); }

  // The stored value at (row, col), or `absent` when the entry is not stored.
  float At(int64_t row, int64_t col, float absent) const {
    const auto first = columns.begin() + offsets[row];
    const auto last = columns.begin() + offsets[row + 1];
    const auto it = std::lower_bound(first, last, static_cast<int32_t>(col));
    return (it != last && *it == col) ? values[it - columns.begin()] : absent;
  }

  // Bytes held by the three arrays (for memory statistics).
  int64_t bytes() const {
    return static_cast<int64_t>(offsets.size() * sizeof(int64_t) + columns.size() * sizeof(int32_t) +
                                values.size() * sizeof(float));
  }
};

// The transpose (CSC view of `m` as CSR), columns ascending within each row.
inline SparseRows Transpose(const SparseRows& m) {
  SparseRows t;
  t.num_rows = m.num_cols;
  t.num_cols = m.num_rows;
  t.offsets.assign(static_cast<size_t>(m.num_cols) + 1, 0);
  for (const int32_t c : m.columns) ++t.offsets[c + 1];
  for (int64_t c = 0; c < m.num_cols; ++c) t.offsets[c + 1] += t.offsets[c];
  t.columns.resize(m.columns.size());
  t.values.resize(m.values.size());
  std::vector<int64_t> cursor(t.offsets.begin(), t.offsets.end() - 1);
  for (int64_t r = 0; r < m.num_rows; ++r) {  // Rows in ascending order keep each transposed row sorted.
    for (int64_t e = m.offsets[r]; e < m.offsets[r + 1]; ++e) {
      const int64_t slot = cursor[m.columns[e]]++;
      t.columns[slot] = static_cast<int32_t>(r);
      t.values[slot] = m.values[e];
    }
  }
  return t;
}

}  // namespace gcl::clustering

#endif  // GCL_CLUSTERING_SPARSE_ROWS_H_
