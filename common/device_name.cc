#include "common/device_name.h"

namespace gcl {

std::string DeviceNameProblem(const std::string& spec) {
  if (spec == "auto" || spec == "cpu" || spec == "cuda" || spec == "xpu" || spec == "mps") return "";
  for (const std::string type : {"cuda", "xpu"}) {
    if (spec.rfind(type + ":", 0) != 0) continue;
    const std::string digits = spec.substr(type.size() + 1);
    if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos) {
      return "\"" + spec + "\": the device index must be a number (" + type + ":0, " + type + ":1, ...)";
    }
    return "";
  }
  return "\"" + spec + "\" is not one of auto, cpu, cuda, cuda:N (or xpu[:N], mps where this LibTorch drives them)";
}

}  // namespace gcl
