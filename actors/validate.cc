#include "actors/validate.h"

#include <limits>
#include <sstream>
#include <unordered_set>

namespace gcl::actors {
namespace {

std::string ShapeText(const proto::Tensor& tensor) {
  std::ostringstream out;
  out << "[";
  for (int i = 0; i < tensor.shape_size(); ++i) out << (i ? ", " : "") << tensor.shape(i);
  out << "]";
  return out.str();
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    out << (i ? ", " : "");
    if (shape[i] < 0) {
      out << "*";
    } else {
      out << shape[i];
    }
  }
  out << "]";
  return out.str();
}

// Every index in [0, num_rows); `field` names the repeated field.
template <class Repeated>
std::string CheckIndices(const std::string& field, const Repeated& indices, int64_t num_rows) {
  for (int i = 0; i < indices.size(); ++i) {
    if (indices.Get(i) < 0 || indices.Get(i) >= num_rows) {
      std::ostringstream out;
      out << field << "[" << i << "] = " << indices.Get(i) << " is outside [0, " << num_rows << ")";
      return out.str();
    }
  }
  return "";
}

template <class Repeated>
std::string CheckLabels(const std::string& field, const Repeated& labels, int64_t min_label) {
  for (int i = 0; i < labels.size(); ++i) {
    if (labels.Get(i) < min_label) {
      std::ostringstream out;
      out << field << "[" << i << "] = " << labels.Get(i) << " is below " << min_label;
      return out.str();
    }
  }
  return "";
}

}  // namespace

std::string CheckVersion(const std::string& message, uint32_t version) {
  if (version == kActorProtocolVersion) return "";
  std::ostringstream out;
  out << message << ".version is " << version << ", this build speaks version " << kActorProtocolVersion;
  if (version == 0) out << " (an unset version: the sender did not fill the field)";
  return out.str();
}

int64_t ElementSize(proto::DType dtype) {
  switch (dtype) {
    case proto::DTYPE_FLOAT32:
    case proto::DTYPE_INT32:
      return 4;
    case proto::DTYPE_FLOAT16:
    case proto::DTYPE_BFLOAT16:
      return 2;
    case proto::DTYPE_FLOAT64:
    case proto::DTYPE_INT64:
      return 8;
    case proto::DTYPE_UINT8:
    case proto::DTYPE_BOOL:
      return 1;
    default:
      return 0;
  }
}

std::string CheckTensor(const std::string& field, const proto::Tensor& tensor) {
  const int64_t element_size = ElementSize(tensor.dtype());
  if (element_size == 0) {
    return field + ": dtype " + std::to_string(static_cast<int>(tensor.dtype())) + " is not a known element type";
  }
  int64_t count = 1;
  for (int i = 0; i < tensor.shape_size(); ++i) {
    const int64_t dim = tensor.shape(i);
    if (dim < 0) return field + ": shape " + ShapeText(tensor) + " has a negative dimension";
    if (dim != 0 && count > std::numeric_limits<int64_t>::max() / element_size / dim) {
      return field + ": shape " + ShapeText(tensor) + " has too many elements";
    }
    count *= dim;
  }
  const int64_t expected = count * element_size;
  if (static_cast<int64_t>(tensor.data().size()) != expected) {
    std::ostringstream out;
    out << field << ": " << tensor.data().size() << " bytes of data, shape " << ShapeText(tensor) << " needs "
        << expected;
    return out.str();
  }
  return "";
}

std::string CheckTensorShape(const std::string& field, const proto::Tensor& tensor, proto::DType dtype,
                             const std::vector<int64_t>& shape) {
  if (std::string problem = CheckTensor(field, tensor); !problem.empty()) return problem;
  if (tensor.dtype() != dtype) {
    return field + ": dtype " + proto::DType_Name(tensor.dtype()) + ", expected " + proto::DType_Name(dtype);
  }
  if (tensor.shape_size() != static_cast<int>(shape.size())) {
    std::ostringstream out;
    out << field << ": shape " << ShapeText(tensor) << " has rank " << tensor.shape_size() << ", expected "
        << ShapeText(shape);
    return out.str();
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] >= 0 && tensor.shape(static_cast<int>(i)) != shape[i]) {
      return field + ": shape " + ShapeText(tensor) + ", expected " + ShapeText(shape);
    }
  }
  return "";
}

