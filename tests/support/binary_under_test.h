// The main() of a test that runs one of the project's programs as a child process. Its BUILD rule passes the
// program's path as the one argument (`args = ["$(rootpath //tools/train:train)"]`).
//
//   std::string g_train_binary;
//   int main(int argc, char** argv) { return gcl::testing_support::RunTestsOfBinary(argc, argv, &g_train_binary); }
#ifndef GCL_TESTS_SUPPORT_BINARY_UNDER_TEST_H_
#define GCL_TESTS_SUPPORT_BINARY_UNDER_TEST_H_

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace gcl::testing_support {

// Parses gtest's flags, stores the program's absolute path in *binary and runs the tests; exit status 2 with a
// usage line when the path is missing.
inline int RunTestsOfBinary(int argc, char** argv, std::string* binary) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <path of the program under test>\n", argv[0]);
    return 2;
  }
  *binary = std::filesystem::absolute(argv[1]).string();
  return RUN_ALL_TESTS();
}

}  // namespace gcl::testing_support

#endif  // GCL_TESTS_SUPPORT_BINARY_UNDER_TEST_H_
