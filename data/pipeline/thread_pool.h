// A small fixed pool of worker threads for image decoding and file checks.
//
//   gcl::data::ThreadPool pool(2);
//   pool.ParallelFor(images.size(), [&](size_t i) { Decode(images[i]); });  // blocks until all are done
//
// ParallelFor hands out indices dynamically, so work must not depend on which thread runs an index: give every
// index its own output slot and its own random stream (see sample_rng.h). The first exception thrown by the body
// is rethrown in the caller once every started index has finished. With 1 thread everything runs in the caller.
// Not for long-lived background tasks; one ParallelFor at a time per pool.
#ifndef GCL_DATA_PIPELINE_THREAD_POOL_H_
#define GCL_DATA_PIPELINE_THREAD_POOL_H_

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gcl::data {

class ThreadPool {
 public:
  // `threads` >= 1 counts the calling thread: a pool of 2 starts 1 worker. Throws std::invalid_argument below 1.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  void ParallelFor(size_t n, const std::function<void(size_t)>& body);

 private:
  void WorkerLoop();
  // Runs indices of the current job until none are left; returns when this thread has no more to take.
  void RunIndices();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable work_done_;
  const std::function<void(size_t)>* body_ = nullptr;
  size_t next_ = 0;
  size_t size_ = 0;
  size_t active_ = 0;      // threads currently inside RunIndices for this job
  unsigned long job_ = 0;  // bumped per ParallelFor so sleeping workers notice a new job
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace gcl::data

#endif  // GCL_DATA_PIPELINE_THREAD_POOL_H_
