// Memory bank math, label-respecting sampling and the view-invariant losses against naive double loops.
#include "losses/view_contrast.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <set>
#include <stdexcept>
#include <vector>

#include "tests/losses/gradient_check.h"
#include "tests/support/stand_in_device.h"

namespace gcl::losses {
namespace {

torch::Generator Rng(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

torch::Tensor Normalized(torch::Tensor x) { return x / x.norm(2, 1, true); }

// 3 clusters of sizes 4, 3, 5 and 3 outliers, interleaved.
torch::Tensor SmallLabels() { return torch::tensor({0, 1, -1, 2, 0, 2, 1, -1, 0, 2, 2, 1, 0, -1, 2}, torch::kLong); }

double Dot(const torch::Tensor& a, const torch::Tensor& b) {
  double s = 0.0;
  for (int64_t j = 0; j < a.numel(); ++j) s += a[j].item<double>() * b[j].item<double>();
  return s;
}

// -log(exp(pos/t) / (exp(pos/t) + sum_k exp(neg_k/t))), in loops.
double NaiveNce(double pos, const std::vector<double>& neg, double t) {
  double denom = std::exp(pos / t);
  for (double n : neg) denom += std::exp(n / t);
  return -(pos / t - std::log(denom));
}

TEST(MemoryBank, NormalisesOnInitAndUpdatesLikeEq5) {
  torch::manual_seed(1);
  const torch::Tensor init = torch::randn({6, 4}, torch::kDouble);
  MemoryBank bank(init, torch::tensor({0, 0, 1, 1, -1, 2}, torch::kLong));
  for (int64_t i = 0; i < 6; ++i) EXPECT_NEAR(bank.features()[i].norm().item<double>(), 1.0, 1e-12);
  const torch::Tensor before = bank.features().clone();
  const torch::Tensor f = Normalized(torch::randn({3, 4}, torch::kDouble));
  const torch::Tensor idx = torch::tensor({3, 0, 3}, torch::kLong);  // row 3 twice: sequential, like the reference
  bank.Update(idx, f, 0.2);
  // Naive: m <- (0.2 m + 0.8 f) / ||.|| per batch row in order.
  std::vector<std::vector<double>> m(6, std::vector<double>(4));
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 0; j < 4; ++j) m[i][j] = before[i][j].item<double>();
  for (int64_t b = 0; b < 3; ++b) {
    const int64_t i = idx[b].item<int64_t>();
    double norm = 0.0;
    for (int64_t j = 0; j < 4; ++j) {
      m[i][j] = 0.2 * m[i][j] + 0.8 * f[b][j].item<double>();
      norm += m[i][j] * m[i][j];
    }
    for (int64_t j = 0; j < 4; ++j) m[i][j] /= std::sqrt(norm);
  }
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t j = 0; j < 4; ++j) EXPECT_NEAR(bank.features()[i][j].item<double>(), m[i][j], 1e-12);
  // Rows never batched (the outlier row 4 among them) stay as they were.
  for (int64_t i : {1, 2, 4, 5}) EXPECT_TRUE(torch::equal(bank.features()[i], before[i]));
}

TEST(MemoryBank, FromSavedRestoresTheRowsBitForBit) {
  torch::manual_seed(2);
  MemoryBank bank(torch::randn({50, 16}), torch::randint(-1, 5, {50}, torch::kLong));
  bank.Update(torch::arange(0, 50, 3, torch::kLong), Normalized(torch::randn({17, 16})), 0.2);
  const MemoryBank restored = MemoryBank::FromSaved(bank.features(), bank.labels());
  EXPECT_TRUE(torch::equal(restored.features(), bank.features()));
  EXPECT_TRUE(torch::equal(restored.labels(), bank.labels()));
  // Its own copy: later updates of either bank leave the other alone.
  bank.Update(torch::tensor({0}, torch::kLong), Normalized(torch::randn({1, 16})), 0.2);
  EXPECT_FALSE(torch::equal(restored.features()[0], bank.features()[0]));
  EXPECT_THROW(MemoryBank::FromSaved(torch::randn({3, 2}), torch::tensor({0, 1}, torch::kLong)), std::runtime_error);
}

TEST(MemoryBank, RejectsBadInputsNamingTheProblem) {
  EXPECT_THROW(MemoryBank(torch::randn({3, 2}), torch::tensor({0, 1}, torch::kLong)), std::runtime_error);
  EXPECT_THROW(MemoryBank(torch::randn({2, 2}), torch::tensor({0, -2}, torch::kLong)), std::runtime_error);
  EXPECT_THROW(MemoryBank(torch::randn({2, 2}), torch::tensor({0, 1}, torch::kInt)), std::runtime_error);
  MemoryBank bank(torch::randn({2, 2}), torch::tensor({0, 1}, torch::kLong));
  EXPECT_THROW(bank.Update(torch::tensor({2}, torch::kLong), torch::randn({1, 2})), std::runtime_error);
  EXPECT_THROW(bank.Update(torch::tensor({0}, torch::kLong), torch::randn({1, 3})), std::runtime_error);
}

TEST(SampleContrast, RespectsLabelsAndIncludesOutliersAsNegatives) {
  const torch::Tensor labels = SmallLabels();
  const torch::Tensor anchors = torch::tensor({0, 1, 3, 8, 5}, torch::kLong);
  torch::Generator rng = Rng(7);
  std::set<int64_t> outliers_seen;
  std::set<int64_t> positives_of_anchor0;
  for (int draw = 0; draw < 200; ++draw) {
    const ContrastSample s = SampleContrast(labels, anchors, /*num_negatives=*/6, rng);
    ASSERT_EQ(s.negatives.sizes(), torch::IntArrayRef({5, 6}));
    for (int64_t b = 0; b < anchors.numel(); ++b) {
      const int64_t label = labels[anchors[b]].item<int64_t>();
      EXPECT_EQ(labels[s.positive_generated[b]].item<int64_t>(), label);
      EXPECT_EQ(labels[s.positive_original[b]].item<int64_t>(), label);
      std::set<int64_t> distinct;
      for (int64_t k = 0; k < 6; ++k) {
        const int64_t j = s.negatives[b][k].item<int64_t>();
        EXPECT_NE(labels[j].item<int64_t>(), label);
        distinct.insert(j);
        if (labels[j].item<int64_t>() == -1) outliers_seen.insert(j);
      }
      EXPECT_EQ(distinct.size(), 6u) << "negatives are drawn without replacement";
    }
    positives_of_anchor0.insert(s.positive_generated[0].item<int64_t>());
  }
  EXPECT_EQ(outliers_seen, (std::set<int64_t>{2, 7, 13}));
  // Every row of cluster 0, the anchor's own row 0 included, is drawn as a positive.
  EXPECT_EQ(positives_of_anchor0, (std::set<int64_t>{0, 4, 8, 12}));
}

TEST(SampleContrast, DrawsUniformlyAndDeterministically) {
  const torch::Tensor labels = SmallLabels();
  const torch::Tensor anchors = torch::tensor({0}, torch::kLong);
  torch::Generator a = Rng(3);
  torch::Generator b = Rng(3);
  const ContrastSample sa = SampleContrast(labels, anchors, 5, a);
  const ContrastSample sb = SampleContrast(labels, anchors, 5, b);
  EXPECT_TRUE(torch::equal(sa.negatives, sb.negatives));
  EXPECT_TRUE(torch::equal(sa.positive_original, sb.positive_original));
  // 11 non-cluster-0 rows, 5 drawn: each should be picked with probability 5/11.
  std::vector<int> count(labels.numel(), 0);
  const int draws = 2000;
  for (int d = 0; d < draws; ++d) {
    const ContrastSample s = SampleContrast(labels, anchors, 5, a);
    for (int64_t k = 0; k < 5; ++k) ++count[s.negatives[0][k].item<int64_t>()];
  }
  for (int64_t j = 0; j < labels.numel(); ++j) {
    if (labels[j].item<int64_t>() == 0) {
      EXPECT_EQ(count[j], 0);
    } else {
      EXPECT_NEAR(count[j] / static_cast<double>(draws), 5.0 / 11.0, 0.05) << "row " << j;
    }
  }
}

TEST(SampleContrast, ThrowsOnOutlierAnchorAndTooFewNegatives) {
  torch::Generator rng = Rng(1);
  const torch::Tensor labels = SmallLabels();
  EXPECT_THROW(SampleContrast(labels, torch::tensor({2}, torch::kLong), 4, rng), std::runtime_error);
  EXPECT_THROW(SampleContrast(labels, torch::tensor({0}, torch::kLong), 12, rng), std::runtime_error);
  EXPECT_THROW(SampleContrast(labels, torch::tensor({15}, torch::kLong), 4, rng), std::runtime_error);
  EXPECT_NO_THROW(SampleContrast(labels, torch::tensor({0}, torch::kLong), 11, rng));
}

TEST(SampleContrast, HandlesMsmtSizedBank) {
  // N = 32,621 (MSMT17), K = 8192, B = 16: the paper's largest setting runs as one vectorised draw.
  const int64_t n = 32621;
  const torch::Tensor labels = torch::arange(n, torch::kLong).remainder(1000) - 1;  // clusters + outliers
  torch::Generator rng = Rng(11);
  const torch::Tensor anchors = torch::arange(16, torch::kLong) * 7 + 1;
  const ContrastSample s = SampleContrast(labels, anchors, 8192, rng);
  const torch::Tensor anchor_labels = labels.index_select(0, anchors);
  EXPECT_TRUE(labels.index_select(0, s.positive_generated).eq(anchor_labels).all().item<bool>());
  EXPECT_TRUE(labels.index({s.negatives}).ne(anchor_labels.unsqueeze(1)).all().item<bool>());
  EXPECT_EQ(std::get<0>(torch::_unique2(s.negatives[3])).numel(), 8192);
}

struct Fixture {
  torch::Tensor memory, labels, anchors, f, f_new;
  ContrastSample sample;
};

Fixture MakeFixture(uint64_t seed) {
  torch::manual_seed(seed);
  Fixture x;
  x.labels = SmallLabels();
  x.memory = Normalized(torch::randn({15, 5}, torch::kDouble));
  x.anchors = torch::tensor({0, 3, 6, 12}, torch::kLong);
  x.f = Normalized(torch::randn({4, 5}, torch::kDouble)).requires_grad_();
  x.f_new = Normalized(torch::randn({4, 5}, torch::kDouble)).requires_grad_();
  torch::Generator rng = Rng(seed);
  x.sample = SampleContrast(x.labels, x.anchors, 6, rng);
  return x;
}

// The three reference terms in loops (reference §5), with the options' variants.
struct NaiveTerms {
  double instance = 0, cluster_generated = 0, cluster_original = 0;
};
NaiveTerms NaiveViewInvariant(const Fixture& x, const ViewInvariantOptions& o) {
  NaiveTerms t;
  const int64_t batch = x.anchors.numel();
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<double> neg_new, neg_ori;
    for (int64_t k = 0; k < x.sample.negatives.size(1); ++k) {
      const torch::Tensor row = x.memory[x.sample.negatives[b][k].item<int64_t>()];
      neg_new.push_back(Dot(x.f_new[b], row));
      neg_ori.push_back(Dot(x.f[b], row));
    }
    const double inst_pos = o.instance_positive == InstancePositive::kMemorySlot
                                ? Dot(x.f_new[b], x.memory[x.anchors[b].item<int64_t>()])
                                : Dot(x.f_new[b], x.f[b]);
    t.instance += NaiveNce(inst_pos, neg_new, o.temperature) / batch;
    t.cluster_generated +=
        NaiveNce(Dot(x.f_new[b], x.memory[x.sample.positive_generated[b].item<int64_t>()]), neg_new, o.temperature) /
        batch;
    const auto& neg3 = o.original_term_negatives == OriginalTermNegatives::kGeneratedView ? neg_new : neg_ori;
    t.cluster_original +=
        NaiveNce(Dot(x.f[b], x.memory[x.sample.positive_original[b].item<int64_t>()]), neg3, o.temperature) / batch;
  }
  return t;
}

