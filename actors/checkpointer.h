// The checkpointer: writes run snapshots atomically (common/atomic_file.h: temp file, fsync, rename, fsync of
// the folder) and reads the newest back for --resume. Detached: a large write blocks its own thread only.
//
//   (save_atom, CheckpointMsg)  -> std::string path of the file written: <dir>/checkpoint-<step>.pb, then
//                                  <dir>/LATEST (the file's name) replaced the same way; keeps the newest
//                                  `keep` files besides the one LATEST names.
//   (load_atom)                 -> (CheckpointMsg, std::string path, std::string notes): the newest valid
//                                  checkpoint (ReadNewestValidCheckpoint), its file, and, when newer files were
//                                  unreadable or corrupt,
//                                  a sentence naming each and the file used instead ("" otherwise);
//                                  gcl_errc::not_ready when the folder holds no checkpoint at all,
//                                  gcl_errc::io_failed naming every file when none of them is valid.
// A crash at any moment leaves LATEST naming a complete checkpoint (or no LATEST at all).
#ifndef GCL_ACTORS_CHECKPOINTER_H_
#define GCL_ACTORS_CHECKPOINTER_H_

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <string>
#include <vector>

#include "proto/checkpoint.pb.h"

namespace gcl::actors {

caf::actor SpawnCheckpointer(caf::actor_system& system, const std::string& directory, int keep);

// The same operations as plain functions (throwing std::runtime_error naming the file), for tools and tests.
std::string WriteCheckpoint(const std::string& directory, const proto::Checkpoint& checkpoint, int keep);
// Returns false when `directory` holds no LATEST.
bool ReadLatestCheckpoint(const std::string& directory, proto::Checkpoint* checkpoint);

// What ReadNewestValidCheckpoint found.
struct CheckpointChoice {
  std::string path;                  // the file read into the checkpoint
  std::vector<std::string> skipped;  // newer candidates that failed: "<file>: <problem>", newest first
};

// The newest checkpoint of `directory` that reads and validates: the file LATEST names first, then the other
// checkpoint-<step>.pb files from the highest step down (a disk error or a damaged file must not cost the run
// its older, intact checkpoints). Returns false when the folder holds neither LATEST nor a checkpoint file;
// throws std::runtime_error naming every file and its problem when none is valid.
bool ReadNewestValidCheckpoint(const std::string& directory, proto::Checkpoint* checkpoint, CheckpointChoice* choice);

}  // namespace gcl::actors

#endif  // GCL_ACTORS_CHECKPOINTER_H_
