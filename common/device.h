// The device a command or a training run computes on, from its setting ("auto", "cpu", "cuda", "cuda:1").
//
//   const c10::Device device = gcl::PickDevice(config.run().device());
//
// LibTorch only (no logging), so that the CMake build of the core (CMakeLists.txt) can use it too.
#ifndef GCL_COMMON_DEVICE_H_
#define GCL_COMMON_DEVICE_H_

#include <c10/core/Device.h>

#include <string>

namespace gcl {

// The device named by `spec`: "auto" (cuda:0 when CUDA is usable, else cpu), "cpu", "cuda" (= "cuda:0") or
// "cuda:N". "xpu", "xpu:N" and "mps" are accepted too when the LibTorch in use has a backend for them (none of
// this project's machines has one; the tests register a CPU-backed stand-in as xpu, tests/support). Throws
// std::invalid_argument for a spec of another form and std::runtime_error, saying why, when the device cannot be
// used: LibTorch was built without CUDA (Debian's is CPU-only), no GPU is visible, or the index is too high.
c10::Device PickDevice(const std::string& spec = "auto");

}  // namespace gcl

#endif  // GCL_COMMON_DEVICE_H_
