// The joint GCL step on tiny networks (80 x 40 images: the smallest 2:1 size whose H/4 x W/4 structure map
// admits E_str's dilation-9 reflect padding; double precision) against a straightforward transcription
// of the reference iteration (§4: separate encoder/decoder calls, three Dloss calls each with its own D(real)
// pass and R1, per-fake generator terms): same losses, same gradients, same updated parameters and memory.
#include "training/joint_step.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/stand_in_device.h"

namespace gcl::training {
namespace {

namespace F = torch::nn::functional;
using models::DiscriminatorOptions;
using models::GeneratorOptions;
using models::IdentityEncoderOptions;

constexpr int64_t kBatch = 4;
constexpr int64_t kMemoryRows = 24;
constexpr int64_t kNegatives = 8;

torch::Generator Rng(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

GclNetworks TinyNetworks() {
  IdentityEncoderOptions io;
  io.depth = 18;
  io.width = 0.125;  // last map 64 channels, part code 256
  io.embedding_dim = 16;
  GeneratorOptions go;
  go.part_code_dim = 256;
  go.dim = 2;
  go.mlp_dim = 8;
  DiscriminatorOptions dopt;
  dopt.dim = 4;
  dopt.n_res = 1;
  GclNetworks n{models::IdentityEncoder(io), models::Generator(go), models::MultiScaleDiscriminator(dopt)};
  n.identity->to(torch::kDouble);
  n.generator->to(torch::kDouble);
  n.discriminator->to(torch::kDouble);
  return n;
}

void CopyState(torch::nn::Module& dst, const torch::nn::Module& src) {
  torch::NoGradGuard no_grad;
  const auto params = src.named_parameters();
  for (auto& p : dst.named_parameters()) p.value().copy_(params[p.key()]);
  const auto buffers = src.named_buffers();
  for (auto& b : dst.named_buffers()) b.value().copy_(buffers[b.key()]);
}

GclNetworks Copy(const GclNetworks& n) {
  GclNetworks c = TinyNetworks();
  CopyState(*c.identity, *n.identity);
  CopyState(*c.generator, *n.generator);
  CopyState(*c.discriminator, *n.discriminator);
  return c;
}

std::map<std::string, torch::Tensor> Snapshot(const torch::nn::Module& m, bool grads) {
  std::map<std::string, torch::Tensor> s;
  for (const auto& p : m.named_parameters()) {
    const torch::Tensor& t = grads ? p.value().grad() : p.value();
    s[p.key()] = t.defined() ? t.detach().clone() : torch::Tensor();
  }
  if (!grads) {
    for (const auto& b : m.named_buffers()) s["buffer:" + b.key()] = b.value().detach().clone();
  }
  return s;
}

// atol 1e-10 suits gradients. Parameters after an Adam step need more: a conv bias in front of an instance norm
// has a zero gradient up to rounding (~1e-13), which Adam scales by lr / eps = 1e4, so its value agrees only to
// ~1e-9 even though the two computations are the same.
void ExpectClose(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b,
                 const std::string& what, double atol = 1e-10) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (const auto& [name, t] : a) {
    const torch::Tensor& u = b.at(name);
    ASSERT_EQ(t.defined(), u.defined()) << what << " " << name;
    if (!t.defined()) continue;
    EXPECT_TRUE(torch::allclose(t, u, 1e-7, atol))
        << what << " " << name << " max diff " << (t - u).abs().max().item<double>();
  }
}

GclBatch MakeBatch() {
  torch::manual_seed(5);
  GclBatch batch;
  batch.image = torch::randn({kBatch, 3, 80, 40}, torch::kDouble);
  batch.structure_original = torch::rand({kBatch, 1, 80, 40}, torch::kDouble) * 2 - 1;
  batch.structure_new = torch::rand({kBatch, 1, 80, 40}, torch::kDouble) * 2 - 1;
  batch.indices = torch::tensor({1, 7, 12, 18}, torch::kLong);
  return batch;
}

losses::MemoryBank MakeMemory() {
  torch::manual_seed(6);
  torch::Tensor labels = torch::arange(kMemoryRows, torch::kLong).remainder(4);
  labels.index_put_({torch::tensor({3, 10, 21})}, -1);  // outliers (never batched)
  return losses::MemoryBank(torch::randn({kMemoryRows, 16}, torch::kDouble), labels);
}

StepOptions Options(Stage stage) {
  StepOptions o;
  o.stage = stage;
  o.view_invariant.num_negatives = kNegatives;
  return o;
}

// The reference's iteration written out call by call (reference §4, §4.3, §5), on its own copy of everything.
struct ReferenceResult {
  StepLosses losses;
  std::map<std::string, torch::Tensor> d_grads, g_grads, id_grads;
};

// Weights of the three view-invariant terms (instance, cluster_generated, cluster_original); the reference's
// are (1, 1, 1).
struct TermWeights {
  double instance = 1, cluster_generated = 1, cluster_original = 1;
};

// `vi` weights the three view-invariant terms; a term of weight 0 is left out of the sum, and with all three 0
// nothing is sampled (paper Tab. 3's generation-only row).
ReferenceResult ReferenceIteration(GclNetworks& n, GclOptimizers& opt, losses::MemoryBank* memory,
                                   const GclBatch& batch, Stage stage, uint64_t seed, TermWeights vi = {}) {
  const bool joint = stage == Stage::kJoint;
  n.identity->train(joint);
  const torch::Tensor& x = batch.image;
  const torch::Tensor s_o = n.generator->encode(batch.structure_original);
  const torch::Tensor s_n = n.generator->encode(batch.structure_new);
  const models::IdentityOutput o = n.identity->forward_parts(x);
  const torch::Tensor x_recon = n.generator->decode(s_o, o.part_code);
  const torch::Tensor x_nv = n.generator->decode(s_n, o.part_code);
  const models::IdentityOutput o_r = n.identity->forward_parts(x_recon);
  const models::IdentityOutput o_nv = n.identity->forward_parts(x_nv);
  const torch::Tensor x_nv2recon = n.generator->decode(s_o, o_nv.part_code);
  const models::IdentityOutput o_c = n.identity->forward_parts(x_nv2recon);

  ReferenceResult r;
  torch::Tensor d_fake = torch::zeros({}, torch::kDouble), d_real = d_fake, d_r1 = d_fake;
  for (const torch::Tensor& fake : {x_recon, x_nv, x_nv2recon}) {  // Dloss(fake, x), three times
    const torch::Tensor real = x.detach().requires_grad_();
    const auto outs0 = n.discriminator->forward(fake.detach());
    const auto outs1 = n.discriminator->forward(real);
    for (size_t s = 0; s < outs0.size(); ++s) {
      d_fake = d_fake + outs0[s].pow(2).mean();
      d_real = d_real + (outs1[s] - 1).pow(2).mean();
      const torch::Tensor g = torch::autograd::grad({outs1[s].sum()}, {real}, {}, true, true)[0];
      d_r1 = d_r1 + 0.01 * g.pow(2).reshape({x.size(0), -1}).sum(1).mean();
    }
  }
  const torch::Tensor d_total = d_fake + d_real + d_r1;
  opt.discriminator.zero_grad();
  d_total.backward();
  opt.discriminator.step();
  r.d_grads = Snapshot(*n.discriminator, true);

  torch::Tensor g_adv = torch::zeros({}, torch::kDouble);
  for (const torch::Tensor& fake : {x_recon, x_nv, x_nv2recon}) {
    for (const torch::Tensor& out : n.discriminator->forward(fake)) g_adv = g_adv + 2 * (out - 1).pow(2).mean();
  }
  const torch::Tensor rec_x = (x_recon - x.detach()).abs().mean();
  const torch::Tensor cyc_x = (x_nv2recon - x.detach()).abs().mean();
  const torch::Tensor rec_f = (o_r.part_code - o.part_code.detach()).abs().mean();
  const torch::Tensor cyc_f = (o_c.part_code - o.part_code.detach()).abs().mean();
  torch::Tensor g_total = g_adv + 5 * rec_x + 5 * cyc_x + 5 * rec_f + 5 * cyc_f;
  torch::Tensor f;
  if (joint) f = F::normalize(o.embedding, F::NormalizeFuncOptions().dim(1));
  if (joint && (vi.instance != 0 || vi.cluster_generated != 0 || vi.cluster_original != 0)) {
    const torch::Tensor f_nv = F::normalize(o_nv.embedding, F::NormalizeFuncOptions().dim(1));
    torch::Generator rng = Rng(seed);
    const losses::ContrastSample smp = losses::SampleContrast(memory->labels(), batch.indices, kNegatives, rng);
    const torch::Tensor m = memory->features().clone();
    const torch::Tensor sim_o = f.mm(m.t());
    const torch::Tensor sim_n = f_nv.mm(m.t());
    const torch::Tensor l_inst = (f_nv * m.index_select(0, batch.indices)).sum(1, true);
    const torch::Tensor pos_n = sim_n.gather(1, smp.positive_generated.unsqueeze(1));
    const torch::Tensor pos_o = sim_o.gather(1, smp.positive_original.unsqueeze(1));
    const torch::Tensor neg_n = sim_n.gather(1, smp.negatives);
    const torch::Tensor target = torch::zeros({x.size(0)}, torch::kLong);
    const auto ce = [&](const torch::Tensor& pos) {
      return F::cross_entropy(torch::cat({pos, neg_n}, 1) / 0.04, target);
    };
    r.losses.vi_instance = ce(l_inst).item<double>();
    r.losses.vi_cluster_generated = ce(pos_n).item<double>();
    r.losses.vi_cluster_original = ce(pos_o).item<double>();
    for (const auto& [pos, weight] : {std::pair<torch::Tensor, double>{l_inst, vi.instance},
                                      {pos_n, vi.cluster_generated},
                                      {pos_o, vi.cluster_original}}) {
      if (weight != 0) g_total = g_total + weight * ce(pos);
    }
  }
  opt.generator.zero_grad();
  opt.identity.zero_grad();
  g_total.backward();
  opt.generator.step();
  if (joint) {
    opt.identity.step();
    memory->Update(batch.indices, f.detach(), 0.2);
  }
  r.g_grads = Snapshot(*n.generator, true);
  r.id_grads = Snapshot(*n.identity, true);
  r.losses.d_fake = d_fake.item<double>();
  r.losses.d_real = d_real.item<double>();
  r.losses.d_r1 = d_r1.item<double>();
  r.losses.d_total = d_total.item<double>();
  r.losses.g_adversarial = g_adv.item<double>();
  r.losses.recon_image = rec_x.item<double>();
  r.losses.cycle_image = cyc_x.item<double>();
  r.losses.recon_feature = rec_f.item<double>();
  r.losses.cycle_feature = cyc_f.item<double>();
  r.losses.g_total = g_total.item<double>();
  return r;
}

void ExpectLossesEqual(const StepLosses& a, const StepLosses& b) {
  const double tol = 1e-9;
  EXPECT_NEAR(a.d_fake, b.d_fake, tol);
  EXPECT_NEAR(a.d_real, b.d_real, tol);
  EXPECT_NEAR(a.d_r1, b.d_r1, tol);
  EXPECT_NEAR(a.d_total, b.d_total, tol);
  EXPECT_NEAR(a.g_adversarial, b.g_adversarial, tol);
  EXPECT_NEAR(a.recon_image, b.recon_image, tol);
  EXPECT_NEAR(a.cycle_image, b.cycle_image, tol);
  EXPECT_NEAR(a.recon_feature, b.recon_feature, tol);
  EXPECT_NEAR(a.cycle_feature, b.cycle_feature, tol);
  EXPECT_NEAR(a.vi_instance, b.vi_instance, tol);
  EXPECT_NEAR(a.vi_cluster_generated, b.vi_cluster_generated, tol);
  EXPECT_NEAR(a.vi_cluster_original, b.vi_cluster_original, tol);
  EXPECT_NEAR(a.g_total, b.g_total, tol);
}

// Every weight tensor (dim >= 2) moved; biases can legitimately sit still (a conv bias before instance norm has
// zero gradient and starts at zero).
void ExpectWeightsChanged(const std::map<std::string, torch::Tensor>& before, const torch::nn::Module& m,
                          const std::string& what) {
  for (const auto& p : m.named_parameters()) {
    if (p.value().dim() >= 2) {
      EXPECT_FALSE(torch::equal(before.at(p.key()), p.value())) << what << " " << p.key();
    }
  }
}

TEST(JointStep, Stage3MatchesReferenceIterationAndTrainsEverything) {
  GclNetworks nets = TinyNetworks();
  GclNetworks ref = Copy(nets);
  GclOptimizers opt(nets, OptimizerOptions{});
  GclOptimizers ref_opt(ref, OptimizerOptions{});
  losses::MemoryBank memory = MakeMemory();
  losses::MemoryBank ref_memory(memory.features().clone(), memory.labels());
  const GclBatch batch = MakeBatch();
  const auto id_before = Snapshot(*nets.identity, false);
  const auto gen_before = Snapshot(*nets.generator, false);
  const auto dis_before = Snapshot(*nets.discriminator, false);
  const torch::Tensor memory_before = memory.features().clone();

  torch::Generator rng = Rng(42);
  const StepLosses ours = JointStep(nets, opt, &memory, batch, Options(Stage::kJoint), rng);
  const ReferenceResult expected = ReferenceIteration(ref, ref_opt, &ref_memory, batch, Stage::kJoint, 42);

  ExpectLossesEqual(ours, expected.losses);
  EXPECT_GT(ours.vi_instance, 0.0);
  EXPECT_GT(ours.d_r1, 0.0);
  ExpectClose(Snapshot(*nets.discriminator, true), expected.d_grads, "D gradient");
  ExpectClose(Snapshot(*nets.generator, true), expected.g_grads, "G gradient");
  ExpectClose(Snapshot(*nets.identity, true), expected.id_grads, "E_id gradient");
  ExpectClose(Snapshot(*nets.identity, false), Snapshot(*ref.identity, false), "E_id state", 1e-8);
  ExpectClose(Snapshot(*nets.generator, false), Snapshot(*ref.generator, false), "G state", 1e-8);
  ExpectClose(Snapshot(*nets.discriminator, false), Snapshot(*ref.discriminator, false), "D state", 1e-8);
  EXPECT_TRUE(torch::allclose(memory.features(), ref_memory.features(), 1e-7, 1e-10));

  ExpectWeightsChanged(id_before, *nets.identity, "E_id");
  ExpectWeightsChanged(gen_before, *nets.generator, "G");
  ExpectWeightsChanged(dis_before, *nets.discriminator, "D");
  EXPECT_FALSE(
      torch::equal(id_before.at("buffer:bn1.running_mean"), nets.identity->named_buffers()["bn1.running_mean"]));
  // Only the batched memory rows move.
  for (int64_t i = 0; i < kMemoryRows; ++i) {
    const bool batched = (batch.indices == i).any().item<bool>();
    EXPECT_EQ(torch::equal(memory.features()[i], memory_before[i]), !batched) << "memory row " << i;
  }
  // The step leaves every requires_grad flag as it found it.
  for (const auto& p : nets.discriminator->parameters()) EXPECT_TRUE(p.requires_grad());
}

// joint.identity_bn_statistics_from_real_images: the step computes exactly what the reference does (train-mode
// batch statistics everywhere), but E_id's running statistics move as if only the real batch had been seen.
TEST(JointStep, RealImageBatchNormStatisticsLeaveTheStepAndSkipGeneratedImages) {
  GclNetworks nets = TinyNetworks();
  GclNetworks reference = Copy(nets);
  GclNetworks real_only = Copy(nets);
  GclOptimizers opt(nets, OptimizerOptions{});
  GclOptimizers reference_opt(reference, OptimizerOptions{});
  losses::MemoryBank memory = MakeMemory();
  losses::MemoryBank reference_memory(memory.features().clone(), memory.labels());
  const GclBatch batch = MakeBatch();
  StepOptions option = Options(Stage::kJoint);
  option.identity_bn_statistics_from_real_images = true;

  torch::Generator rng = Rng(42), reference_rng = Rng(42);
  const StepLosses ours = JointStep(nets, opt, &memory, batch, option, rng);
  const StepLosses theirs = JointStep(reference, reference_opt, &reference_memory, batch, Options(Stage::kJoint),
                                      reference_rng);
  ExpectLossesEqual(ours, theirs);
  ExpectClose(Snapshot(*nets.identity, true), Snapshot(*reference.identity, true), "E_id gradient");
  ExpectClose(Snapshot(*nets.generator, true), Snapshot(*reference.generator, true), "G gradient");

  // One train-mode pass over the real images alone moves the running statistics as the step did.
  real_only.identity->train();
  {
    torch::NoGradGuard no_grad;
    real_only.identity->forward_parts(batch.image);
  }
  int buffers = 0;
  for (const auto& b : nets.identity->named_buffers()) {
    if (b.key().find("running_") == std::string::npos) continue;
    ++buffers;
    const torch::Tensor expected = real_only.identity->named_buffers()[b.key()];
    EXPECT_TRUE(torch::allclose(b.value(), expected, 1e-9, 1e-12)) << b.key();
    // The reference's running statistics also absorbed the generated images.
    EXPECT_FALSE(torch::allclose(reference.identity->named_buffers()[b.key()], expected, 1e-9, 1e-12)) << b.key();
  }
  EXPECT_GT(buffers, 10);
  // The momenta are restored after the step.
  for (const auto& m : nets.identity->modules()) {
    if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) {
      EXPECT_EQ(bn->options.momentum(), 0.1);
    }
  }
}

// Paper Tab. 3's first per-term row and a weighting with the other two terms on (each term is on in one case and
// off in the other): a term of weight 0 contributes nothing (the step equals the reference iteration written
// without it, gradients included), the others keep the positives and negatives of the full run's random stream
// (the reference draws the full sample from the same seed), `memory` multiplies the term weights, and the
// unweighted values of all three are still reported.
TEST(JointStep, ViewInvariantTermWeightsMatchReferenceWithOnlyThoseTerms) {
  struct Case {
    std::string name;
    double memory;
    TermWeights step, reference;
  };
  const std::vector<Case> cases = {{"L_gan + L_vi", 1.0, {0, 0, 1}, {0, 0, 1}},
                                   {"memory 0.5 x (0.5, 2, 0)", 0.5, {0.5, 2, 0}, {0.25, 1, 0}}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    GclNetworks nets = TinyNetworks();
    GclNetworks ref = Copy(nets);
    GclOptimizers opt(nets, OptimizerOptions{});
    GclOptimizers ref_opt(ref, OptimizerOptions{});
    losses::MemoryBank memory = MakeMemory();
    losses::MemoryBank ref_memory(memory.features().clone(), memory.labels());
    const GclBatch batch = MakeBatch();
    StepOptions o = Options(Stage::kJoint);
    o.weights.memory = c.memory;
    o.weights.vi_instance = c.step.instance;
    o.weights.vi_cluster_generated = c.step.cluster_generated;
    o.weights.vi_cluster_original = c.step.cluster_original;

    torch::Generator rng = Rng(42);
    const StepLosses ours = JointStep(nets, opt, &memory, batch, o, rng);
    const ReferenceResult expected =
        ReferenceIteration(ref, ref_opt, &ref_memory, batch, Stage::kJoint, 42, c.reference);

    ExpectLossesEqual(ours, expected.losses);
    // Reported although not trained in one of the cases.
    EXPECT_GT(ours.vi_instance, 0.0);
    EXPECT_GT(ours.vi_cluster_generated, 0.0);
    EXPECT_GT(ours.vi_cluster_original, 0.0);
    ExpectClose(Snapshot(*nets.generator, true), expected.g_grads, "G gradient");
    ExpectClose(Snapshot(*nets.identity, true), expected.id_grads, "E_id gradient");
    ExpectClose(Snapshot(*nets.identity, false), Snapshot(*ref.identity, false), "E_id state", 1e-8);
    EXPECT_TRUE(torch::allclose(memory.features(), ref_memory.features(), 1e-7, 1e-10));
  }
}

// Generation only (all three weights 0): the step is the reference iteration without a view-invariant term,
// nothing is sampled (the random stream does not move) and the terms report 0.
TEST(JointStep, AllViewInvariantTermsOffSkipSamplingAndTrainTheGanAlone) {
  GclNetworks nets = TinyNetworks();
  GclNetworks ref = Copy(nets);
  GclOptimizers opt(nets, OptimizerOptions{});
  GclOptimizers ref_opt(ref, OptimizerOptions{});
  losses::MemoryBank memory = MakeMemory();
  losses::MemoryBank ref_memory(memory.features().clone(), memory.labels());
  const GclBatch batch = MakeBatch();
  StepOptions o = Options(Stage::kJoint);
  o.weights.vi_instance = o.weights.vi_cluster_generated = o.weights.vi_cluster_original = 0;
  torch::Generator rng = Rng(42);
  const torch::Tensor rng_before = rng.get_state();

  const StepLosses ours = JointStep(nets, opt, &memory, batch, o, rng);
  const ReferenceResult expected =
      ReferenceIteration(ref, ref_opt, &ref_memory, batch, Stage::kJoint, 42, TermWeights{0, 0, 0});

  ExpectLossesEqual(ours, expected.losses);
  EXPECT_EQ(ours.vi_instance + ours.vi_cluster_generated + ours.vi_cluster_original, 0.0);
  EXPECT_TRUE(torch::equal(rng.get_state(), rng_before));
  ExpectClose(Snapshot(*nets.generator, true), expected.g_grads, "G gradient");
  ExpectClose(Snapshot(*nets.identity, true), expected.id_grads, "E_id gradient");
  EXPECT_TRUE(torch::allclose(memory.features(), ref_memory.features(), 1e-7, 1e-10));
}

TEST(JointStep, Stage2MatchesReferenceAndLeavesIdentityEncoderUntouched) {
  GclNetworks nets = TinyNetworks();
  GclNetworks ref = Copy(nets);
  GclOptimizers opt(nets, OptimizerOptions{});
  GclOptimizers ref_opt(ref, OptimizerOptions{});
  const GclBatch batch = MakeBatch();
  const auto id_before = Snapshot(*nets.identity, false);
  const auto gen_before = Snapshot(*nets.generator, false);
  const auto dis_before = Snapshot(*nets.discriminator, false);

  torch::Generator rng = Rng(1);
  const StepLosses ours = JointStep(nets, opt, /*memory=*/nullptr, batch, Options(Stage::kGanWarmup), rng);
  const ReferenceResult expected = ReferenceIteration(ref, ref_opt, nullptr, batch, Stage::kGanWarmup, 1);

  ExpectLossesEqual(ours, expected.losses);
  EXPECT_EQ(ours.vi_instance + ours.vi_cluster_generated + ours.vi_cluster_original, 0.0);
  ExpectClose(Snapshot(*nets.discriminator, true), expected.d_grads, "D gradient");
  ExpectClose(Snapshot(*nets.generator, true), expected.g_grads, "G gradient");
  ExpectClose(Snapshot(*nets.generator, false), Snapshot(*ref.generator, false), "G state", 1e-8);
  ExpectClose(Snapshot(*nets.discriminator, false), Snapshot(*ref.discriminator, false), "D state", 1e-8);
  // E_id: frozen and in eval mode, so neither weights nor BatchNorm statistics move, and no gradient is computed.
  for (const auto& [name, t] : Snapshot(*nets.identity, false))
    EXPECT_TRUE(torch::equal(t, id_before.at(name))) << name;
  for (const auto& p : nets.identity->named_parameters()) {
    EXPECT_FALSE(p.value().grad().defined()) << p.key();
    EXPECT_TRUE(p.value().requires_grad()) << p.key();
  }
  ExpectWeightsChanged(gen_before, *nets.generator, "G");
  ExpectWeightsChanged(dis_before, *nets.discriminator, "D");
}

TEST(JointStep, RejectsMalformedBatchNamingTheField) {
  GclNetworks nets = TinyNetworks();
  GclOptimizers opt(nets, OptimizerOptions{});
  GclBatch batch = MakeBatch();
  torch::Generator rng = Rng(1);
  batch.structure_new = batch.structure_new.narrow(2, 0, 32);
  try {
    JointStep(nets, opt, nullptr, batch, Options(Stage::kGanWarmup), rng);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("structure_new"), std::string::npos) << e.what();
  }
  EXPECT_THROW(JointStep(nets, opt, nullptr, MakeBatch(), Options(Stage::kJoint), rng), std::runtime_error);
}

