// A second device for tests on machines that have only a CPU: tensors on it live in host memory and every
// operation on them runs LibTorch's CPU kernels, but LibTorch sees a device of its own, so that code which
// creates a tensor on the CPU where it should have used the configured device fails as it would on a GPU.
//
//   const c10::Device device = gcl::testing::StandInDevice();   // "xpu:0"
//   torch::nn::Linear net(4, 2);
//   net->to(device);                                            // parameters move, as to CUDA
//   net->forward(torch::randn({3, 4}).to(device));              // fine
//   net->forward(torch::randn({3, 4}));                         // throws: "Expected all tensors to be on the
//                                                               //  same device ... xpu:0 and cpu"
//
// It is registered under LibTorch's XPU device type, which no LibTorch this project builds against drives (Debian's
// is CPU-only; a CUDA build registers CUDA only). XPU is one of the "dense" backends whose tensors
// torch::nn::Module::to may swap parameters with (Tensor::set_data), as CPU and CUDA are; LibTorch's lazy and meta
// devices are not, so modules cannot be moved there from C++.
//
// What it checks, like a GPU: an operation on stand-in tensors that is handed a CPU tensor of one or more dimensions
// throws; zero-dimensional CPU tensors pass (CUDA takes CPU scalars, and `x * 2.0` makes one); copies between the two
// (`.to()`, `copy_`) are allowed; a CPU generator handed to a random operation on the stand-in device throws.
// What it cannot check: reading a stand-in tensor's memory directly (data_ptr, accessor) works here, while on a GPU
// it would read device memory from the host.
#ifndef GCL_TESTS_SUPPORT_STAND_IN_DEVICE_H_
#define GCL_TESTS_SUPPORT_STAND_IN_DEVICE_H_

#include <c10/core/Device.h>

#include <cstdint>

namespace gcl::testing {

// The stand-in device, xpu:0; its kernels are registered when the test binary loads.
c10::Device StandInDevice();

// How many operations have run on the stand-in device in this process (proof that work really went there).
int64_t StandInOperationCount();

}  // namespace gcl::testing

#endif  // GCL_TESTS_SUPPORT_STAND_IN_DEVICE_H_