std::string ValidateBatch(const proto::Batch& batch, const BatchLimits& limits) {
  if (std::string problem = CheckVersion("Batch", batch.version()); !problem.empty()) return problem;
  const int64_t size = batch.indices_size();
  if (size == 0) return "Batch.indices: empty batch";
  if (limits.max_batch > 0 && size > limits.max_batch) {
    return "Batch.indices: " + std::to_string(size) + " samples, at most " + std::to_string(limits.max_batch);
  }
  if (batch.epoch() < 0 || batch.batch() < 0) return "Batch: negative epoch or batch number";
  if (std::string p = CheckIndices("Batch.indices", batch.indices(), limits.num_samples); !p.empty()) return p;
  if (limits.needs_labels) {
    if (batch.labels_size() != size) {
      return "Batch.labels: " + std::to_string(batch.labels_size()) + " labels for " + std::to_string(size) +
             " samples";
    }
    if (std::string p = CheckLabels("Batch.labels", batch.labels(), 0); !p.empty()) return p;
  }
  if (std::string p = CheckTensorShape("Batch.images", batch.images(), proto::DTYPE_FLOAT32, {size, 3, -1, -1});
      !p.empty()) {
    return p;
  }
  const int64_t height = batch.images().shape(2);
  const int64_t width = batch.images().shape(3);
  if (height == 0 || width == 0) return "Batch.images: empty image size " + ShapeText(batch.images());
  const bool has_structure = batch.has_structure_ori() || batch.has_structure_new();
  if (limits.needs_structure || has_structure) {
    for (const auto& [name, tensor] : {std::make_pair("Batch.structure_ori", &batch.structure_ori()),
                                       std::make_pair("Batch.structure_new", &batch.structure_new())}) {
      if (std::string p = CheckTensorShape(name, *tensor, proto::DTYPE_FLOAT32, {size, 1, height, width});
          !p.empty()) {
        return p;
      }
    }
  }
  if (batch.skipped_files() < 0) return "Batch.skipped_files: negative count";
  return "";
}

std::string ValidateEpochPlan(const proto::EpochPlan& plan, int64_t num_samples) {
  if (std::string problem = CheckVersion("EpochPlan", plan.version()); !problem.empty()) return problem;
  if (plan.phase() != proto::PHASE_WARMUP && plan.phase() != proto::PHASE_GAN_WARMUP &&
      plan.phase() != proto::PHASE_JOINT) {
    return "EpochPlan.phase: " + proto::Phase_Name(plan.phase()) + " is not a training phase";
  }
  if (plan.epoch() < 0) return "EpochPlan.epoch: negative";
  if (plan.batch_size() <= 0) return "EpochPlan.batch_size: " + std::to_string(plan.batch_size()) + " is not > 0";
  if (std::string p = CheckIndices("EpochPlan.indices", plan.indices(), num_samples); !p.empty()) return p;
  if (plan.phase() == proto::PHASE_JOINT) {
    if (plan.labels_size() != plan.indices_size()) {
      return "EpochPlan.labels: " + std::to_string(plan.labels_size()) + " labels for " +
             std::to_string(plan.indices_size()) + " indices";
    }
    if (std::string p = CheckLabels("EpochPlan.labels", plan.labels(), 0); !p.empty()) return p;
  } else if (plan.labels_size() != 0) {
    return "EpochPlan.labels: labels given outside the joint phase";
  }
  return "";
}

std::string ValidateCredit(const proto::Credit& credit) {
  if (std::string problem = CheckVersion("Credit", credit.version()); !problem.empty()) return problem;
  if (credit.credits() <= 0) return "Credit.credits: " + std::to_string(credit.credits()) + " is not > 0";
  return "";
}

std::string ValidateFeatureUpdate(const proto::FeatureUpdate& update, int64_t num_rows, int64_t dim) {
  if (std::string problem = CheckVersion("FeatureUpdate", update.version()); !problem.empty()) return problem;
  const int64_t size = update.indices_size();
  if (size == 0) return "FeatureUpdate.indices: empty";
  if (std::string p = CheckIndices("FeatureUpdate.indices", update.indices(), num_rows); !p.empty()) return p;
  return CheckTensorShape("FeatureUpdate.features", update.features(), proto::DTYPE_FLOAT32, {size, dim});
}

