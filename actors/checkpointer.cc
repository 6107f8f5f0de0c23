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
      [directory](load_atom) -> caf::result<CheckpointMsg, std::string, std::string> {
        proto::Checkpoint checkpoint;
        CheckpointChoice choice;
        try {
          if (!ReadNewestValidCheckpoint(directory, &checkpoint, &choice)) {
            return MakeJobError(gcl_errc::not_ready, "checkpointer: no checkpoint in " + directory);
          }
        } catch (const std::exception& e) {
          return MakeJobError(gcl_errc::io_failed, std::string("checkpointer: ") + e.what());
        }
        std::string notes;
        for (const std::string& skipped : choice.skipped) notes += (notes.empty() ? "" : "; ") + skipped;
        if (!notes.empty()) notes += "; resumed from the newest valid one, " + choice.path;
        return caf::result<CheckpointMsg, std::string, std::string>(Wrap(std::move(checkpoint)), choice.path,
                                                                  std::move(notes));
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

namespace {

// Reads and validates one checkpoint file; throws naming the file and the problem.
void ReadCheckpointFile(const fs::path& path, proto::Checkpoint* checkpoint) {
  const std::string bytes = ReadFile(path);
  if (!checkpoint->ParseFromString(bytes)) {
    throw std::runtime_error(path.string() + ": " + std::to_string(bytes.size()) +
                             " bytes that do not parse as a gcl.proto.Checkpoint");
  }
  if (std::string problem = ValidateCheckpoint(*checkpoint); !problem.empty()) {
    throw std::runtime_error(path.string() + ": " + problem);
  }
}

}  // namespace

bool ReadLatestCheckpoint(const std::string& directory, proto::Checkpoint* checkpoint) {
  const fs::path dir(directory);
  if (!fs::exists(dir / kLatest)) return false;
  std::string name = ReadFile(dir / kLatest);
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
  if (name.rfind(kPrefix, 0) != 0 || name.find('/') != std::string::npos) {
    throw std::runtime_error((dir / kLatest).string() + " names '" + name + "', not a checkpoint file");
  }
  ReadCheckpointFile(dir / name, checkpoint);
  return true;
}

bool ReadNewestValidCheckpoint(const std::string& directory, proto::Checkpoint* checkpoint, CheckpointChoice* choice) {
  const fs::path dir(directory);
  *choice = CheckpointChoice{};
  std::vector<std::string> candidates;  // file names, the one LATEST names first
  std::error_code error;
  if (fs::exists(dir / kLatest, error)) {
    std::string name;
    try {
      name = ReadFile(dir / kLatest);
    } catch (const std::exception& e) {
      choice->skipped.push_back(e.what());
    }
    while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
    if (name.rfind(kPrefix, 0) == 0 && name.find('/') == std::string::npos) {
      candidates.push_back(name);
    } else if (!name.empty()) {
      choice->skipped.push_back((dir / kLatest).string() + " names '" + name + "', not a checkpoint file");
    }
  }
  std::vector<std::string> others;
  if (fs::is_directory(dir, error)) {
    for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(kPrefix, 0) == 0 && name.size() > 3 && name.substr(name.size() - 3) == ".pb" &&
          (candidates.empty() || name != candidates.front())) {
        others.push_back(name);
      }
    }
  }
  std::sort(others.rbegin(), others.rend());  // zero-padded steps: the newest first
  candidates.insert(candidates.end(), others.begin(), others.end());
  if (candidates.empty() && choice->skipped.empty()) return false;
  for (const std::string& name : candidates) {
    try {
      ReadCheckpointFile(dir / name, checkpoint);
      choice->path = (dir / name).string();
      return true;
    } catch (const std::exception& e) {
      choice->skipped.push_back(e.what());
    }
  }
  std::string problems;
  for (const std::string& s : choice->skipped) problems += "; " + s;
  throw std::runtime_error("no valid checkpoint in " + directory + problems);
}

caf::actor SpawnCheckpointer(caf::actor_system& system, const std::string& directory, int keep) {
  return system.spawn<caf::detached>(Checkpointer, directory, keep);
}

}  // namespace gcl::actors
