// Checks on every message an actor receives (the actor protocol in proto/actor_protocol.proto): the version
// field, tensor byte counts against dtype and shape, shapes against the sizes the receiver expects, and index
// ranges. An actor calls the check first and answers a failing message with a caf::error carrying the returned
// text (actors/protocol.h: MakeProtocolError), so a malformed or foreign message never reaches a library.
//
//   BatchLimits limits;
//   limits.num_samples = n;
//   if (std::string problem = ValidateBatch(batch, limits); !problem.empty()) return MakeProtocolError(problem);
//
// Each function returns an empty string when the message is fine, else one sentence naming the message, the
// field and the problem ("Batch.images: shape [16, 3, 8] has rank 3, expected 4"). No LibTorch and no CAF here:
// the checks run before any decoding.
#ifndef GCL_ACTORS_VALIDATE_H_
#define GCL_ACTORS_VALIDATE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "proto/actor_protocol.pb.h"
#include "proto/checkpoint.pb.h"
#include "proto/tensor.pb.h"

namespace gcl::actors {

// Version of the actor protocol this build speaks. Bump it when a message changes meaning.
inline constexpr uint32_t kActorProtocolVersion = 1;
// Version of proto::Checkpoint this build writes; it reads this one only.
inline constexpr uint32_t kCheckpointVersion = 1;

// "": ok. Otherwise why `version` is not ours, naming `message`.
std::string CheckVersion(const std::string& message, uint32_t version);

// Size in bytes of one element of `dtype`, 0 for DTYPE_UNSPECIFIED or an unknown value.
int64_t ElementSize(proto::DType dtype);

// The tensor's dtype is known, no dimension is negative, the element count does not overflow and data holds
// exactly product(shape) * element size bytes. `field` names the tensor in the message ("Batch.images").
std::string CheckTensor(const std::string& field, const proto::Tensor& tensor);

// CheckTensor plus: dtype equals `dtype` and the shape equals `shape`, where -1 in `shape` accepts any size.
std::string CheckTensorShape(const std::string& field, const proto::Tensor& tensor, proto::DType dtype,
                             const std::vector<int64_t>& shape);

// What a receiver of batches expects.
struct BatchLimits {
  int64_t num_samples = 0;   // indices must lie in [0, num_samples)
  int64_t max_batch = 0;     // 0: any size > 0
  bool needs_labels = false; // joint phase: one label per sample, each >= 0
  bool needs_structure = false;
};
std::string ValidateBatch(const proto::Batch& batch, const BatchLimits& limits);

std::string ValidateEpochPlan(const proto::EpochPlan& plan, int64_t num_samples);
std::string ValidateCredit(const proto::Credit& credit);
// `num_rows`, `dim`: the bank's size; indices must be rows of it, features B x dim float32.
std::string ValidateFeatureUpdate(const proto::FeatureUpdate& update, int64_t num_rows, int64_t dim);
// A snapshot of any size N x D (N > 0, D > 0) with either no labels or N labels >= -1.
std::string ValidateBankSnapshot(const proto::BankSnapshot& snapshot);
// Labels for a bank of `num_rows` rows: exactly num_rows values, each >= -1.
std::string ValidatePseudoLabels(const proto::PseudoLabels& labels, int64_t num_rows);
std::string ValidateJobSpec(const proto::JobSpec& job);
std::string ValidateJobResult(const proto::JobResult& result);
std::string ValidateCheckpoint(const proto::Checkpoint& checkpoint);

}  // namespace gcl::actors

#endif  // GCL_ACTORS_VALIDATE_H_
