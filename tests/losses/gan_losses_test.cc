// GAN losses against naive double-precision loops, the reference's 3-call D loss, and finite differences.
#include "losses/gan_losses.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "tests/losses/gradient_check.h"

namespace gcl::losses {
namespace {

constexpr int64_t kBatch = 3;
constexpr int64_t kFeatures = 2 * 3 * 2;          // C x H x W of the toy images
const std::vector<int64_t> kPatches = {6, 3, 2};  // outputs per scale, like D's shrinking patch maps

// A toy 3-scale discriminator whose input gradient has a closed form: D_s(x) = tanh(flatten(x) W_s), shaped
// B x 1 x P_s x 1 like a patch map. tanh makes the R1 penalty depend on W non-quadratically.
struct ToyDiscriminator {
  std::vector<torch::Tensor> w;
  ToyDiscriminator() {
    for (int64_t p : kPatches) w.push_back((0.4 * torch::randn({kFeatures, p}, torch::kDouble)).requires_grad_());
  }
  std::vector<torch::Tensor> operator()(const torch::Tensor& x) const {
    std::vector<torch::Tensor> out;
    for (const torch::Tensor& ws : w)
      out.push_back(torch::tanh(torch::mm(x.reshape({x.size(0), -1}), ws)).reshape({x.size(0), 1, -1, 1}));
    return out;
  }
};

torch::Tensor ToyImages(int64_t batch) { return torch::randn({batch, 2, 3, 2}, torch::kDouble); }

// z[b][p] = sum_j x[b][j] W[j][p], in loops.
std::vector<std::vector<double>> NaivePre(const torch::Tensor& x, const torch::Tensor& w) {
  const torch::Tensor xf = x.reshape({x.size(0), -1});
  std::vector<std::vector<double>> z(x.size(0), std::vector<double>(w.size(1), 0.0));
  for (int64_t b = 0; b < x.size(0); ++b)
    for (int64_t p = 0; p < w.size(1); ++p)
      for (int64_t j = 0; j < w.size(0); ++j) z[b][p] += xf[b][j].item<double>() * w[j][p].item<double>();
  return z;
}

// sum over scales of mean((D_s - target)^2), in loops.
double NaiveSquaredError(const ToyDiscriminator& d, const torch::Tensor& x, double target) {
  double total = 0.0;
  for (const torch::Tensor& w : d.w) {
    const auto z = NaivePre(x, w);
    double sum = 0.0;
    for (const auto& row : z)
      for (double v : row) sum += (std::tanh(v) - target) * (std::tanh(v) - target);
    total += sum / (x.size(0) * w.size(1));
  }
  return total;
}

// sum over scales of R1_s = mean_b sum_j (sum_p (1 - tanh(z_bp)^2) W[j][p])^2, in loops.
double NaiveR1Sum(const ToyDiscriminator& d, const torch::Tensor& x) {
  double total = 0.0;
  for (const torch::Tensor& w : d.w) {
    const auto z = NaivePre(x, w);
    double sum = 0.0;
    for (int64_t b = 0; b < x.size(0); ++b) {
      for (int64_t j = 0; j < w.size(0); ++j) {
        double g = 0.0;
        for (int64_t p = 0; p < w.size(1); ++p) {
          const double t = std::tanh(z[b][p]);
          g += (1 - t * t) * w[j][p].item<double>();
        }
        sum += g * g;
      }
    }
    total += sum / x.size(0);
  }
  return total;
}

TEST(L1ToDetached, MatchesLoopAndStopsTargetGradient) {
  torch::manual_seed(1);
  const torch::Tensor pred = torch::randn({2, 3, 4}, torch::kDouble).requires_grad_();
  const torch::Tensor target = torch::randn({2, 3, 4}, torch::kDouble).requires_grad_();
  double naive = 0.0;
  for (int64_t i = 0; i < pred.numel(); ++i)
    naive += std::abs(pred.view({-1})[i].item<double>() - target.view({-1})[i].item<double>());
  naive /= pred.numel();
  const torch::Tensor loss = L1ToDetached(pred, target);
  EXPECT_NEAR(loss.item<double>(), naive, 1e-12);
  loss.backward();
  EXPECT_FALSE(target.grad().defined());
  EXPECT_LT(gcl::testing::MaxGradientError([&] { return L1ToDetached(pred, target); }, pred), 1e-6);
}

TEST(L1ToDetached, RejectsShapeMismatchNamingShapes) {
  try {
    L1ToDetached(torch::zeros({2, 3}), torch::zeros({3, 2}));
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
}

TEST(DiscriminatorRealLoss, MatchesNaiveLoopsWithR1) {
  torch::manual_seed(2);
  ToyDiscriminator d;
  const torch::Tensor real = ToyImages(kBatch).requires_grad_();
  const DiscriminatorRealTerms terms = DiscriminatorRealLoss(d(real), real, /*real_weight=*/3.0, /*r1_weight=*/0.01);
  const double adversarial = 3.0 * NaiveSquaredError(d, real, 1.0);
  const double r1 = 3.0 * 0.01 * NaiveR1Sum(d, real);
  EXPECT_NEAR(terms.adversarial.item<double>(), adversarial, 1e-12);
  EXPECT_NEAR(terms.r1.item<double>(), r1, 1e-12);
  EXPECT_NEAR(terms.total.item<double>(), adversarial + r1, 1e-12);
  EXPECT_GT(r1, 0.0);
}

TEST(DiscriminatorFakeAndGeneratorLoss, MatchNaiveLoopsOverConcatenatedFakes) {
  torch::manual_seed(3);
  ToyDiscriminator d;
  const std::vector<torch::Tensor> fakes = {ToyImages(kBatch), ToyImages(kBatch), ToyImages(kBatch)};
  const std::vector<torch::Tensor> out = d(torch::cat(fakes));
  double naive_d = 0.0;
  double naive_g = 0.0;
  for (const torch::Tensor& f : fakes) {
    naive_d += NaiveSquaredError(d, f, 0.0);
    naive_g += 2.0 * NaiveSquaredError(d, f, 1.0);
  }
  EXPECT_NEAR(DiscriminatorFakeLoss(out, 3).item<double>(), naive_d, 1e-12);
  EXPECT_NEAR(GeneratorAdversarialLoss(out, 3).item<double>(), naive_g, 1e-12);
}

// The reference sums Dloss(fake_k, real) over the 3 fakes, re-running D on the real batch and R1 each time.
// One real pass with real_weight 3 must give the same value and the same gradients on D's weights.
TEST(DiscriminatorLoss, OneRealPassEqualsReferenceThreeCalls) {
  torch::manual_seed(4);
  ToyDiscriminator d;
  const torch::Tensor x = ToyImages(kBatch);
  const std::vector<torch::Tensor> fakes = {ToyImages(kBatch), ToyImages(kBatch), ToyImages(kBatch)};

  torch::Tensor reference = torch::zeros({}, torch::kDouble);
  for (const torch::Tensor& fake : fakes) {
    const torch::Tensor real = x.clone().requires_grad_();
    const std::vector<torch::Tensor> d_fake = d(fake);
    const std::vector<torch::Tensor> d_real = d(real);
    for (size_t s = 0; s < d_fake.size(); ++s) {
      reference =
          reference + d_fake[s].pow(2).mean() + (d_real[s] - 1).pow(2).mean() + 0.01 * R1Penalty(d_real[s], real);
    }
  }
  const std::vector<torch::Tensor> ref_grads = torch::autograd::grad({reference}, d.w);

  const torch::Tensor real = x.clone().requires_grad_();
  const torch::Tensor ours =
      DiscriminatorFakeLoss(d(torch::cat(fakes)), 3) + DiscriminatorRealLoss(d(real), real).total;
  const std::vector<torch::Tensor> our_grads = torch::autograd::grad({ours}, d.w);
  EXPECT_NEAR(ours.item<double>(), reference.item<double>(), 1e-12);
  for (size_t s = 0; s < d.w.size(); ++s) EXPECT_TRUE(torch::allclose(our_grads[s], ref_grads[s], 1e-10, 1e-12));
}

TEST(GanLossGradients, FiniteDifferencesIncludingR1DoubleBackward) {
  torch::manual_seed(5);
  ToyDiscriminator d;
  const torch::Tensor x = ToyImages(kBatch);
  const torch::Tensor fake = ToyImages(2 * kBatch).requires_grad_();
  // R1 alone w.r.t. D's weights: needs the double backward through create_graph.
  for (size_t s = 0; s < d.w.size(); ++s) {
    const auto r1 = [&] {
      const torch::Tensor real = x.clone().requires_grad_();
      return R1Penalty(d(real)[s], real);
    };
    EXPECT_LT(gcl::testing::MaxGradientError(r1, d.w[s]), 1e-6) << "scale " << s;
  }
  const auto d_loss = [&] {
    const torch::Tensor real = x.clone().requires_grad_();
    return DiscriminatorFakeLoss(d(fake.detach()), 2) + DiscriminatorRealLoss(d(real), real).total;
  };
  EXPECT_LT(gcl::testing::MaxGradientError(d_loss, d.w[1]), 1e-6);
  // The generator's term w.r.t. the fake images (the path into G).
  EXPECT_LT(gcl::testing::MaxGradientError([&] { return GeneratorAdversarialLoss(d(fake), 2); }, fake), 1e-6);
}

TEST(GanLosses, RejectBadInputs) {
  const std::vector<torch::Tensor> out = {torch::zeros({4, 1, 2, 1})};
  EXPECT_THROW(DiscriminatorFakeLoss(out, 3), std::runtime_error);
  EXPECT_THROW(GeneratorAdversarialLoss({}, 1), std::runtime_error);
  const torch::Tensor no_grad = torch::zeros({2, 3});
  EXPECT_THROW(R1Penalty(no_grad.sum(), no_grad), std::runtime_error);
}

}  // namespace
}  // namespace gcl::losses
