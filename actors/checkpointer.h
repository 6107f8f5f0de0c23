// The checkpointer: writes run snapshots atomically (common/atomic_file.h: temp file, fsync, rename, fsync of
// the folder) and reads the newest back for --resume. Detached: a large write blocks its own thread only.
//
//   (save_atom, CheckpointMsg)  -> std::string path of the file written: <dir>/checkpoint-<step>.pb, then
//                                  <dir>/LATEST (the file's name) replaced the same way; keeps the newest
//                                  `keep` files besides the one LATEST names.
//   (load_atom)                 -> CheckpointMsg read from the file LATEST names, validated; gcl_errc::not_ready
//                                  when there is none, gcl_errc::io_failed naming the file when it is unreadable
//                                  or corrupt.
// A crash at any moment leaves LATEST naming a complete checkpoint (or no LATEST at all).
#ifndef GCL_ACTORS_CHECKPOINTER_H_
#define GCL_ACTORS_CHECKPOINTER_H_

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <string>

#include "proto/checkpoint.pb.h"

namespace gcl::actors {

caf::actor SpawnCheckpointer(caf::actor_system& system, const std::string& directory, int keep);

// The same operations as plain functions (throwing std::runtime_error naming the file), for tools and tests.
std::string WriteCheckpoint(const std::string& directory, const proto::Checkpoint& checkpoint, int keep);
// Returns false when `directory` holds no LATEST.
bool ReadLatestCheckpoint(const std::string& directory, proto::Checkpoint* checkpoint);

}  // namespace gcl::actors

#endif  // GCL_ACTORS_CHECKPOINTER_H_
