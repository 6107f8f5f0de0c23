// Test support for readers of untrusted files: run a reader with a time limit and a memory budget, and fuzz it
// with seeded random mutations of real sample files.
//
//   const Outcome o = RunBounded("cyclic .pth", {}, [&] { models::ReadCheckpoint(path); });
//   EXPECT_EQ(o.kind, Outcome::Kind::kThrew);                 // a clear error, not a hang or a 4 GB allocation
//
//   FuzzOptions options;
//   options.iterations = 2000;
//   FuzzReport r = FuzzFile({sample}, TestTmpDir() / "x.npy", options,
//                           [](const std::string& path) { clustering::ReadNpy(path); });
//   EXPECT_GT(r.threw, 0);
//
// Bounds: memory is capped with RLIMIT_AS at what the process holds when the call starts plus the budget, so an
// allocation beyond it fails at once (std::bad_alloc, or LibTorch's / OpenCV's allocation error), and counts as
// a failure of the reader rather than exhausting the machine. Time is watched by a thread that ends the process
// with a message naming the input when one call runs past its limit: a thread spinning in a loop cannot be stopped
// any other way, and the test fails by its exit status.
#ifndef GCL_TESTS_SUPPORT_HOSTILE_INPUT_H_
#define GCL_TESTS_SUPPORT_HOSTILE_INPUT_H_

#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace gcl::testing_support {

struct Limits {
  double seconds = 10;                        // one call; a hang ends the test process
  uint64_t memory_bytes = uint64_t{1} << 30;  // address space a call may add
};

struct Outcome {
  enum class Kind { kReturned, kThrew, kOutOfMemory, kNonStandardException };
  Kind kind = Kind::kReturned;
  std::string message;  // what() of the exception
  double seconds = 0;
};

// The process's address space now (/proc/self/statm, first field).
inline uint64_t AddressSpaceBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0;
  statm >> pages;
  return pages * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// The watchdog: one thread for the process, armed around each bounded call. It polls every 50 ms instead of being
// woken: arming and disarming are then two atomic stores, cheap enough for thousands of fuzz iterations on a busy
// machine.
class Watchdog {
 public:
  static Watchdog& Get() {
    static Watchdog* watchdog = new Watchdog();  // never destroyed: its thread runs until the process ends
    return *watchdog;
  }
  void Arm(double seconds, const std::string& what) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      what_ = what;
      seconds_ = seconds;
    }
    deadline_ns_.store(Now() + static_cast<int64_t>(seconds * 1e9));
  }
  void Disarm() { deadline_ns_.store(0); }

 private:
  static int64_t Now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  Watchdog() : thread_([this] { Run(); }) { thread_.detach(); }
  void Run() {
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const int64_t deadline = deadline_ns_.load();
      if (deadline != 0 && Now() > deadline) {
        std::lock_guard<std::mutex> lock(mutex_);
        std::fprintf(stderr, "FAILED: %s did not finish within %.0f s (a hang); ending the test\n", what_.c_str(),
                     seconds_);
        std::fflush(stderr);
        std::_Exit(3);
      }
    }
  }
  std::mutex mutex_;
  std::string what_;
  double seconds_ = 0;
  std::atomic<int64_t> deadline_ns_{0};
  std::thread thread_;
};

inline bool IsAllocationFailure(const std::string& message) {
  for (const char* sign : {"can't allocate memory", "not enough memory", "Failed to allocate", "Insufficient memory",
                           "std::bad_alloc", "out of memory"}) {
    if (message.find(sign) != std::string::npos) return true;
  }
  return false;
}

