#include "losses/gan_losses.h"

#include <sstream>
#include <stdexcept>
#include <string>

namespace gcl::losses {
namespace {

std::string ShapeString(const torch::Tensor& t) {
  std::ostringstream s;
  s << t.sizes();
  return s.str();
}

void CheckScales(const std::vector<torch::Tensor>& outputs, const char* what) {
  if (outputs.empty()) {
    throw std::runtime_error(std::string(what) + ": no discriminator outputs (expected one tensor per scale)");
  }
  for (const torch::Tensor& o : outputs) {
    if (!o.defined() || o.dim() == 0) {
      throw std::runtime_error(std::string(what) + ": a discriminator output is undefined or a scalar");
    }
  }
}

// sum over fakes of mean(per-fake) == num_fakes * mean(concatenation) when the fakes have equal sizes.
void CheckFakeBatch(const std::vector<torch::Tensor>& d_fake, int64_t num_fakes, const char* what) {
  CheckScales(d_fake, what);
  if (num_fakes < 1) throw std::runtime_error(std::string(what) + ": num_fakes must be >= 1");
  for (const torch::Tensor& o : d_fake) {
    if (o.size(0) % num_fakes != 0) {
      throw std::runtime_error(std::string(what) + ": batch of " + std::to_string(o.size(0)) +
                               " outputs does not split into " + std::to_string(num_fakes) + " equal fakes");
    }
  }
}

}  // namespace

torch::Tensor L1ToDetached(const torch::Tensor& prediction, const torch::Tensor& target) {
  if (!prediction.sizes().equals(target.sizes())) {
    throw std::runtime_error("L1ToDetached: prediction shape " + ShapeString(prediction) +
                             " differs from target shape " + ShapeString(target));
  }
  return (prediction - target.detach()).abs().mean();
}

torch::Tensor R1Penalty(const torch::Tensor& d_real, const torch::Tensor& real) {
  if (!real.requires_grad()) throw std::runtime_error("R1Penalty: `real` must require grad");
  // create_graph: the penalty is part of D's loss and is differentiated w.r.t. D's weights (double backward).
  const torch::Tensor grad = torch::autograd::grad({d_real.sum()}, {real}, /*grad_outputs=*/{},
                                                   /*retain_graph=*/true, /*create_graph=*/true)[0];
  return grad.pow(2).reshape({real.size(0), -1}).sum(1).mean();
}

DiscriminatorRealTerms DiscriminatorRealLoss(const std::vector<torch::Tensor>& d_real, const torch::Tensor& real,
                                             double real_weight, double r1_weight) {
  CheckScales(d_real, "DiscriminatorRealLoss");
  torch::Tensor adversarial = torch::zeros({}, real.options().requires_grad(false));
  torch::Tensor r1 = torch::zeros({}, real.options().requires_grad(false));
  for (const torch::Tensor& d : d_real) {
    adversarial = adversarial + (d - 1).pow(2).mean();
    r1 = r1 + R1Penalty(d, real);
  }
  DiscriminatorRealTerms terms;
  terms.adversarial = real_weight * adversarial;
  terms.r1 = (real_weight * r1_weight) * r1;
  terms.total = terms.adversarial + terms.r1;
  return terms;
}

torch::Tensor DiscriminatorFakeLoss(const std::vector<torch::Tensor>& d_fake, int64_t num_fakes) {
  CheckFakeBatch(d_fake, num_fakes, "DiscriminatorFakeLoss");
  torch::Tensor loss = d_fake[0].pow(2).mean();
  for (size_t s = 1; s < d_fake.size(); ++s) loss = loss + d_fake[s].pow(2).mean();
  return static_cast<double>(num_fakes) * loss;
}

torch::Tensor GeneratorAdversarialLoss(const std::vector<torch::Tensor>& d_fake, int64_t num_fakes) {
  CheckFakeBatch(d_fake, num_fakes, "GeneratorAdversarialLoss");
  // The factor 2 is the reference's calc_gen_loss (§4.3).
  torch::Tensor loss = (d_fake[0] - 1).pow(2).mean();
  for (size_t s = 1; s < d_fake.size(); ++s) loss = loss + (d_fake[s] - 1).pow(2).mean();
  return 2.0 * static_cast<double>(num_fakes) * loss;
}

}  // namespace gcl::losses
