#include "common/device_name.h"

namespace gcl {
namespace {

constexpr char kCuda[] = "cuda";

}  // namespace

std::string DeviceNameProblem(const std::string& spec) {
  if (spec == "auto" || spec == "cpu" || spec == kCuda) return "";
  if (spec.rfind("cuda:", 0) == 0) {
    const std::string digits = spec.substr(5);
    if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos) {
      return "\"" + spec + "\": the CUDA device index must be a number (cuda:0, cuda:1, ...)";
    }
    return "";
  }
  return "\"" + spec + "\" is not one of auto, cpu, cuda, cuda:N";
}

int CudaDeviceIndex(const std::string& spec) {
  return spec.rfind("cuda:", 0) == 0 ? std::stoi(spec.substr(5)) : 0;  // <= 3 digits, checked by the caller
}

}  // namespace gcl
