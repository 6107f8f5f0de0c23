// CPU z-buffer rasterizer for body meshes: perspective camera, Lambert + ambient shading (Gouraud), per-vertex
// colours, supersampling. Two products:
//   * Render(): colour + coverage mask + depth, for the synthetic world to paint clothed people and composite
//     them over backgrounds;
//   * RenderStructure(): GCL's structure image (reference §3): the naked body shaded light grey on a white
//     background, 1 channel, framed like the person crop, the body turned about its vertical axis with the camera
//     fixed; StructureViews() gives the eight views 0, 45, ..., 315 degrees that GCL's `render[_deg]/` folders hold.
//
// Usage:
//   const gcl::data::PosedMesh mesh = model.Pose(shape, pose);
//   const gcl::data::Camera cam = gcl::data::FrameBody(mesh, cv::Size(128, 256));
//   cv::Mat s_ori = gcl::data::RenderStructure(mesh, cam, 0.f);     // CV_8UC1, 256 rows x 128 cols
//   cv::Mat s_90 = gcl::data::RenderStructure(mesh, cam, 90.f);
//   gcl::data::RenderOutput out = gcl::data::Render(mesh, colors, cam, gcl::data::Lighting{}, 2);
//   cv::Mat person = gcl::data::CompositeOver(out, background);     // background: CV_8UC3 of cam.image_size
//
// Conventions: images are OpenCV BGR; colours are floats in [0, 1]. The camera looks at the body from its front
// when yaw is 0. Costs a few milliseconds per 256x128 view on one core (benchmarks/data/render); everything is
// deterministic and thread-safe (no shared state).
//
// Not for: textures, shadows, transparency, or meshes with more than a few hundred thousand triangles.
#ifndef GCL_DATA_RENDER_RASTERIZER_H_
#define GCL_DATA_RENDER_RASTERIZER_H_

#include <array>
#include <vector>

#include <opencv2/core.hpp>

#include "data/body/body_model.h"

namespace gcl::data {

// A pinhole camera looking at `target` in the mesh frame (metres, y up, body facing +z).
struct Camera {
  // Turn of the body about the vertical axis x = z = 0, in degrees, counter-clockwise seen from above: at 90 the
  // body faces +x, so the camera sees its right side; 0 = the body faces the camera.
  float yaw_degrees = 0.f;
  // Elevation of the camera above the look-at point, in degrees; positive looks down on the person.
  float pitch_degrees = 0.f;
  float distance = 8.f;               // metres from the camera centre to `target`
  float vertical_fov_degrees = 14.f;  // full vertical opening angle
  cv::Size image_size{128, 256};      // width x height in pixels
  cv::Point3f target{0.f, 0.85f, 0.f};
  // Shift of the image centre (principal point) in pixels, e.g. to place the person off-centre in a crop.
  cv::Point2f principal_offset{0.f, 0.f};
};

// A camera that frames the body the way a person detector's crop does: seen at yaw 0, the body's vertical
// extent fills `fill` of the image height, centred, and its turning axis sits in the middle column; the
// principal offset stays 0. Turning the body afterwards (Camera::yaw_degrees, RenderStructure's extra yaw) keeps
// this camera fixed, as GCL's rotated structure views require; the extent then changes by perspective only.
Camera FrameBody(const PosedMesh& mesh, cv::Size image_size, float fill = 0.9f, float pitch_degrees = 4.f,
                 float distance = 8.f);

// A directional light fixed to the camera plus ambient light: shade = albedo * (ambient + diffuse * max(0, n.l)).
struct Lighting {
  // Direction towards the light in camera coordinates (x right, y up, z towards the viewer); normalised inside.
  cv::Vec3f direction{-0.35f, 0.55f, 1.f};
  float ambient = 0.4f;
  float diffuse = 0.6f;
};

struct RenderOutput {
  cv::Mat color;  // CV_8UC3 BGR, not premultiplied: the mean colour of the covered sub-samples; 0 where uncovered
  cv::Mat mask;   // CV_8UC1 coverage, 255 = fully covered (fraction of covered sub-samples)
  cv::Mat depth;  // CV_32FC1 distance along the viewing axis (metres) of the nearest surface; 0 where uncovered
};

// Renders `mesh` with one colour per vertex (BGR in [0, 1]; size must equal mesh.vertices.size()) at
// `supersample` x `supersample` samples per pixel (1..8). Throws std::invalid_argument on bad input.
RenderOutput Render(const PosedMesh& mesh, const std::vector<cv::Vec3f>& vertex_colors, const Camera& camera,
                    const Lighting& lighting, int supersample = 2);

// Lays `render` over `background` (CV_8UC3 of the render's size) with its coverage mask.
cv::Mat CompositeOver(const RenderOutput& render, const cv::Mat& background);

// GCL's structure image: the body in uniform light grey (albedo 0.8), shaded with `lighting`, over white,
// turned by camera.yaw_degrees + extra_yaw_degrees. `size` (width x height) overrides camera.image_size when
// non-empty, keeping the camera's framing (the field of view scales with the height). CV_8UC1.
cv::Mat RenderStructure(const PosedMesh& mesh, const Camera& camera, float extra_yaw_degrees,
                        cv::Size size = cv::Size(), const Lighting& lighting = Lighting{}, int supersample = 2);

// The structure rotations GCL stores: 0 (the original view, folder `render/`) and 45, 90, ..., 315
// (`render_45/` ... `render_315/`).
inline constexpr std::array<int, 8> kStructureYawsDegrees = {0, 45, 90, 135, 180, 225, 270, 315};
std::vector<cv::Mat> StructureViews(const PosedMesh& mesh, const Camera& camera, cv::Size size = cv::Size(),
                                    const Lighting& lighting = Lighting{}, int supersample = 2);

}  // namespace gcl::data

#endif  // GCL_DATA_RENDER_RASTERIZER_H_
