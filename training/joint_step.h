// One training iteration of GCL as a library function (reference §4, optimizers §7):
//   forward  s_o, s_n = E_str(structures); feat, f = E_id(x); x_recon = G(s_o, feat); x_nv = G(s_n, feat);
//            feat_r = E_id(x_recon); feat_nv, f_nv = E_id(x_nv); x_nv2recon = G(s_o, feat_nv);
//            feat_c = E_id(x_nv2recon)
//   D step   LSGAN + R1 on (x_recon, x_nv, x_nv2recon) detached vs x; Adam step of D
//   G step   with the updated D: adversarial + 5 L1(x_recon, x) + 5 L1(x_nv2recon, x) + 5 L1(feat_r, feat)
//            + 5 L1(feat_c, feat) + 1 * view-invariant losses (stage 3 only; per-term weights in LossWeights);
//            Adam step of E_str + G + MLPs, SGD step of E_id in stage 3; then the memory update from f (the
//            original view).
// The losses equal the reference's; the work does not repeat itself:
//   - the two structure encodings run as one batch, x_recon and x_nv decode as one batch (instance norm,
//     AdaIN and the reference LayerNorm are per sample, so batching leaves every value unchanged);
//   - D sees the real batch once (R1 and the real term weighted x3 instead of three D(real) passes) and the
//     three fakes as one batch of 3B (D has no normalisation layer);
//   - D's weights take no gradient during the G step, and E_id's none in stage 2 (frozen, eval mode), where
//     E_id(x_recon) and E_id(x_nv) also share one eval-mode batch and only the part codes are computed.
// In stage 3 E_id runs in train mode on four separate batches (x, x_recon, x_nv, x_nv2recon) exactly like the
// reference, so its BatchNorm statistics match (they would not if those batches were merged).
//
//   GclNetworks nets{IdentityEncoder(...), Generator(...), MultiScaleDiscriminator(...)};
//   GclOptimizers opt(nets, OptimizerOptions{});
//   StepOptions o;  o.stage = Stage::kJoint;
//   torch::Generator rng = at::make_generator<at::CPUGeneratorImpl>(1);
//   StepLosses l = JointStep(nets, opt, &bank, batch, o, rng);
#ifndef GCL_TRAINING_JOINT_STEP_H_
#define GCL_TRAINING_JOINT_STEP_H_

#include <torch/torch.h>

#include "losses/view_contrast.h"
#include "models/discriminator.h"
#include "models/generator.h"
#include "models/identity_encoder.h"

