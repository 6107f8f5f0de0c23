#include "common/user_path.h"

#include <cstdlib>
#include <filesystem>

namespace gcl {

namespace {

const char* InvocationDir() {
  const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
  return dir != nullptr && *dir != '\0' ? dir : nullptr;
}

}  // namespace

std::string ResolveAgainst(const std::string& path, const std::string& base) {
  if (path.empty() || base.empty()) return path;
  const std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (std::filesystem::path(base) / p).lexically_normal().string();
}

std::string UserPath(const std::string& path) {
  const char* invocation_dir = InvocationDir();
  return invocation_dir == nullptr ? path : ResolveAgainst(path, invocation_dir);
}

std::string UserWorkingDir() {
  const char* invocation_dir = InvocationDir();
  return invocation_dir != nullptr ? invocation_dir : std::filesystem::current_path().string();
}

}  // namespace gcl
