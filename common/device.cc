#include "common/device.h"

#include "common/device_name.h"

#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <c10/util/Exception.h>
#include <torch/cuda.h>

#include <stdexcept>

namespace gcl {
namespace {

constexpr char kSpecs[] = "auto, cpu, cuda, cuda:N (or xpu[:N], mps where this LibTorch drives them)";

bool StartsWith(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// xpu[:N] and mps: accepted only when a backend for the type is registered in this process.
c10::Device OtherAccelerator(const std::string& spec) {
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(spec);
  } catch (const c10::Error&) {
    throw std::invalid_argument("device \"" + spec + "\" is not one of " + kSpecs);
  }
  if (!c10::impl::hasDeviceGuardImpl(device.type())) {
    throw std::runtime_error("device \"" + spec + "\" asked for, but this LibTorch has no " +
                             c10::DeviceTypeName(device.type(), /*lower_case=*/true) +
                             " backend. Use cpu, auto or cuda");
  }
  if (!device.has_index()) device.set_index(0);  // "xpu" is xpu:0, as "cuda" is cuda:0
  return device;
}

}  // namespace

c10::Device PickDevice(const std::string& spec) {
  if (const std::string problem = DeviceNameProblem(spec); !problem.empty()) {
    throw std::invalid_argument("device " + problem);
  }
  if (spec == "auto") return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (spec == "cpu") return c10::Device(c10::kCPU);
  if (spec == "mps" || spec == "xpu" || StartsWith(spec, "xpu:")) return OtherAccelerator(spec);
  const std::string kCuda = "cuda";
  if (!StartsWith(spec, kCuda) || (spec.size() > kCuda.size() && spec[kCuda.size()] != ':')) {
    throw std::invalid_argument("device \"" + spec + "\" is not one of " + kSpecs);
  }
  int index = 0;
  if (spec.size() > kCuda.size()) {
    const std::string digits = spec.substr(kCuda.size() + 1);
    if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos) {
      throw std::invalid_argument("device \"" + spec +
                                  "\": the CUDA device index must be a number (cuda:0, cuda:1, ...)");
    }
    index = std::stoi(digits);
  }
  // A CUDA build of LibTorch registers the CUDA device guard when it loads; a CPU-only one never does.
  if (!c10::impl::hasDeviceGuardImpl(c10::kCUDA)) {
    throw std::runtime_error("device \"" + spec +
                             "\" asked for, but no CUDA device is usable: this LibTorch was built without CUDA "
                             "(Debian's libtorch is CPU-only). Use cpu or auto, or build against a CUDA LibTorch "
                             "(LIBTORCH_HOME, docs/BUILDING.md)");
  }
  const int count = static_cast<int>(torch::cuda::device_count());
  if (count == 0) {
    throw std::runtime_error("device \"" + spec +
                             "\" asked for, but no CUDA device is usable: this LibTorch has CUDA, but no GPU is "
                             "visible (driver, CUDA_VISIBLE_DEVICES). Use cpu or auto");
  }
  if (index >= count) {
    throw std::runtime_error("device \"" + spec + "\" asked for, but only " + std::to_string(count) +
                             " CUDA device(s) are visible (cuda:0" +
                             (count > 1 ? "..cuda:" + std::to_string(count - 1) : std::string()) + ")");
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace gcl
