// ProtoMessage<T> carries protobuf messages between actors: by object inside one actor system, as bytes between
// two actor systems connected over loopback (the same BASP path as between machines).
#include "actors/proto_message.h"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "actors/message_types.h"
#include "proto/tensor.pb.h"

namespace gcl {
namespace actors {
namespace {

using TensorMsg = ProtoMessage<proto::Tensor>;

constexpr auto kTimeout = std::chrono::seconds(20);

// A float32 tensor of `numel` random elements, as the codec would produce it.
proto::Tensor RandomTensor(int64_t rows, int64_t cols, uint32_t seed) {
  proto::Tensor t;
  t.set_dtype(proto::DTYPE_FLOAT32);
  t.add_shape(rows);
  t.add_shape(cols);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> values(rows * cols);
  for (float& v : values) v = normal(rng);
  t.set_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
  return t;
}

void ExpectSameTensor(const proto::Tensor& a, const proto::Tensor& b) {
  EXPECT_EQ(a.dtype(), b.dtype());
  EXPECT_THAT(std::vector<int64_t>(a.shape().begin(), a.shape().end()),
              ::testing::ElementsAreArray(b.shape().begin(), b.shape().end()));
  ASSERT_EQ(a.data().size(), b.data().size());
  EXPECT_TRUE(a.data() == b.data()) << "payload bytes differ";
}

// Answers a tensor with its transpose's shape and every element negated, so the reply is new content computed
// from what arrived (an empty or damaged request cannot produce the expected reply).
caf::behavior NegateServer() {
  return {[](const TensorMsg& in) -> caf::result<TensorMsg> {
    if (in.value.shape_size() != 2 || in.value.data().size() % sizeof(float) != 0) {
      return caf::make_error(caf::sec::invalid_argument, "expected a 2-D float32 tensor");
    }
    TensorMsg out;
    out.value.set_dtype(in.value.dtype());
    out.value.add_shape(in.value.shape(1));
    out.value.add_shape(in.value.shape(0));
    std::string data = in.value.data();
    for (size_t i = 0; i < data.size(); i += sizeof(float)) {
      float v;
      std::memcpy(&v, &data[i], sizeof v);
      v = -v;
      std::memcpy(&data[i], &v, sizeof v);
    }
    out.value.set_data(std::move(data));
    return out;
  }};
}

proto::Tensor Negated(const proto::Tensor& t) {
  proto::Tensor out = t;
  out.set_shape(0, t.shape(1));
  out.set_shape(1, t.shape(0));
  std::string* data = out.mutable_data();
  for (size_t i = 0; i < data->size(); i += sizeof(float)) {
    float v;
    std::memcpy(&v, &(*data)[i], sizeof v);
    v = -v;
    std::memcpy(&(*data)[i], &v, sizeof v);
  }
  return out;
}

class NetworkConfig : public caf::actor_system_config {
 public:
  NetworkConfig() {
    AddMessageTypes(*this);
    load<caf::io::middleman>();
  }
};

TEST(ProtoMessage, CrossesTwoActorSystemsOverLoopback) {
  NetworkConfig server_cfg;
  caf::actor_system server_system{server_cfg};
  NetworkConfig client_cfg;
  caf::actor_system client_system{client_cfg};

  const caf::actor server = server_system.spawn(NegateServer);
  const caf::expected<uint16_t> port = server_system.middleman().publish(server, 0, "127.0.0.1");
  ASSERT_TRUE(port) << server_system.render(port.error());
  const caf::expected<caf::actor> remote = client_system.middleman().remote_actor("127.0.0.1", *port);
  ASSERT_TRUE(remote) << client_system.render(remote.error());
  // A proxy for an actor of the other node: messages to it go through the serializer.
  EXPECT_NE(remote->node(), client_system.node());

  caf::scoped_actor self{client_system};
  // A small tensor and an 8 MiB one (2048 x 1024 float32).
  for (const proto::Tensor& request : {RandomTensor(3, 5, 1), RandomTensor(2048, 1024, 2)}) {
    SCOPED_TRACE(std::to_string(request.data().size()) + " payload bytes");
    bool replied = false;
    self->request(*remote, kTimeout, Wrap(request))
        .receive(
            [&](const TensorMsg& reply) {
              replied = true;
              ExpectSameTensor(reply.value, Negated(request));
            },
            [&](const caf::error& e) { ADD_FAILURE() << client_system.render(e); });
    EXPECT_TRUE(replied);
  }
  // Errors the remote handler returns come back as errors.
  proto::Tensor one_dim;
  one_dim.add_shape(4);
  bool failed = false;
  self->request(*remote, kTimeout, Wrap(one_dim))
      .receive([&](const TensorMsg&) { ADD_FAILURE() << "a 1-D tensor was accepted"; },
               [&](const caf::error& e) {
                 failed = true;
                 EXPECT_EQ(e, caf::sec::invalid_argument);
               });
  EXPECT_TRUE(failed);
  self->send_exit(*remote, caf::exit_reason::user_shutdown);
}

TEST(ProtoMessage, InProcessDeliveryHandsOverTheObjectWithoutSerializing) {
  caf::actor_system_config cfg;
  AddMessageTypes(cfg);
  caf::actor_system system{cfg};
  // Replies with the address of the payload bytes it received.
  const caf::actor receiver = system.spawn([]() -> caf::behavior {
    return {[](const TensorMsg& in) { return reinterpret_cast<uint64_t>(in.value.data().data()); }};
  });
  TensorMsg message = Wrap(RandomTensor(512, 512, 3));  // 1 MiB
  const uint64_t sent_at = reinterpret_cast<uint64_t>(message.value.data().data());
  caf::scoped_actor self{system};
  uint64_t received_at = 0;
  self->request(receiver, kTimeout, std::move(message))
      .receive([&](uint64_t address) { received_at = address; },
               [&](const caf::error& e) { ADD_FAILURE() << system.render(e); });
  // The same buffer: moved into the CAF message and read in place, neither serialized nor copied.
  EXPECT_EQ(received_at, sent_at);

  const caf::actor echo =
      system.spawn([]() -> caf::behavior { return {[](const TensorMsg& in) { return in; }}; });
  const proto::Tensor original = RandomTensor(7, 9, 4);
  self->request(echo, kTimeout, Wrap(original))
      .receive([&](const TensorMsg& reply) { ExpectSameTensor(reply.value, original); },
               [&](const caf::error& e) { ADD_FAILURE() << system.render(e); });
}

TEST(ProtoMessage, SerializerRoundTripsAndRejectsBytesThatDoNotParse) {
  caf::actor_system_config cfg;
  AddMessageTypes(cfg);
  caf::actor_system system{cfg};

  const TensorMsg original = Wrap(RandomTensor(4, 6, 5));
  std::vector<char> buffer;
  caf::binary_serializer sink{system, buffer};
  ASSERT_FALSE(sink(const_cast<TensorMsg&>(original)));
  TensorMsg back;
  caf::binary_deserializer source{system, buffer};
  ASSERT_FALSE(source(back));
  ExpectSameTensor(back.value, original.value);

  // The wire form is a length-prefixed byte string; one that is not a protobuf Tensor must fail cleanly.
  std::string garbage("\xff\xff\xff\xff", 4);
  std::vector<char> bad;
  caf::binary_serializer bad_sink{system, bad};
  ASSERT_FALSE(bad_sink(garbage));
  TensorMsg target;
  caf::binary_deserializer bad_source{system, bad};
  const caf::error err = bad_source(target);
  ASSERT_TRUE(err);
  EXPECT_EQ(err, caf::sec::invalid_argument);
  EXPECT_THAT(system.render(err), ::testing::HasSubstr("do not parse as gcl.proto.Tensor"));
}

TEST(ProtoMessage, PrintsTypeAndSizeInsteadOfThePayload) {
  const TensorMsg message = Wrap(RandomTensor(256, 256, 6));
  const std::string text = caf::deep_to_string(caf::make_message(message));
  EXPECT_THAT(text, ::testing::HasSubstr("gcl.proto.Tensor("));
  EXPECT_THAT(text, ::testing::HasSubstr(std::to_string(message.value.ByteSizeLong()) + " bytes)"));
  EXPECT_LT(text.size(), 200u);
}

TEST(ProtoMessage, TypeIdBlockNamesTheWrapper) {
  EXPECT_EQ(caf::type_id<TensorMsg>::value, caf::first_custom_type_id);
  EXPECT_STREQ(caf::type_name<TensorMsg>::value, "gcl::actors::ProtoMessage<gcl::proto::Tensor>");
  caf::actor_system_config cfg;
  AddMessageTypes(cfg);
  EXPECT_EQ(cfg.type_names_by_rtti.count(std::type_index(typeid(TensorMsg))), 1u);
}

}  // namespace
}  // namespace actors
}  // namespace gcl
