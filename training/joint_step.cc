#include "training/joint_step.h"

#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "losses/gan_losses.h"

namespace gcl::training {
namespace {

namespace F = torch::nn::functional;

// Turns off requires_grad on every parameter of a module for a scope and restores the previous flags: a
// frozen network still passes gradients to its inputs but computes none for its weights.
class FrozenParameters {
 public:
  explicit FrozenParameters(torch::nn::Module& module) {
    for (torch::Tensor& p : module.parameters()) {
      saved_.emplace_back(p, p.requires_grad());
      p.requires_grad_(false);
    }
  }
  ~FrozenParameters() {
    for (auto& [p, flag] : saved_) p.requires_grad_(flag);
  }
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  std::vector<std::pair<torch::Tensor, bool>> saved_;
};

// Sets the running-statistics momentum of every BatchNorm layer of a module to 0 for a scope and restores it:
// the layers still normalise with the batch's statistics (train mode) but leave their running mean and variance
// as they are (running = (1 - momentum) * running + momentum * batch).
class FrozenBatchNormStatistics {
 public:
  explicit FrozenBatchNormStatistics(torch::nn::Module& module) {
    for (const std::shared_ptr<torch::nn::Module>& m : module.modules()) {
      if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) Freeze(bn->options.momentum());
      if (auto* bn = m->as<torch::nn::BatchNorm1dImpl>()) Freeze(bn->options.momentum());
    }
  }
  ~FrozenBatchNormStatistics() {
    for (auto& [momentum, saved] : saved_) *momentum = saved;
  }
  FrozenBatchNormStatistics(const FrozenBatchNormStatistics&) = delete;
  FrozenBatchNormStatistics& operator=(const FrozenBatchNormStatistics&) = delete;

