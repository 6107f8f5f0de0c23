#include "proto/tensor_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace gcl {
namespace proto {
namespace {

using ::testing::HasSubstr;

// The tensor's elements as raw bytes (contiguous copy), to compare bit patterns, NaN payloads included.
std::string RawBytes(const torch::Tensor& t) {
  const torch::Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.numel() * c.element_size());
}

// Random data of every element type, with the special values a float format has.
torch::Tensor MakeTensor(torch::ScalarType type, const std::vector<int64_t>& shape) {
  torch::Tensor t;
  if (type == torch::kBool) {
    t = torch::randint(0, 2, shape).to(torch::kBool);
  } else if (type == torch::kByte) {
    t = torch::randint(0, 256, shape).to(torch::kByte);
  } else if (type == torch::kInt || type == torch::kLong) {
    t = torch::randint(-1000000, 1000000, shape, torch::TensorOptions().dtype(type));
  } else {
    t = torch::randn(shape, torch::TensorOptions().dtype(torch::kDouble)).mul(1e3).to(type);
    const int64_t n = t.numel();
    torch::Tensor flat = t.view({-1});
    const double specials[] = {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                               -std::numeric_limits<double>::infinity(), -0.0};
    for (int64_t i = 0; i < std::min<int64_t>(n, 4); ++i) flat[i] = specials[i];
  }
  return t;
}

void ExpectBitExactRoundTrip(const torch::Tensor& original) {
  SCOPED_TRACE(std::string(c10::toString(original.scalar_type())) + " shape " + c10::str(original.sizes()));
  const Tensor message = EncodeTensor(original);
  // Through the wire as well, not only the in-memory message.
  Tensor parsed;
  ASSERT_TRUE(parsed.ParseFromString(message.SerializeAsString()));
  EXPECT_EQ(parsed.shape_size(), original.dim());
  EXPECT_EQ(static_cast<int64_t>(parsed.data().size()), original.numel() * original.element_size());
  const StatusOr<at::Tensor> decoded = DecodeTensor(parsed);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_EQ(decoded->scalar_type(), original.scalar_type());
  EXPECT_EQ(decoded->sizes(), original.sizes());
  EXPECT_TRUE(decoded->is_contiguous());
  EXPECT_EQ(RawBytes(*decoded), RawBytes(original));
}

TEST(TensorCodec, RoundTripsEveryDTypeAndShapeBitExactly) {
  const std::vector<torch::ScalarType> types = {torch::kFloat, torch::kHalf, torch::kBFloat16, torch::kDouble,
                                                torch::kLong,  torch::kInt,  torch::kByte,     torch::kBool};
  const std::vector<std::vector<int64_t>> shapes = {{}, {0}, {3, 0, 2}, {1}, {17}, {2, 3, 4, 5}, {1, 1, 7, 1}};
  for (const torch::ScalarType type : types) {
    for (const auto& shape : shapes) ExpectBitExactRoundTrip(MakeTensor(type, shape));
  }
}

TEST(TensorCodec, ZeroDimTensorKeepsNoShape) {
  const Tensor message = EncodeTensor(torch::tensor(2.5f).reshape({}));
  EXPECT_EQ(message.shape_size(), 0);
  EXPECT_EQ(message.data().size(), 4u);
  const StatusOr<at::Tensor> back = DecodeTensor(message);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->dim(), 0);
  EXPECT_EQ(back->item<float>(), 2.5f);
}

TEST(TensorCodec, EncodesWireFieldsAsDocumented) {
  const torch::Tensor t = torch::tensor({1, -2, 3}, torch::kInt).reshape({1, 3});
  const Tensor message = EncodeTensor(t);
  EXPECT_EQ(message.dtype(), DTYPE_INT32);
  ASSERT_EQ(message.shape_size(), 2);
  EXPECT_EQ(message.shape(0), 1);
  EXPECT_EQ(message.shape(1), 3);
  // Little-endian int32 elements, row-major.
  const std::string expected("\x01\x00\x00\x00\xfe\xff\xff\xff\x03\x00\x00\x00", 12);
  EXPECT_EQ(message.data(), expected);
}

TEST(TensorCodec, NonContiguousInputsEncodeTheirLogicalElements) {
  for (const torch::ScalarType type : {torch::kFloat, torch::kHalf, torch::kLong, torch::kBool}) {
    const torch::Tensor base = MakeTensor(type, {4, 6, 5});
    const std::vector<torch::Tensor> views = {
        base.transpose(0, 2),                                    // permuted strides
        base.slice(1, 1, 6, 2),                                  // stepped slice
        base.select(2, 3),                                       // a column
        base.narrow(0, 1, 2).unsqueeze(1).expand({2, 3, 6, 5}),  // zero strides
    };
    for (const torch::Tensor& view : views) {
      ASSERT_FALSE(view.is_contiguous());
      const StatusOr<at::Tensor> back = DecodeTensor(EncodeTensor(view));
      ASSERT_TRUE(back.ok()) << back.error();
      EXPECT_EQ(back->sizes(), view.sizes());
      EXPECT_EQ(RawBytes(*back), RawBytes(view.contiguous()));
    }
  }
}

TEST(TensorCodec, LazyNegatedViewsEncodeTheNegatedValues) {
  const torch::Tensor x = torch::tensor({1.0f, -2.0f, 3.0f});
  const torch::Tensor neg = torch::_neg_view(x);
  ASSERT_TRUE(neg.is_neg());
  const StatusOr<at::Tensor> back = DecodeTensor(EncodeTensor(neg));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(torch::equal(*back, torch::tensor({-1.0f, 2.0f, -3.0f})));
}

