#include "data/pipeline/thread_pool.h"

#include <stdexcept>
#include <string>

namespace gcl::data {

ThreadPool::ThreadPool(int threads) {
  if (threads < 1) {
    throw std::invalid_argument("ThreadPool: threads must be >= 1, got " + std::to_string(threads));
  }
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::RunIndices() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (next_ < size_ && !error_) {
    const size_t i = next_++;
    const std::function<void(size_t)>* body = body_;
    lock.unlock();
    std::exception_ptr failure;
    try {
      (*body)(i);
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    if (failure && !error_) error_ = failure;
  }
}

void ThreadPool::WorkerLoop() {
  unsigned long seen = 0;
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    work_ready_.wait(lock, [&] { return stop_ || job_ != seen; });
    if (stop_) return;
    seen = job_;
    ++active_;
    lock.unlock();
    RunIndices();
    lock.lock();
    --active_;
    work_done_.notify_all();
  }
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t)>& body) {
  if (n == 0) return;
  if (workers_.empty()) {
    for (size_t i = 0; i < n; ++i) body(i);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    body_ = &body;
    next_ = 0;
    size_ = n;
    error_ = nullptr;
    ++job_;
  }
  work_ready_.notify_all();
  RunIndices();
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    // Every index is handed out once next_ reaches size_ (or an error stopped the hand-out); wait for the workers
    // that are still running one. A worker that wakes late finds nothing left and leaves at once.
    work_done_.wait(lock, [&] { return active_ == 0; });
    error = error_;
    body_ = nullptr;
    size_ = 0;
    next_ = 0;
    error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace gcl::data
