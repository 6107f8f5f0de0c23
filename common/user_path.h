// Paths that users type on the command line of a `bazel run` program.
//
// `bazel run` starts a program inside its runfiles folder and names the folder the user ran it from in
// BUILD_WORKING_DIRECTORY. A relative path the user typed (`--out data/quick`) means that folder, not the
// runfiles one, so every command resolves its path arguments through UserPath:
//
//   const std::string out = gcl::UserPath(flags.out);  // absolute under `bazel run`, unchanged otherwise
#ifndef GCL_COMMON_USER_PATH_H_
#define GCL_COMMON_USER_PATH_H_

#include <string>

namespace gcl {

// `path` resolved against BUILD_WORKING_DIRECTORY when that is set and `path` is relative and not empty;
// otherwise `path` unchanged (a program started directly already runs in the user's folder).
std::string UserPath(const std::string& path);

// The folder the user ran the program from: BUILD_WORKING_DIRECTORY under `bazel run`, else the current one.
std::string UserWorkingDir();

// `path` resolved against `base` when `path` is relative and neither is empty; otherwise `path` unchanged. For
// library code that is handed the user's folder explicitly (tests pass their own) instead of reading the
// environment as UserPath does.
std::string ResolveAgainst(const std::string& path, const std::string& base);

}  // namespace gcl

#endif  // GCL_COMMON_USER_PATH_H_
