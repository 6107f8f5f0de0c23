#include "data/body/body_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace gcl::data {
namespace internal {
// Defined in the .cc generated from data/body/assets/makehuman_body.bin (data/body/BUILD).
extern const unsigned char kMakehumanBody[];
extern const std::size_t kMakehumanBodySize;
}  // namespace internal

namespace {

using Vec3 = std::array<float, 3>;
constexpr float kPi = 3.14159265358979f;
constexpr float kDeg = kPi / 180.f;
// convert_makehuman.py stores target deltas as int16 multiples of this many metres.
constexpr float kDeltaStep = 1.f / 32768.f;
constexpr char kMagic[8] = {'G', 'C', 'L', 'B', 'O', 'D', 'Y', '1'};

Vec3 Sub(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
Vec3 Cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
float Dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
Vec3 Normalized(const Vec3& a) {
  const float n = std::sqrt(Dot(a, a));
  return n > 0 ? Vec3{a[0] / n, a[1] / n, a[2] / n} : Vec3{0.f, 0.f, 0.f};
}

// Row-major 3x3.
struct Mat3 {
  float m[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
};
Mat3 Mul(const Mat3& a, const Mat3& b) {
  Mat3 r;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      r.m[i * 3 + j] = a.m[i * 3] * b.m[j] + a.m[i * 3 + 1] * b.m[3 + j] + a.m[i * 3 + 2] * b.m[6 + j];
  return r;
}
Vec3 Apply(const Mat3& a, const Vec3& v) {
  return {a.m[0] * v[0] + a.m[1] * v[1] + a.m[2] * v[2], a.m[3] * v[0] + a.m[4] * v[1] + a.m[5] * v[2],
          a.m[6] * v[0] + a.m[7] * v[1] + a.m[8] * v[2]};
}
// Rotation by `angle` radians about the unit `axis` (right hand rule), Rodrigues' formula.
Mat3 AxisAngle(const Vec3& axis, float angle) {
  const float c = std::cos(angle), s = std::sin(angle), t = 1 - c;
  const float x = axis[0], y = axis[1], z = axis[2];
  Mat3 r;
  r.m[0] = t * x * x + c, r.m[1] = t * x * y - s * z, r.m[2] = t * x * z + s * y;
  r.m[3] = t * x * y + s * z, r.m[4] = t * y * y + c, r.m[5] = t * y * z - s * x;
  r.m[6] = t * x * z - s * y, r.m[7] = t * y * z + s * x, r.m[8] = t * z * z + c;
  return r;
}
// The shortest-arc rotation taking unit direction `from` to unit direction `to`.
Mat3 RotationBetween(const Vec3& from, const Vec3& to) {
  const Vec3 axis = Cross(from, to);
  const float s = std::sqrt(Dot(axis, axis));
  const float c = Dot(from, to);
  if (s < 1e-6f) return Mat3{};  // parallel (an anti-parallel aim never occurs for our poses)
  return AxisAngle({axis[0] / s, axis[1] / s, axis[2] / s}, std::atan2(s, c));
}

class Reader {
 public:
  Reader(const unsigned char* data, std::size_t size, const std::string& name) : p_(data), end_(data + size),
                                                                                  name_(name) {}
  template <typename T>
  T Get(const char* what) {
    if (static_cast<std::size_t>(end_ - p_) < sizeof(T)) Fail(std::string("truncated while reading ") + what);
    T v;
    std::memcpy(&v, p_, sizeof(T));  // the asset is little endian, as are all targets we build for
    p_ += sizeof(T);
    return v;
  }
  std::string GetString(const char* what) {
    const uint8_t n = Get<uint8_t>(what);
    if (static_cast<std::size_t>(end_ - p_) < n) Fail(std::string("truncated while reading ") + what);
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  void ExpectMagic() {
    if (static_cast<std::size_t>(end_ - p_) < sizeof(kMagic) || std::memcmp(p_, kMagic, sizeof(kMagic)) != 0)
      Fail("not a body-model asset (bad magic; expected GCLBODY1 from convert_makehuman.py)");
    p_ += sizeof(kMagic);
  }
  bool AtEnd() const { return p_ == end_; }
  [[noreturn]] void Fail(const std::string& msg) const {
    throw std::runtime_error("body model asset " + name_ + ": " + msg);
  }

 private:
  const unsigned char* p_;
  const unsigned char* end_;
  std::string name_;
};

void CheckUnit(float v, const char* field) {
  if (!(v >= 0.f && v <= 1.f))
    throw std::runtime_error(std::string("BodyShape.") + field + " = " + std::to_string(v) + " is outside [0, 1]");
}

// MakeHuman's macro.json splits a slider into (min, average, max) weights that are piecewise linear: below 0.5
// it blends min->average, above 0.5 average->max.
std::array<float, 3> ThreeWay(float v) {
  if (v < 0.5f) return {1.f - 2.f * v, 2.f * v, 0.f};
  return {0.f, 2.f - 2.f * v, 2.f * v - 1.f};
}

BodyPart PartOfBone(const std::string& b) {
  auto starts = [&](const char* p) { return b.rfind(p, 0) == 0; };
  if (b == "head") return BodyPart::kHead;
  if (starts("neck")) return BodyPart::kNeck;
  if (starts("spine") || starts("clavicle")) return BodyPart::kTorso;
  if (b == "pelvis" || b == "Root") return BodyPart::kPelvis;
  if (starts("upperarm")) return BodyPart::kUpperArm;
  if (starts("lowerarm")) return BodyPart::kLowerArm;
  if (starts("hand") || starts("thumb") || starts("index") || starts("middle") || starts("ring") ||
      starts("pinky"))
    return BodyPart::kHand;
  if (starts("thigh")) return BodyPart::kUpperLeg;
  if (starts("calf")) return BodyPart::kLowerLeg;
  if (starts("foot") || starts("ball")) return BodyPart::kFoot;
  throw std::runtime_error("body model asset: bone '" + b + "' maps to no body part");
}

BodySide SideOfBone(const std::string& b) {
  if (b.size() > 2 && b.compare(b.size() - 2, 2, "_l") == 0) return BodySide::kLeft;
  if (b.size() > 2 && b.compare(b.size() - 2, 2, "_r") == 0) return BodySide::kRight;
  return BodySide::kCenter;
}

}  // namespace

const char* BodyPartName(BodyPart part) {
  switch (part) {
    case BodyPart::kHead: return "head";
    case BodyPart::kNeck: return "neck";
    case BodyPart::kTorso: return "torso";
    case BodyPart::kPelvis: return "pelvis";
    case BodyPart::kUpperArm: return "upper_arm";
    case BodyPart::kLowerArm: return "lower_arm";
    case BodyPart::kHand: return "hand";
    case BodyPart::kUpperLeg: return "upper_leg";
    case BodyPart::kLowerLeg: return "lower_leg";
    case BodyPart::kFoot: return "foot";
  }
  return "unknown";
}

BodyModel BodyModel::LoadFromBytes(const unsigned char* data, std::size_t size, const std::string& source_name) {
  Reader r(data, size, source_name);
  r.ExpectMagic();
  BodyModel m;
  m.num_vertices_ = static_cast<int>(r.Get<uint32_t>("num_vertices"));
  m.num_points_ = static_cast<int>(r.Get<uint32_t>("num_points"));
  const uint32_t num_triangles = r.Get<uint32_t>("num_triangles");
  const uint32_t num_bones = r.Get<uint32_t>("num_bones");
  const uint32_t num_blocks = r.Get<uint32_t>("num_blocks");
  const uint32_t num_targets = r.Get<uint32_t>("num_targets");
  if (m.num_vertices_ <= 0 || m.num_points_ < m.num_vertices_ || m.num_points_ > 65535 || num_triangles == 0 ||
      num_triangles > 1000000 || num_bones == 0 || num_bones > 255 || num_blocks > 1000 || num_targets > 1000)
    r.Fail("implausible header counts");
  m.points_.resize(m.num_points_);
  for (auto& p : m.points_)
    for (float& c : p) c = r.Get<float>("rest positions");
  m.triangles_.resize(num_triangles);
  for (auto& t : m.triangles_)
    for (int& i : t) {
      i = r.Get<uint16_t>("triangles");
      if (i >= m.num_vertices_) r.Fail("triangle index " + std::to_string(i) + " out of range");
    }
  m.skin_bones_.resize(m.num_vertices_);
  m.skin_weights_.resize(m.num_vertices_);
  for (int v = 0; v < m.num_vertices_; ++v) {
    for (auto& b : m.skin_bones_[v]) {
      b = r.Get<uint8_t>("skin bones");
      if (b >= num_bones) r.Fail("skin bone index out of range at vertex " + std::to_string(v));
    }
    float sum = 0;
    for (float& w : m.skin_weights_[v]) sum += (w = r.Get<uint16_t>("skin weights") / 65535.f);
    if (std::abs(sum - 1.f) > 1e-3f) r.Fail("skin weights of vertex " + std::to_string(v) + " do not sum to 1");
  }
  for (uint32_t b = 0; b < num_bones; ++b) {
    m.bone_names_.push_back(r.GetString("bone name"));
    const int parent = r.Get<int16_t>("bone parent");
    const int head = r.Get<uint16_t>("bone head");
    const int tail = r.Get<uint16_t>("bone tail");
    if (parent >= static_cast<int>(b) || parent < -1) r.Fail("bone " + m.bone_names_.back() + ": parent must precede it");
    if (head >= m.num_points_ || tail >= m.num_points_) r.Fail("bone " + m.bone_names_.back() + ": bad joint point");
    m.bone_parent_.push_back(parent);
    m.bone_head_.push_back(head);
    m.bone_tail_.push_back(tail);
  }
  m.blocks_.resize(num_blocks);
  for (auto& block : m.blocks_) {
    const uint32_t n = r.Get<uint32_t>("target block size");
    if (n > static_cast<uint32_t>(m.num_points_)) r.Fail("target block larger than the mesh");
    block.resize(n);
    for (auto& e : block) {
      e.point = r.Get<uint16_t>("target point");
      if (e.point >= m.num_points_) r.Fail("target point out of range");
      for (int16_t& d : e.delta) d = r.Get<int16_t>("target delta");
    }
  }
  for (uint32_t t = 0; t < num_targets; ++t) {
    m.target_names_.push_back(r.GetString("target name"));
    const int block = r.Get<uint16_t>("target block");
    if (block >= static_cast<int>(num_blocks)) r.Fail("target " + m.target_names_.back() + ": bad block");
    m.target_block_.push_back(block);
  }
  if (!r.AtEnd()) r.Fail("trailing bytes after the last target");
  for (const char* bone : {"Root", "pelvis", "spine_01", "spine_03", "thigh_l", "thigh_r", "calf_l", "calf_r",
                           "foot_l", "foot_r", "upperarm_l", "upperarm_r", "lowerarm_l", "lowerarm_r", "hand_l",
                           "hand_r", "head"})
    if (m.BoneIndex(bone) < 0) r.Fail(std::string("rig lacks bone ") + bone);
  m.Precompute();
  return m;
}

BodyModel BodyModel::LoadFromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("body model asset " + path + ": cannot open");
  const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return LoadFromBytes(bytes.data(), bytes.size(), path);
}

BodyModel BodyModel::LoadDefault() {
  static const BodyModel* const kModel =
      new BodyModel(LoadFromBytes(internal::kMakehumanBody, internal::kMakehumanBodySize,
                                  "data/body/assets/makehuman_body.bin (embedded)"));
  return *kModel;
}

int BodyModel::BoneIndex(const std::string& name) const {
  const auto it = std::find(bone_names_.begin(), bone_names_.end(), name);
  return it == bone_names_.end() ? -1 : static_cast<int>(it - bone_names_.begin());
}

std::vector<std::array<float, 3>> BodyModel::ShapePoints(const BodyShape& shape) const {
  CheckUnit(shape.gender, "gender");
  CheckUnit(shape.muscle, "muscle");
  CheckUnit(shape.weight, "weight");
  CheckUnit(shape.height, "height");
  CheckUnit(shape.african, "african");
  CheckUnit(shape.asian, "asian");
  CheckUnit(shape.caucasian, "caucasian");
  const float race_sum = shape.african + shape.asian + shape.caucasian;
  if (race_sum <= 0.f) throw std::runtime_error("BodyShape: african + asian + caucasian must be positive");
  // Target weights as MakeHuman's macro modifiers combine them (macro.json "combinations"), age fixed at young.
  std::map<std::string, float> w;
  const float gender[2] = {1.f - shape.gender, shape.gender};
  const char* gender_name[2] = {"female", "male"};
  const float race[3] = {shape.african / race_sum, shape.asian / race_sum, shape.caucasian / race_sum};
  const char* race_name[3] = {"african", "asian", "caucasian"};
  const auto muscle = ThreeWay(shape.muscle);
  const auto weight = ThreeWay(shape.weight);
  const char* muscle_name[3] = {"minmuscle", "averagemuscle", "maxmuscle"};
  const char* weight_name[3] = {"minweight", "averageweight", "maxweight"};
  const float height[2] = {std::max(0.f, 1.f - 2.f * shape.height), std::max(0.f, 2.f * shape.height - 1.f)};
  const char* height_name[2] = {"minheight", "maxheight"};
  for (int g = 0; g < 2; ++g) {
    for (int r = 0; r < 3; ++r) w[std::string(race_name[r]) + "-" + gender_name[g] + "-young"] = race[r] * gender[g];
    for (int mu = 0; mu < 3; ++mu)
      for (int we = 0; we < 3; ++we) {
        const std::string mw = std::string(muscle_name[mu]) + "-" + weight_name[we];
        const float base = gender[g] * muscle[mu] * weight[we];
        w["universal-" + std::string(gender_name[g]) + "-young-" + mw] = base;
        for (int h = 0; h < 2; ++h)
          w[std::string(gender_name[g]) + "-young-" + mw + "-" + height_name[h]] = base * height[h];
      }
  }
  std::vector<float> block_weight(blocks_.size(), 0.f);
  for (std::size_t t = 0; t < target_names_.size(); ++t) {
    const auto it = w.find(target_names_[t]);
    if (it != w.end()) block_weight[target_block_[t]] += it->second;
  }
  for (const auto& [name, _] : w)
    if (std::find(target_names_.begin(), target_names_.end(), name) == target_names_.end())
      throw std::runtime_error("body model asset lacks macro target " + name);
  std::vector<Vec3> p = points_;
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    const float s = block_weight[b] * kDeltaStep;
    if (s == 0.f) continue;
    for (const TargetEntry& e : blocks_[b]) {
      Vec3& q = p[e.point];
      q[0] += s * e.delta[0], q[1] += s * e.delta[1], q[2] += s * e.delta[2];
    }
  }
  // Keep the pelvis joint on the turning axis x = z = 0 whatever the shape.
  const Vec3 pelvis = p[bone_head_[BoneIndex("pelvis")]];
  for (Vec3& q : p) q[0] -= pelvis[0], q[2] -= pelvis[2];
  return p;
}

std::vector<BodyModel::Rotation> BodyModel::PoseRotations(const std::vector<std::array<float, 3>>& points,
                                                          const BodyPose& pose) const {
  if (pose.kind == BodyPose::Kind::kCarry && pose.carry_side == BodySide::kCenter)
    throw std::runtime_error("BodyPose.carry_side must be kLeft or kRight for kCarry");
  if (!std::isfinite(pose.phase) || !std::isfinite(pose.stride) || !std::isfinite(pose.arm_swing))
    throw std::runtime_error("BodyPose: phase, stride and arm_swing must be finite");
  std::vector<Mat3> rot(bone_names_.size());
  auto set = [&](const char* bone, const Mat3& r) { rot[BoneIndex(bone)] = r; };
  auto dir = [&](const char* bone) {
    const int b = BoneIndex(bone);
    return Normalized(Sub(points[bone_tail_[b]], points[bone_head_[b]]));
  };
  const Vec3 kX{1, 0, 0}, kY{0, 1, 0}, kZ{0, 0, 1};

  const bool walking = pose.kind != BodyPose::Kind::kStand;
  const float phase = pose.phase - std::floor(pose.phase);
  const float s = walking ? std::sin(2 * kPi * phase) : 0.f;
  const float c = walking ? std::cos(2 * kPi * phase) : 0.f;

  // Legs. Sagittal angles, positive = the limb's lower end moves forward (+z); a downward bone swings
  // forward under a rotation about -x. Hip swing +-22 deg, knee flexion peaks at ~55 deg in mid swing (the leg
  // whose hip angle grows), feet kept near level: rough averages of adult gait kinematics.
  for (int side = 0; side < 2; ++side) {
    const char* thigh = side == 0 ? "thigh_l" : "thigh_r";
    const char* calf = side == 0 ? "calf_l" : "calf_r";
    const char* foot = side == 0 ? "foot_l" : "foot_r";
    const float sign = side == 0 ? 1.f : -1.f;
    const float hip = pose.stride * 22.f * kDeg * sign * s;
    const float swing = std::max(0.f, sign * c);
    const float knee = walking ? pose.stride * (4.f + 50.f * swing * swing) * kDeg : 0.f;
    set(thigh, AxisAngle(kX, -hip));
    set(calf, AxisAngle(kX, knee));
    set(foot, AxisAngle(kX, 0.8f * (hip - knee)));
  }
  // The pelvis turns with the forward leg, the chest counter-rotates (yaw about +y turns +x towards -z).
  set("pelvis", AxisAngle(kY, -pose.stride * 5.f * kDeg * s));
  set("spine_01", AxisAngle(kY, pose.stride * 8.f * kDeg * s));

  // Arms: from the rig's A-pose down to the sides, then swing opposite to the same-side leg.
  for (int side = 0; side < 2; ++side) {
    const bool left = side == 0;
    const char* upper = left ? "upperarm_l" : "upperarm_r";
    const char* lower = left ? "lowerarm_l" : "lowerarm_r";
    const float out = left ? 1.f : -1.f;  // +x is the body's left
    const bool carrying = pose.kind == BodyPose::Kind::kCarry &&
                          pose.carry_side == (left ? BodySide::kLeft : BodySide::kRight);
    const float abduction = (carrying ? 16.f : 7.f) * kDeg;
    const Vec3 down{out * std::sin(abduction), -std::cos(abduction), 0.f};
    const Mat3 aim = RotationBetween(dir(upper), down);
    const float swing = carrying ? 0.f : -pose.arm_swing * 18.f * kDeg * out * s;  // forward positive
    set(upper, Mul(AxisAngle(kX, -swing), aim));
    // The rig's rest forearm is bent ~35 degrees forward: straighten it onto the upper arm's line, then flex the
    // elbow about (upper-arm direction x +z), which swings the hand forward, all in the rest frame.
    const float elbow = (carrying ? 4.f : 10.f + 12.f * std::max(0.f, swing / (18.f * kDeg))) * kDeg;
    set(lower, Mul(AxisAngle(Normalized(Cross(dir(upper), kZ)), elbow), RotationBetween(dir(lower), dir(upper))));
  }

  std::vector<Rotation> out(rot.size());
  for (std::size_t b = 0; b < rot.size(); ++b) std::memcpy(out[b].m, rot[b].m, sizeof(out[b].m));
  return out;
}

PosedMesh BodyModel::Skin(const std::vector<std::array<float, 3>>& points,
                          const std::vector<Rotation>& rotations) const {
  // Global transform of bone b: x -> R_b x + t_b, composed parent-first; each local rotation turns about the
  // bone's rest head, expressed in the rest frame.
  const std::size_t nb = bone_names_.size();
  std::vector<Mat3> gr(nb);
  std::vector<Vec3> gt(nb);
  for (std::size_t b = 0; b < nb; ++b) {
    Mat3 r;
    std::memcpy(r.m, rotations[b].m, sizeof(r.m));
    const Vec3& h = points[bone_head_[b]];
    const Vec3 rh = Apply(r, h);
    const Vec3 lt{h[0] - rh[0], h[1] - rh[1], h[2] - rh[2]};
    const int p = bone_parent_[b];
    if (p < 0) {
      gr[b] = r;
      gt[b] = lt;
    } else {
      gr[b] = Mul(gr[p], r);
      const Vec3 pt = Apply(gr[p], lt);
      gt[b] = {pt[0] + gt[p][0], pt[1] + gt[p][1], pt[2] + gt[p][2]};
    }
  }
  PosedMesh mesh;
  mesh.vertices.resize(num_vertices_);
  float min_y = 1e30f;
  for (int v = 0; v < num_vertices_; ++v) {
    const Vec3& x = points[v];
    Vec3 acc{0, 0, 0};
    for (int k = 0; k < 4; ++k) {
      const float w = skin_weights_[v][k];
      if (w == 0.f) continue;
      const int b = skin_bones_[v][k];
      const Vec3 y = Apply(gr[b], x);
      acc[0] += w * (y[0] + gt[b][0]), acc[1] += w * (y[1] + gt[b][1]), acc[2] += w * (y[2] + gt[b][2]);
    }
    mesh.vertices[v] = acc;
    min_y = std::min(min_y, acc[1]);
  }
  // Feet on the ground: the lowest vertex touches y = 0 (the stance foot while walking).
  for (Vec3& x : mesh.vertices) x[1] -= min_y;
  mesh.joints.resize(nb);
  for (std::size_t b = 0; b < nb; ++b) {
    const Vec3 y = Apply(gr[b], points[bone_head_[b]]);
    mesh.joints[b] = {y[0] + gt[b][0], y[1] + gt[b][1] - min_y, y[2] + gt[b][2]};
  }
  mesh.triangles = triangles_;
  mesh.parts = parts_;
  mesh.sides = sides_;
  mesh.body_coords = body_coords_;
  mesh.normals.assign(num_vertices_, Vec3{0, 0, 0});
  for (const auto& t : triangles_) {
    const Vec3 n = Cross(Sub(mesh.vertices[t[1]], mesh.vertices[t[0]]), Sub(mesh.vertices[t[2]], mesh.vertices[t[0]]));
    for (int i : t) {
      Vec3& a = mesh.normals[i];
      a[0] += n[0], a[1] += n[1], a[2] += n[2];
    }
  }
  for (Vec3& n : mesh.normals) n = Normalized(n);
  return mesh;
}

std::vector<std::array<float, 3>> BodyModel::ShapedVertices(const BodyShape& shape) const {
  auto p = ShapePoints(shape);
  p.resize(num_vertices_);
  return p;
}

PosedMesh BodyModel::Pose(const BodyShape& shape, const BodyPose& pose) const {
  const auto points = ShapePoints(shape);
  return Skin(points, PoseRotations(points, pose));
}

PosedMesh BodyModel::RestPose(const BodyShape& shape) const {
  Rotation identity{{1, 0, 0, 0, 1, 0, 0, 0, 1}};
  return Skin(ShapePoints(shape), std::vector<Rotation>(bone_names_.size(), identity));
}

void BodyModel::Precompute() {
  parts_.resize(num_vertices_);
  sides_.resize(num_vertices_);
  std::vector<int> dominant(num_vertices_);
  for (int v = 0; v < num_vertices_; ++v) {
    const int k = static_cast<int>(std::max_element(skin_weights_[v].begin(), skin_weights_[v].end()) -
                                   skin_weights_[v].begin());
    dominant[v] = skin_bones_[v][k];
    parts_[v] = PartOfBone(bone_names_[dominant[v]]);
    sides_[v] = SideOfBone(bone_names_[dominant[v]]);
  }
  // Body coordinates on the average body in the rest pose.
  const auto p = ShapePoints(BodyShape{});
  float lo = 1e30f, hi = -1e30f;
  for (int v = 0; v < num_vertices_; ++v) lo = std::min(lo, p[v][1]), hi = std::max(hi, p[v][1]);
  body_coords_.resize(num_vertices_);
  for (int v = 0; v < num_vertices_; ++v) {
    const int b = dominant[v];
    const Vec3& head = p[bone_head_[b]];
    const Vec3& tail = p[bone_tail_[b]];
    const BodyPart part = parts_[v];
    const bool trunk = part == BodyPart::kHead || part == BodyPart::kNeck || part == BodyPart::kTorso ||
                       part == BodyPart::kPelvis;
    Vec3 axis = trunk ? Vec3{0, 1, 0} : Normalized(Sub(tail, head));
    // Orient every axis upwards so +pi/2 means the body's left (+x) on near-vertical limbs too.
    if (axis[1] < 0) axis = {-axis[0], -axis[1], -axis[2]};
    const Vec3 centre{(head[0] + tail[0]) / 2, (head[1] + tail[1]) / 2, (head[2] + tail[2]) / 2};
    const Vec3 off = Sub(p[v], centre);
    // Front reference: +z made perpendicular to the axis (feet point along +z, so use +y-ish "up" there).
    Vec3 ref{0, 0, 1};
    if (std::abs(Dot(ref, axis)) > 0.9f) ref = {0, 1, 0};
    const Vec3 front = Normalized(Sub(ref, {axis[0] * Dot(ref, axis), axis[1] * Dot(ref, axis), axis[2] * Dot(ref, axis)}));
    const Vec3 side = Cross(axis, front);
    body_coords_[v] = {(p[v][1] - lo) / (hi - lo), std::atan2(Dot(off, side), Dot(off, front))};
  }
}

}  // namespace gcl::data
