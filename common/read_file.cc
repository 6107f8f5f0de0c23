#include "common/read_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace gcl {

std::string ReadWholeFile(const std::string& path, uint64_t max_bytes, const std::string& what) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (error || !fs::exists(status)) throw std::runtime_error(path + ": cannot open the " + what + " (no such file)");
  if (!fs::is_regular_file(status)) throw std::runtime_error(path + ": the " + what + " is not a regular file");
  const uint64_t size = fs::file_size(path, error);
  if (error) throw std::runtime_error(path + ": cannot read the " + what + ": " + error.message());
  if (size > max_bytes) {
    throw std::runtime_error(path + ": the " + what + " is " + std::to_string(size) + " bytes, more than the " +
                             std::to_string(max_bytes) + " bytes it may have");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the " + what + ": " + std::strerror(errno));
  std::string bytes(static_cast<size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<uint64_t>(in.gcount()) != size) {
    throw std::runtime_error(path + ": the " + what + " changed while it was read (" + std::to_string(in.gcount()) +
                             " of " + std::to_string(size) + " bytes)");
  }
  return bytes;
}

}  // namespace gcl
