// The contrastive module (paper §3.2, Eq. 5-8; reference §5): the memory bank of
// L2-normalised identity embeddings with its pseudo labels, the sampling of one positive and K negatives per
// anchor by pseudo label, and the view-invariant InfoNCE losses between the original view x, the generated
// view x'_new and the memory.
//
//   MemoryBank bank(features /*N x 512*/, labels /*N, DBSCAN labels with -1 for outliers*/);
//   torch::Generator rng = at::make_generator<at::CPUGeneratorImpl>(/*seed=*/1);
//   ContrastSample s = SampleContrast(bank.labels(), index, /*num_negatives=*/8192, rng);
//   ViewInvariantLosses l = ViewInvariantLoss(f, f_new, bank.features(), index, s, {});
//   l.total.backward();
//   bank.Update(index, f);  // after the loss: the loss uses the memory before this step's update
//
// f and f_new must be L2-normalised (the reference normalises the BN-neck output before the loss).
//
// Devices: a bank lives on the device of the features it is built from, labels included; the embeddings given to
// the losses must be on that device too (a clear error says otherwise). The random draws of SampleContrast come
// from a CPU generator on every device, so that a run draws the same positives and negatives on a CPU and on a GPU
// and its checkpoints hold one kind of generator state; the draws then move to the labels' device, where the
// positives and negatives are picked.
//
// The three terms, named by what they contrast (the reference's order; the paper numbers them differently):
//   instance          CE([f_new.M[idx], f_new.M[neg_1..K]] / tau)   paper Eq. 7 with the anchor's own memory slot
//                                                                   standing in for f (reference code)
//   cluster_generated CE([f_new.M[pos], f_new.M[neg_1..K]] / tau)   paper Eq. 8
//   cluster_original  CE([f.M[pos'],    f_new.M[neg_1..K]] / tau)   paper Eq. 6: the positive comes from f, the
//                                                                   negatives from f_new, as in the paper and code
// pos and pos' are two independent draws of a memory row with the anchor's pseudo label (possibly the anchor's
// own row); the K negatives are drawn uniformly without replacement among rows with another label, outliers
// (-1) included, and are shared by the three terms.
#ifndef GCL_LOSSES_VIEW_CONTRAST_H_
#define GCL_LOSSES_VIEW_CONTRAST_H_

#include <torch/torch.h>

#include <cstdint>

namespace gcl::losses {

// N x D memory of L2-normalised embeddings plus one pseudo label per row (reference §5).
class MemoryBank {
 public:
  // `features`: N x D (any float dtype), L2-normalised on entry (reference: stage-3 init from eval-mode features,
  // normalised again); the bank lives on their device. `labels`: N int64 on any device (moved to the bank's),
  // values >= -1 (-1 = DBSCAN outlier). Throws std::runtime_error naming the argument when shapes or values are
  // wrong.
  MemoryBank(const torch::Tensor& features, const torch::Tensor& labels);

  // A bank exactly as an earlier one stood (its features() and labels(), e.g. read back from a checkpoint): the
  // rows are taken as they are, not normalised again, because normalising moves unit rows by an ulp and a resumed
  // run would drift from the uninterrupted one. Same checks as the constructor.
  static MemoryBank FromSaved(const torch::Tensor& features, const torch::Tensor& labels);

  // New pseudo labels (start of every stage-3 epoch), moved to the bank's device. Same rules as the
  // constructor's `labels`.
  void SetLabels(const torch::Tensor& labels);

  // Paper Eq. 5 / reference §5: m_i <- normalize(alpha * m_i + (1 - alpha) * f_b) for every i = indices[b], in
  // batch order, without autograd. `features` are the ORIGINAL view's normalised embeddings (B x D, moved to the
  // bank's device); only the batched rows change, so outliers (never batched) stay stale as in the reference.
  // alpha = 0.2 (§5). `indices` may live on any device.
  void Update(const torch::Tensor& indices, const torch::Tensor& features, double alpha = 0.2);

  const torch::Tensor& features() const { return features_; }
  const torch::Tensor& labels() const { return labels_; }
  int64_t size() const { return features_.size(0); }
  int64_t dim() const { return features_.size(1); }

