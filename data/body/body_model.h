// Parametric human body for the synthetic world and for GCL's structure images (reference §3: GCL feeds its
// structure encoder grey renders of a fitted body mesh; we render our own body instead of HMR/SMPL fits).
//
// The body is the CC0 MakeHuman hm08 base mesh (`body` group: 13,380 vertices, 26,756 triangles) with its
// 53-bone game-engine rig. Shape comes from MakeHuman's young-adult macro targets (gender, muscle, weight,
// height, ethnicity blend) mixed as MakeHuman's macro.json prescribes; pose comes from joint rotations applied
// with linear-blend skinning (4 influences per vertex). The asset is converted once by
// data/body/tools/convert_makehuman.py and embedded into every binary that links this library, so
// LoadDefault() works from `bazel run`, `bazel test` and installed binaries alike.
//
// Frame of a PosedMesh: metres, y up, the body faces +z, its left side is +x, the feet touch y = 0 and the
// pelvis joint stands on the vertical axis x = z = 0 (the axis the structure views turn about).
//
// Usage:
//   const gcl::data::BodyModel model = gcl::data::BodyModel::LoadDefault();
//   gcl::data::BodyShape shape;  shape.gender = 0.9f;  shape.height = 0.7f;
//   gcl::data::BodyPose pose;    pose.kind = gcl::data::BodyPose::Kind::kWalk;  pose.phase = 0.25f;
//   gcl::data::PosedMesh mesh = model.Pose(shape, pose);
// Pose() is const and thread-safe; a call takes about a millisecond.
//
// Not for: faces, hands or anything that needs fingers posed (the hands stay open as in the rest pose), or
// children/elderly bodies (only the young-adult targets are shipped).
#ifndef GCL_DATA_BODY_BODY_MODEL_H_
#define GCL_DATA_BODY_BODY_MODEL_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gcl::data {

// MakeHuman macro sliders, each in [0, 1] (0.5 = MakeHuman's average). Values outside [0, 1] throw.
struct BodyShape {
  float gender = 0.5f;  // 0 female .. 1 male
  float muscle = 0.5f;  // 0 min .. 0.5 average .. 1 max muscle
  float weight = 0.5f;  // 0 min .. 0.5 average .. 1 max weight
  // 0 min .. 0.5 average .. 1 max height. MakeHuman's extremes are far apart: stature of the average female /
  // male is 1.22 / 1.36 m at 0, 1.59 / 1.73 m at 0.5, 2.31 / 2.45 m at 1 (linear in between), so adults seen
  // on a street lie within about [0.35, 0.65].
  float height = 0.5f;
  // Ethnicity blend; normalised to sum 1 inside (all three 0 throws).
  float african = 1 / 3.f, asian = 1 / 3.f, caucasian = 1 / 3.f;
};

enum class BodySide : int8_t { kRight = -1, kCenter = 0, kLeft = 1 };

// Procedural poses. Walking is a looped gait cycle; `phase` in [0, 1) (values wrap): at phase 0 the legs pass
// each other with the left leg starting its forward swing, at 0.25 the left leg is furthest forward.
struct BodyPose {
  enum class Kind {
    kStand,  // upright, arms hanging at the sides (phase ignored)
    kWalk,   // gait cycle at `phase`, arms swinging opposite to the legs
    kCarry,  // gait cycle at `phase`, the `carry_side` arm holds a bag: hangs a little away from the body, stiff
  };
  Kind kind = Kind::kStand;
  float phase = 0.f;
  BodySide carry_side = BodySide::kRight;  // kCarry only; kCenter throws
  float stride = 1.f;     // scales hip/knee swing amplitudes (0 = marching on the spot)
  float arm_swing = 1.f;  // scales shoulder swing amplitude
};

// Coarse body parts for painting clothes: the dominant skinning bone of each vertex decides its part.
enum class BodyPart : uint8_t {
  kHead,      // head bone
  kNeck,      // neck_01
  kTorso,     // spine_01..03, clavicles (chest, belly, upper back, shoulders)
  kPelvis,    // pelvis (hips, buttocks, crotch: where trousers start)
  kUpperArm,  // upperarm
  kLowerArm,  // lowerarm
  kHand,      // hand and fingers
  kUpperLeg,  // thigh
  kLowerLeg,  // calf
  kFoot,      // foot and toes
};
inline constexpr int kNumBodyParts = 10;
const char* BodyPartName(BodyPart part);

