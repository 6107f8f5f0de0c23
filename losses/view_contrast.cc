#include "losses/view_contrast.h"

#include <sstream>
#include <stdexcept>
#include <string>

namespace gcl::losses {
namespace {

namespace F = torch::nn::functional;

std::string ShapeString(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

void CheckLabels(const torch::Tensor& labels, int64_t n, const char* where) {
  if (!labels.defined() || labels.dim() != 1 || labels.size(0) != n) {
    throw std::runtime_error(std::string(where) + ": labels must be a 1-D tensor of " + std::to_string(n) +
                             " entries (one per memory row), got " +
                             (labels.defined() ? ShapeString(labels) : std::string("undefined")));
  }
  if (labels.scalar_type() != torch::kLong) throw std::runtime_error(std::string(where) + ": labels must be int64");
  if (n > 0 && labels.min().item<int64_t>() < -1) {
    throw std::runtime_error(std::string(where) + ": labels must be >= -1 (-1 marks an outlier), found " +
                             std::to_string(labels.min().item<int64_t>()));
  }
}

void CheckEmbeddings(const torch::Tensor& f, const torch::Tensor& memory, const char* name, const char* where) {
  if (f.dim() != 2 || f.size(1) != memory.size(1)) {
    throw std::runtime_error(std::string(where) + ": " + name + " must be B x " + std::to_string(memory.size(1)) +
                             " (the memory width), got " + ShapeString(f));
  }
}

// The losses multiply the embeddings with the memory: both must be on one device (a bank built from CPU features
// while the networks train on a GPU fails here, with the names of both devices).
void CheckSameDevice(const torch::Tensor& f, const torch::Tensor& memory, const char* name, const char* where) {
  if (f.device() != memory.device()) {
    throw std::runtime_error(std::string(where) + ": " + name + " is on " + f.device().str() + ", the memory on " +
                             memory.device().str() + "; the memory bank must live on the training device");
  }
}

void CheckSample(const ContrastSample& s, int64_t batch, const char* where) {
  if (s.positive_generated.numel() != batch || s.positive_original.numel() != batch || s.negatives.dim() != 2 ||
      s.negatives.size(0) != batch) {
    throw std::runtime_error(std::string(where) + ": the ContrastSample was drawn for another batch size than " +
                             std::to_string(batch));
  }
}

// Batch-mean cross-entropy of [positive, negatives] / tau with the positive as the target: per anchor
// logsumexp(logits) - logits[0].
torch::Tensor InfoNce(const torch::Tensor& positive, const torch::Tensor& negatives, double temperature) {
  const torch::Tensor logits = torch::cat({positive.unsqueeze(1), negatives}, 1) / temperature;
  return (torch::logsumexp(logits, 1) - logits.select(1, 0)).mean();
}

}  // namespace

MemoryBank::MemoryBank(const torch::Tensor& features, const torch::Tensor& labels) {
  if (!features.defined() || features.dim() != 2 || features.size(0) == 0) {
    throw std::runtime_error("MemoryBank: features must be a non-empty N x D matrix, got " +
                             (features.defined() ? ShapeString(features) : std::string("undefined")));
  }
  CheckLabels(labels, features.size(0), "MemoryBank");
  torch::NoGradGuard no_grad;
  features_ = F::normalize(features.detach(), F::NormalizeFuncOptions().dim(1));
  labels_ = labels.to(features_.device(), /*non_blocking=*/false, /*copy=*/true);
}

MemoryBank MemoryBank::FromSaved(const torch::Tensor& features, const torch::Tensor& labels) {
  MemoryBank bank(features, labels);
  bank.features_ = features.detach().clone();
  return bank;
}

void MemoryBank::SetLabels(const torch::Tensor& labels) {
  CheckLabels(labels, size(), "MemoryBank::SetLabels");
  labels_ = labels.to(features_.device(), /*non_blocking=*/false, /*copy=*/true);
}

void MemoryBank::Update(const torch::Tensor& indices, const torch::Tensor& features, double alpha) {
  if (indices.dim() != 1 || features.dim() != 2 || features.size(0) != indices.size(0) || features.size(1) != dim()) {
    throw std::runtime_error("MemoryBank::Update: need B indices and B x " + std::to_string(dim()) + " features, got " +
                             ShapeString(indices) + " and " + ShapeString(features));
  }
  torch::NoGradGuard no_grad;
  const torch::Tensor idx = indices.to(torch::kCPU, torch::kLong);
  const torch::Tensor f = features.detach().to(features_.device(), features_.scalar_type());
  auto acc = idx.accessor<int64_t, 1>();
  // Row by row in batch order (B rows, not N): a row batched twice is updated twice, as the reference's loop does.
  for (int64_t b = 0; b < idx.size(0); ++b) {
    const int64_t i = acc[b];
    if (i < 0 || i >= size()) {
      throw std::runtime_error("MemoryBank::Update: index " + std::to_string(i) + " outside [0, " +
                               std::to_string(size()) + ")");
    }
    const torch::Tensor m = alpha * features_[i] + (1.0 - alpha) * f[b];
    features_[i].copy_(m / m.norm().clamp_min(1e-12));
  }
}

ContrastSample SampleContrast(const torch::Tensor& labels, const torch::Tensor& anchor_indices, int64_t num_negatives,
                              torch::Generator& rng) {
  CheckLabels(labels, labels.numel(), "SampleContrast");
  const int64_t n = labels.size(0);
  if (anchor_indices.dim() != 1) {
    throw std::runtime_error("SampleContrast: anchor_indices must be 1-D, got " + ShapeString(anchor_indices));
  }
  const torch::Device device = labels.device();
  const torch::Tensor idx = anchor_indices.to(device, torch::kLong);
  if (idx.numel() > 0 && (idx.min().item<int64_t>() < 0 || idx.max().item<int64_t>() >= n)) {
    throw std::runtime_error("SampleContrast: an anchor index lies outside the memory [0, " + std::to_string(n) + ")");
  }
  if (num_negatives < 1) throw std::runtime_error("SampleContrast: num_negatives must be >= 1");
  const torch::Tensor anchor_labels = labels.index_select(0, idx);
  if (idx.numel() > 0 && anchor_labels.min().item<int64_t>() < 0) {
    throw std::runtime_error("SampleContrast: an anchor is an outlier (label -1); outliers are never batched");
  }
  const int64_t b = idx.size(0);
  const torch::Tensor same = labels.unsqueeze(0).eq(anchor_labels.unsqueeze(1));  // B x N
  const int64_t fewest_negatives = b == 0 ? n : n - same.sum(1).max().item<int64_t>();
  if (fewest_negatives < num_negatives) {
    throw std::runtime_error("SampleContrast: an anchor has only " + std::to_string(fewest_negatives) +
                             " rows with another label, fewer than num_negatives = " + std::to_string(num_negatives));
  }
  // Uniform draws by random keys: the arg-max of iid uniform keys over the allowed rows is a uniform row, the
  // K smallest keys are a uniform K-subset. Double keys make ties negligible at N = 32,621. The keys come from the
  // CPU generator on every device (see the top of the header), then move to the labels' device.
  const auto keys = [&] {
    return torch::rand({b, n}, rng, torch::TensorOptions().dtype(torch::kDouble)).to(device);
  };
  ContrastSample s;
  s.positive_generated = keys().masked_fill_(same.logical_not(), -1.0).argmax(1);
  s.positive_original = keys().masked_fill_(same.logical_not(), -1.0).argmax(1);
  s.negatives = std::get<1>(
      keys().masked_fill_(same, 2.0).topk(num_negatives, /*dim=*/1, /*largest=*/false, /*sorted=*/false));
  return s;
}

ViewInvariantLosses ViewInvariantLoss(const torch::Tensor& f_original, const torch::Tensor& f_generated,
                                      const torch::Tensor& memory, const torch::Tensor& anchor_indices,
                                      const ContrastSample& sample, const ViewInvariantOptions& options) {
  const char* where = "ViewInvariantLoss";
  CheckEmbeddings(f_original, memory, "f_original", where);
  CheckEmbeddings(f_generated, memory, "f_generated", where);
  const int64_t b = f_original.size(0);
  if (f_generated.size(0) != b || anchor_indices.numel() != b) {
    throw std::runtime_error("ViewInvariantLoss: f_original, f_generated and anchor_indices differ in batch size");
  }
  CheckSample(sample, b, where);
  CheckSameDevice(f_original, memory, "f_original", where);
  CheckSameDevice(f_generated, memory, "f_generated", where);
  const torch::Device device = memory.device();
  const torch::Tensor m = memory.detach();
  const torch::Tensor neg = sample.negatives.to(device);
  // f_new . M^T once (B x N) and gather the K negatives: cheaper than materialising B x K x D memory rows.
  const torch::Tensor neg_generated = torch::mm(f_generated, m.t()).gather(1, neg);
  const auto row_dot = [&m, &device](const torch::Tensor& f, const torch::Tensor& rows) {
    return (f * m.index_select(0, rows.to(device))).sum(1);
  };

  ViewInvariantLosses l;
  const torch::Tensor instance_positive = options.instance_positive == InstancePositive::kMemorySlot
                                              ? row_dot(f_generated, anchor_indices)
                                              : (f_generated * f_original).sum(1);
  l.instance = InfoNce(instance_positive, neg_generated, options.temperature);
  l.cluster_generated = InfoNce(row_dot(f_generated, sample.positive_generated), neg_generated, options.temperature);
  const torch::Tensor neg_original = options.original_term_negatives == OriginalTermNegatives::kGeneratedView
                                         ? neg_generated
                                         : torch::mm(f_original, m.t()).gather(1, neg);
  l.cluster_original = InfoNce(row_dot(f_original, sample.positive_original), neg_original, options.temperature);
  l.total = l.instance + l.cluster_generated + l.cluster_original;
  return l;
}

torch::Tensor ContrastOnlyLoss(const torch::Tensor& f, const torch::Tensor& memory, const ContrastSample& sample,
                               double temperature) {
  CheckEmbeddings(f, memory, "f", "ContrastOnlyLoss");
  CheckSample(sample, f.size(0), "ContrastOnlyLoss");
  CheckSameDevice(f, memory, "f", "ContrastOnlyLoss");
  const torch::Tensor m = memory.detach();
  const torch::Tensor neg = torch::mm(f, m.t()).gather(1, sample.negatives.to(m.device()));
  const torch::Tensor pos = (f * m.index_select(0, sample.positive_original.to(m.device()))).sum(1);
  return InfoNce(pos, neg, temperature);
}

}  // namespace gcl::losses
