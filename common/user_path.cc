#include "common/user_path.h"

#include <cstdlib>
#include <filesystem>

namespace gcl {

std::string UserPath(const std::string& path) {
  const char* invocation_dir = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || invocation_dir == nullptr || *invocation_dir == '\0') return path;
  const std::filesystem::path p(path);
  if (p.is_absolute()) return path;
  return (std::filesystem::path(invocation_dir) / p).lexically_normal().string();
}

}  // namespace gcl
