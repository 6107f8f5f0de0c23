// The stand-in device behaves like a second device: modules move to it, training on it gives the CPU's numbers bit
// for bit, and every mix with CPU tensors that a GPU refuses is refused.
#include "tests/support/stand_in_device.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>
#include <vector>

namespace gcl::testing {
namespace {

using ::testing::HasSubstr;

torch::nn::Sequential SmallNet() {
  torch::manual_seed(7);
  return torch::nn::Sequential(torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 8, 3).padding(1)),
                               torch::nn::BatchNorm2d(8), torch::nn::ReLU(),
                               torch::nn::InstanceNorm2d(torch::nn::InstanceNormOptions(8).affine(true)),
                               torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 4, 3).stride(2)), torch::nn::Flatten(),
                               torch::nn::Linear(4 * 7 * 3, 5));
}

struct StepResult {
  double loss = 0;
  std::vector<torch::Tensor> parameters;  // on the CPU, after two optimizer steps
};

// Two steps of a loss with a double-backward term (an R1-like penalty), SGD with Nesterov momentum and Adam.
StepResult TwoSteps(const c10::Device& device) {
  torch::nn::Sequential net = SmallNet();
  net->to(device);
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(5e-4));
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3).weight_decay(5e-4));
  StepResult r;
  for (int step = 0; step < 2; ++step) {
    torch::manual_seed(100 + step);
    const torch::Tensor x = torch::randn({2, 3, 16, 8}).to(device).requires_grad_();
    const torch::Tensor y = net->forward(x);
    const torch::Tensor g = torch::autograd::grad({y.sum()}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
    const torch::Tensor f = torch::nn::functional::normalize(y, torch::nn::functional::NormalizeFuncOptions().dim(1));
    const torch::Tensor loss = torch::logsumexp(torch::mm(f, f.t()) / 0.1, 1).mean() + 0.01 * g.pow(2).sum();
    sgd.zero_grad();
    adam.zero_grad();
    loss.backward();
    sgd.step();
    adam.step();
    r.loss = loss.item<double>();
  }
  for (const torch::Tensor& p : net->parameters()) r.parameters.push_back(p.detach().to(torch::kCPU));
  return r;
}

TEST(StandInDevice, IsASecondDeviceThatModulesMoveTo) {
  const c10::Device device = StandInDevice();
  EXPECT_EQ(device.str(), "xpu:0");
  EXPECT_NE(device, c10::Device(c10::kCPU));
  torch::nn::Linear net(4, 2);
  net->to(device);
  for (const torch::Tensor& p : net->parameters()) EXPECT_EQ(p.device(), device);
  const int64_t operations = StandInOperationCount();
  const torch::Tensor y = net->forward(torch::ones({3, 4}).to(device));
  EXPECT_EQ(y.device(), device);
  EXPECT_GT(StandInOperationCount(), operations);
  EXPECT_EQ(torch::cat({y, y}).device(), device);
  EXPECT_EQ(y.to(torch::kCPU).device(), c10::Device(c10::kCPU));
}

TEST(StandInDevice, TrainingGivesTheCpuNumbersBitForBit) {
  const StepResult cpu = TwoSteps(torch::kCPU);
  const StepResult stand_in = TwoSteps(StandInDevice());
  EXPECT_EQ(cpu.loss, stand_in.loss);
  ASSERT_EQ(cpu.parameters.size(), stand_in.parameters.size());
  for (size_t i = 0; i < cpu.parameters.size(); ++i) {
    EXPECT_TRUE(torch::equal(cpu.parameters[i], stand_in.parameters[i])) << "parameter " << i;
  }
}

TEST(StandInDevice, RefusesCpuTensorsInAnOperationLikeAGpu) {
  const c10::Device device = StandInDevice();
  const torch::Tensor a = torch::randn({2, 3}).to(device);
  const auto refused = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const c10::Error& e) {
      EXPECT_THAT(e.what_without_backtrace(), HasSubstr("xpu:0 and cpu"));
      return true;
    }
    return false;
  };
  EXPECT_TRUE(refused([&] { torch::mm(a, torch::randn({3, 2})); }));
  EXPECT_TRUE(refused([&] { a.index_select(0, torch::tensor({1, 0})); }));
  EXPECT_TRUE(refused([&] { a + torch::ones({2, 3}); }));
  EXPECT_TRUE(refused([&] { torch::cat({a, torch::zeros({1, 3})}); }));
  // A GPU takes CPU scalars and copies.
  EXPECT_FALSE(refused([&] { (a * 2.0 + torch::tensor(1.0)).sum().item<double>(); }));
  EXPECT_FALSE(refused([&] { torch::zeros({2, 3}).copy_(a); }));
  EXPECT_FALSE(refused([&] { a.clone().copy_(torch::zeros({2, 3})); }));
}

TEST(StandInDevice, RefusesACpuGeneratorForItsTensors) {
  torch::Generator cpu_generator = at::make_generator<at::CPUGeneratorImpl>(1);
  EXPECT_THROW(torch::rand({4}, cpu_generator, torch::TensorOptions().device(StandInDevice())), c10::Error);
  EXPECT_NO_THROW(torch::rand({4}, cpu_generator).to(StandInDevice()));
}

TEST(StandInDevice, ViewsAndOutArgumentsBehaveAsOnTheCpu) {
  const c10::Device device = StandInDevice();
  torch::Tensor base = torch::zeros({4, 3}).to(device);
  base[1].copy_(torch::ones({3}).to(device));                    // through a view
  base.narrow(0, 2, 2).fill_(2.0);                               // through another
  base.index_copy_(0, torch::tensor({0}).to(device), torch::full({1, 3}, 3.0).to(device));
  EXPECT_TRUE(torch::equal(base.to(torch::kCPU), torch::tensor({{3.f, 3.f, 3.f}, {1.f, 1.f, 1.f}, {2.f, 2.f, 2.f},
                                                                {2.f, 2.f, 2.f}})));
  EXPECT_TRUE(base[1].is_alias_of(base));
  torch::Tensor out = torch::empty({0}).to(device);  // resized by the kernel
  torch::mm_out(out, base, base.t());
  EXPECT_EQ(out.device(), device);
  EXPECT_TRUE(torch::allclose(out.to(torch::kCPU), torch::mm(base.to(torch::kCPU), base.to(torch::kCPU).t())));
}

// Checkpoints write optimizer state through LibTorch's archives, which read a device tensor's storage back to the
// CPU; and read it back onto a device.
TEST(StandInDevice, RoundTripsThroughAnArchive) {
  const c10::Device device = StandInDevice();
  const torch::Tensor t = torch::arange(6, torch::kFloat).view({2, 3}).to(device);
  torch::serialize::OutputArchive out;
  out.write("t", t);
  std::ostringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  std::istringstream read(bytes.str());
  in.load_from(read, device);
  torch::Tensor back;
  in.read("t", back);
  EXPECT_EQ(back.device(), device);
  EXPECT_TRUE(torch::equal(back.to(torch::kCPU), t.to(torch::kCPU)));
}

}  // namespace
}  // namespace gcl::testing