TEST(ContrastOnlyStep, MatchesStraightforwardLossAndUpdatesMemory) {
  GclNetworks nets = TinyNetworks();
  GclNetworks ref = Copy(nets);
  torch::optim::SGD opt(nets.identity->parameters(), torch::optim::SGDOptions(3.5e-4).momentum(0.9).nesterov(true));
  losses::MemoryBank memory = MakeMemory();
  const torch::Tensor memory_before = memory.features().clone();
  const GclBatch batch = MakeBatch();
  ContrastStepOptions o;
  o.num_negatives = kNegatives;
  torch::Generator rng = Rng(9);
  const double loss = ContrastOnlyStep(nets.identity, opt, memory, batch.image, batch.indices, o, rng);

  // L_vi^woGAN written out: CE([f.M[pos], f.M[neg]] / tau).
  ref.identity->train();
  const torch::Tensor f =
      F::normalize(ref.identity->forward_parts(batch.image).embedding, F::NormalizeFuncOptions().dim(1));
  torch::Generator ref_rng = Rng(9);
  const losses::ContrastSample smp = losses::SampleContrast(memory.labels(), batch.indices, kNegatives, ref_rng);
  const torch::Tensor sim = f.mm(memory_before.t());
  const torch::Tensor logits =
      torch::cat({sim.gather(1, smp.positive_original.unsqueeze(1)), sim.gather(1, smp.negatives)}, 1);
  const double expected = F::cross_entropy(logits / 0.04, torch::zeros({kBatch}, torch::kLong)).item<double>();
  EXPECT_NEAR(loss, expected, 1e-10);
  for (int64_t i = 0; i < kMemoryRows; ++i) {
    const bool batched = (batch.indices == i).any().item<bool>();
    EXPECT_EQ(torch::equal(memory.features()[i], memory_before[i]), !batched) << "memory row " << i;
  }
  EXPECT_FALSE(torch::equal(nets.identity->named_parameters()["conv1.weight"],
                            ref.identity->named_parameters()["conv1.weight"]));
}

