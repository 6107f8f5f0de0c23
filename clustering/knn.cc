#include "clustering/knn.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <tuple>

namespace gcl::clustering {
namespace {

void CheckMatrix(const at::Tensor& t, const char* name) {
  if (!t.defined() || t.dim() != 2) throw std::invalid_argument(std::string("ExactKnn: ") + name + " must be 2-D");
  if (t.scalar_type() != at::kFloat) throw std::invalid_argument(std::string("ExactKnn: ") + name + " must be float32");
}

}  // namespace

KnnGraph ExactKnn(const at::Tensor& query, const at::Tensor& base, int k, const KnnOptions& options) {
  CheckMatrix(query, "query");
  CheckMatrix(base, "base");
  if (query.size(1) != base.size(1)) {
    throw std::invalid_argument("ExactKnn: query has " + std::to_string(query.size(1)) + " columns, base has " +
                                std::to_string(base.size(1)));
  }
  if (query.device() != base.device()) throw std::invalid_argument("ExactKnn: query and base on different devices");
  const int64_t n = base.size(0);
  if (k < 1 || k > n) {
    throw std::invalid_argument("ExactKnn: k = " + std::to_string(k) + " outside [1, " + std::to_string(n) + "]");
  }
  if (n > INT32_MAX) throw std::invalid_argument("ExactKnn: more than 2^31 base rows");
  const at::Tensor q = query.contiguous();
  const at::Tensor b = base.contiguous();
  const at::Tensor bt = b.t();
  // ||q - b||^2 = ||q||^2 + ||b||^2 - 2 q.b; the ||q||^2 term does not change a row's order, so it is added to
  // the k survivors and the row maximum only.
  const at::Tensor base_sq = b.pow(2).sum(1).unsqueeze(0);

  KnnGraph g;
  g.num_rows = q.size(0);
  g.k = k;
  g.indices.resize(static_cast<size_t>(g.num_rows) * k);
  g.distances.resize(static_cast<size_t>(g.num_rows) * k);
  g.max_distances.resize(static_cast<size_t>(g.num_rows));
  const int64_t block = std::max<int64_t>(1, options.block_rows);
  for (int64_t begin = 0; begin < g.num_rows; begin += block) {
    const int64_t rows = std::min(block, g.num_rows - begin);
    const at::Tensor qb = q.narrow(0, begin, rows);
    const at::Tensor query_sq = qb.pow(2).sum(1, /*keepdim=*/true);
    const at::Tensor partial = at::addmm(base_sq.expand({rows, n}), qb, bt, /*beta=*/1, /*alpha=*/-2);
    at::Tensor values;
    at::Tensor indices;
    std::tie(values, indices) = at::topk(partial, k, /*dim=*/1, /*largest=*/false, /*sorted=*/true);
    values = (values + query_sq).clamp_min(0).cpu().contiguous();
    indices = indices.to(at::kInt).cpu().contiguous();
    const at::Tensor row_max = (std::get<0>(partial.max(1, /*keepdim=*/true)) + query_sq).cpu().contiguous();
    std::copy_n(values.data_ptr<float>(), rows * k, g.distances.begin() + begin * k);
    std::copy_n(indices.data_ptr<int32_t>(), rows * k, g.indices.begin() + begin * k);
    std::copy_n(row_max.data_ptr<float>(), rows, g.max_distances.begin() + begin);
  }
  return g;
}

}  // namespace gcl::clustering
