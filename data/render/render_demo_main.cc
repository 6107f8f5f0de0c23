// Writes the example images of docs/rendering.md:
//   render_structure_strip.png  one person's structure images at 0, 45, ..., 315 degrees (256x128 each)
//   render_color_poses.png      colour renders (stand, walk at four phases, carry) composited over grey
//   render_parts.png            the body-part labels and the body-coordinate angle, front and back
//   render_shapes.png           structure images of five body shapes
//
//   bazel run //data/render:render_demo -- --out_dir=docs/images
// A relative --out_dir is taken from the directory `bazel run` was started in.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "common/flags.h"
#include "common/user_path.h"
#include "data/body/body_model.h"
#include "data/render/rasterizer.h"

namespace {

using gcl::data::BodyPart;

const cv::Size kCrop(128, 256);

cv::Mat HStack(const std::vector<cv::Mat>& images) {
  cv::Mat out;
  cv::hconcat(images, out);
  return out;
}

void Write(const std::string& dir, const std::string& name, const cv::Mat& image) {
  const std::string path = dir + "/" + name;
  if (!cv::imwrite(path, image)) throw std::runtime_error("cannot write " + path);
  std::printf("wrote %s (%dx%d)\n", path.c_str(), image.cols, image.rows);
}

// A simple outfit: skin, a shirt with short sleeves, trousers, shoes (BGR in [0, 1]).
std::vector<cv::Vec3f> Outfit(const gcl::data::PosedMesh& mesh, cv::Vec3f shirt, cv::Vec3f trousers) {
  const cv::Vec3f skin(0.55f, 0.67f, 0.86f), shoes(0.15f, 0.15f, 0.18f), hair(0.1f, 0.12f, 0.2f);
  std::vector<cv::Vec3f> colors(mesh.vertices.size());
  for (std::size_t i = 0; i < colors.size(); ++i) {
    const float height = mesh.body_coords[i][0];
    switch (mesh.parts[i]) {
      case BodyPart::kHead: {
        // Hair on the top and back of the head.
        const float angle = mesh.body_coords[i][1];
        colors[i] = (height > 0.95f || (height > 0.9f && std::abs(angle) > 1.9f)) ? hair : skin;
        break;
      }
      case BodyPart::kNeck:
      case BodyPart::kLowerArm:
      case BodyPart::kHand: colors[i] = skin; break;
      case BodyPart::kTorso:
      case BodyPart::kUpperArm: colors[i] = shirt; break;
      case BodyPart::kPelvis:
      case BodyPart::kUpperLeg:
      case BodyPart::kLowerLeg: colors[i] = trousers; break;
      case BodyPart::kFoot: colors[i] = shoes; break;
    }
  }
  return colors;
}

int Main(int argc, char** argv) {
  std::string out_dir;
  gcl::FlagSet flags("render_demo", "render_demo --out_dir=DIR", "Writes the docs/rendering.md pictures as PNG.");
  flags.String("out_dir", &out_dir, "DIR", "where the pictures go").Required();
  if (!flags.Parse(argc, argv)) return 0;
  out_dir = gcl::UserPath(out_dir);
  std::filesystem::create_directories(out_dir);

  const gcl::data::BodyModel model = gcl::data::BodyModel::LoadDefault();
  gcl::data::BodyShape shape;
  shape.gender = 0.8f;
  shape.muscle = 0.55f;
  gcl::data::BodyPose walk;
  walk.kind = gcl::data::BodyPose::Kind::kWalk;
  walk.phase = 0.2f;

  // 1. Structure strip: camera fixed by the original view, the body turned.
  const auto person = model.Pose(shape, walk);
  const auto cam = gcl::data::FrameBody(person, kCrop);
  std::vector<cv::Mat> views = gcl::data::StructureViews(person, cam);
  Write(out_dir, "render_structure_strip.png", HStack(views));

  // 2. Colour renders of several poses.
  std::vector<cv::Mat> tiles;
  const cv::Mat background(kCrop, CV_8UC3, cv::Scalar(120, 125, 130));
  struct Item {
    gcl::data::BodyPose::Kind kind;
    float phase;
    float yaw;
  };
  const Item items[] = {{gcl::data::BodyPose::Kind::kStand, 0.f, 0.f},  {gcl::data::BodyPose::Kind::kWalk, 0.f, 90.f},
                        {gcl::data::BodyPose::Kind::kWalk, 0.25f, 90.f}, {gcl::data::BodyPose::Kind::kWalk, 0.5f, 90.f},
                        {gcl::data::BodyPose::Kind::kWalk, 0.75f, 30.f}, {gcl::data::BodyPose::Kind::kCarry, 0.1f, -30.f}};
  for (const Item& it : items) {
    gcl::data::BodyPose pose;
    pose.kind = it.kind;
    pose.phase = it.phase;
    const auto mesh = model.Pose(shape, pose);
    auto c = gcl::data::FrameBody(mesh, kCrop);
    c.yaw_degrees = it.yaw;
    const auto r = gcl::data::Render(mesh, Outfit(mesh, {0.25f, 0.35f, 0.75f}, {0.45f, 0.3f, 0.2f}), c,
                                     gcl::data::Lighting{}, 3);
    tiles.push_back(gcl::data::CompositeOver(r, background));
  }
  Write(out_dir, "render_color_poses.png", HStack(tiles));

  // 3. Part labels and the angle coordinate, front and back.
  const auto stand = model.Pose(shape, gcl::data::BodyPose{});
  const cv::Vec3f part_colors[gcl::data::kNumBodyParts] = {
      {0.2f, 0.8f, 0.9f}, {0.9f, 0.9f, 0.2f}, {0.8f, 0.3f, 0.2f}, {0.3f, 0.3f, 0.9f}, {0.2f, 0.8f, 0.3f},
      {0.9f, 0.5f, 0.9f}, {0.9f, 0.9f, 0.9f}, {0.7f, 0.2f, 0.7f}, {0.2f, 0.5f, 0.9f}, {0.3f, 0.3f, 0.3f}};
  std::vector<cv::Vec3f> by_part(stand.vertices.size()), by_angle(stand.vertices.size());
  for (std::size_t i = 0; i < by_part.size(); ++i) {
    by_part[i] = part_colors[static_cast<int>(stand.parts[i])];
    const float a = stand.body_coords[i][1], h = stand.body_coords[i][0];
    // Angle as hue-like bands, height as stripes.
    const float band = 0.5f + 0.5f * std::cos(a);
    const float stripe = std::fmod(h * 20.f, 1.f) < 0.5f ? 1.f : 0.75f;
    by_angle[i] = cv::Vec3f(band, 0.3f, 1.f - band) * stripe;
  }
  auto pc = gcl::data::FrameBody(stand, kCrop);
  std::vector<cv::Mat> part_tiles;
  for (float yaw : {0.f, 180.f}) {
    pc.yaw_degrees = yaw;
    part_tiles.push_back(gcl::data::CompositeOver(gcl::data::Render(stand, by_part, pc, gcl::data::Lighting{}, 2),
                                                  background));
  }
  for (float yaw : {0.f, 90.f}) {
    pc.yaw_degrees = yaw;
    part_tiles.push_back(gcl::data::CompositeOver(gcl::data::Render(stand, by_angle, pc, gcl::data::Lighting{}, 2),
                                                  background));
  }
  Write(out_dir, "render_parts.png", HStack(part_tiles));

  // 4. Body shapes, standing, each framed by its own crop as a detector would.
  const gcl::data::BodyShape shapes[] = {
      {0.f, 0.5f, 0.5f, 0.5f, 0.f, 0.f, 1.f}, {1.f, 0.5f, 0.5f, 0.5f, 0.f, 0.f, 1.f},
      {1.f, 1.f, 0.3f, 0.8f, 1.f, 0.f, 0.f},  {0.3f, 0.2f, 1.f, 0.3f, 0.f, 1.f, 0.f},
      {0.6f, 0.5f, 0.f, 1.f, 0.3f, 0.3f, 0.4f}};
  std::vector<cv::Mat> shape_tiles;
  for (const auto& s : shapes) {
    const auto m = model.Pose(s, gcl::data::BodyPose{});
    shape_tiles.push_back(gcl::data::RenderStructure(m, gcl::data::FrameBody(m, kCrop), 0.f));
  }
  Write(out_dir, "render_shapes.png", HStack(shape_tiles));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return gcl::RunCommand("render_demo", 1, [&] { return Main(argc, argv); });
}
