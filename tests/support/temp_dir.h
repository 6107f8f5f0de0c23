// A fresh, empty folder for one test case under the test's temporary directory ($TEST_TMPDIR, else /tmp).
//
//   const std::filesystem::path dir = gcl::testing_support::FreshTestDir("jobs");   // removed first if it exists
#ifndef GCL_TESTS_SUPPORT_TEMP_DIR_H_
#define GCL_TESTS_SUPPORT_TEMP_DIR_H_

#include <cstdlib>
#include <filesystem>
#include <string>

namespace gcl::testing_support {

inline std::filesystem::path FreshTestDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  const std::filesystem::path dir = std::filesystem::path(base != nullptr ? base : "/tmp") / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace gcl::testing_support

#endif  // GCL_TESTS_SUPPORT_TEMP_DIR_H_
