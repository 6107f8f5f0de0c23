// The project's CAF type-ID block: every type that travels between actors, under one name on every node.
//
// Each actor system registers the block before it starts:
//   caf::actor_system_config cfg;
//   gcl::actors::AddMessageTypes(cfg);
//   cfg.load<caf::io::middleman>();  // when the system talks to other nodes
//
// To add a protobuf message type, add one line to the block below (and its gcl_cc_proto target to the deps of
// //actors:message_types):
//   CAF_ADD_TYPE_ID(gcl_types, (gcl::actors::ProtoMessage<gcl::proto::YourMessage>))
// Append only: IDs are positional, and CAF 0.18+ sends them between nodes. Atoms go into the block as well,
// `CAF_ADD_ATOM(gcl_types, gcl::actors, foo_atom, "foo")` (text <= 10 characters): 0.17.6 only defines the atom
// type there, 0.18+ also gives it an ID.
#ifndef GCL_ACTORS_MESSAGE_TYPES_H_
#define GCL_ACTORS_MESSAGE_TYPES_H_

#include <caf/actor_system_config.hpp>
#include <caf/type_id.hpp>

#include "actors/proto_message.h"
#include "proto/tensor.pb.h"

CAF_BEGIN_TYPE_ID_BLOCK(gcl_types, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(gcl_types, (gcl::actors::ProtoMessage<gcl::proto::Tensor>))
CAF_END_TYPE_ID_BLOCK(gcl_types)

namespace gcl {
namespace actors {

// Registers every type of the block with `cfg`; call it on every actor system of the project.
inline caf::actor_system_config& AddMessageTypes(caf::actor_system_config& cfg) {
  return cfg.add_message_types<caf::id_block::gcl_types>();
}

}  // namespace actors
}  // namespace gcl

#endif  // GCL_ACTORS_MESSAGE_TYPES_H_
