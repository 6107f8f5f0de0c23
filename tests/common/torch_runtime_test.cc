#include "common/torch_runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <string>
#include <thread>

namespace gcl {
namespace {

using ::testing::HasSubstr;

// Sets GCL_NUM_THREADS for one scope, restoring the previous state afterwards.
class ScopedEnv {
 public:
  explicit ScopedEnv(const char* value) {
    if (const char* old = std::getenv(kNumThreadsEnv)) old_ = old, had_old_ = true;
    if (value == nullptr) {
      unsetenv(kNumThreadsEnv);
    } else {
      setenv(kNumThreadsEnv, value, 1);
    }
  }
  ~ScopedEnv() {
    if (had_old_) {
      setenv(kNumThreadsEnv, old_.c_str(), 1);
    } else {
      unsetenv(kNumThreadsEnv);
    }
  }

 private:
  std::string old_;
  bool had_old_ = false;
};

TEST(DefaultThreadCount, UsesTheCpusOfTheProcessWithoutTheVariable) {
  const ScopedEnv env(nullptr);
  const int count = DefaultThreadCount();
  EXPECT_GE(count, 1);
  EXPECT_LE(count, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  const ScopedEnv empty("");
  EXPECT_EQ(DefaultThreadCount(), count);
}

TEST(DefaultThreadCount, ReadsTheVariable) {
  const ScopedEnv env("3");
  EXPECT_EQ(DefaultThreadCount(), 3);
}

TEST(DefaultThreadCount, RejectsMalformedValuesNamingTheVariable) {
  for (const char* bad : {"0", "-2", "abc", "3x", "99999", " 4"}) {
    const ScopedEnv env(bad);
    EXPECT_THAT([] { DefaultThreadCount(); },
                ::testing::ThrowsMessage<std::runtime_error>(
                    HasSubstr(std::string("GCL_NUM_THREADS = \"") + bad + "\" is not a thread count")))
        << bad;
  }
}

// One test, because LibTorch lets the inter-op count be set once per process.
TEST(ConfigureThreads, SetsIntraOpInterOpAndBlasThreads) {
  const bool openblas = DetectBlas().openblas;
  ThreadSettings s = ConfigureThreads(2);
  EXPECT_EQ(s.intra_op, 2);
  EXPECT_EQ(at::get_num_threads(), 2);
  EXPECT_EQ(s.inter_op, 2);
  EXPECT_EQ(at::get_num_interop_threads(), 2);
  EXPECT_EQ(s.blas, openblas ? 2 : 0);

  // The inter-op count stays where it was first fixed; the others follow.
  s = ConfigureThreads(1);
  EXPECT_EQ(s.intra_op, 1);
  EXPECT_EQ(at::get_num_threads(), 1);
  EXPECT_EQ(s.inter_op, 2);
  EXPECT_EQ(s.blas, openblas ? 1 : 0);

  {
    const ScopedEnv env("3");
    s = ConfigureThreads();
    EXPECT_EQ(s.intra_op, 3);
    EXPECT_EQ(at::get_num_threads(), 3);
  }
  // Work still runs and is right with the new settings.
  const torch::Tensor a = torch::ones({64, 32});
  EXPECT_DOUBLE_EQ(torch::mm(a, a.t()).sum().item<double>(), 64.0 * 64.0 * 32.0);

  EXPECT_THAT([] { ConfigureThreads(-1); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("thread count -1 is negative")));
}

TEST(DetectBlas, NamesTheLibraryLibTorchCalls) {
  const BlasInfo info = DetectBlas();
  // LibTorch links libblas.so.3, so some BLAS is always loaded in this test.
  ASSERT_FALSE(info.library.empty());
  // Debian installs OpenBLAS's libblas.so.3 under .../openblas-<variant>/, the reference one under .../blas/.
  EXPECT_EQ(info.openblas, info.library.find("openblas") != std::string::npos) << info.library;
  if (info.openblas) {
    EXPECT_THAT(info.config, HasSubstr("OpenBLAS"));
  } else {
    EXPECT_EQ(info.config, "");
  }
  EXPECT_EQ(WarnIfSlowBlas(), info.openblas);
}

TEST(SlowBlasWarning, NamesAForcedOpenBlasKernelAndHowToUndoIt) {
  BlasInfo openblas;
  openblas.openblas = true;
  openblas.library = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3";
  EXPECT_EQ(SlowBlasWarning(openblas), "");
  openblas.forced_core = "Haswell";
  const std::string warning = SlowBlasWarning(openblas);
  EXPECT_THAT(warning, HasSubstr("OPENBLAS_CORETYPE=Haswell makes OpenBLAS use that CPU's kernels"));
  EXPECT_THAT(warning, HasSubstr("unset OPENBLAS_CORETYPE"));
  EXPECT_EQ(warning.find('\n'), std::string::npos);
}

TEST(DetectBlas, ReadsAForcedCoreTypeFromTheEnvironment) {
  const char* before = std::getenv("OPENBLAS_CORETYPE");
  const std::string saved = before != nullptr ? before : "";
  setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  EXPECT_EQ(DetectBlas().forced_core, "Haswell");
  unsetenv("OPENBLAS_CORETYPE");
  EXPECT_EQ(DetectBlas().forced_core, "");
  if (before != nullptr) setenv("OPENBLAS_CORETYPE", saved.c_str(), 1);
}

TEST(SlowBlasWarning, GivesTheFixOnlyWhenOpenBlasIsMissing) {
  BlasInfo reference;
  reference.library = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3";
  const std::string warning = SlowBlasWarning(reference);
  EXPECT_THAT(warning, HasSubstr("BLAS is /usr/lib/x86_64-linux-gnu/blas/libblas.so.3, not OpenBLAS"));
  EXPECT_THAT(warning, HasSubstr("apt-get install libopenblas0-pthread"));
  EXPECT_EQ(warning.find('\n'), std::string::npos);
  EXPECT_THAT(SlowBlasWarning(BlasInfo{}), HasSubstr("no BLAS library is loaded"));
  BlasInfo fast;
  fast.openblas = true;
  fast.library = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3";
  EXPECT_EQ(SlowBlasWarning(fast), "");
}

}  // namespace
}  // namespace gcl
