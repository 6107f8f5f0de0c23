// A tiny fork-join loop for plain-C++ work (clustering, evaluation, rendering the synthetic world): no LibTorch
// thread pool needed there.
//
//   ParallelFor(n, /*num_threads=*/0, /*grain=*/64, [&](int64_t begin, int64_t end, int worker) { ... });
//
// Chunks of `grain` indices are handed out dynamically, so uneven rows (k-reciprocal sets differ in size) balance.
// `worker` is in [0, ResolveThreads(num_threads)) and lets a caller keep per-thread scratch buffers.
#ifndef GCL_COMMON_PARALLEL_FOR_H_
#define GCL_COMMON_PARALLEL_FOR_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace gcl {

// num_threads <= 0 means one thread per hardware thread.
inline int ResolveThreads(int num_threads) {
  if (num_threads > 0) return num_threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

template <typename Fn>
void ParallelFor(int64_t n, int num_threads, int64_t grain, const Fn& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int threads = static_cast<int>(std::min<int64_t>(ResolveThreads(num_threads), (n + grain - 1) / grain));
  if (threads <= 1) {
    fn(int64_t{0}, n, 0);
    return;
  }
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto work = [&](int worker) {
    try {
      for (int64_t begin = next.fetch_add(grain); begin < n; begin = next.fetch_add(grain)) {
        fn(begin, std::min(n, begin + grain), worker);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(n);
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (int w = 1; w < threads; ++w) pool.emplace_back(work, w);
  work(0);
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace gcl

#endif  // GCL_COMMON_PARALLEL_FOR_H_
