#include "actors/checkpointer.h"

#include <caf/all.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "actors/protocol.h"
#include "actors/validate.h"
#include "common/atomic_file.h"
#include "common/read_file.h"

namespace gcl::actors {
namespace {

namespace fs = std::filesystem;

constexpr char kLatest[] = "LATEST";
constexpr char kPrefix[] = "checkpoint-";

// The size is checked before anything is read: a checkpoint above protobuf's 2 GiB cannot parse, and a link to
// a device such as /dev/zero would never end.
std::string ReadFile(const fs::path& path) {
  return ReadWholeFile(path.string(), kMaxProtobufBytes, "checkpoint file");
}

// Removes old checkpoint files, keeping `current` and the `keep` newest others (names sort by step).
void Prune(const fs::path& directory, const std::string& current, int keep) {
  std::vector<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kPrefix, 0) == 0 && name.size() > 3 && name.substr(name.size() - 3) == ".pb" &&
        name != current) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  const size_t keep_count = static_cast<size_t>(std::max(0, keep));
  for (size_t i = 0; i + keep_count < names.size(); ++i) {
    std::error_code ignored;  // a file another process removed already is fine
    fs::remove(directory / names[i], ignored);
  }
}

caf::behavior Checkpointer(std::string directory, int keep) {
  return {
      [directory, keep](save_atom, const CheckpointMsg& msg) -> caf::result<std::string> {
        try {
          return WriteCheckpoint(directory, msg.value, keep);
        } catch (const std::exception& e) {
          return MakeJobError(gcl_errc::io_failed, std::string("checkpointer: ") + e.what());
        }
      },
      [directory](load_atom) -> caf::result<CheckpointMsg> {
        proto::Checkpoint checkpoint;
        try {
          if (!ReadLatestCheckpoint(directory, &checkpoint)) {
            return MakeJobError(gcl_errc::not_ready, "checkpointer: no checkpoint in " + directory);
          }
        } catch (const std::exception& e) {
          return MakeJobError(gcl_errc::io_failed, std::string("checkpointer: ") + e.what());
        }
        return Wrap(std::move(checkpoint));
      },
  };
}

}  // namespace

std::string WriteCheckpoint(const std::string& directory, const proto::Checkpoint& checkpoint, int keep) {
  if (std::string problem = ValidateCheckpoint(checkpoint); !problem.empty()) {
    throw std::runtime_error("refusing to write a malformed checkpoint: " + problem);
  }
  const fs::path dir(directory);
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw std::runtime_error("cannot create " + directory + ": " + error.message());
  char name[64];
  std::snprintf(name, sizeof name, "%s%012lld.pb", kPrefix, static_cast<long long>(checkpoint.global_step()));
  std::string bytes;
  if (!checkpoint.SerializeToString(&bytes)) {
    throw std::runtime_error("cannot serialize the checkpoint (larger than 2 GiB?)");
  }
  const fs::path path = dir / name;
  WriteFileAtomically(path.string(), bytes);
  WriteFileAtomically((dir / kLatest).string(), name);
  Prune(dir, name, keep);
  return path.string();
}

bool ReadLatestCheckpoint(const std::string& directory, proto::Checkpoint* checkpoint) {
  const fs::path dir(directory);
  if (!fs::exists(dir / kLatest)) return false;
  std::string name = ReadFile(dir / kLatest);
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  if (name.rfind(kPrefix, 0) != 0 || name.find('/') != std::string::npos) {
    throw std::runtime_error((dir / kLatest).string() + " names '" + name + "', not a checkpoint file");
  }
  const fs::path path = dir / name;
  const std::string bytes = ReadFile(path);
  if (!checkpoint->ParseFromString(bytes)) {
    throw std::runtime_error(path.string() + ": " + std::to_string(bytes.size()) +
                             " bytes that do not parse as a gcl.proto.Checkpoint");
  }
  if (std::string problem = ValidateCheckpoint(*checkpoint); !problem.empty()) {
    throw std::runtime_error(path.string() + ": " + problem);
  }
  return true;
}

caf::actor SpawnCheckpointer(caf::actor_system& system, const std::string& directory, int keep) {
  return system.spawn<caf::detached>(Checkpointer, directory, keep);
}

}  // namespace gcl::actors
