// The actor protocol of a training job: the message types (protobuf messages from proto/actor_protocol.proto
// wrapped in ProtoMessage<T>), the atoms that say what a message asks for, and the job's error codes.
//
//   caf::actor_system_config cfg;
//   gcl::actors::AddProtocolTypes(cfg);   // also registers actors/message_types.h's block
//   caf::actor_system system{cfg};
//   self->request(bank, timeout, gcl::actors::snapshot_atom::value).then([](const BankSnapshotMsg& s) {...});
//
// Every handler validates what it receives (actors/validate.h) and answers a bad message with
// MakeProtocolError(...), a caf::error of category "gcl_errc": the sender learns why, the receiver carries on.
#ifndef GCL_ACTORS_PROTOCOL_H_
#define GCL_ACTORS_PROTOCOL_H_

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/type_id.hpp>

#include <cstdint>
#include <string>

#include "actors/message_types.h"
#include "actors/proto_message.h"
#include "actors/validate.h"
#include "proto/actor_protocol.pb.h"
#include "proto/checkpoint.pb.h"

namespace gcl::actors {

using EpochPlanMsg = ProtoMessage<proto::EpochPlan>;
using CreditMsg = ProtoMessage<proto::Credit>;
using BatchMsg = ProtoMessage<proto::Batch>;
using FeatureUpdateMsg = ProtoMessage<proto::FeatureUpdate>;
using ContrastRequestMsg = ProtoMessage<proto::ContrastRequest>;
using ContrastRowsMsg = ProtoMessage<proto::ContrastRows>;
using BankSnapshotMsg = ProtoMessage<proto::BankSnapshot>;
using PseudoLabelsMsg = ProtoMessage<proto::PseudoLabels>;
using EvalReportMsg = ProtoMessage<proto::EvalReport>;
using EpochSummaryMsg = ProtoMessage<proto::EpochSummary>;
using FailureMsg = ProtoMessage<proto::Failure>;
using JobSpecMsg = ProtoMessage<proto::JobSpec>;
using JobListMsg = ProtoMessage<proto::JobList>;
using JobResultMsg = ProtoMessage<proto::JobResult>;
using JobReportMsg = ProtoMessage<proto::JobReport>;
using CheckpointMsg = ProtoMessage<proto::Checkpoint>;
using RunReportMsg = ProtoMessage<proto::RunReport>;
using TensorMsg = ProtoMessage<proto::Tensor>;

// Errors of a training job (category "gcl_errc").
enum class gcl_errc : uint8_t {
  protocol = 1,     // a malformed message: wrong version, sizes or shapes
  step_failed,      // the trainer's step threw (c10::Error, out of memory, ...)
  cluster_failed,   // the clusterer threw
  io_failed,        // a file could not be read or written
  not_ready,        // asked for something the actor does not have yet
  job_failed,       // a distributed job failed on its worker
  job_lost,         // every worker a job was given to disappeared
  unauthorized,     // a job without a valid authentication code (actors/node_auth.h)
};

std::string to_string(gcl_errc code);

}  // namespace gcl::actors

CAF_ERROR_CODE_ENUM(gcl::actors::gcl_errc, "gcl_errc")

// The protocol's block follows the glue's block (actors/message_types.h), so both keep their IDs.
CAF_BEGIN_TYPE_ID_BLOCK(gcl_protocol, caf::id_block::gcl_types::end)
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::EpochPlan>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::Credit>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::Batch>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::FeatureUpdate>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::ContrastRequest>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::ContrastRows>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::BankSnapshot>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::PseudoLabels>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::EvalReport>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::EpochSummary>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::Failure>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::JobSpec>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::JobResult>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::JobReport>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::Checkpoint>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::RunReport>))
  CAF_ADD_TYPE_ID(gcl_protocol, (gcl::actors::ProtoMessage<gcl::proto::JobList>))

  // What a message asks for (text <= 10 characters).
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, plan_atom, "plan")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, epoch_atom, "epoch")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, init_atom, "init")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, snapshot_atom, "snapshot")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, labels_atom, "labels")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, sample_atom, "sample")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, cluster_atom, "cluster")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, extract_atom, "extract")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, evaluate_atom, "evaluate")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, save_atom, "save")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, restore_atom, "restore")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, load_atom, "load")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, run_atom, "run")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, stats_atom, "stats")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, job_atom, "job")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, trainer_atom, "trainer")
  CAF_ADD_ATOM(gcl_protocol, gcl::actors, hello_atom, "hello")
CAF_END_TYPE_ID_BLOCK(gcl_protocol)

namespace gcl::actors {

// Registers both type-ID blocks and the gcl_errc error category with `cfg`. Call on every actor system.
caf::actor_system_config& AddProtocolTypes(caf::actor_system_config& cfg);

// A protocol error whose context carries `problem` (the validator's sentence).
caf::error MakeProtocolError(const std::string& problem);

// An error of `code` with a cause, e.g. MakeJobError(gcl_errc::step_failed, "trainer: c10::Error: ...").
caf::error MakeJobError(gcl_errc code, const std::string& cause);

// Whether `error` is `code` of category gcl_errc.
bool IsError(const caf::error& error, gcl_errc code);

// The error's code name and context text, for reports ("gcl_errc: protocol (Batch.version is 0, ...)").
std::string DescribeError(const caf::error& error);

// Fills in the version field of any protocol message and wraps it.
template <class T>
ProtoMessage<T> Versioned(T message) {
  message.set_version(kActorProtocolVersion);
  return ProtoMessage<T>{std::move(message)};
}

}  // namespace gcl::actors

#endif  // GCL_ACTORS_PROTOCOL_H_
