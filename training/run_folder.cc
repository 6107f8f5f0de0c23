#include "training/run_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace gcl::training {
namespace {

namespace fs = std::filesystem;

std::string Errno() { return std::strerror(errno); }

bool IsCheckpointFile(const std::string& name) {
  return name.rfind("checkpoint-", 0) == 0 && name.size() > 3 && name.substr(name.size() - 3) == ".pb";
}

bool HasCheckpoint(const fs::path& run_dir) {
  std::error_code error;
  const fs::path dir = run_dir / "checkpoints";
  if (fs::exists(dir / "LATEST", error)) return true;
  if (!fs::is_directory(dir, error)) return false;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    if (IsCheckpointFile(entry.path().filename().string())) return true;
  }
  return false;
}

// "a, b, c" of at most `limit` names, then ", ..." when there are more.
std::string NameList(std::vector<std::string> names, size_t limit) {
  std::sort(names.begin(), names.end());
  std::string text;
  for (size_t i = 0; i < names.size() && i < limit; ++i) text += (i == 0 ? "" : ", ") + names[i];
  if (names.size() > limit) text += ", ...";
  return text;
}

std::string Megabytes(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", bytes / 1e6);
  return text;
}

}  // namespace

RunFolderLock::RunFolderLock(const std::string& run_dir) {
  std::error_code error;
  fs::create_directories(run_dir, error);
  if (error) throw std::runtime_error("cannot create the run folder " + run_dir + ": " + error.message());
  const std::string path = (fs::path(run_dir) / kRunLockFile).string();
  fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error("cannot create the lock file " + path + ": " + Errno());
  if (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int flock_errno = errno;
    char owner[32] = {0};
    const ssize_t n = pread(fd_, owner, sizeof owner - 1, 0);
    close(fd_);
    fd_ = -1;
    if (flock_errno != EWOULDBLOCK) {
      throw std::runtime_error("cannot lock " + path + ": " + std::strerror(flock_errno));
    }
    std::string pid = n > 0 ? std::string(owner, static_cast<size_t>(n)) : std::string();
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
    throw std::runtime_error("the run folder " + run_dir + " is in use by another process" +
                             (pid.empty() ? std::string() : " (pid " + pid + ")") +
                             ": two runs cannot share one folder; wait for it to end, or give this run another "
                             "--name");
  }
  const std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd_, 0) != 0 || pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // The pid is only for the message of a second process; the lock itself holds.
  }
}

RunFolderLock::~RunFolderLock() {
  if (fd_ >= 0) close(fd_);  // closing the last descriptor releases the flock
}

void PrepareFreshRunFolder(const std::string& run_dir, bool overwrite) {
  std::error_code error;
  if (!fs::exists(run_dir, error)) return;
  std::vector<fs::path> entries;
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(run_dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name == kRunLockFile) continue;
    entries.push_back(entry.path());
    names.push_back(name + (entry.is_directory(error) ? "/" : ""));
  }
  if (error) throw std::runtime_error("cannot list the run folder " + run_dir + ": " + error.message());
  if (entries.empty()) return;
  if (!overwrite) {
    throw std::runtime_error("the run folder " + run_dir + " already holds a run (" + NameList(names, 6) +
                             "); nothing was changed. Continue it with --resume, replace it with --overwrite, or "
                             "give this run another --name");
  }
  for (const fs::path& entry : entries) {
    fs::remove_all(entry, error);
    if (error) throw std::runtime_error("--overwrite: cannot remove " + entry.string() + ": " + error.message());
  }
}

void CheckResumableRunFolder(const std::string& run_dir) {
  const fs::path dir(run_dir);
  std::error_code error;
  if (fs::is_directory(dir, error) && HasCheckpoint(dir)) return;
  std::vector<std::string> runs;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir.parent_path(), error)) {
    if (entry.is_directory(error) && HasCheckpoint(entry.path())) runs.push_back(entry.path().filename().string());
  }
  const std::string why = fs::is_directory(dir, error)
                              ? run_dir + " has no checkpoint (checkpoints/LATEST is missing), so there is nothing "
                                          "to continue"
                              : "there is no run folder " + run_dir;
  throw std::runtime_error("--resume: " + why + "; runs with checkpoints in " + dir.parent_path().string() + ": " +
                           (runs.empty() ? std::string("none") : NameList(runs, 10)) +
                           ". Nothing was changed; without --resume a new run starts");
}

proto::DatasetFingerprint DatasetFingerprintOf(const data::ReidDataset& dataset, const proto::TrainConfig& config) {
  proto::DatasetFingerprint f;
  f.set_root(dataset.root);
  f.set_train_images(static_cast<int64_t>(dataset.train.records.size()));
  f.set_query_images(static_cast<int64_t>(dataset.query.records.size()));
  f.set_gallery_images(static_cast<int64_t>(dataset.gallery.records.size()));
  int64_t bytes = 0;
  for (const data::ImageRecord& r : dataset.train.records) {
    std::error_code error;
    const uintmax_t size = fs::file_size(r.path, error);
    if (!error) bytes += static_cast<int64_t>(size);
  }
  f.set_train_bytes(bytes);
  f.set_height(config.data().height());
  f.set_width(config.data().width());
  f.set_memory_rows(f.train_images());
  f.set_memory_dim(config.model().embedding_dim());
  return f;
}

std::string DescribeFingerprint(const proto::DatasetFingerprint& f) {
  return f.root() + " (" + std::to_string(f.train_images()) + " train / " + std::to_string(f.query_images()) +
         " query / " + std::to_string(f.gallery_images()) + " gallery images, " + Megabytes(f.train_bytes()) +
         " of train images, input " + std::to_string(f.height()) + "x" + std::to_string(f.width()) + ", memory " +
         std::to_string(f.memory_rows()) + " x " + std::to_string(f.memory_dim()) + ")";
}

std::string CompareFingerprints(const proto::DatasetFingerprint& saved, const proto::DatasetFingerprint& current) {
  std::vector<std::string> differences;
  auto differ = [&](const std::string& what, int64_t a, int64_t b) {
    if (a != b) differences.push_back(what + " " + std::to_string(a) + " vs " + std::to_string(b));
  };
  differ("train images", saved.train_images(), current.train_images());
  differ("query images", saved.query_images(), current.query_images());
  differ("gallery images", saved.gallery_images(), current.gallery_images());
  differ("train bytes", saved.train_bytes(), current.train_bytes());
  differ("input height", saved.height(), current.height());
  differ("input width", saved.width(), current.width());
  differ("memory rows", saved.memory_rows(), current.memory_rows());
  differ("memory dim", saved.memory_dim(), current.memory_dim());
  if (differences.empty()) return "";
  std::string list;
  for (const std::string& d : differences) list += (list.empty() ? "" : ", ") + d;
  return "the checkpoint was trained on " + DescribeFingerprint(saved) + ", but this run's data is " +
         DescribeFingerprint(current) + " (" + list + ")";
}

}  // namespace gcl::training
