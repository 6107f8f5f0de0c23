// Render cost per view on one core: GCL structure images (grey on white) and colour renders (colour + mask +
// depth), at the crop sizes GCL uses (256x128 after resize, 128x64 Market originals); plus posing a body.
//   bazel run -c opt //benchmarks/data/render:render_benchmark
#include <vector>

#include <benchmark/benchmark.h>
#include <opencv2/core.hpp>

#include "data/body/body_model.h"
#include "data/render/rasterizer.h"

namespace gcl::data {
namespace {

const BodyModel& Model() {
  static const BodyModel* const model = new BodyModel(BodyModel::LoadDefault());
  return *model;
}

PosedMesh WalkingBody() {
  BodyPose pose;
  pose.kind = BodyPose::Kind::kWalk;
  pose.phase = 0.3f;
  return Model().Pose(BodyShape{}, pose);
}

// Args: height, width, supersample.
void BM_StructureView(benchmark::State& state) {
  const PosedMesh mesh = WalkingBody();
  const cv::Size size(static_cast<int>(state.range(1)), static_cast<int>(state.range(0)));
  const Camera cam = FrameBody(mesh, size);
  const int ss = static_cast<int>(state.range(2));
  float yaw = 0.f;
  for (auto _ : state) {
    cv::Mat s = RenderStructure(mesh, cam, yaw, cv::Size(), Lighting{}, ss);
    benchmark::DoNotOptimize(s.data);
    yaw += 45.f;
  }
}
BENCHMARK(BM_StructureView)->Args({256, 128, 1})->Args({256, 128, 2})->Args({128, 64, 2})->Args({128, 64, 3})
    ->Unit(benchmark::kMillisecond);

void BM_ColorView(benchmark::State& state) {
  const PosedMesh mesh = WalkingBody();
  const cv::Size size(static_cast<int>(state.range(1)), static_cast<int>(state.range(0)));
  Camera cam = FrameBody(mesh, size);
  const std::vector<cv::Vec3f> colors(mesh.vertices.size(), cv::Vec3f(0.3f, 0.5f, 0.7f));
  const int ss = static_cast<int>(state.range(2));
  for (auto _ : state) {
    RenderOutput out = Render(mesh, colors, cam, Lighting{}, ss);
    benchmark::DoNotOptimize(out.color.data);
    cam.yaw_degrees += 45.f;
  }
}
BENCHMARK(BM_ColorView)->Args({256, 128, 1})->Args({256, 128, 2})->Args({128, 64, 2})->Args({128, 64, 3})
    ->Unit(benchmark::kMillisecond);

// All eight GCL views of one person at 256x128.
void BM_EightStructureViews(benchmark::State& state) {
  const PosedMesh mesh = WalkingBody();
  const Camera cam = FrameBody(mesh, cv::Size(128, 256));
  for (auto _ : state) benchmark::DoNotOptimize(StructureViews(mesh, cam).size());
}
BENCHMARK(BM_EightStructureViews)->Unit(benchmark::kMillisecond);

void BM_PoseBody(benchmark::State& state) {
  BodyShape shape;
  shape.gender = 0.7f, shape.weight = 0.3f, shape.height = 0.8f;
  BodyPose pose;
  pose.kind = BodyPose::Kind::kWalk;
  for (auto _ : state) {
    pose.phase += 0.1f;
    benchmark::DoNotOptimize(Model().Pose(shape, pose).vertices.data());
  }
}
BENCHMARK(BM_PoseBody)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gcl::data