std::string ValidateBankSnapshot(const proto::BankSnapshot& snapshot) {
  if (std::string problem = CheckVersion("BankSnapshot", snapshot.version()); !problem.empty()) return problem;
  if (std::string p = CheckTensorShape("BankSnapshot.features", snapshot.features(), proto::DTYPE_FLOAT32,
                                       {-1, -1});
      !p.empty()) {
    return p;
  }
  const int64_t rows = snapshot.features().shape(0);
  if (rows == 0 || snapshot.features().shape(1) == 0) return "BankSnapshot.features: empty bank";
  if (snapshot.labels_size() != 0 && snapshot.labels_size() != rows) {
    return "BankSnapshot.labels: " + std::to_string(snapshot.labels_size()) + " labels for " +
           std::to_string(rows) + " rows";
  }
  return CheckLabels("BankSnapshot.labels", snapshot.labels(), -1);
}

std::string ValidatePseudoLabels(const proto::PseudoLabels& labels, int64_t num_rows) {
  if (std::string problem = CheckVersion("PseudoLabels", labels.version()); !problem.empty()) return problem;
  if (labels.labels_size() != num_rows) {
    return "PseudoLabels.labels: " + std::to_string(labels.labels_size()) + " labels for a bank of " +
           std::to_string(num_rows) + " rows";
  }
  if (std::string p = CheckLabels("PseudoLabels.labels", labels.labels(), -1); !p.empty()) return p;
  if (labels.num_clusters() < 0 || labels.num_outliers() < 0) return "PseudoLabels: negative counts";
  return "";
}

std::string ValidateJobSpec(const proto::JobSpec& job) {
  if (std::string problem = CheckVersion("JobSpec", job.version()); !problem.empty()) return problem;
  if (job.job_id().empty()) return "JobSpec.job_id: empty";
  if (job.kind().empty()) return "JobSpec.kind: empty";
  if (job.attempt() < 1) return "JobSpec.attempt: " + std::to_string(job.attempt()) + " is not >= 1";
  return "";
}

std::string ValidateJobResult(const proto::JobResult& result) {
  if (std::string problem = CheckVersion("JobResult", result.version()); !problem.empty()) return problem;
  if (result.job_id().empty()) return "JobResult.job_id: empty";
  if (!result.ok() && result.error().empty()) return "JobResult.error: a failed job must say why";
  return "";
}

std::string ValidateCheckpoint(const proto::Checkpoint& checkpoint) {
  if (checkpoint.version() != kCheckpointVersion) {
    return "Checkpoint.version is " + std::to_string(checkpoint.version()) + ", this build reads version " +
           std::to_string(kCheckpointVersion);
  }
  if (checkpoint.phase() == proto::PHASE_UNSPECIFIED) return "Checkpoint.phase: unspecified";
  if (checkpoint.epoch() < 0 || checkpoint.global_step() < 0) return "Checkpoint: negative epoch or step";
  std::unordered_set<std::string> names;
  for (const proto::ModuleState& module : checkpoint.networks()) {
    if (!names.insert(module.name()).second) return "Checkpoint.networks: module '" + module.name() + "' twice";
    for (const proto::NamedTensor& t : module.tensors()) {
      if (std::string p = CheckTensor("Checkpoint.networks[" + module.name() + "]." + t.name(), t.tensor());
          !p.empty()) {
        return p;
      }
    }
  }
  if (checkpoint.has_memory_features()) {
    if (std::string p = CheckTensorShape("Checkpoint.memory_features", checkpoint.memory_features(),
                                         proto::DTYPE_FLOAT32, {-1, -1});
        !p.empty()) {
      return p;
    }
    const int64_t rows = checkpoint.memory_features().shape(0);
    if (checkpoint.pseudo_labels_size() != 0 && checkpoint.pseudo_labels_size() != rows) {
      return "Checkpoint.pseudo_labels: " + std::to_string(checkpoint.pseudo_labels_size()) +
             " labels for a bank of " + std::to_string(rows) + " rows";
    }
  } else if (checkpoint.pseudo_labels_size() != 0) {
    return "Checkpoint.pseudo_labels: labels without a memory bank";
  }
  return CheckLabels("Checkpoint.pseudo_labels", checkpoint.pseudo_labels(), -1);
}

}  // namespace gcl::actors
