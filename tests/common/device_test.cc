#include "common/device.h"

#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

namespace gcl {
namespace {

using ::testing::HasSubstr;

TEST(PickDevice, ParsesCpuAndAuto) {
  EXPECT_EQ(PickDevice("cpu"), torch::Device(torch::kCPU));
  const torch::Device automatic = PickDevice("auto");
  EXPECT_EQ(PickDevice(), automatic);
  if (torch::cuda::is_available()) {
    EXPECT_EQ(automatic, torch::Device(torch::kCUDA, 0));
  } else {
    EXPECT_EQ(automatic, torch::Device(torch::kCPU));
  }
}

TEST(PickDevice, RejectsMalformedSpecs) {
  for (const char* bad : {"", "gpu", "CPU", "Cuda", "cudax", "cuda0", "cpu:0", "xpux", "xpu:", "mps:0:1"}) {
    EXPECT_THAT([&] { PickDevice(bad); },
                ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("is not one of auto, cpu, cuda, cuda:N")))
        << bad;
  }
  for (const char* bad : {"cuda:", "cuda:x", "cuda:-1", "cuda:1a", "cuda:12345"}) {
    EXPECT_THAT([&] { PickDevice(bad); },
                ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("index must be a number")))
        << bad;
  }
}

// Debian's LibTorch has no CUDA: asking for it says so, instead of failing later on the first tensor.
TEST(PickDevice, CudaNeedsACudaLibTorchAndAVisibleDevice) {
  const int count = static_cast<int>(torch::cuda::device_count());
  if (!c10::impl::hasDeviceGuardImpl(c10::kCUDA)) {
    for (const char* spec : {"cuda", "cuda:0", "cuda:3"}) {
      EXPECT_THAT([&] { PickDevice(spec); },
                  ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("this LibTorch was built without CUDA")))
          << spec;
    }
  } else if (count == 0) {
    EXPECT_THAT([&] { PickDevice("cuda"); },
                ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("but no GPU is visible")));
  } else {
    EXPECT_EQ(PickDevice("cuda"), torch::Device(torch::kCUDA, 0));
    EXPECT_EQ(PickDevice("cuda:" + std::to_string(count - 1)), torch::Device(torch::kCUDA, count - 1));
    EXPECT_THAT([&] { PickDevice("cuda:" + std::to_string(count)); },
                ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("CUDA device(s) are visible")));
  }
}

// xpu and mps only where this LibTorch has a backend for them; this test binary registers none.
TEST(PickDevice, OtherAcceleratorsNeedABackend) {
  for (const char* spec : {"xpu", "xpu:1", "mps"}) {
    const c10::Device device(spec);
    if (c10::impl::hasDeviceGuardImpl(device.type())) {
      EXPECT_EQ(PickDevice(spec), device);
    } else {
      EXPECT_THAT([&] { PickDevice(spec); },
                  ::testing::ThrowsMessage<std::runtime_error>(HasSubstr("this LibTorch has no")))
          << spec;
    }
  }
}

}  // namespace
}  // namespace gcl
