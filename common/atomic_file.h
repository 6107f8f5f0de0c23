// Writes a file so that readers, and the file system after a crash or power loss, see either the old contents or
// the complete new ones, never a torn mix: checkpoints, configs as run, reports.
//
//   gcl::WriteFileAtomically("runs/quick/checkpoint.pb", checkpoint.SerializeAsString());
//
// How: a new temporary file in the same folder (so the rename stays on one file system), write, fsync, rename
// over the target, fsync the folder (so the rename itself is durable). An existing target keeps its permission
// bits; a new one gets 0666 minus the umask, as std::ofstream would give it.
//
// Not for: appending (metrics.jsonl lines), or files several writers update at once (the last rename wins).
#ifndef GCL_COMMON_ATOMIC_FILE_H_
#define GCL_COMMON_ATOMIC_FILE_H_

#include <string>
#include <string_view>

namespace gcl {

// Replaces (or creates) `path` with `bytes`. Throws std::runtime_error naming `path`, the step that failed and the
// system's reason (e.g. "No such file or directory" for a missing folder). On failure no temporary file is left
// behind and an existing `path` is untouched.
void WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace gcl

#endif  // GCL_COMMON_ATOMIC_FILE_H_
