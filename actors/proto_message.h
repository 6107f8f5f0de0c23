// gcl::actors::ProtoMessage<T>: lets any protobuf message type T travel as a CAF 0.17 message element.
//
// Inside one process CAF hands the wrapper over as a C++ object: no serialization, and no copy when the receiving
// handler takes `const ProtoMessage<T>&` (CAF copies on write only if a handler asks for a mutable reference to
// a message that is shared). Between processes (or two actor systems in one process, which talk over BASP) CAF
// inspects the wrapper: the serializer gets the message as protobuf bytes (SerializeToString), the deserializer
// parses them back (ParseFromString); bytes that do not parse give a caf::error, never a crash.
//
//   using TensorMsg = gcl::actors::ProtoMessage<gcl::proto::Tensor>;
//   caf::behavior echo() { return {[](const TensorMsg& t) { return t; }}; }
//   self->request(worker, caf::infinite, gcl::actors::Wrap(std::move(tensor)))
//       .receive([](const TensorMsg& reply) { Use(reply.value); }, [](caf::error& e) { /* ... */ });
//
// Registering a new message type takes one line: add
//   CAF_ADD_TYPE_ID(gcl_types, (gcl::actors::ProtoMessage<gcl::proto::YourMessage>))
// inside the type-ID block in actors/message_types.h (and the message's gcl_cc_proto target to the deps of
// //actors:message_types). Every actor system of the project calls gcl::actors::AddMessageTypes(cfg), which
// registers the whole block, so both ends of a connection know every type by the same name.
//
// TRAP: never mark a protobuf type or this wrapper with CAF_ALLOW_UNSAFE_MESSAGE_TYPE. CAF 0.17 then skips it when
// serializing, and a remote receiver gets a default-constructed (empty) message, silently.
// A bare protobuf message cannot be sent at all (CAF's make_message refuses it at compile time); wrap it.
#ifndef GCL_ACTORS_PROTO_MESSAGE_H_
#define GCL_ACTORS_PROTO_MESSAGE_H_

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/save_callback.hpp>
#include <caf/sec.hpp>
#include <google/protobuf/message_lite.h>

#include <string>
#include <type_traits>
#include <utility>

namespace gcl {
namespace actors {

template <class T>
struct ProtoMessage {
  static_assert(std::is_base_of<google::protobuf::MessageLite, T>::value,
                "ProtoMessage<T> carries protobuf messages only");
  T value;
};

// Wraps a message for sending: `self->send(other, gcl::actors::Wrap(std::move(batch)));`.
template <class T>
ProtoMessage<std::decay_t<T>> Wrap(T&& message) {
  return ProtoMessage<std::decay_t<T>>{std::forward<T>(message)};
}

// CAF's hook for (de)serialization. Fields run in order: the save callback fills `bytes` before a saving
// inspector writes them; the load callback parses `bytes` after a loading inspector has read them.
template <class Inspector, class T>
typename Inspector::result_type inspect(Inspector& f, ProtoMessage<T>& x) {
  std::string bytes;
  auto save = caf::meta::save_callback([&]() -> caf::error {
    if (!x.value.SerializeToString(&bytes)) {
      return caf::make_error(caf::sec::invalid_argument,
                             "cannot serialize " + x.value.GetTypeName() +
                                 " (required fields missing, or larger than 2 GiB)");
    }
    return caf::none;
  });
  auto load = caf::meta::load_callback([&]() -> caf::error {
    if (!x.value.ParseFromString(bytes)) {
      return caf::make_error(caf::sec::invalid_argument,
                             "received " + std::to_string(bytes.size()) + " bytes that do not parse as " +
                                 x.value.GetTypeName());
    }
    return caf::none;
  });
  return f(save, bytes, load);
}

// What CAF prints for the element in logs and deep_to_string: the type and its size, not megabytes of payload.
template <class T>
std::string to_string(const ProtoMessage<T>& x) {
  return x.value.GetTypeName() + "(" + std::to_string(x.value.ByteSizeLong()) + " bytes)";
}

}  // namespace actors
}  // namespace gcl

#endif  // GCL_ACTORS_PROTO_MESSAGE_H_