// The three steps on a second device (the tests' stand-in, tests/support/stand_in_device.h: host memory and CPU
// kernels, but any operation that meets a CPU tensor throws, as on a GPU): networks, optimizer state, batch and
// memory on that device give the CPU's numbers, and nothing of the step is created on the CPU.
GclNetworks OnDevice(const GclNetworks& n, const c10::Device& device) {
  GclNetworks c = Copy(n);
  c.identity->to(device);
  c.generator->to(device);
  c.discriminator->to(device);
  return c;
}

GclBatch OnDevice(GclBatch b, const c10::Device& device) {
  b.image = b.image.to(device);
  b.structure_original = b.structure_original.to(device);
  b.structure_new = b.structure_new.to(device);
  b.indices = b.indices.to(device);
  return b;
}

losses::MemoryBank OnDevice(const losses::MemoryBank& m, const c10::Device& device) {
  return losses::MemoryBank::FromSaved(m.features().to(device), m.labels());
}

void ExpectSameLosses(const StepLosses& a, const StepLosses& b) {
  for (const auto& [x, y] : {std::pair{a.d_total, b.d_total}, {a.d_r1, b.d_r1}, {a.g_total, b.g_total},
                             {a.g_adversarial, b.g_adversarial}, {a.recon_feature, b.recon_feature},
                             {a.vi_instance, b.vi_instance}, {a.vi_cluster_original, b.vi_cluster_original}}) {
    EXPECT_NEAR(x, y, 1e-12 * (1 + std::abs(x)));
  }
}