 private:
  void Freeze(c10::optional<double>& momentum) {
    saved_.emplace_back(&momentum, momentum);
    momentum = 0.0;
  }
  std::vector<std::pair<c10::optional<double>*, c10::optional<double>>> saved_;
};

std::string Shape(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

// The device of a module's parameters: where its inputs must be.
torch::Device DeviceOf(torch::nn::Module& module) {
  const std::vector<torch::Tensor> params = module.parameters();
  return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
}

void CheckOnDevice(const torch::Tensor& t, const torch::Device& device, const std::string& field) {
  if (t.device() != device) {
    throw std::runtime_error(field + " is on " + t.device().str() + ", the networks on " + device.str() +
                             "; the caller moves batches to the training device");
  }
}

void CheckBatch(const GclBatch& batch, bool needs_indices, const torch::Device& device) {
  const torch::Tensor& x = batch.image;
  if (!x.defined() || x.dim() != 4 || x.size(1) != 3) {
    throw std::runtime_error("GclBatch.image: expected B x 3 x H x W, got " + (x.defined() ? Shape(x) : "undefined"));
  }
  CheckOnDevice(x, device, "GclBatch.image");
  for (const auto& [name, s] :
       {std::pair<const char*, const torch::Tensor*>{"structure_original", &batch.structure_original},
        {"structure_new", &batch.structure_new}}) {
    if (!s->defined() || s->dim() != 4 || s->size(0) != x.size(0) || s->size(2) != x.size(2) ||
        s->size(3) != x.size(3)) {
      throw std::runtime_error(std::string("GclBatch.") + name + ": expected " + std::to_string(x.size(0)) + " x C x " +
                               std::to_string(x.size(2)) + " x " + std::to_string(x.size(3)) + ", got " +
                               (s->defined() ? Shape(*s) : "undefined"));
    }
    CheckOnDevice(*s, device, std::string("GclBatch.") + name);
  }
  if (needs_indices && (!batch.indices.defined() || batch.indices.dim() != 1 || batch.indices.size(0) != x.size(0))) {
    throw std::runtime_error("GclBatch.indices: stage 3 needs one memory row per image (" + std::to_string(x.size(0)) +
                             "), got " + (batch.indices.defined() ? Shape(batch.indices) : "undefined"));
  }
}

}  // namespace

GclOptimizers::GclOptimizers(const GclNetworks& nets, const OptimizerOptions& o)
    : generator(nets.generator->parameters(), torch::optim::AdamOptions(o.generator_lr)
                                                  .betas({o.adam_beta1, o.adam_beta2})
                                                  .weight_decay(o.adam_weight_decay)),
      discriminator(nets.discriminator->parameters(), torch::optim::AdamOptions(o.discriminator_lr)
                                                          .betas({o.adam_beta1, o.adam_beta2})
                                                          .weight_decay(o.adam_weight_decay)),
      identity(nets.identity->parameters(), torch::optim::SGDOptions(o.identity_lr)
                                                .momentum(o.identity_momentum)
                                                .nesterov(o.identity_nesterov)
                                                .weight_decay(o.identity_weight_decay)) {}

StepLosses JointStep(GclNetworks& nets, GclOptimizers& optimizers, losses::MemoryBank* memory, const GclBatch& batch,
                     const StepOptions& options, torch::Generator& rng) {
  const bool joint = options.stage == Stage::kJoint;
  CheckBatch(batch, joint, DeviceOf(*nets.identity));
  if (joint && memory == nullptr) throw std::runtime_error("JointStep: stage 3 needs a memory bank");
  const LossWeights& w = options.weights;
  models::IdentityEncoder& id = nets.identity;
  models::Generator& gen = nets.generator;
  models::MultiScaleDiscriminator& dis = nets.discriminator;
  id->train(joint);  // reference §4: E_id in eval mode during stage 2
  gen->train();
  dis->train();
  // Stage 2 never steps E_id: computing its weight gradients would be wasted work.
  std::optional<FrozenParameters> identity_frozen;
  if (!joint) identity_frozen.emplace(*id);

  // ---- forward (reference §4) ----
  const torch::Tensor& x = batch.image;
  const int64_t b = x.size(0);
  const torch::Tensor s = gen->encode(torch::cat({batch.structure_original, batch.structure_new}));
  const torch::Tensor s_o = s.narrow(0, 0, b);
  torch::Tensor feat, f_embedding;
  if (joint) {
    models::IdentityOutput o = id->forward_parts(x);
    feat = o.part_code;
    f_embedding = o.embedding;
  } else {
    feat = id->part_code(x);
  }
  const torch::Tensor x_both = gen->decode(s, torch::cat({feat, feat}));  // [x_recon; x_nv]
  const torch::Tensor x_recon = x_both.narrow(0, 0, b);
  const torch::Tensor x_nv = x_both.narrow(0, b, b);
  torch::Tensor feat_r, feat_nv, f_nv_embedding;
  // Stage 3's E_id passes over generated images (x_recon, x_nv, x_nv2recon) leave the running statistics alone
  // when the deviation is on.
  std::optional<FrozenBatchNormStatistics> generated_bn;
  if (joint && options.identity_bn_statistics_from_real_images) generated_bn.emplace(*id);
  if (joint) {
    // Separate train-mode calls: each batch normalises with its own BatchNorm statistics, as in the reference.
    feat_r = id->forward_parts(x_recon).part_code;
    models::IdentityOutput o_nv = id->forward_parts(x_nv);
    feat_nv = o_nv.part_code;
    f_nv_embedding = o_nv.embedding;
  } else {
    const torch::Tensor both = id->part_code(x_both);
    feat_r = both.narrow(0, 0, b);
    feat_nv = both.narrow(0, b, b);
  }
  const torch::Tensor x_nv2recon = gen->decode(s_o, feat_nv);
  const torch::Tensor feat_c = joint ? id->forward_parts(x_nv2recon).part_code : id->part_code(x_nv2recon);
  generated_bn.reset();
  const torch::Tensor fakes = torch::cat({x_recon, x_nv, x_nv2recon});

  StepLosses out;
  // ---- D step on detached fakes (reference dis_update) ----
  {
    const torch::Tensor real = x.detach().requires_grad_();
    const torch::Tensor d_fake = losses::DiscriminatorFakeLoss(dis->forward(fakes.detach()), /*num_fakes=*/3);
    // The reference's three Dloss calls count the real term and R1 three times.
    const losses::DiscriminatorRealTerms r =
        losses::DiscriminatorRealLoss(dis->forward(real), real, /*real_weight=*/3.0, w.r1);
    const torch::Tensor d_total = w.gan * (d_fake + r.total);
    optimizers.discriminator.zero_grad();
    d_total.backward();
    optimizers.discriminator.step();
    out.d_fake = d_fake.item<double>();
    out.d_real = r.adversarial.item<double>();
    out.d_r1 = r.r1.item<double>();
    out.d_total = d_total.item<double>();
  }

  // ---- G (+ E_id) step with the updated D (reference gen_update) ----
  FrozenParameters discriminator_frozen(*dis);
  const torch::Tensor g_adversarial = losses::GeneratorAdversarialLoss(dis->forward(fakes), /*num_fakes=*/3);
  const torch::Tensor recon_image = losses::L1ToDetached(x_recon, x);
  const torch::Tensor cycle_image = losses::L1ToDetached(x_nv2recon, x);
  const torch::Tensor recon_feature = losses::L1ToDetached(feat_r, feat);
  const torch::Tensor cycle_feature = losses::L1ToDetached(feat_c, feat);
  torch::Tensor g_total = w.gan * g_adversarial + w.recon_image * recon_image + w.cycle_image * cycle_image +
                          w.recon_feature * (recon_feature + cycle_feature);
  torch::Tensor f;
  if (joint) f = F::normalize(f_embedding, F::NormalizeFuncOptions().dim(1));
  // Paper Tab. 3's rows switch terms off by weight. A switched-off term stays out of the sum (no backward
  // through it); the sample is still drawn in full so that the terms left see the random stream of the full
  // run. With no term left there is nothing to sample for: rng is not touched.
  const bool any_view_invariant =
      w.memory != 0 && (w.vi_instance != 0 || w.vi_cluster_generated != 0 || w.vi_cluster_original != 0);
  if (joint && any_view_invariant) {
    const torch::Tensor f_nv = F::normalize(f_nv_embedding, F::NormalizeFuncOptions().dim(1));
    const losses::ContrastSample sample =
        losses::SampleContrast(memory->labels(), batch.indices, options.view_invariant.num_negatives, rng);
    const losses::ViewInvariantLosses vi =
        losses::ViewInvariantLoss(f, f_nv, memory->features(), batch.indices, sample, options.view_invariant);
    // Summed in ViewInvariantLosses::total's order; x 1.0 is exact, so the reference weights (1, 1, 1) give
    // the single-weight sum `vi.total` bit for bit.
    torch::Tensor vi_sum;
    for (const auto& [term, weight] : {std::pair<const torch::Tensor*, double>{&vi.instance, w.vi_instance},
                                       {&vi.cluster_generated, w.vi_cluster_generated},
                                       {&vi.cluster_original, w.vi_cluster_original}}) {
      if (weight == 0) continue;
      vi_sum = vi_sum.defined() ? vi_sum + weight * *term : weight * *term;
    }
    g_total = g_total + w.memory * vi_sum;
    out.vi_instance = vi.instance.item<double>();
    out.vi_cluster_generated = vi.cluster_generated.item<double>();
    out.vi_cluster_original = vi.cluster_original.item<double>();
  }
  optimizers.generator.zero_grad();
  if (joint) optimizers.identity.zero_grad();
  g_total.backward();
  optimizers.generator.step();
  if (joint) {
    optimizers.identity.step();
    memory->Update(batch.indices, f.detach(), options.memory_momentum);  // original view only (reference §5)
  }
  out.g_adversarial = g_adversarial.item<double>();
  out.recon_image = recon_image.item<double>();
  out.cycle_image = cycle_image.item<double>();
  out.recon_feature = recon_feature.item<double>();
  out.cycle_feature = cycle_feature.item<double>();
  out.g_total = g_total.item<double>();
  return out;
}

double ContrastOnlyStep(models::IdentityEncoder& identity, torch::optim::Optimizer& optimizer,
                        losses::MemoryBank& memory, const torch::Tensor& images, const torch::Tensor& indices,
                        const ContrastStepOptions& options, torch::Generator& rng) {
  if (!images.defined() || images.dim() != 4 || indices.dim() != 1 || indices.size(0) != images.size(0)) {
    throw std::runtime_error("ContrastOnlyStep: need B x 3 x H x W images and B indices, got " +
                             (images.defined() ? Shape(images) : std::string("undefined")) + " and " +
                             (indices.defined() ? Shape(indices) : std::string("undefined")));
  }
  CheckOnDevice(images, DeviceOf(*identity), "ContrastOnlyStep: images");
  identity->train();
  const torch::Tensor f = identity->forward(images);  // L2-normalised train-mode BN-neck embedding
  const losses::ContrastSample sample = losses::SampleContrast(memory.labels(), indices, options.num_negatives, rng);
  const torch::Tensor loss = losses::ContrastOnlyLoss(f, memory.features(), sample, options.temperature);
  optimizer.zero_grad();
  loss.backward();
  optimizer.step();
  memory.Update(indices, f.detach(), options.memory_momentum);
  return loss.item<double>();
}

}  // namespace gcl::training
