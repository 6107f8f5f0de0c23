// The device names every command and config accepts ("auto", "cpu", "cuda", "cuda:N"; "xpu[:N]" and "mps" for
// LibTorch builds that drive them), checked as text: a config is resolved (run.device) long before LibTorch picks
// the device, and a name such as "tpu" must be refused there, naming the field, instead of failing deep inside a
// worker. Whether the device exists is decided at run time (gcl::PickDevice, common/device.h).
//
//   if (std::string problem = gcl::DeviceNameProblem(spec); !problem.empty()) throw ...;
#ifndef GCL_COMMON_DEVICE_NAME_H_
#define GCL_COMMON_DEVICE_NAME_H_

#include <string>

namespace gcl {

// "" when `spec` is "auto", "cpu", "cuda", "cuda:N", "xpu", "xpu:N" or "mps" (N a device index of up to 3
// digits), otherwise what is wrong ("\"tpu\" is not one of auto, cpu, cuda, cuda:N ...").
std::string DeviceNameProblem(const std::string& spec);

}  // namespace gcl

#endif  // GCL_COMMON_DEVICE_NAME_H_
