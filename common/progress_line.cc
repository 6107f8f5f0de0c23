#include "common/progress_line.h"

#include <algorithm>
#include <cinttypes>
#include <utility>

namespace gcl {
namespace {

constexpr int kBarWidth = 24;
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

std::string Clock(double seconds) {
  const int64_t s = static_cast<int64_t>(std::max(0.0, seconds) + 0.5);
  char text[32];
  std::snprintf(text, sizeof(text), "%" PRId64 ":%02" PRId64, s / 60, s % 60);
  return text;
}

}  // namespace

ProgressLine::ProgressLine(std::string label, std::string unit, std::FILE* out)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      out_(out),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - kRedrawInterval) {}

std::string ProgressLine::Format(size_t done, size_t total, double elapsed_seconds) const {
  const double fraction = total == 0 ? 1.0 : std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
  const int filled = static_cast<int>(fraction * kBarWidth + 1e-9);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kBarWidth - filled), '.');
  const double rate = elapsed_seconds > 0 ? done / elapsed_seconds : 0.0;
  const std::string eta = rate > 0 ? Clock((total - std::min(done, total)) / rate) : "?";
  char text[256];
  std::snprintf(text, sizeof(text), "%s [%s] %zu/%zu %s  %.1f/s  elapsed %s  ETA %s", label_.c_str(), bar.c_str(),
                done, total, unit_.c_str(), rate, Clock(elapsed_seconds).c_str(), eta.c_str());
  return text;
}

void ProgressLine::Update(size_t done, size_t total) {
  if (finished_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool last = done >= total;
  if (!last && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  std::fprintf(out_, "\r%s%s", Format(done, total, elapsed).c_str(), last ? "\n" : "");
  std::fflush(out_);
  finished_ = last;
}

}  // namespace gcl
