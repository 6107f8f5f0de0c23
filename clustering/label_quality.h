// How well pseudo labels agree with true identities, for diagnosis only: training never sees the true labels.
// Unsupervised runs on data whose identities are known (the synthetic worlds, or a benchmark's train split) log
// it per clustering pass, so a run that does not improve shows whether its pseudo labels were the problem.
//
// Pairwise counting over samples: a "predicted pair" is two samples in the same cluster (outliers, label < 0,
// pair with nobody), a "true pair" two samples of the same identity.
//   precision = true pairs among predicted pairs   (cluster purity, pair-weighted)
//   recall    = predicted pairs among true pairs   (how much of each identity ends up together)
//
//   clustering::LabelQuality q = clustering::PairwiseLabelQuality(pseudo_labels, true_ids);
//   // q.precision, q.recall, q.f1 (NaN when there is no predicted / true pair), q.clustered_fraction
#ifndef GCL_CLUSTERING_LABEL_QUALITY_H_
#define GCL_CLUSTERING_LABEL_QUALITY_H_

#include <cstdint>
#include <vector>

namespace gcl::clustering {

struct LabelQuality {
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  double clustered_fraction = 0;  // samples with a label >= 0
  int64_t predicted_pairs = 0;
  int64_t true_pairs = 0;
};

// `pseudo` and `truth` have one entry per sample; truth entries must be >= 0. Throws std::invalid_argument on a
// size mismatch or a negative true identity. O(n log n).
LabelQuality PairwiseLabelQuality(const std::vector<int64_t>& pseudo, const std::vector<int64_t>& truth);

}  // namespace gcl::clustering

#endif  // GCL_CLUSTERING_LABEL_QUALITY_H_