// Runs `fn` on this thread within `limits`; `what` names it in the watchdog's message.
inline Outcome RunBounded(const std::string& what, const Limits& limits, const std::function<void()>& fn) {
  Watchdog& watchdog = Watchdog::Get();  // started before the memory cap, which its stack must not count against
  rlimit old_limit{};
  getrlimit(RLIMIT_AS, &old_limit);
  rlimit capped = old_limit;
  const uint64_t cap = AddressSpaceBytes() + limits.memory_bytes;
  if (old_limit.rlim_cur == RLIM_INFINITY || cap < old_limit.rlim_cur) capped.rlim_cur = cap;
  setrlimit(RLIMIT_AS, &capped);
  Outcome outcome;
  const auto start = std::chrono::steady_clock::now();
  watchdog.Arm(limits.seconds, what);
  try {
    fn();
  } catch (const std::bad_alloc& e) {
    outcome.kind = Outcome::Kind::kOutOfMemory;
    outcome.message = e.what();
  } catch (const std::exception& e) {
    outcome.message = e.what();
    outcome.kind = IsAllocationFailure(outcome.message) ? Outcome::Kind::kOutOfMemory : Outcome::Kind::kThrew;
  } catch (...) {
    outcome.kind = Outcome::Kind::kNonStandardException;
  }
  watchdog.Disarm();
  setrlimit(RLIMIT_AS, &old_limit);
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

// Where most edits of a mutant land: the first `bytes` of the file (a header, where the sizes live), or the last
// (a zip's central directory). 0: anywhere.
struct Focus {
  size_t bytes = 0;
  bool at_end = false;
};

// 1 to 4 random edits of `sample`: bit flips, bytes set to boundary values, 16/32/64-bit integers (either byte
// order) set to boundary values, a decimal number in the text set to a boundary value, truncation, a chunk
// deleted, duplicated or overwritten with random bytes. Seven edits in ten land in the focus, when there is one.
inline std::string Mutate(const std::string& sample, std::mt19937_64* rng, Focus focus = {}) {
  std::string s = sample;
  auto below = [&](uint64_t n) { return n == 0 ? uint64_t{0} : (*rng)() % n; };
  auto position = [&]() -> size_t {
    if (s.empty()) return 0;
    if (focus.bytes == 0 || below(10) >= 7) return static_cast<size_t>(below(s.size()));
    const size_t span = std::min(focus.bytes, s.size());
    return static_cast<size_t>(below(span)) + (focus.at_end ? s.size() - span : 0);
  };
  static const uint64_t kBoundaries[] = {0,
                                         1,
                                         0x7F,
                                         0x80,
                                         0xFF,
                                         0x7FFF,
                                         0x8000,
                                         0xFFFF,
                                         0x7FFFFFFF,
                                         0x80000000,
                                         0xFFFFFFFF,
                                         0x3B9ACA00 /* 1e9 */,
                                         0x7FFFFFFFFFFFFFFFull,
                                         ~uint64_t{0}};
  const int edits = 1 + static_cast<int>(below(4));
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const size_t at = position();
    switch (below(9)) {
      case 0:
        s[at] = static_cast<char>(s[at] ^ (1 << below(8)));
        break;
      case 1:
        s[at] = static_cast<char>(kBoundaries[below(5)]);
        break;
      case 2: {
        const int width = 2 << below(3);  // 2, 4 or 8 bytes
        const uint64_t value = below(3) == 0 ? below(1u << 20) : kBoundaries[below(std::size(kBoundaries))];
        const bool big_endian = below(2) == 0;
        for (int k = 0; k < width && at + k < s.size(); ++k) {
          const int shift = 8 * (big_endian ? width - 1 - k : k);
          s[at + k] = static_cast<char>(shift < 64 ? (value >> shift) & 0xFF : 0);
        }
        break;
      }
      case 3:
        s.resize(at);
        break;
      case 4:
        s.erase(at, static_cast<size_t>(below(64) + 1));
        break;
      case 5: {
        const size_t from = static_cast<size_t>(below(s.size()));
        s.insert(at, s.substr(from, static_cast<size_t>(below(256) + 1)));
        break;
      }
      case 6:
        for (size_t k = at; k < std::min(s.size(), at + static_cast<size_t>(below(16) + 1)); ++k) {
          s[k] = static_cast<char>(below(256));
        }
        break;
      case 7: {
        // A number written in text (a .npy shape, a JSON offset, a CSV column) replaced by a boundary value: the
        // sizes that text headers promise.
        static const char* kNumbers[] = {
            "0",     "-1", "1000000000", "4294967296", "100000000000", "9223372036854775807", "99999999999999999999",
            "1e308", "nan"};
        size_t begin = at;
        while (begin < s.size() && (s[begin] < '0' || s[begin] > '9')) ++begin;
        size_t end = begin;
        while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
        if (begin < s.size()) s.replace(begin, end - begin, kNumbers[below(std::size(kNumbers))]);
        break;
      }
      default:
        s.insert(at, std::string(static_cast<size_t>(below(8) + 1), static_cast<char>(below(256))));
        break;
    }
  }
  return s;
}

struct FuzzOptions {
  uint64_t seed = 1;
  int iterations = 1000;
  Limits limits;
  Focus focus;
};

struct FuzzReport {
  int returned = 0;  // the mutant was accepted (a mutation that left the file valid, or changed only values)
  int threw = 0;     // refused with a std::exception: the expected answer to damage
  double slowest_seconds = 0;
};

// Writes `iterations` mutants of the samples to `path`, one at a time, and runs `read(path)` on each within the
// limits. Adds a test failure, saving the mutant under TEST_UNDECLARED_OUTPUTS_DIR (else next to `path`), for each
// one that ran out of its memory budget or threw something that is not a std::exception; a hang or a crash ends the
// test.
inline FuzzReport FuzzFile(const std::vector<std::string>& samples, const std::filesystem::path& path,
                           const FuzzOptions& options, const std::function<void(const std::string&)>& read) {
  std::mt19937_64 rng(options.seed);
  FuzzReport report;
  for (int i = 0; i < options.iterations; ++i) {
    const std::string mutant = Mutate(samples[rng() % samples.size()], &rng, options.focus);
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(mutant.data(), static_cast<std::streamsize>(mutant.size()));
    }
    const std::string name = "mutant " + std::to_string(i) + " of seed " + std::to_string(options.seed);
    const Outcome o = RunBounded(name + " (" + path.string() + ")", options.limits, [&] { read(path.string()); });
    report.slowest_seconds = std::max(report.slowest_seconds, o.seconds);
    if (o.kind == Outcome::Kind::kReturned) ++report.returned;
    if (o.kind == Outcome::Kind::kThrew) ++report.threw;
    if (o.kind == Outcome::Kind::kOutOfMemory || o.kind == Outcome::Kind::kNonStandardException) {
      const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
      const std::filesystem::path saved =
          (outputs != nullptr ? std::filesystem::path(outputs) : path.parent_path()) /
          ("failing_mutant_" + std::to_string(options.seed) + "_" + std::to_string(i) + path.extension().string());
      std::ofstream(saved, std::ios::binary) << mutant;
      ADD_FAILURE() << name << ": "
                    << (o.kind == Outcome::Kind::kOutOfMemory ? "allocated beyond its memory budget (" + o.message + ")"
                                                              : std::string("threw a non-standard exception"))
                    << "; saved as " << saved;
    }
  }
  return report;
}

}  // namespace gcl::testing_support

#endif  // GCL_TESTS_SUPPORT_HOSTILE_INPUT_H_
