// Peak memory of a CUDA device as LibTorch's caching allocator counts it (bytes handed out to tensors, the
// figure torch.cuda.max_memory_allocated reports). Compiled with GCL_CUDA_MEMORY_STATS only where the LibTorch
// has CUDA and its CUDA headers compile (CMakeLists.txt probes that); elsewhere, and for other devices, the
// functions report "not measured".
#ifndef GCL_BENCHMARKS_GPU_DEVICE_MEMORY_H_
#define GCL_BENCHMARKS_GPU_DEVICE_MEMORY_H_

#include <c10/core/Device.h>

#include <cstdint>

namespace gcl::gpu_check {

// True when this build can read the allocator's statistics.
bool DeviceMemoryMeasured();

// Starts a new peak for `device` (no-op when not measured).
void ResetPeakDeviceMemory(const c10::Device& device);

// Peak bytes allocated on `device` since the last reset, or -1 when not measured.
int64_t PeakDeviceMemoryBytes(const c10::Device& device);

}  // namespace gcl::gpu_check

#endif  // GCL_BENCHMARKS_GPU_DEVICE_MEMORY_H_