TEST(JointStep, RunsEveryStageOnTheNetworksDeviceWithTheCpuNumbers) {
  const c10::Device device = gcl::testing::StandInDevice();
  const GclNetworks nets = TinyNetworks();
  GclNetworks cpu = Copy(nets), dev = OnDevice(nets, device);
  GclOptimizers cpu_opt(cpu, OptimizerOptions{}), dev_opt(dev, OptimizerOptions{});
  losses::MemoryBank cpu_memory = MakeMemory();
  losses::MemoryBank dev_memory = OnDevice(cpu_memory, device);
  const GclBatch batch = MakeBatch();
  const GclBatch dev_batch = OnDevice(batch, device);
  torch::Generator cpu_rng = Rng(3), dev_rng = Rng(3);
  for (const Stage stage : {Stage::kGanWarmup, Stage::kJoint, Stage::kJoint}) {
    const bool joint = stage == Stage::kJoint;
    const StepLosses c = JointStep(cpu, cpu_opt, joint ? &cpu_memory : nullptr, batch, Options(stage), cpu_rng);
    const StepLosses d = JointStep(dev, dev_opt, joint ? &dev_memory : nullptr, dev_batch, Options(stage), dev_rng);
    ExpectSameLosses(c, d);
  }
  EXPECT_EQ(dev_memory.features().device(), device);
  EXPECT_TRUE(torch::allclose(cpu_memory.features(), dev_memory.features().to(torch::kCPU), 0, 1e-12));
  torch::optim::SGD cpu_sgd(cpu.identity->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  torch::optim::SGD dev_sgd(dev.identity->parameters(), torch::optim::SGDOptions(0.01).momentum(0.9));
  ContrastStepOptions co;
  co.num_negatives = kNegatives;
  for (int step = 0; step < 2; ++step) {
    const double c = ContrastOnlyStep(cpu.identity, cpu_sgd, cpu_memory, batch.image, batch.indices, co, cpu_rng);
    const double d =
        ContrastOnlyStep(dev.identity, dev_sgd, dev_memory, dev_batch.image, dev_batch.indices, co, dev_rng);
    EXPECT_NEAR(c, d, 1e-12 * (1 + std::abs(c)));
  }
  for (const torch::Tensor& p : dev.generator->parameters()) EXPECT_EQ(p.device(), device);
}

// What the test above guards against: a memory bank left on the CPU (or a batch that was never moved) while the
// networks train on another device fails at once, naming both devices.
TEST(JointStep, RefusesAMemoryOrBatchLeftOnTheCpu) {
  const c10::Device device = gcl::testing::StandInDevice();
  GclNetworks dev = OnDevice(TinyNetworks(), device);
  GclOptimizers opt(dev, OptimizerOptions{});
  losses::MemoryBank cpu_memory = MakeMemory();
  torch::Generator rng = Rng(3);
  const auto expect_error = [](const std::function<void()>& f, const std::string& text) {
    try {
      f();
      ADD_FAILURE() << "expected std::runtime_error mentioning " << text;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  const GclBatch dev_batch = OnDevice(MakeBatch(), device);
  expect_error([&] { JointStep(dev, opt, &cpu_memory, dev_batch, Options(Stage::kJoint), rng); },
               "the memory bank must live on the training device");
  expect_error([&] { JointStep(dev, opt, nullptr, MakeBatch(), Options(Stage::kGanWarmup), rng); },
               "GclBatch.image is on cpu, the networks on xpu:0");
  ContrastStepOptions co;
  co.num_negatives = kNegatives;
  torch::optim::SGD sgd(dev.identity->parameters(), torch::optim::SGDOptions(0.01));
  expect_error([&] { ContrastOnlyStep(dev.identity, sgd, cpu_memory, dev_batch.image, dev_batch.indices, co, rng); },
               "the memory bank must live on the training device");
}

}  // namespace
}  // namespace gcl::training