class ViewInvariantVariants : public ::testing::TestWithParam<std::tuple<OriginalTermNegatives, InstancePositive>> {};

TEST_P(ViewInvariantVariants, MatchesNaiveLoopsAndFiniteDifferences) {
  const Fixture x = MakeFixture(21);
  ViewInvariantOptions o;
  o.num_negatives = 6;
  o.original_term_negatives = std::get<0>(GetParam());
  o.instance_positive = std::get<1>(GetParam());
  const ViewInvariantLosses l = ViewInvariantLoss(x.f, x.f_new, x.memory, x.anchors, x.sample, o);
  const NaiveTerms n = NaiveViewInvariant(x, o);
  EXPECT_NEAR(l.instance.item<double>(), n.instance, 1e-10);
  EXPECT_NEAR(l.cluster_generated.item<double>(), n.cluster_generated, 1e-10);
  EXPECT_NEAR(l.cluster_original.item<double>(), n.cluster_original, 1e-10);
  EXPECT_NEAR(l.total.item<double>(), n.instance + n.cluster_generated + n.cluster_original, 1e-10);
  const auto total = [&] { return ViewInvariantLoss(x.f, x.f_new, x.memory, x.anchors, x.sample, o).total; };
  // tau = 0.04 makes the loss steep: a smaller step keeps the central difference accurate.
  EXPECT_LT(gcl::testing::MaxGradientError(total, x.f_new, 1e-7), 1e-5);
  EXPECT_LT(gcl::testing::MaxGradientError(total, x.f, 1e-7), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(
    AllOptions, ViewInvariantVariants,
    ::testing::Combine(::testing::Values(OriginalTermNegatives::kGeneratedView, OriginalTermNegatives::kOriginalView),
                       ::testing::Values(InstancePositive::kMemorySlot, InstancePositive::kOriginalFeature)));

TEST(ViewInvariantLoss, ReferenceDefaultsGiveNoGradientToMemoryAndUseGeneratedNegatives) {
  const Fixture x = MakeFixture(22);
  const torch::Tensor memory = x.memory.clone().requires_grad_();
  ViewInvariantOptions o;
  o.num_negatives = 6;
  const ViewInvariantLosses l = ViewInvariantLoss(x.f, x.f_new, memory, x.anchors, x.sample, o);
  l.total.backward({}, /*retain_graph=*/true);
  EXPECT_FALSE(memory.grad().defined());
  // With the reference's defaults, f only enters through the cluster_original positive logits.
  const torch::Tensor g = torch::autograd::grad({l.cluster_original}, {x.f}, {}, true)[0];
  for (int64_t b = 0; b < 4; ++b) {
    const torch::Tensor pos = memory[x.sample.positive_original[b].item<int64_t>()].detach();
    // d/df of a cross-entropy on its target logit pos.f/tau is -(1 - p)/tau/B * pos: parallel to pos.
    EXPECT_NEAR(std::abs(torch::cosine_similarity(g[b], pos, 0).item<double>()), 1.0, 1e-9);
  }
}

TEST(ContrastOnlyLoss, MatchesNaiveLoopsAndFiniteDifferences) {
  const Fixture x = MakeFixture(23);
  double naive = 0.0;
  for (int64_t b = 0; b < 4; ++b) {
    std::vector<double> neg;
    for (int64_t k = 0; k < 6; ++k) neg.push_back(Dot(x.f[b], x.memory[x.sample.negatives[b][k].item<int64_t>()]));
    naive += NaiveNce(Dot(x.f[b], x.memory[x.sample.positive_original[b].item<int64_t>()]), neg, 0.04) / 4;
  }
  EXPECT_NEAR(ContrastOnlyLoss(x.f, x.memory, x.sample, 0.04).item<double>(), naive, 1e-10);
  EXPECT_LT(gcl::testing::MaxGradientError([&] { return ContrastOnlyLoss(x.f, x.memory, x.sample, 0.04); }, x.f, 1e-7),
            1e-5);
}

TEST(ViewInvariantLoss, RejectsMismatchedShapes) {
  const Fixture x = MakeFixture(24);
  EXPECT_THROW(ViewInvariantLoss(x.f.narrow(1, 0, 4), x.f_new, x.memory, x.anchors, x.sample, {}), std::runtime_error);
  EXPECT_THROW(ViewInvariantLoss(x.f.narrow(0, 0, 3), x.f_new.narrow(0, 0, 3), x.memory, x.anchors.narrow(0, 0, 3),
                                 x.sample, {}),
               std::runtime_error);
}

// The bank, its labels and what SampleContrast draws live on the device of the bank's features: on a second device
// (the tests' stand-in, tests/support/stand_in_device.h) every operation that met a CPU tensor would throw. The
// draws come from the CPU generator on every device, so both devices pick the same rows and compute the same
// numbers.
TEST(MemoryBank, LivesOnTheDeviceOfItsFeaturesAndComputesAsOnTheCpu) {
  const c10::Device device = gcl::testing::StandInDevice();
  torch::manual_seed(3);
  const torch::Tensor features = torch::randn({15, 5}, torch::kDouble);
  MemoryBank cpu(features, SmallLabels());
  MemoryBank dev(features.to(device), SmallLabels());  // CPU labels are moved
  EXPECT_EQ(dev.features().device(), device);
  EXPECT_EQ(dev.labels().device(), device);
  const torch::Tensor anchors = torch::tensor({0, 3, 6, 12}, torch::kLong);
  torch::Generator rng_cpu = Rng(5), rng_dev = Rng(5);
  const ContrastSample s_cpu = SampleContrast(cpu.labels(), anchors, 6, rng_cpu);
  const ContrastSample s_dev = SampleContrast(dev.labels(), anchors.to(device), 6, rng_dev);
  for (const torch::Tensor* t : {&s_dev.positive_generated, &s_dev.positive_original, &s_dev.negatives}) {
    EXPECT_EQ(t->device(), device);
  }
  EXPECT_TRUE(torch::equal(s_cpu.positive_generated, s_dev.positive_generated.to(torch::kCPU)));
  EXPECT_TRUE(torch::equal(s_cpu.positive_original, s_dev.positive_original.to(torch::kCPU)));
  EXPECT_TRUE(torch::equal(s_cpu.negatives, s_dev.negatives.to(torch::kCPU)));

  const torch::Tensor f = Normalized(torch::randn({4, 5}, torch::kDouble));
  const torch::Tensor f_new = Normalized(torch::randn({4, 5}, torch::kDouble));
  ViewInvariantOptions o;
  o.num_negatives = 6;
  const ViewInvariantLosses l_cpu = ViewInvariantLoss(f, f_new, cpu.features(), anchors, s_cpu, o);
  const ViewInvariantLosses l_dev =
      ViewInvariantLoss(f.to(device), f_new.to(device), dev.features(), anchors.to(device), s_dev, o);
  EXPECT_EQ(l_dev.total.device(), device);
  EXPECT_EQ(l_cpu.total.item<double>(), l_dev.total.item<double>());
  EXPECT_EQ(ContrastOnlyLoss(f, cpu.features(), s_cpu).item<double>(),
            ContrastOnlyLoss(f.to(device), dev.features(), s_dev).item<double>());

  cpu.Update(anchors, f, 0.2);
  dev.Update(anchors, f.to(device), 0.2);  // indices on the CPU or the device alike
  dev.Update(anchors.to(device), f_new.to(device), 0.2);
  cpu.Update(anchors, f_new, 0.2);
  EXPECT_TRUE(torch::equal(cpu.features(), dev.features().to(torch::kCPU)));
  dev.SetLabels(SmallLabels().flip(0));
  EXPECT_EQ(dev.labels().device(), device);
  const MemoryBank restored = MemoryBank::FromSaved(dev.features(), dev.labels());
  EXPECT_EQ(restored.features().device(), device);
  EXPECT_EQ(restored.labels().device(), device);
}

TEST(ViewInvariantLoss, RefusesAMemoryOnAnotherDeviceThanTheEmbeddings) {
  const c10::Device device = gcl::testing::StandInDevice();
  const Fixture x = MakeFixture(25);
  const ContrastSample s{x.sample.positive_generated.to(device), x.sample.positive_original.to(device),
                         x.sample.negatives.to(device)};
  const auto expect_device_error = [](const std::function<void()>& f) {
    try {
      f();
      ADD_FAILURE() << "expected std::runtime_error";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("the memory bank must live on the training device"), std::string::npos)
          << e.what();
    }
  };
  // Embeddings on the training device, the memory left on the CPU: the bug of a bank built from CPU features.
  expect_device_error([&] { ViewInvariantLoss(x.f.to(device), x.f_new.to(device), x.memory, x.anchors, s, {}); });
  expect_device_error([&] { ContrastOnlyLoss(x.f.to(device), x.memory, s); });
}

}  // namespace
}  // namespace gcl::losses
