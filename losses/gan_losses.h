// The generative module's losses (paper Eq. 1-4) exactly as the reference computes them
// (reference §4 and §4.3):
//   - L_img / L_feat: mean absolute difference to a DETACHED target (image L1 in normalised image space,
//     feature L1 on the 8192-d part codes of x_recon and x_nv2recon against the part code of x);
//   - LSGAN over the discriminator's 3 scales with an R1 penalty on real images (weight 0.01 per scale,
//     gradients of the penalty flow into D through a double backward);
//   - the generator's adversarial term 2 * mean((D_s(fake) - 1)^2) per scale.
//
// The reference calls its D loss once per fake (3 fakes), so the real term and R1 count three times. Here the
// real batch goes through D once and `DiscriminatorRealLoss` takes the multiplicity as `real_weight`: the same
// value and the same gradients, a third of the work.
//
//   std::vector<torch::Tensor> d_fake = dis->forward(torch::cat({x_recon, x_nv, x_nv2recon}).detach());
//   torch::Tensor real = x.detach().requires_grad_();
//   DiscriminatorRealTerms r = DiscriminatorRealLoss(dis->forward(real), real, /*real_weight=*/3.0);
//   torch::Tensor loss_d = DiscriminatorFakeLoss(d_fake, /*num_fakes=*/3) + r.total;
//
// Not for non-LSGAN discriminators (the reference's unused `nsgan` path is not implemented).
#ifndef GCL_LOSSES_GAN_LOSSES_H_
#define GCL_LOSSES_GAN_LOSSES_H_

#include <torch/torch.h>

#include <vector>

namespace gcl::losses {

// mean(|prediction - target.detach()|) over all elements (reference §4: L1 with detached targets).
// Throws std::runtime_error when the shapes differ.
torch::Tensor L1ToDetached(const torch::Tensor& prediction, const torch::Tensor& target);

// R1 penalty of one scale: mean over the batch of ||d(sum D_s(real)) / d real||^2, computed with
// create_graph so that it can be differentiated again (reference §4.3). `real` must require grad and
// `d_real` must have been computed from it.
torch::Tensor R1Penalty(const torch::Tensor& d_real, const torch::Tensor& real);

struct DiscriminatorRealTerms {
  torch::Tensor adversarial;  // real_weight * sum_s mean((D_s(real) - 1)^2)
  torch::Tensor r1;           // real_weight * r1_weight * sum_s R1_s
  torch::Tensor total;        // adversarial + r1
};

// The real half of the LSGAN D loss summed over scales. `real_weight` is how many times the reference counts
// it (3: once per fake). `r1_weight` is the reference's LAMBDA, 0.01 (§2.4).
DiscriminatorRealTerms DiscriminatorRealLoss(const std::vector<torch::Tensor>& d_real, const torch::Tensor& real,
                                             double real_weight = 3.0, double r1_weight = 0.01);

// The fake half of the LSGAN D loss, sum over fakes and scales of mean(D_s(fake)^2), for `num_fakes`
// equal-sized fake batches concatenated along dim 0 and sent through D in one call (D has no normalisation
// layer, so batching does not change its outputs).
torch::Tensor DiscriminatorFakeLoss(const std::vector<torch::Tensor>& d_fake, int64_t num_fakes = 1);

// Generator adversarial loss: sum over fakes and scales of 2 * mean((D_s(fake) - 1)^2), for `num_fakes`
// equal-sized fake batches concatenated along dim 0 (reference §4.3 calc_gen_loss, weight gan_w = 1 each).
torch::Tensor GeneratorAdversarialLoss(const std::vector<torch::Tensor>& d_fake, int64_t num_fakes = 1);

}  // namespace gcl::losses

#endif  // GCL_LOSSES_GAN_LOSSES_H_