 private:
  torch::Tensor features_;  // N x D, rows of unit norm
  torch::Tensor labels_;    // N int64, on the features' device
};

// The memory rows one batch contrasts against. All int64, on the device of the labels they were drawn from.
struct ContrastSample {
  torch::Tensor positive_generated;  // B: a row with the anchor's label, for the f_new positive
  torch::Tensor positive_original;   // B: an independent draw, for the f positive (and L_vi^woGAN)
  torch::Tensor negatives;           // B x K: distinct rows with another label (outliers included)
};

// Draws positives uniformly among rows sharing the anchor's label (the anchor's own row included) and K
// negatives uniformly without replacement among rows with a different label, for every anchor row index in
// `anchor_indices` (B, int64). Vectorised over the whole bank: random keys B x N, a masked argmax per positive
// and a masked top-K per batch, no per-row loops. `labels` is the bank's label vector; `rng` a CPU
// generator, so equal seeds give equal samples on every device: the random keys are drawn on the CPU and moved to
// the labels' device, where the rows are picked (`labels` may live on any device, `anchor_indices` too). Throws
// std::runtime_error when an anchor index is out of range, an anchor is an outlier (-1; the reference never
// batches outliers), or fewer than K negatives exist.
ContrastSample SampleContrast(const torch::Tensor& labels, const torch::Tensor& anchor_indices, int64_t num_negatives,
                              torch::Generator& rng);

// Which similarities give the K negative logits of the cluster_original term.
enum class OriginalTermNegatives {
  kGeneratedView,  // f_new . M[neg] (reference code and paper Eq. 6)
  kOriginalView,   // f . M[neg]: the alternative the paper tested and rejected ("another possibility", paper §3.2)
};

// What the instance term's positive is.
enum class InstancePositive {
  kMemorySlot,       // f_new . M[idx] (reference code)
  kOriginalFeature,  // f_new . f, with gradients into both views (paper Eq. 7 as written)
};

// The paper's contrastive settings (paper §4.2, reference §5): the library's defaults, the joint step's and the
// stage-1 step's. A run's values come from its RunConfig, whose zero fields fall back to the same numbers.
inline constexpr double kDefaultTemperature = 0.04;  // tau
inline constexpr int64_t kDefaultNumNegatives = 8192;  // K

struct ViewInvariantOptions {
  double temperature = kDefaultTemperature;
  int64_t num_negatives = kDefaultNumNegatives;
  OriginalTermNegatives original_term_negatives = OriginalTermNegatives::kGeneratedView;
  InstancePositive instance_positive = InstancePositive::kMemorySlot;
};

struct ViewInvariantLosses {
  torch::Tensor instance;
  torch::Tensor cluster_generated;
  torch::Tensor cluster_original;
  torch::Tensor total;  // the sum (reference memory_id_w = 1 for the whole sum)
};

// The three view-invariant losses, each a batch-mean cross-entropy with the positive at logit 0. No gradient
// reaches `memory` (the reference contrasts against a clone). Throws std::runtime_error on shape mismatches and
// when the embeddings and the memory are on different devices.
ViewInvariantLosses ViewInvariantLoss(const torch::Tensor& f_original, const torch::Tensor& f_generated,
                                      const torch::Tensor& memory, const torch::Tensor& anchor_indices,
                                      const ContrastSample& sample, const ViewInvariantOptions& options);

// L_vi^woGAN, the "contrast only" ablation (paper Tab. 3): CE([f.M[pos'], f.M[neg_1..K]] / tau) averaged over
// the batch, with pos' = sample.positive_original. `f` is the normalised embedding of the view the caller
// feeds E_id: the original image (row "L_vi^woGAN") or a traditionally augmented one (row "+ TDA"). There is
// no generated view, so the negatives are anchored at f itself.
// (For the three-term loss with a traditional view instead of the generated one, pass E_id(TDA(x))'s normalised
// embedding as `f_generated` to ViewInvariantLoss.)
torch::Tensor ContrastOnlyLoss(const torch::Tensor& f, const torch::Tensor& memory, const ContrastSample& sample,
                               double temperature = kDefaultTemperature);

}  // namespace gcl::losses

#endif  // GCL_LOSSES_VIEW_CONTRAST_H_
