// Proves that every system library the project builds on compiles, links and runs together.
#include <caf/all.hpp>
#include <glog/logging.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <torch/torch.h>

#include "proto/tensor.pb.h"

TEST(Toolchain, TorchComputes) {
  const torch::Tensor a = torch::ones({2, 3});
  EXPECT_DOUBLE_EQ(torch::matmul(a, a.t()).sum().item<double>(), 12.0);
}

TEST(Toolchain, OpenCvComputes) {
  const cv::Mat m = cv::Mat::eye(3, 3, CV_32F);
  EXPECT_DOUBLE_EQ(cv::sum(m)[0], 3.0);
}

TEST(Toolchain, ProtobufRoundTrips) {
  gcl::proto::Tensor t;
  t.set_dtype(gcl::proto::DTYPE_INT64);
  t.add_shape(7);
  gcl::proto::Tensor back;
  ASSERT_TRUE(back.ParseFromString(t.SerializeAsString()));
  EXPECT_EQ(back.shape(0), 7);
  EXPECT_EQ(back.dtype(), gcl::proto::DTYPE_INT64);
}

TEST(Toolchain, CafActorSystemStarts) {
  caf::actor_system_config cfg;
  caf::actor_system system{cfg};
  auto doubler = system.spawn([]() -> caf::behavior { return {[](int x) { return 2 * x; }}; });
  caf::scoped_actor self{system};
  int answer = 0;
  self->request(doubler, caf::infinite, 21).receive([&](int y) { answer = y; },
                                                    [](caf::error&) { FAIL(); });
  EXPECT_EQ(answer, 42);
}
