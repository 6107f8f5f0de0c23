#include "proto/tensor_codec.h"

#include <ATen/ops/empty.h>
#include <c10/core/TensorOptions.h>

#include <cstring>
#include <stdexcept>
#include <vector>

namespace gcl {
namespace proto {
namespace {

// The wire format is little-endian and the codec copies host bytes verbatim.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "tensor_codec copies host bytes; a big-endian host needs byte swapping added here");

std::string ShapeString(const Tensor& message) {
  std::string out = "[";
  for (int i = 0; i < message.shape_size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(message.shape(i));
  }
  return out + "]";
}

}  // namespace

DType ToProtoDType(c10::ScalarType type) {
  switch (type) {
    case c10::kFloat:
      return DTYPE_FLOAT32;
    case c10::kHalf:
      return DTYPE_FLOAT16;
    case c10::kBFloat16:
      return DTYPE_BFLOAT16;
    case c10::kDouble:
      return DTYPE_FLOAT64;
    case c10::kLong:
      return DTYPE_INT64;
    case c10::kInt:
      return DTYPE_INT32;
    case c10::kByte:
      return DTYPE_UINT8;
    case c10::kBool:
      return DTYPE_BOOL;
    default:
      return DTYPE_UNSPECIFIED;
  }
}

StatusOr<c10::ScalarType> FromProtoDType(int dtype) {
  switch (dtype) {
    case DTYPE_FLOAT32:
      return c10::kFloat;
    case DTYPE_FLOAT16:
      return c10::kHalf;
    case DTYPE_BFLOAT16:
      return c10::kBFloat16;
    case DTYPE_FLOAT64:
      return c10::kDouble;
    case DTYPE_INT64:
      return c10::kLong;
    case DTYPE_INT32:
      return c10::kInt;
    case DTYPE_UINT8:
      return c10::kByte;
    case DTYPE_BOOL:
      return c10::kBool;
    case DTYPE_UNSPECIFIED:
      return MakeError("Tensor.dtype is DTYPE_UNSPECIFIED (0): the sender did not set an element type");
    default:
      return MakeError("Tensor.dtype = " + std::to_string(dtype) +
                       " is not a known gcl.proto.DType (a newer sender or corrupt data)");
  }
}

void EncodeTensor(const at::Tensor& tensor, Tensor* out) {
  if (!tensor.defined()) throw std::invalid_argument("EncodeTensor: the tensor is undefined");
  if (tensor.layout() != c10::kStrided) {
    throw std::invalid_argument("EncodeTensor: only dense (strided) tensors can be encoded, got layout " +
                                std::string(c10::toString(tensor.layout())));
  }
  if (tensor.is_quantized()) throw std::invalid_argument("EncodeTensor: quantized tensors cannot be encoded");
  const DType dtype = ToProtoDType(tensor.scalar_type());
  if (dtype == DTYPE_UNSPECIFIED) {
    throw std::invalid_argument(std::string("EncodeTensor: element type ") + c10::toString(tensor.scalar_type()) +
                                " has no gcl.proto.DType");
  }
  // Lazy negation/conjugation views keep their flags until resolved; contiguous() alone would copy the
  // un-negated storage.
  const at::Tensor cpu = tensor.detach().resolve_neg().resolve_conj().to(c10::Device(c10::kCPU)).contiguous();
  out->Clear();
  out->set_dtype(dtype);
  for (const int64_t size : cpu.sizes()) out->add_shape(size);
  const size_t num_bytes = cpu.numel() * cpu.element_size();
  std::string* data = out->mutable_data();
  data->resize(num_bytes);
  if (num_bytes > 0) std::memcpy(&(*data)[0], cpu.data_ptr(), num_bytes);
}

Tensor EncodeTensor(const at::Tensor& tensor) {
  Tensor out;
  EncodeTensor(tensor, &out);
  return out;
}

StatusOr<at::Tensor> DecodeTensor(const Tensor& message, const DecodeOptions& options) {
  const StatusOr<c10::ScalarType> type = FromProtoDType(message.dtype());
  if (!type.ok()) return MakeError(type.error());
  if (message.shape_size() > options.max_dims) {
    return MakeError("Tensor.shape has " + std::to_string(message.shape_size()) + " dimensions, more than the " +
                     std::to_string(options.max_dims) + " allowed");
  }
  const int64_t element_size = static_cast<int64_t>(c10::elementSize(*type));
  int64_t numel = 1;
  for (int i = 0; i < message.shape_size(); ++i) {
    const int64_t size = message.shape(i);
    if (size < 0) {
      return MakeError("Tensor.shape[" + std::to_string(i) + "] = " + std::to_string(size) + " is negative (shape " +
                       ShapeString(message) + ")");
    }
    if (__builtin_mul_overflow(numel, size, &numel)) {
      return MakeError("Tensor.shape " + ShapeString(message) + ": the element count overflows int64");
    }
  }
  int64_t num_bytes = 0;
  if (__builtin_mul_overflow(numel, element_size, &num_bytes)) {
    return MakeError("Tensor.shape " + ShapeString(message) + ": the byte count overflows int64");
  }
  if (num_bytes > options.max_bytes) {
    return MakeError("Tensor.shape " + ShapeString(message) + " of " + c10::toString(*type) + " needs " +
                     std::to_string(num_bytes) + " bytes, more than the limit of " + std::to_string(options.max_bytes) +
                     " (DecodeOptions.max_bytes)");
  }
  if (static_cast<int64_t>(message.data().size()) != num_bytes) {
    return MakeError("Tensor.data has " + std::to_string(message.data().size()) + " bytes, but shape " +
                     ShapeString(message) + " of " + c10::toString(*type) + " needs " + std::to_string(num_bytes));
  }
  if (*type == c10::kBool) {
    // Any byte other than 0 or 1 would be an invalid C++ bool inside the tensor.
    const std::string& data = message.data();
    for (size_t i = 0; i < data.size(); ++i) {
      if (static_cast<unsigned char>(data[i]) > 1) {
        return MakeError("Tensor.data[" + std::to_string(i) + "] = " +
                         std::to_string(static_cast<unsigned char>(data[i])) + " is not a valid bool element (0 or 1)");
      }
    }
  }
  const std::vector<int64_t> shape(message.shape().begin(), message.shape().end());
  at::Tensor tensor;
  try {
    tensor = at::empty(shape, c10::TensorOptions().dtype(*type).device(c10::kCPU));
  } catch (const std::exception& e) {
    // at::empty throws c10::Error (a std::exception) when the allocator fails.
    return MakeError("Tensor of shape " + ShapeString(message) + " (" + std::to_string(num_bytes) +
                     " bytes): allocation failed: " + e.what());
  }
  if (num_bytes > 0) std::memcpy(tensor.data_ptr(), message.data().data(), num_bytes);
  if (options.device.is_cpu()) return tensor;
  try {
    return tensor.to(options.device);
  } catch (const std::exception& e) {
    return MakeError("Tensor: cannot move the decoded tensor to " + options.device.str() + ": " + e.what());
  }
}

at::Tensor DecodeTensorOrThrow(const Tensor& message, const std::string& field, const DecodeOptions& options) {
  StatusOr<at::Tensor> tensor = DecodeTensor(message, options);
  if (!tensor.ok()) throw std::runtime_error(field + ": " + tensor.error());
  return std::move(tensor).value();
}

}  // namespace proto
}  // namespace gcl
