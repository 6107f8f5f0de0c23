#include "data/synth/appearance.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace gcl::data {
namespace {

constexpr float kPi = 3.14159265358979f;

using Vec3 = std::array<float, 3>;

// Fabric shading: a small deterministic brightness change per vertex (folds, wear), so flat colours do not
// look like plastic.
float FabricNoise(size_t vertex) {
  uint32_t h = static_cast<uint32_t>(vertex) * 2654435761u;
  h ^= h >> 15;
  h *= 2246822519u;
  h ^= h >> 13;
  return 0.94f + 0.12f * static_cast<float>(h & 0xFFFF) / 65535.f;
}

Vec3 Joint(const PosedMesh& mesh, const BodyModel& model, const char* bone, const Vec3& fallback) {
  const int index = model.BoneIndex(bone);
  if (index < 0 || index >= static_cast<int>(mesh.joints.size())) return fallback;
  return mesh.joints[index];
}

// Appends an axis-aligned box as 6 flat faces (24 vertices, 12 counter-clockwise triangles).
void AppendBox(PosedMesh& mesh, std::vector<cv::Vec3f>& colours, const Vec3& centre, const Vec3& half,
               const cv::Vec3f& rgb, BodyPart part, BodySide side) {
  struct Face {
    int normal_axis;
    float sign;
    int u_axis, v_axis;
  };
  // u x v = normal for each face, so corners (-,-), (+,-), (+,+), (-,+) run counter-clockwise from outside.
  const Face faces[6] = {{0, 1.f, 1, 2}, {0, -1.f, 2, 1}, {1, 1.f, 2, 0},
                         {1, -1.f, 0, 2}, {2, 1.f, 0, 1}, {2, -1.f, 1, 0}};
  for (const Face& f : faces) {
    const int base = static_cast<int>(mesh.vertices.size());
    const float corners[4][2] = {{-1.f, -1.f}, {1.f, -1.f}, {1.f, 1.f}, {-1.f, 1.f}};
    for (const auto& c : corners) {
      Vec3 p = centre;
      p[f.normal_axis] += f.sign * half[f.normal_axis];
      p[f.u_axis] += c[0] * half[f.u_axis];
      p[f.v_axis] += c[1] * half[f.v_axis];
      Vec3 n = {0.f, 0.f, 0.f};
      n[f.normal_axis] = f.sign;
      mesh.vertices.push_back(p);
      mesh.normals.push_back(n);
      mesh.parts.push_back(part);
      mesh.sides.push_back(side);
      mesh.body_coords.push_back({std::clamp(p[1] / 1.8f, 0.f, 1.f), std::atan2(p[0], p[2])});
      // A little darker towards the bottom: bags sag and collect dirt.
      colours.push_back(rgb * (0.85f + 0.15f * (c[1] + 1.f) * 0.5f));
    }
    mesh.triangles.push_back({base, base + 1, base + 2});
    mesh.triangles.push_back({base, base + 2, base + 3});
  }
}

bool Striped(float value, float period) {
  return static_cast<int>(std::floor(value / period)) % 2 != 0;
}

cv::Vec3f TopColour(const Outfit& o, float height, float angle) {
  const float a = std::abs(angle);
  if (o.front_print && a < 0.5f && height > 0.70f && height < 0.78f) return o.print_colour;
  if (o.back_print && a > 2.4f && height > 0.66f && height < 0.80f) return o.back_print_colour;
  if (o.top == TopKind::kOpenJacket && a < 0.42f) return o.top_secondary;  // the shirt under the open jacket
  switch (o.pattern) {
    case TopPattern::kSolid: return o.top_colour;
    case TopPattern::kHorizontalStripes: return Striped(height, 0.025f) ? o.top_secondary : o.top_colour;
    case TopPattern::kVerticalStripes: return Striped(angle + kPi, kPi / 6.f) ? o.top_secondary : o.top_colour;
    case TopPattern::kChecker:
      return Striped(height, 0.04f) != Striped(angle + kPi, kPi / 4.f) ? o.top_secondary : o.top_colour;
    case TopPattern::kTwoTone: return height > 0.73f ? o.top_secondary : o.top_colour;
  }
  return o.top_colour;
}

}  // namespace

BodyShape ToBodyShape(const ShapeParams& s) {
  BodyShape shape;
  shape.gender = s.gender;
  shape.muscle = s.muscle;
  shape.weight = s.weight;
  shape.height = s.height;
  shape.african = s.african;
  shape.asian = s.asian;
  shape.caucasian = s.caucasian;
  return shape;
}