struct PosedMesh {
  std::vector<std::array<float, 3>> vertices;  // metres, frame as described at the top of this file
  std::vector<std::array<int, 3>> triangles;   // counter-clockwise seen from outside
  std::vector<BodyPart> parts;                 // per vertex
  std::vector<BodySide> sides;                 // per vertex (from the dominant bone's _l/_r suffix)
  // Per vertex, fixed for the model (computed once on the rest mesh of the average body, so a pattern painted
  // through them follows the body through shapes and poses):
  //   [0] height: 0 at the soles .. 1 at the top of the head, measured in the rest (A-)pose;
  //   [1] angle in radians (-pi, pi] around the part's axis: 0 = facing front (+z), +pi/2 = towards the body's
  //       left (+x). Head, neck, torso and pelvis use the vertical axis through their bone; limbs, hands and
  //       feet use their bone's head->tail axis, so sleeves and trouser legs get a continuous angle.
  std::vector<std::array<float, 2>> body_coords;
  std::vector<std::array<float, 3>> normals;  // unit, per vertex, area-weighted from the triangles
  // Posed bone head positions (same frame), indexed like BodyModel::bone_names(); e.g. "hand_r" to attach a
  // carried bag, "head" for a hat.
  std::vector<std::array<float, 3>> joints;
};

class BodyModel {
 public:
  // The shipped asset (data/body/assets/makehuman_body.bin, embedded at build time). Parsed once per process.
  static BodyModel LoadDefault();
  // An asset file written by convert_makehuman.py; throws std::runtime_error naming the file and the problem.
  static BodyModel LoadFromFile(const std::string& path);
  // Same, from bytes in memory; `source_name` names the bytes in error messages.
  static BodyModel LoadFromBytes(const unsigned char* data, std::size_t size, const std::string& source_name);

  PosedMesh Pose(const BodyShape& shape, const BodyPose& pose) const;
  // The shaped mesh in the rig's rest pose (MakeHuman's A-pose, arms ~45 degrees down), skinned with identity
  // rotations, feet at y = 0.
  PosedMesh RestPose(const BodyShape& shape) const;

  int num_vertices() const { return num_vertices_; }
  int num_triangles() const { return static_cast<int>(triangles_.size()); }
  const std::vector<std::string>& bone_names() const { return bone_names_; }
  // Index into bone_names(), or -1.
  int BoneIndex(const std::string& name) const;
  // Linear-blend-skinning influences per vertex: up to 4 bones (indices into bone_names()) and their weights,
  // which sum to 1 (unused slots have weight 0).
  const std::vector<std::array<uint8_t, 4>>& skin_bones() const { return skin_bones_; }
  const std::vector<std::array<float, 4>>& skin_weights() const { return skin_weights_; }
  // The shaped mesh vertices before skinning and before the feet are put on y = 0 (the asset's frame: the
  // ground cube of the average body at y = 0, pelvis joint at x = z = 0). Affine in each macro slider within
  // its half range, which the tests use.
  std::vector<std::array<float, 3>> ShapedVertices(const BodyShape& shape) const;

 private:
  struct TargetEntry {
    uint16_t point;
    int16_t delta[3];
  };
  struct Rotation {
    float m[9];  // row-major 3x3
  };

  BodyModel() = default;
  void Precompute();
  std::vector<std::array<float, 3>> ShapePoints(const BodyShape& shape) const;
  std::vector<Rotation> PoseRotations(const std::vector<std::array<float, 3>>& points, const BodyPose& pose) const;
  PosedMesh Skin(const std::vector<std::array<float, 3>>& points, const std::vector<Rotation>& rotations) const;

  int num_vertices_ = 0;
  int num_points_ = 0;  // vertices followed by joint points
  std::vector<std::array<float, 3>> points_;
  std::vector<std::array<int, 3>> triangles_;
  std::vector<std::array<uint8_t, 4>> skin_bones_;
  std::vector<std::array<float, 4>> skin_weights_;
  std::vector<std::string> bone_names_;
  std::vector<int> bone_parent_;
  std::vector<int> bone_head_;  // point index
  std::vector<int> bone_tail_;  // point index
  std::vector<std::vector<TargetEntry>> blocks_;
  std::vector<std::string> target_names_;
  std::vector<int> target_block_;
  std::vector<BodyPart> parts_;
  std::vector<BodySide> sides_;
  std::vector<std::array<float, 2>> body_coords_;
};

}  // namespace gcl::data

#endif  // GCL_DATA_BODY_BODY_MODEL_H_
