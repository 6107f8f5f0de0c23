// Dresses a posed body: per-vertex clothing colours from an Identity, and bag geometry added to the mesh.
//
// Clothes are painted through the body model's per-vertex part labels and body coordinates (rest height and
// angle around the part's axis, data/body/body_model.h), so patterns follow the body through poses. Front and
// back differ on purpose: chest prints and open jackets are seen from the front, backpacks and back prints from
// behind, and a shoulder strap crosses both.
//
// The structure images of GCL stay on the naked body (reference §3: HMR fits a body, not its bags), so
// use the body mesh, not DressedBody::mesh, for RenderStructure.
//
//   gcl::data::DressedBody dressed = gcl::data::DressBody(mesh, identity, model, /*carrying=*/false);
//   gcl::data::RenderOutput out = gcl::data::Render(dressed.mesh, dressed.colours_bgr, camera, lighting, 2);
#ifndef GCL_DATA_SYNTH_APPEARANCE_H_
#define GCL_DATA_SYNTH_APPEARANCE_H_

#include <vector>

#include <opencv2/core.hpp>

#include "data/body/body_model.h"
#include "data/synth/identity.h"

namespace gcl::data {

struct DressedBody {
  PosedMesh mesh;                       // the body plus bag boxes (parts, sides, body_coords, normals filled)
  std::vector<cv::Vec3f> colours_bgr;   // one per mesh vertex, BGR in [0, 1] as the rasterizer wants
};

// `body` must come from `model` (its joints are looked up by bone name). `carrying`: the pose holds a handbag in
// the `carry_side` hand; a handbag is drawn only then (people with a handbag are posed kCarry by the world).
// Throws std::invalid_argument when the mesh's per-vertex arrays disagree in size.
DressedBody DressBody(const PosedMesh& body, const Identity& identity, const BodyModel& model, bool carrying,
                      BodySide carry_side = BodySide::kRight);

// Body shape sliders of the body model from the identity's shape (the same fields).
BodyShape ToBodyShape(const ShapeParams& shape);

}  // namespace gcl::data

#endif  // GCL_DATA_SYNTH_APPEARANCE_H_