namespace gcl::training {

// Stage 2 warms up the GAN with E_id frozen; stage 3 trains everything jointly (reference §7).
enum class Stage { kGanWarmup = 2, kJoint = 3 };

struct GclNetworks {
  models::IdentityEncoder identity{nullptr};               // E_id
  models::Generator generator{nullptr};                    // E_str + G + AdaIN MLPs
  models::MultiScaleDiscriminator discriminator{nullptr};  // D
};

// Reference §7 (configs/latest.yaml, trainer): G and D by Adam, E_id by Nesterov SGD; weight decay is the
// coupled L2 of torch.optim. Stage-3 G/D learning rate: 1e-4 as written; set 1e-5 to match the published runs
// (torch-1.2 scheduler quirk, §7).
struct OptimizerOptions {
  double generator_lr = 1e-4;
  double discriminator_lr = 1e-4;
  double adam_beta1 = 0.0;
  double adam_beta2 = 0.999;
  double adam_weight_decay = 5e-4;
  double identity_lr = 3.5e-4;
  double identity_momentum = 0.9;
  bool identity_nesterov = true;
  double identity_weight_decay = 5e-4;  // applied to all E_id parameters, BN included (reference)
};

struct GclOptimizers {
  GclOptimizers(const GclNetworks& nets, const OptimizerOptions& o);
  torch::optim::Adam generator;
  torch::optim::Adam discriminator;
  torch::optim::SGD identity;
};

// Loss weights of reference §4.3 (configs/latest.yaml).
struct LossWeights {
  double gan = 1.0;            // gan_w: D loss and each generator adversarial term
  double recon_image = 5.0;    // recon_x_w: L1(x_recon, x)
  double cycle_image = 5.0;    // recon_x_cyc_w: L1(x_nv2recon, x)
  double recon_feature = 5.0;  // recon_f_w: both L1(feat_r, feat) and L1(feat_c, feat)
  double memory = 1.0;         // memory_id_w: multiplies the weighted sum of the three view-invariant terms
  double r1 = 0.01;            // D's LAMBDA (§2.4), per scale
  // Per-term weights inside that sum, named as in StepLosses; the reference sums the three terms with weight 1
  // (§5). Paper Tab. 3 adds them one by one: "L_gan + L_vi" = (0, 0, 1), "+ L'_vi" = (1, 0, 1), "+ L''_vi" =
  // (1, 1, 1). A term whose weight is 0 stays out of the backward pass (its unweighted value is still
  // reported); the contrastive sample is drawn in full whenever any term is on, so the remaining terms see
  // the same positives and negatives (the same random stream) as in the full run. With every term off (or
  // `memory` 0) nothing is sampled and `rng` is not advanced.
  double vi_instance = 1.0;           // L'_vi, paper Eq. 7: f_new . M[idx] (reference term 1)
  double vi_cluster_generated = 1.0;  // L''_vi, paper Eq. 8: f_new . M[pos] (reference term 2)
  double vi_cluster_original = 1.0;   // L_vi, paper Eq. 6: f . M[pos'] (reference term 3)
};

struct StepOptions {
  Stage stage = Stage::kJoint;
  LossWeights weights;
  losses::ViewInvariantOptions view_invariant;
  double memory_momentum = 0.2;  // alpha of paper Eq. 5
  // A named deviation (false = the reference): E_id's BatchNorm layers still normalise the generated images
  // (x_recon, x_nv, x_nv2recon) with their own batch statistics in stage 3, but only the real images' batches
  // update the running statistics the test features use. In the reference the running statistics absorb the
  // generated images' statistics (three of the four train-mode passes per step), which shifts the test
  // features whenever the generated images do not yet look like real ones (docs/training.md).
  bool identity_bn_statistics_from_real_images = false;
};

// One batch from the data pipeline (reference §3: MeshPreprocessor items).
struct GclBatch {
  torch::Tensor image;               // B x 3 x H x W, ImageNet-normalised
  torch::Tensor structure_original;  // B x 1 x H x W, mesh render of the original view, in [-1, 1]
  torch::Tensor structure_new;       // B x 1 x H x W, render of the rotated view
  torch::Tensor indices;             // B int64 memory rows (dataset.train order); needed in stage 3
};

// Unweighted per-term values of one step; the totals are the weighted sums that were back-propagated.
struct StepLosses {
  double d_fake = 0;         // sum over the 3 fakes and scales of mean(D(fake)^2)
  double d_real = 0;         // 3 x sum over scales of mean((D(x) - 1)^2)
  double d_r1 = 0;           // 3 x 0.01 x sum over scales of R1
  double d_total = 0;        // gan * (d_fake + d_real + d_r1)
  double g_adversarial = 0;  // sum over the 3 fakes and scales of 2 mean((D(fake) - 1)^2)
  double recon_image = 0;
  double cycle_image = 0;
  double recon_feature = 0;
  double cycle_feature = 0;
  double vi_instance = 0;           // 0 in stage 2 and when every view-invariant weight is 0
  double vi_cluster_generated = 0;  // 0 in stage 2 and when every view-invariant weight is 0
  double vi_cluster_original = 0;   // 0 in stage 2 and when every view-invariant weight is 0
  double g_total = 0;
};

// One joint iteration (see the top of this file). `memory` is read and updated in stage 3 and may be null in
// stage 2; `rng` draws the contrastive positives and negatives. Sets the modules' train/eval modes for the
// stage (E_id eval in stage 2); E_id's and D's requires_grad flags are restored on return. The batch's images and
// the memory live on the networks' device (indices may live anywhere); `rng` is a CPU generator on every device
// (losses/view_contrast.h). Throws std::runtime_error naming the field when the batch is malformed or on another
// device, or stage 3 has no memory.
StepLosses JointStep(GclNetworks& nets, GclOptimizers& optimizers, losses::MemoryBank* memory, const GclBatch& batch,
                     const StepOptions& options, torch::Generator& rng);

// Stage-1 alternative to an external warm-up, the "contrast only" ablation (paper Tab. 3, rows L_vi^woGAN and
// + TDA): E_id in train mode embeds `images` (the original images, or traditionally augmented ones for the
// TDA row: augmentation is the data pipeline's job), the loss is L_vi^woGAN against the memory, one step of
// `optimizer`, then the memory rows `indices` move towards the batch's embeddings (Eq. 5). Returns the loss.
// `images` and the memory live on E_id's device.
struct ContrastStepOptions {
  double temperature = losses::kDefaultTemperature;
  int64_t num_negatives = losses::kDefaultNumNegatives;
  double memory_momentum = 0.2;
};
double ContrastOnlyStep(models::IdentityEncoder& identity, torch::optim::Optimizer& optimizer,
                        losses::MemoryBank& memory, const torch::Tensor& images, const torch::Tensor& indices,
                        const ContrastStepOptions& options, torch::Generator& rng);

}  // namespace gcl::training

#endif  // GCL_TRAINING_JOINT_STEP_H_
