// Reading a whole file whose size is checked first, for readers of untrusted files: a file larger than the caller
// can hold (or a device such as /dev/zero that never ends) is refused before anything is allocated.
//
//   const std::string bytes = gcl::ReadWholeFile(path, gcl::kMaxProtobufBytes, "checkpoint");
#ifndef GCL_COMMON_READ_FILE_H_
#define GCL_COMMON_READ_FILE_H_

#include <cstdint>
#include <string>

namespace gcl {

// Protobuf refuses messages of 2 GiB or more; a file above that cannot be a valid binary message.
inline constexpr uint64_t kMaxProtobufBytes = (uint64_t{1} << 31) - 1;

// The bytes of `path`. Throws std::runtime_error naming the file (and `what` it was meant to be) when it is
// missing, not a regular file, larger than `max_bytes`, or cannot be read completely.
std::string ReadWholeFile(const std::string& path, uint64_t max_bytes, const std::string& what);

}  // namespace gcl

#endif  // GCL_COMMON_READ_FILE_H_
