// A one-line terminal progress bar for long work that is not a training epoch (rendering a synthetic world,
// extracting features): `label [#####.....] done/total  rate/s  ETA m:ss` on stderr, redrawn in place at most
// ten times a second and finished with a newline.
//
//   gcl::ProgressLine bar("rendering synthetic world", "images");
//   for (size_t i = 0; i < n; ++i) { work(i); bar.Update(i + 1, n); }
//
// Not thread-safe: call Update from one thread at a time (for example under the caller's mutex).
#ifndef GCL_COMMON_PROGRESS_LINE_H_
#define GCL_COMMON_PROGRESS_LINE_H_

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

namespace gcl {

class ProgressLine {
 public:
  ProgressLine(std::string label, std::string unit, std::FILE* out = stderr);

  // Redraws when a tenth of a second has passed since the last draw, or when done == total (then ends the line).
  void Update(size_t done, size_t total);

  // The line as it would be drawn now, without the carriage return (exposed for tests).
  std::string Format(size_t done, size_t total, double elapsed_seconds) const;

 private:
  std::string label_;
  std::string unit_;
  std::FILE* out_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool finished_ = false;
};

}  // namespace gcl

#endif  // GCL_COMMON_PROGRESS_LINE_H_