DressedBody DressBody(const PosedMesh& body, const Identity& id, const BodyModel& model, bool carrying,
                      BodySide carry_side) {
  const size_t n = body.vertices.size();
  if (body.parts.size() != n || body.body_coords.size() != n || body.normals.size() != n || body.sides.size() != n) {
    throw std::invalid_argument("DressBody: the mesh's per-vertex arrays (parts, sides, body_coords, normals) "
                                "must match its vertex count");
  }
  const Outfit& o = id.outfit;
  DressedBody dressed;
  dressed.mesh = body;
  std::vector<cv::Vec3f> rgb(n);

  // Shoulder-bag strap: a band in the body's x-y plane from one shoulder to the opposite hip.
  const Vec3 neck = Joint(body, model, "neck_01", {0.f, 1.36f, 0.f});
  const Vec3 pelvis = Joint(body, model, "pelvis", {0.f, 0.82f, 0.f});
  const float strap_side = (id.pid % 2 == 0) ? 1.f : -1.f;
  const float sx0 = neck[0] + strap_side * 0.14f, sy0 = neck[1] - 0.06f;
  const float sx1 = pelvis[0] - strap_side * 0.2f, sy1 = pelvis[1] + 0.02f;
  const float strap_len = std::hypot(sx1 - sx0, sy1 - sy0);

  for (size_t v = 0; v < n; ++v) {
    const float h = body.body_coords[v][0];
    const float angle = body.body_coords[v][1];
    const float a = std::abs(angle);
    cv::Vec3f c = id.skin_colour;
    switch (body.parts[v]) {
      case BodyPart::kHead: {
        const float long_hair = std::max(0.f, id.hair_length - 0.4f);
        const bool hair = h > 0.955f || (a > 1.2f && h > 0.935f - 0.03f * id.hair_length) ||
                          (a > 1.9f && h > 0.895f - 0.05f * long_hair);
        if (o.hat && h > 0.962f) {
          c = o.hat_colour;
        } else if (o.top == TopKind::kHoodie && a > 2.3f && h < 0.93f) {
          c = o.top_colour;  // the hood lying on the back of the head
        } else if (hair) {
          c = id.hair_colour;
        }
        break;
      }
      case BodyPart::kNeck:
        if (o.top == TopKind::kHoodie || (id.hair_length > 0.6f && a > 2.0f)) {
          c = o.top == TopKind::kHoodie ? o.top_colour : id.hair_colour;
        }
        break;
      case BodyPart::kTorso:
        c = (id.hair_length > 0.75f && a > 2.2f && h > 0.79f) ? id.hair_colour : TopColour(o, h, angle);
        if (o.bag == BagKind::kBackpack && h > 0.62f && std::abs(a - 0.55f) < 0.1f) c = o.bag_colour;  // straps
        break;
      case BodyPart::kPelvis:
        c = h > 0.545f ? TopColour(o, h, angle) : o.bottom_colour;
        break;
      case BodyPart::kUpperArm:
        c = (o.top != TopKind::kTShirt || h > 0.75f) ? o.top_colour : id.skin_colour;
        break;
      case BodyPart::kLowerArm:
        c = o.top != TopKind::kTShirt ? o.top_colour : id.skin_colour;
        break;
      case BodyPart::kHand: c = id.skin_colour; break;
      case BodyPart::kUpperLeg:
        if (o.bottom == BottomKind::kTrousers || (o.bottom == BottomKind::kShorts && h > 0.40f) ||
            (o.bottom == BottomKind::kSkirt && h > 0.36f)) {
          c = o.bottom_colour;
        }
        break;
      case BodyPart::kLowerLeg:
        if (o.bottom == BottomKind::kTrousers) c = o.bottom_colour;
        else if (h < 0.1f) c = o.shoe_colour * 0.5f + cv::Vec3f(0.45f, 0.45f, 0.45f);  // socks
        break;
      case BodyPart::kFoot: c = o.shoe_colour; break;
    }
    if (o.bag == BagKind::kShoulderBag &&
        (body.parts[v] == BodyPart::kTorso || body.parts[v] == BodyPart::kPelvis)) {
      const float px = body.vertices[v][0], py = body.vertices[v][1];
      const float cross = ((sx1 - sx0) * (py - sy0) - (sy1 - sy0) * (px - sx0)) / strap_len;
      if (std::abs(cross) < 0.022f) c = o.bag_colour;
    }
    rgb[v] = c * FabricNoise(v);
  }

  // Bags are boxes in the body frame (metres, body facing +z).
  if (o.bag == BagKind::kBackpack) {
    const Vec3 spine = Joint(body, model, "spine_03", {0.f, 1.05f, -0.02f});
    float back_z = 0.f;
    for (size_t v = 0; v < n; ++v) {
      const float y = body.vertices[v][1];
      if (body.parts[v] == BodyPart::kTorso && y > spine[1] - 0.1f && y < spine[1] + 0.25f) {
        back_z = std::min(back_z, body.vertices[v][2]);
      }
    }
    AppendBox(dressed.mesh, rgb, {spine[0], spine[1] + 0.08f, back_z - 0.07f}, {0.15f, 0.2f, 0.08f},
              o.bag_colour, BodyPart::kTorso, BodySide::kCenter);
  } else if (o.bag == BagKind::kShoulderBag) {
    AppendBox(dressed.mesh, rgb, {sx1 - strap_side * 0.04f, sy1 - 0.05f, 0.f}, {0.05f, 0.12f, 0.15f},
              o.bag_colour, BodyPart::kPelvis, strap_side > 0.f ? BodySide::kRight : BodySide::kLeft);
  } else if (o.bag == BagKind::kHandbag && carrying) {
    const bool right = carry_side != BodySide::kLeft;
    const Vec3 hand = Joint(body, model, right ? "hand_r" : "hand_l", {right ? -0.25f : 0.25f, 0.8f, 0.f});
    AppendBox(dressed.mesh, rgb, {hand[0] + (right ? -0.03f : 0.03f), hand[1] - 0.2f, hand[2]},
              {0.05f, 0.13f, 0.16f}, o.bag_colour, BodyPart::kHand, right ? BodySide::kRight : BodySide::kLeft);
  }

  dressed.colours_bgr.resize(rgb.size());
  for (size_t v = 0; v < rgb.size(); ++v) {
    dressed.colours_bgr[v] = cv::Vec3f(std::clamp(rgb[v][2], 0.f, 1.f), std::clamp(rgb[v][1], 0.f, 1.f),
                                       std::clamp(rgb[v][0], 0.f, 1.f));
  }
  return dressed;
}

}  // namespace gcl::data
