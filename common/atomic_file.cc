#include "common/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

namespace gcl {
namespace {

[[noreturn]] void Fail(const std::string& path, const std::string& step, int error) {
  throw std::runtime_error("cannot write " + path + " atomically: " + step + ": " + std::strerror(error));
}

// Closes the temporary file and removes it unless the rename has consumed it.
class TempFile {
 public:
  TempFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) close(fd_);
    if (!renamed_) unlink(path_.c_str());
  }

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  // Closes the descriptor, returning close()'s errno (0 on success).
  int Close() {
    const int result = close(fd_);
    fd_ = -1;
    return result == 0 ? 0 : errno;
  }
  void MarkRenamed() { renamed_ = true; }

 private:
  std::string path_;
  int fd_;
  bool renamed_ = false;
};

std::string TempSuffix() {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(rng() % 1000000);
}

}  // namespace

void WriteFileAtomically(const std::string& path, std::string_view bytes) {
  if (path.empty()) throw std::runtime_error("cannot write a file atomically: the path is empty");
  const size_t slash = path.rfind('/');
  const std::string folder = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    throw std::runtime_error("cannot write " + path + " atomically: the path names a folder, not a file");
  }

  // A hidden sibling, so that a crash leaves at worst a stray ".name.tmp-*" file, never a damaged `path`.
  int fd = -1;
  std::string temp_path;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    temp_path = folder + "/." + name + TempSuffix();
    fd = open(temp_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && errno != EEXIST) Fail(path, "creating a temporary file in " + folder, errno);
  }
  if (fd < 0) Fail(path, "creating a temporary file in " + folder, EEXIST);
  TempFile temp(temp_path, fd);

  struct stat existing;
  if (stat(path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode) &&
      fchmod(temp.fd(), existing.st_mode & 07777) != 0) {
    Fail(path, "copying the permissions of the existing file", errno);
  }

  const char* data = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    const ssize_t written = write(temp.fd(), data, left);
    if (written < 0) {
      if (errno == EINTR) continue;
      Fail(path, "writing " + std::to_string(bytes.size()) + " bytes to " + temp.path(), errno);
    }
    data += written;
    left -= static_cast<size_t>(written);
  }
  if (fsync(temp.fd()) != 0) Fail(path, "fsync of " + temp.path(), errno);
  if (const int error = temp.Close(); error != 0) Fail(path, "closing " + temp.path(), error);
  if (rename(temp.path().c_str(), path.c_str()) != 0) Fail(path, "renaming " + temp.path() + " onto it", errno);
  temp.MarkRenamed();

  const int folder_fd = open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder_fd < 0) Fail(path, "opening folder " + folder + " to fsync it", errno);
  // EINVAL: the file system cannot sync folders (some network and FUSE ones); the rename is then as durable as
  // that file system makes it.
  if (fsync(folder_fd) != 0 && errno != EINVAL) {
    const int error = errno;
    close(folder_fd);
    Fail(path, "fsync of folder " + folder, error);
  }
  close(folder_fd);
}

}  // namespace gcl