TEST(TensorCodec, EncodeDropsAutogradAndReplacesExistingMessage) {
  const torch::Tensor w = torch::ones({2, 2}, torch::requires_grad());
  Tensor message = EncodeTensor(torch::zeros({5}, torch::kLong));
  EncodeTensor(w * 3, &message);
  const StatusOr<at::Tensor> back = DecodeTensor(message);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_FALSE(back->requires_grad());
  EXPECT_TRUE(torch::equal(*back, torch::full({2, 2}, 3.0f)));
}

TEST(TensorCodec, EncodeRejectsWhatTheWireCannotCarry) {
  EXPECT_THAT([] { EncodeTensor(torch::Tensor()); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("undefined")));
  EXPECT_THAT([] { EncodeTensor(torch::zeros({3}, torch::kShort)); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("Short")));
  EXPECT_THAT([] { EncodeTensor(torch::zeros({3}, torch::kComplexFloat)); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("ComplexFloat")));
  EXPECT_THAT([] { EncodeTensor(torch::eye(3).to_sparse()); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("Sparse")));
}

TEST(TensorCodec, DecodeOntoRequestedCpuDevice) {
  DecodeOptions options;
  options.device = torch::Device("cpu");
  const StatusOr<at::Tensor> back = DecodeTensor(EncodeTensor(torch::arange(6)), options);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_TRUE(back->device().is_cpu());
}

// A valid float32 [2, 3] message to break in the tests below.
Tensor ValidMessage() { return EncodeTensor(torch::arange(6, torch::kFloat).reshape({2, 3})); }

void ExpectRejected(const Tensor& message, const std::string& what, const DecodeOptions& options = {}) {
  const StatusOr<at::Tensor> result = DecodeTensor(message, options);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error(), HasSubstr(what));
  EXPECT_THROW(result.value(), std::runtime_error);
}

TEST(TensorCodec, RejectsUnspecifiedAndUnknownDTypes) {
  Tensor message = ValidMessage();
  message.set_dtype(DTYPE_UNSPECIFIED);
  ExpectRejected(message, "Tensor.dtype is DTYPE_UNSPECIFIED");
  // An enum value this build does not know, as a newer sender or corrupt bytes would produce.
  Tensor unknown;
  ASSERT_TRUE(unknown.ParseFromString(std::string("\x08\x63", 2)));  // field 1 (dtype), varint 99
  ExpectRejected(unknown, "Tensor.dtype = 99 is not a known gcl.proto.DType");
}

TEST(TensorCodec, RejectsNegativeDimensions) {
  Tensor message = ValidMessage();
  message.set_shape(1, -3);
  ExpectRejected(message, "Tensor.shape[1] = -3 is negative");
}

TEST(TensorCodec, RejectsDataSizeMismatch) {
  Tensor message = ValidMessage();
  message.mutable_data()->pop_back();
  ExpectRejected(message, "Tensor.data has 23 bytes, but shape [2, 3] of Float needs 24");
  message = ValidMessage();
  message.mutable_data()->append("x");
  ExpectRejected(message, "Tensor.data has 25 bytes");
  message = ValidMessage();
  message.add_shape(0);  // [2, 3, 0] holds nothing, yet 24 bytes came
  ExpectRejected(message, "needs 0");
}

TEST(TensorCodec, RejectsElementCountOverflow) {
  Tensor message = ValidMessage();
  message.clear_shape();
  for (int i = 0; i < 3; ++i) message.add_shape(int64_t{1} << 30);  // 2^90 elements
  ExpectRejected(message, "element count overflows int64");
}

TEST(TensorCodec, RejectsByteCountOverflow) {
  Tensor message = ValidMessage();
  message.clear_shape();
  message.add_shape(int64_t{1} << 62);  // fits int64 as a count, not as float32 bytes
  ExpectRejected(message, "byte count overflows int64");
}

TEST(TensorCodec, RejectsTensorsAboveTheByteLimit) {
  Tensor message = ValidMessage();
  message.clear_shape();
  message.add_shape(int64_t{1} << 40);  // 4 TiB of float32, with no data behind it
  ExpectRejected(message, "more than the limit of 4294967296 (DecodeOptions.max_bytes)");
  DecodeOptions small;
  small.max_bytes = 16;
  ExpectRejected(ValidMessage(), "needs 24 bytes, more than the limit of 16", small);
}

TEST(TensorCodec, RejectsTooManyDimensions) {
  Tensor message = ValidMessage();
  message.clear_shape();
  for (int i = 0; i < 65; ++i) message.add_shape(1);
  message.mutable_data()->resize(4);
  ExpectRejected(message, "Tensor.shape has 65 dimensions, more than the 64 allowed");
}

TEST(TensorCodec, RejectsBoolBytesOtherThanZeroOrOne) {
  Tensor message = EncodeTensor(torch::tensor({true, false, true}));
  (*message.mutable_data())[2] = '\x02';
  ExpectRejected(message, "Tensor.data[2] = 2 is not a valid bool element");
}

TEST(TensorCodec, RejectsCudaWhenAbsent) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "CUDA is present; the rejection cannot be observed";
  DecodeOptions options;
  options.device = torch::Device(torch::kCUDA, 0);
  ExpectRejected(ValidMessage(), "cannot move the decoded tensor to cuda:0", options);
}

TEST(TensorCodec, DTypeMappingIsABijectionOverTheWireTypes) {
  for (int value = DType_MIN; value <= DType_MAX; ++value) {
    if (value == DTYPE_UNSPECIFIED) continue;
    const StatusOr<c10::ScalarType> type = FromProtoDType(value);
    ASSERT_TRUE(type.ok()) << type.error();
    EXPECT_EQ(ToProtoDType(*type), value);
  }
}

}  // namespace
}  // namespace proto
}  // namespace gcl
