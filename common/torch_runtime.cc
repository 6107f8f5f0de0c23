#include "common/torch_runtime.h"

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <dlfcn.h>
#include <glog/logging.h>
#include <sched.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "common/device_name.h"
#include "common/numbers.h"

namespace gcl {
namespace {

using OpenBlasGetConfig = char* (*)();
using OpenBlasGetNumThreads = int (*)();
using OpenBlasSetNumThreads = void (*)(int);

// The library that provides the sgemm_ the process binds to, opened without loading anything new, or nullptr.
void* BlasHandle(std::string* path) {
  void* sgemm = dlsym(RTLD_DEFAULT, "sgemm_");
  Dl_info where;
  if (sgemm == nullptr || dladdr(sgemm, &where) == 0 || where.dli_fname == nullptr) return nullptr;
  if (path != nullptr) {
    char resolved[PATH_MAX];
    *path = realpath(where.dli_fname, resolved) != nullptr ? resolved : where.dli_fname;
  }
  return dlopen(where.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
}

// An OpenBLAS function reachable from the BLAS library in use (itself or its dependencies), or nullptr.
void* OpenBlasSymbol(const char* name) {
  void* handle = BlasHandle(nullptr);
  if (handle == nullptr) return nullptr;
  void* symbol = dlsym(handle, name);
  dlclose(handle);  // balances dlopen's reference count; the library stays loaded
  return symbol;
}

int ParsePositiveInt(const char* text, const std::string& what) {
  int64_t value = 0;
  if (!ParseInteger(text, 1, 4096, &value).empty()) {
    throw std::runtime_error(what + " = \"" + text + "\" is not a thread count (a whole number from 1 to 4096)");
  }
  return static_cast<int>(value);
}

}  // namespace

int DefaultThreadCount() {
  if (const char* env = std::getenv(kNumThreadsEnv); env != nullptr && *env != '\0') {
    return ParsePositiveInt(env, std::string("environment variable ") + kNumThreadsEnv);
  }
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) > 0) return CPU_COUNT(&cpus);
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware > 0 ? static_cast<int>(hardware) : 1;
}

ThreadSettings ConfigureThreads(int requested) {
  if (requested < 0) {
    throw std::invalid_argument("ConfigureThreads: thread count " + std::to_string(requested) +
                                " is negative (0 means: choose from the machine)");
  }
  const int threads = requested > 0 ? requested : DefaultThreadCount();
  at::set_num_threads(threads);
  if (at::get_num_interop_threads() != threads) {
    try {
      at::set_num_interop_threads(threads);
    } catch (const c10::Error&) {
      LOG(WARNING) << "LibTorch's inter-op thread count is already fixed at " << at::get_num_interop_threads()
                   << " (it can be set once per process, before parallel work); asked for " << threads;
    }
  }
  ThreadSettings settings;
  if (auto set = reinterpret_cast<OpenBlasSetNumThreads>(OpenBlasSymbol("openblas_set_num_threads"))) {
    set(threads);
  }
  if (auto get = reinterpret_cast<OpenBlasGetNumThreads>(OpenBlasSymbol("openblas_get_num_threads"))) {
    settings.blas = get();
  }
  settings.intra_op = at::get_num_threads();
  settings.inter_op = at::get_num_interop_threads();
  return settings;
}

BlasInfo DetectBlas() {
  BlasInfo info;
  void* handle = BlasHandle(&info.library);
  if (handle == nullptr) return info;
  if (auto config = reinterpret_cast<OpenBlasGetConfig>(dlsym(handle, "openblas_get_config"))) {
    info.openblas = true;
    info.config = config();
  }
  dlclose(handle);
  if (const char* core = std::getenv("OPENBLAS_CORETYPE"); core != nullptr && *core != '\0') info.forced_core = core;
  return info;
}

std::string SlowBlasWarning(const BlasInfo& info) {
  if (info.openblas && !info.forced_core.empty()) {
    // Measured on the project's 2-core AMD EPYC machine, whose environment set OPENBLAS_CORETYPE=Haswell: stage-1
    // steps of the quick preset took 0.125 s forced and 0.053 s unforced (docs/BUILDING.md).
    return "OPENBLAS_CORETYPE=" + info.forced_core +
           " makes OpenBLAS use that CPU's kernels instead of the ones it picks for this one (on an AMD EPYC, "
           "Haswell's made training steps ~2x slower; the rounding, and so the results, also change). Fix: "
           "unset OPENBLAS_CORETYPE unless this CPU needs it";
  }
  if (info.openblas) return "";
  const std::string which = info.library.empty() ? "no BLAS library is loaded" : "BLAS is " + info.library;
  return which +
         ", not OpenBLAS: matrix products run ~30x slower. Fix: apt-get install libopenblas0-pthread "
         "(it takes over libblas.so.3)";
}

bool WarnIfSlowBlas() {
  const BlasInfo info = DetectBlas();
  const std::string warning = SlowBlasWarning(info);
  if (!warning.empty()) LOG(WARNING) << warning;
  return info.openblas;
}

}  // namespace gcl
