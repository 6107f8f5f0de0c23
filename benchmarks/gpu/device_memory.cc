#include "benchmarks/gpu/device_memory.h"

#ifdef GCL_CUDA_MEMORY_STATS
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace gcl::gpu_check {

#ifdef GCL_CUDA_MEMORY_STATS

bool DeviceMemoryMeasured() { return true; }

void ResetPeakDeviceMemory(const c10::Device& device) {
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
}

int64_t PeakDeviceMemoryBytes(const c10::Device& device) {
  if (!device.is_cuda()) return -1;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
  return stats.allocated_bytes[0].peak;  // index 0: StatType::AGGREGATE (all pools)
}

#else

bool DeviceMemoryMeasured() { return false; }
void ResetPeakDeviceMemory(const c10::Device& /*device*/) {}
int64_t PeakDeviceMemoryBytes(const c10::Device& /*device*/) { return -1; }

#endif

}  // namespace gcl::gpu_check
