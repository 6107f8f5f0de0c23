#include "actors/basp_guard.h"

#include <caf/io/basp/instance.hpp>
#include <caf/io/system_messages.hpp>
#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace gcl::actors {
namespace {

std::atomic<uint64_t> g_max_bytes{kDefaultMaxMessageBytes};

}  // namespace

// Counted by the wrapper below.
std::atomic<uint64_t> g_refused{0};

void SetMaxMessageBytes(uint64_t bytes) { g_max_bytes.store(bytes > 0 ? bytes : 1); }
uint64_t MaxMessageBytes() { return g_max_bytes.load(); }
uint64_t RefusedMessages() { return g_refused.load(); }

}  // namespace gcl::actors

namespace caf::io::basp {

// Replaces libcaf_io's definition (see basp_guard.h). The library's own function parses and validates the header
// into `hdr`; when it then waits for a payload larger than the cap, the connection is closed as malformed (the
// broker's cleanup runs as for any malformed message) before the payload's buffer exists.
connection_state instance::handle(execution_unit* ctx, new_data_msg& dm, header& hdr, bool is_payload) {
  using Handle = connection_state (*)(instance*, execution_unit*, new_data_msg&, header&, bool);
  static const Handle library = [] {
    void* symbol =
        dlsym(RTLD_NEXT, "_ZN3caf2io4basp8instance6handleEPNS_14execution_unitERNS0_12new_data_msgERNS1_6headerEb");
    if (symbol == nullptr) {
      std::fprintf(stderr, "basp_guard: libcaf_io's caf::io::basp::instance::handle not found (%s)\n", dlerror());
      std::abort();
    }
    return reinterpret_cast<Handle>(symbol);
  }();
  const connection_state state = library(this, ctx, dm, hdr, is_payload);
  if (!is_payload && state == await_payload && hdr.payload_len > gcl::actors::MaxMessageBytes()) {
    const uint64_t refused = ++gcl::actors::g_refused;
    if (refused <= 5) {  // a flood of forged headers must not flood the log as well
      std::fprintf(stderr,
                   "node: closed a connection whose message claims %u bytes, more than the limit of %llu "
                   "(--max_message_mb)\n",
                   hdr.payload_len, static_cast<unsigned long long>(gcl::actors::MaxMessageBytes()));
    }
    return malformed_basp_message;
  }
  return state;
}

}  // namespace caf::io::basp
