// What keeps a run folder (runs/<name>/) whole: one process at a time, a fresh run never lands in a folder that
// holds another run, a resume only where there is something to resume, and a resume only onto the data the
// checkpoint was trained on.
//
//   RunFolderLock lock(run_dir);                         // throws while another process holds runs/<name>/.lock
//   PrepareFreshRunFolder(run_dir, /*overwrite=*/false);  // throws when runs/<name>/ already holds a run
//   std::string problem = CompareFingerprints(saved, DatasetFingerprintOf(dataset, config));
//
// docs/training.md ("Run folders") says what the user sees in each case.
#ifndef GCL_TRAINING_RUN_FOLDER_H_
#define GCL_TRAINING_RUN_FOLDER_H_

#include <string>

#include "data/datasets/reid_dataset.h"
#include "proto/checkpoint.pb.h"
#include "proto/train_config.pb.h"

namespace gcl::training {

// The lock file inside a run folder.
inline constexpr char kRunLockFile[] = ".lock";

// An exclusive flock(2) on <run_dir>/.lock for the life of the object. The kernel releases it when the process
// ends in any way (SIGKILL included), so a crashed run never leaves a stale lock behind. The file holds the
// owner's pid, which the refusal names.
class RunFolderLock {
 public:
  // Creates `run_dir` if needed. Throws std::runtime_error naming the folder (and the pid holding it) when
  // another process holds the lock, or when the lock file cannot be created.
  explicit RunFolderLock(const std::string& run_dir);
  ~RunFolderLock();
  RunFolderLock(const RunFolderLock&) = delete;
  RunFolderLock& operator=(const RunFolderLock&) = delete;

 private:
  int fd_ = -1;
};

// A fresh run into `run_dir` (the caller holds its lock): an empty or missing folder is fine. A folder that holds
// anything else (an earlier run's config, checkpoints, reports) is refused with a message naming what is there and
// the ways out (--resume, --overwrite, another --name), unless `overwrite`: then everything in it but the lock
// file is removed. Throws std::runtime_error.
void PrepareFreshRunFolder(const std::string& run_dir, bool overwrite);

// A resume of `run_dir`: throws std::runtime_error when the folder does not exist or has no checkpoint (neither
// <run_dir>/checkpoints/LATEST nor a checkpoint file), naming the run folders that do exist beside it (a
// mistyped --name). Changes nothing on disk.
void CheckResumableRunFolder(const std::string& run_dir);

// The fingerprint of the data a run trains on (DatasetFingerprint in proto/checkpoint.proto): root, split sizes,
// the train images' total bytes, the input size and the memory bank's size.
proto::DatasetFingerprint DatasetFingerprintOf(const data::ReidDataset& dataset, const proto::TrainConfig& config);

// One line, e.g. "/cache/synth_tiny_seed1 (104 train / 26 query / 52 gallery images, 1.2 MB of train images,
// input 80x40, memory 104 x 16)".
std::string DescribeFingerprint(const proto::DatasetFingerprint& fingerprint);

// "" when a run checkpointed on `saved` may resume on `current`; otherwise a sentence naming both sides. The root
// alone may differ (a dataset or a run folder moved to another disk).
std::string CompareFingerprints(const proto::DatasetFingerprint& saved, const proto::DatasetFingerprint& current);

}  // namespace gcl::training

#endif  // GCL_TRAINING_RUN_FOLDER_H_
