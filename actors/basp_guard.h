// A cap on the size of one message a node accepts from the network, checked before any memory is allocated
// for it.
//
// CAF 0.17.6's middleman (BASP) reads a 32-byte header and then sizes its receive buffer to the payload length
// that header claims, up to 4 GiB, before reading a byte of it: one forged header per connection makes a node
// allocate 4 GiB, whoever sent it. CAF 0.17.6 has no setting that bounds it (its `middleman.*` options bound
// reads per event, not message sizes). This library links a wrapper of caf::io::basp::instance::handle (the
// function that parses the header; libcaf_io calls it through its PLT, so the program's definition takes
// precedence and calls the library's one): a header that claims more than the cap closes its connection
// instead.
//
//   gcl::actors::SetMaxMessageBytes(512 << 20);   // node --max_message_mb=512
//
// Every binary that links //actors:basp_guard gets the check, with kDefaultMaxMessageBytes until it sets one.
// tests/actors/distributed_test sends the forged header to a real worker process and checks its memory stays put.
#ifndef GCL_ACTORS_BASP_GUARD_H_
#define GCL_ACTORS_BASP_GUARD_H_

#include <cstdint>

namespace gcl::actors {

inline constexpr uint64_t kDefaultMaxMessageBytes = uint64_t{512} << 20;

// The largest payload one message may claim (bytes, > 0). Thread-safe.
void SetMaxMessageBytes(uint64_t bytes);
uint64_t MaxMessageBytes();

// Headers refused since the process started (over the cap).
uint64_t RefusedMessages();

}  // namespace gcl::actors

#endif  // GCL_ACTORS_BASP_GUARD_H_
