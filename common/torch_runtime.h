// Run-time set-up of LibTorch that every command does first: how many threads, which device, and whether a fast
// BLAS serves matrix products.
//
//   gcl::ConfigureThreads();                          // --threads=0: $GCL_NUM_THREADS or all CPUs of the process
//   gcl::WarnIfSlowBlas();                            // one log line with the fix when OpenBLAS is missing
//   const c10::Device device = gcl::PickDevice(flags.device);   // "auto", "cpu", "cuda", "cuda:1"
//
// LibTorch starts with one intra-op thread on this project's machines, and Debian's LibTorch calls the generic
// BLAS interface: with the reference libblas.so.3 torch::mm runs ~30x slower than with OpenBLAS
// (see docs/BUILDING.md).
#ifndef GCL_COMMON_TORCH_RUNTIME_H_
#define GCL_COMMON_TORCH_RUNTIME_H_

#include <string>

#include "common/device.h"  // PickDevice

namespace gcl {

// The environment variable ConfigureThreads(0) reads.
inline constexpr const char kNumThreadsEnv[] = "GCL_NUM_THREADS";

struct ThreadSettings {
  int intra_op = 0;  // at::get_num_threads() afterwards
  int inter_op = 0;  // at::get_num_interop_threads() afterwards
  int blas = 0;      // OpenBLAS's own thread count afterwards; 0 when OpenBLAS is not loaded
};

// The thread count ConfigureThreads(0) uses: $GCL_NUM_THREADS when set (a positive integer, else
// std::runtime_error naming the variable), otherwise the number of CPUs this process may run on
// (sched_getaffinity, so a container's or taskset's limit is honoured).
int DefaultThreadCount();

// Sets LibTorch's intra-op and inter-op thread counts, and OpenBLAS's when it serves BLAS, to `requested`
// (0: DefaultThreadCount()). Negative `requested` throws std::invalid_argument. LibTorch fixes the inter-op
// count at its first use or first setting; if it is already fixed at another value, this logs a warning and
// leaves it. Returns the counts in effect afterwards.
ThreadSettings ConfigureThreads(int requested = 0);

struct BlasInfo {
  // True when the sgemm_ that LibTorch calls belongs to OpenBLAS.
  bool openblas = false;
  // The file that provides sgemm_ in this process (symlinks resolved); empty when no BLAS is loaded.
  std::string library;
  // openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64"; empty otherwise.
  std::string config;
  // $OPENBLAS_CORETYPE when it is set: OpenBLAS then uses that CPU's kernels instead of choosing for this one.
  std::string forced_core;
};

// Finds which library serves BLAS in this process. It asks the dynamic linker for the sgemm_ LibTorch binds to
// and checks whether that library (or what it links) is OpenBLAS: a liblapack.so.3 from OpenBLAS can pull
// OpenBLAS into the process while libblas.so.3 is still the slow reference one.
BlasInfo DetectBlas();

// The one-line warning for `info` (with the fix): BLAS is not OpenBLAS, or OpenBLAS's kernels are forced by
// $OPENBLAS_CORETYPE. Empty when OpenBLAS serves BLAS with kernels of its own choice.
std::string SlowBlasWarning(const BlasInfo& info);

// Logs SlowBlasWarning(DetectBlas()) as a glog warning when it is not empty; returns DetectBlas().openblas.
bool WarnIfSlowBlas();

}  // namespace gcl

#endif  // GCL_COMMON_TORCH_RUNTIME_H_
