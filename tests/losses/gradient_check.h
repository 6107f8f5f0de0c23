// Finite-difference gradient check for tests: compares autograd's gradient of a scalar function with central
// differences, in double precision.
#ifndef GCL_TESTS_LOSSES_GRADIENT_CHECK_H_
#define GCL_TESTS_LOSSES_GRADIENT_CHECK_H_

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>

namespace gcl::testing {

// Largest |autograd - central difference| over all elements of `input` (a double leaf tensor), relative to
// max(1, |gradient|). `f` must recompute the scalar from `input` on every call.
inline double MaxGradientError(const std::function<torch::Tensor()>& f, torch::Tensor input, double step = 1e-6) {
  input.mutable_grad() = torch::Tensor();
  f().backward();
  const torch::Tensor analytic = input.grad().clone();
  // The writes into the leaf happen without autograd; f() runs with autograd on (R1 differentiates inside it).
  const auto set = [&input](int64_t i, double v) {
    torch::NoGradGuard no_grad;
    input.view({-1})[i] = v;
  };
  const torch::Tensor flat_analytic = analytic.view({-1});
  double worst = 0.0;
  for (int64_t i = 0; i < input.numel(); ++i) {
    const double saved = input.view({-1})[i].item<double>();
    set(i, saved + step);
    const double up = f().item<double>();
    set(i, saved - step);
    const double down = f().item<double>();
    set(i, saved);
    const double numeric = (up - down) / (2 * step);
    const double a = flat_analytic[i].item<double>();
    worst = std::max(worst, std::abs(a - numeric) / std::max(1.0, std::abs(a)));
  }
  return worst;
}

}  // namespace gcl::testing

#endif  // GCL_TESTS_LOSSES_GRADIENT_CHECK_H_
