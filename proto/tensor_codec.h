// Converts LibTorch tensors to and from gcl::proto::Tensor (proto/tensor.proto): element type, shape and the
// elements as contiguous row-major little-endian bytes. This is how tensors travel between actors, processes and
// checkpoint files.
//
//   gcl::proto::Tensor message = gcl::proto::EncodeTensor(features);          // any device, any strides
//   gcl::StatusOr<at::Tensor> back = gcl::proto::DecodeTensor(message);       // CPU, contiguous
//   if (!back.ok()) { /* back.error() says which field is wrong and why */ }
//
// Encoding reads trusted in-process data and throws std::invalid_argument for a tensor it cannot represent (an
// element type the wire format lacks, a sparse or quantized tensor). Decoding reads untrusted bytes: it never
// throws on malformed input and returns the problem as a StatusOr error instead.
//
// Not for: zero-copy views of a message (DecodeTensor always copies the bytes into a new tensor, so the result
// outlives the message).
#ifndef GCL_PROTO_TENSOR_CODEC_H_
#define GCL_PROTO_TENSOR_CODEC_H_

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <cstdint>
#include <string>

#include "common/status_or.h"
#include "proto/tensor.pb.h"

namespace gcl {
namespace proto {

struct DecodeOptions {
  // Largest tensor (in bytes of element data) a message may ask for. Guards against a corrupt or hostile shape
  // that would make the decoder allocate absurd amounts of memory.
  int64_t max_bytes = int64_t{4} << 30;  // 4 GiB
  // Largest number of dimensions accepted.
  int max_dims = 64;
  // Where the decoded tensor is placed. Decoding happens on the CPU; another device gets a copy.
  c10::Device device = c10::Device(c10::kCPU);
};

// The wire type for a LibTorch element type; DTYPE_UNSPECIFIED when the wire format has none.
DType ToProtoDType(c10::ScalarType type);

// The LibTorch element type for a wire type, or an error naming the value for an unknown/unspecified one.
StatusOr<c10::ScalarType> FromProtoDType(int dtype);

// Encodes `tensor` (brought to the CPU and made contiguous first; autograd history is not kept).
// Throws std::invalid_argument for an undefined, non-strided (sparse, mkldnn), quantized or complex tensor, or an
// element type outside proto::DType.
Tensor EncodeTensor(const at::Tensor& tensor);

// As above, into an existing message (its previous contents are replaced); avoids one copy of the bytes.
void EncodeTensor(const at::Tensor& tensor, Tensor* out);

// Decodes `message` into a new contiguous tensor on options.device. Errors (as values): unknown dtype, too many
// dimensions, a negative dimension, product(shape) or byte count overflowing int64, more than options.max_bytes,
// data size differing from product(shape) * element size, a bool element other than 0 or 1.
StatusOr<at::Tensor> DecodeTensor(const Tensor& message, const DecodeOptions& options = DecodeOptions());

// DecodeTensor for code that reports errors by exception (the backends behind actors): throws
// std::runtime_error "<field>: <what is wrong>".
at::Tensor DecodeTensorOrThrow(const Tensor& message, const std::string& field,
                               const DecodeOptions& options = DecodeOptions());

}  // namespace proto
}  // namespace gcl

#endif  // GCL_PROTO_TENSOR_CODEC_H_
