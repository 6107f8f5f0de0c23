#include "common/device_name.h"

namespace gcl {

std::string DeviceNameProblem(const std::string& spec) {
  if (spec == "auto" || spec == "cpu" || spec == "cuda" || spec == "xpu" || spec == "mps") return "";
  const auto digits_ok = [](const std::string& digits) {
    return !digits.empty() && digits.size() <= 3 && digits.find_first_not_of("0123456789") == std::string::npos;
  };
  if (spec.rfind("cuda:", 0) == 0) {
    if (digits_ok(spec.substr(5))) return "";
    return "\"" + spec + "\": the device index must be a number (cuda:0, cuda:1, ...)";
  }
  if (spec.rfind("xpu:", 0) == 0 && digits_ok(spec.substr(4))) return "";
  return "\"" + spec + "\" is not one of auto, cpu, cuda, cuda:N (or xpu[:N], mps where this LibTorch drives them)";
}

}  // namespace gcl
