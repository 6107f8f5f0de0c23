#include "data/render/rasterizer.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace gcl::data {
namespace {

constexpr float kPi = 3.14159265358979f;
constexpr float kNear = 0.05f;  // metres; triangles reaching closer to the camera are dropped (never in framing)
constexpr float kStructureAlbedo = 0.8f;  // light grey, reference §3 (HMR renders textureless light grey)

struct Frame {
  // Rows: camera right, up, backward (towards the viewer), applied after the body's yaw.
  float r[3], u[3], b[3];
  float eye[3];
  float cos_yaw, sin_yaw;
  float focal;       // pixels of the (supersampled) raster
  float cx, cy;      // principal point
  float light[3];    // unit, camera coordinates
};

// `width` x `height` is the raster; `offset_scale` converts camera pixels (principal_offset) to raster samples.
Frame MakeFrame(const Camera& cam, float extra_yaw_degrees, int width, int height, float offset_scale,
                const Lighting& light) {
  if (!(cam.distance > kNear)) throw std::invalid_argument("Camera.distance must exceed 0.05 m");
  if (!(cam.vertical_fov_degrees > 0.f && cam.vertical_fov_degrees < 170.f))
    throw std::invalid_argument("Camera.vertical_fov_degrees must be in (0, 170)");
  Frame f;
  const float yaw = (cam.yaw_degrees + extra_yaw_degrees) * kPi / 180.f;
  f.cos_yaw = std::cos(yaw), f.sin_yaw = std::sin(yaw);
  const float p = cam.pitch_degrees * kPi / 180.f;
  const float sp = std::sin(p), cp = std::cos(p);
  f.b[0] = 0, f.b[1] = sp, f.b[2] = cp;
  f.r[0] = 1, f.r[1] = 0, f.r[2] = 0;
  f.u[0] = 0, f.u[1] = cp, f.u[2] = -sp;
  f.eye[0] = cam.target.x, f.eye[1] = cam.target.y + cam.distance * sp, f.eye[2] = cam.target.z + cam.distance * cp;
  f.focal = 0.5f * height / std::tan(0.5f * cam.vertical_fov_degrees * kPi / 180.f);
  f.cx = 0.5f * width + cam.principal_offset.x * offset_scale;
  f.cy = 0.5f * height + cam.principal_offset.y * offset_scale;
  const cv::Vec3f l = light.direction;
  const float n = std::sqrt(l.dot(l));
  if (!(n > 0.f)) throw std::invalid_argument("Lighting.direction must be non-zero");
  f.light[0] = l[0] / n, f.light[1] = l[1] / n, f.light[2] = l[2] / n;
  return f;
}

// Projects the mesh and shades its vertices; C = 1 (grey) or 3 (BGR) channels.
template <int C>
struct Projected {
  std::vector<float> x, y, inv_depth;
  std::vector<std::array<float, C>> color;
};

template <int C>
Projected<C> Project(const PosedMesh& mesh, const float* albedo, int albedo_stride, const Frame& f,
                     const Lighting& light) {
  const std::size_t n = mesh.vertices.size();
  Projected<C> out;
  out.x.resize(n), out.y.resize(n), out.inv_depth.resize(n), out.color.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& v = mesh.vertices[i];
    // Body yaw about +y: x' = c x + s z, z' = -s x + c z.
    const float wx = f.cos_yaw * v[0] + f.sin_yaw * v[2] - f.eye[0];
    const float wy = v[1] - f.eye[1];
    const float wz = -f.sin_yaw * v[0] + f.cos_yaw * v[2] - f.eye[2];
    const float xc = f.r[0] * wx;
    const float yc = f.u[1] * wy + f.u[2] * wz;
    const float depth = -(f.b[1] * wy + f.b[2] * wz);
    const float inv = depth > kNear ? 1.f / depth : 0.f;
    out.inv_depth[i] = inv;
    out.x[i] = f.cx + f.focal * xc * inv;
    out.y[i] = f.cy - f.focal * yc * inv;
    const auto& nv = mesh.normals[i];
    const float nx = f.cos_yaw * nv[0] + f.sin_yaw * nv[2];
    const float ny = nv[1];
    const float nz = -f.sin_yaw * nv[0] + f.cos_yaw * nv[2];
    const float ncx = nx, ncy = f.u[1] * ny + f.u[2] * nz, ncz = f.b[1] * ny + f.b[2] * nz;
    const float lambert = std::max(0.f, ncx * f.light[0] + ncy * f.light[1] + ncz * f.light[2]);
    const float shade = light.ambient + light.diffuse * lambert;
    for (int c = 0; c < C; ++c) out.color[i][c] = albedo[i * albedo_stride + c] * shade;
  }
  return out;
}

// Z-buffered scan conversion of front-facing triangles into sample buffers (inv_depth 0 = empty).
template <int C>
void Rasterize(const PosedMesh& mesh, const Projected<C>& p, int width, int height, std::vector<float>& zbuf,
               std::vector<float>& cbuf) {
  for (const auto& t : mesh.triangles) {
    const int i0 = t[0];
    // Visually counter-clockwise on a y-down raster = front facing; reorder so the edge functions are positive.
    const int i1 = t[2], i2 = t[1];
    if (p.inv_depth[i0] == 0.f || p.inv_depth[i1] == 0.f || p.inv_depth[i2] == 0.f) continue;
    const float x0 = p.x[i0], y0 = p.y[i0], x1 = p.x[i1], y1 = p.y[i1], x2 = p.x[i2], y2 = p.y[i2];
    const float area = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0);
    if (!(area > 0.f)) continue;  // back facing or degenerate
    int xmin = static_cast<int>(std::floor(std::min({x0, x1, x2}) - 0.5f)) + 1;
    int xmax = static_cast<int>(std::floor(std::max({x0, x1, x2}) - 0.5f));
    int ymin = static_cast<int>(std::floor(std::min({y0, y1, y2}) - 0.5f)) + 1;
    int ymax = static_cast<int>(std::floor(std::max({y0, y1, y2}) - 0.5f));
    xmin = std::max(xmin, 0), ymin = std::max(ymin, 0);
    xmax = std::min(xmax, width - 1), ymax = std::min(ymax, height - 1);
    if (xmin > xmax || ymin > ymax) continue;
    // Edge function e_k(px, py) = A_k px + B_k py + C_k, positive inside; e_0 faces vertex 0, etc.
    const float a0 = y1 - y2, b0 = x2 - x1, c0 = x1 * y2 - x2 * y1;
    const float a1 = y2 - y0, b1 = x0 - x2, c1 = x2 * y0 - x0 * y2;
    const float a2 = y0 - y1, b2 = x1 - x0, c2 = x0 * y1 - x1 * y0;
    // Top-left fill rule: a sample exactly on an edge belongs to it only for top or left edges, so shared edges
    // are drawn once.
    const bool tl0 = a0 > 0.f || (a0 == 0.f && b0 < 0.f);
    const bool tl1 = a1 > 0.f || (a1 == 0.f && b1 < 0.f);
    const bool tl2 = a2 > 0.f || (a2 == 0.f && b2 < 0.f);
    const float inv_area = 1.f / area;
    const float z0 = p.inv_depth[i0], z1 = p.inv_depth[i1], z2 = p.inv_depth[i2];
    const auto& col0 = p.color[i0];
    const auto& col1 = p.color[i1];
    const auto& col2 = p.color[i2];
    for (int y = ymin; y <= ymax; ++y) {
      const float py = y + 0.5f;
      const float px0 = xmin + 0.5f;
      float e0 = a0 * px0 + b0 * py + c0;
      float e1 = a1 * px0 + b1 * py + c1;
      float e2 = a2 * px0 + b2 * py + c2;
      float* zrow = zbuf.data() + static_cast<std::size_t>(y) * width;
      float* crow = cbuf.data() + static_cast<std::size_t>(y) * width * C;
      for (int x = xmin; x <= xmax; ++x, e0 += a0, e1 += a1, e2 += a2) {
        if (e0 < 0.f || e1 < 0.f || e2 < 0.f) continue;
        if ((e0 == 0.f && !tl0) || (e1 == 0.f && !tl1) || (e2 == 0.f && !tl2)) continue;
        const float w0 = e0 * inv_area, w1 = e1 * inv_area, w2 = 1.f - w0 - w1;
        const float z = w0 * z0 + w1 * z1 + w2 * z2;  // 1/depth is affine in screen space
        if (z <= zrow[x]) continue;
        zrow[x] = z;
        // Colours are interpolated affinely in screen space (triangles span a few samples, the error is nil).
        for (int c = 0; c < C; ++c) crow[x * C + c] = w0 * col0[c] + w1 * col1[c] + w2 * col2[c];
      }
    }
  }
}

void CheckMesh(const PosedMesh& mesh) {
  if (mesh.normals.size() != mesh.vertices.size())
    throw std::invalid_argument("PosedMesh: normals (" + std::to_string(mesh.normals.size()) +
                                ") must match vertices (" + std::to_string(mesh.vertices.size()) + ")");
  const int n = static_cast<int>(mesh.vertices.size());
  for (const auto& t : mesh.triangles)
    for (int i : t)
      if (i < 0 || i >= n) throw std::invalid_argument("PosedMesh: triangle index " + std::to_string(i) +
                                                       " out of range [0, " + std::to_string(n) + ")");
}

void CheckSize(cv::Size size, int supersample) {
  if (size.width <= 0 || size.height <= 0 || size.width > 8192 || size.height > 8192)
    throw std::invalid_argument("render size " + std::to_string(size.width) + "x" + std::to_string(size.height) +
                                " must be positive and at most 8192");
  if (supersample < 1 || supersample > 8) throw std::invalid_argument("supersample must be in 1..8");
  // Sample buffers take 16-20 bytes per sample; refuse renders that would need gigabytes.
  if (static_cast<double>(size.width) * size.height * supersample * supersample > 64.0 * 1024 * 1024)
    throw std::invalid_argument("render size x supersample^2 exceeds 64M samples");
}

}  // namespace

Camera FrameBody(const PosedMesh& mesh, cv::Size image_size, float fill, float pitch_degrees, float distance) {
  if (mesh.vertices.empty()) throw std::invalid_argument("FrameBody: empty mesh");
  if (!(fill > 0.f && fill <= 1.f)) throw std::invalid_argument("FrameBody: fill must be in (0, 1]");
  if (!(distance > 1.f)) throw std::invalid_argument("FrameBody: distance must exceed 1 m");
  float lo = std::numeric_limits<float>::max(), hi = -lo;
  for (const auto& v : mesh.vertices) lo = std::min(lo, v[1]), hi = std::max(hi, v[1]);
  Camera cam;
  cam.image_size = image_size;
  cam.pitch_degrees = pitch_degrees;
  cam.distance = distance;
  cam.target = cv::Point3f(0.f, 0.5f * (lo + hi), 0.f);
  // Exact framing of the view at yaw 0 under perspective: find the angular extent of the body as the camera
  // sees it, open the field of view so it spans `fill` of the height, and move the look-at point until the
  // extent is centred (a few fixed-point steps; the error shrinks ~100x per step at street distances).
  const float p = pitch_degrees * kPi / 180.f, sp = std::sin(p), cp = std::cos(p);
  for (int iter = 0; iter < 4; ++iter) {
    const float ey = cam.target.y + distance * sp, ez = distance * cp;
    float top = -std::numeric_limits<float>::max(), bottom = -top;
    for (const auto& v : mesh.vertices) {
      const float wy = v[1] - ey, wz = v[2] - ez;
      const float yc = cp * wy - sp * wz, depth = -(sp * wy + cp * wz);
      if (depth <= kNear) throw std::invalid_argument("FrameBody: the camera is inside the body");
      top = std::max(top, yc / depth), bottom = std::min(bottom, yc / depth);
    }
    cam.vertical_fov_degrees = 2.f * std::atan(0.5f * (top - bottom) / fill) * 180.f / kPi;
    cam.target.y += 0.5f * (top + bottom) * distance;
  }
  return cam;
}

RenderOutput Render(const PosedMesh& mesh, const std::vector<cv::Vec3f>& vertex_colors, const Camera& camera,
                    const Lighting& lighting, int supersample) {
  CheckMesh(mesh);
  CheckSize(camera.image_size, supersample);
  if (vertex_colors.size() != mesh.vertices.size())
    throw std::invalid_argument("Render: vertex_colors (" + std::to_string(vertex_colors.size()) +
                                ") must match vertices (" + std::to_string(mesh.vertices.size()) + ")");
  const int ss = supersample;
  const int w = camera.image_size.width, h = camera.image_size.height;
  const int sw = w * ss, sh = h * ss;
  const Frame f = MakeFrame(camera, 0.f, sw, sh, static_cast<float>(ss), lighting);
  const auto p = Project<3>(mesh, &vertex_colors[0][0], 3, f, lighting);
  std::vector<float> zbuf(static_cast<std::size_t>(sw) * sh, 0.f);
  std::vector<float> cbuf(static_cast<std::size_t>(sw) * sh * 3, 0.f);
  Rasterize<3>(mesh, p, sw, sh, zbuf, cbuf);

  RenderOutput out;
  out.color.create(h, w, CV_8UC3);
  out.mask.create(h, w, CV_8UC1);
  out.depth.create(h, w, CV_32FC1);
  for (int y = 0; y < h; ++y) {
    auto* crow = out.color.ptr<cv::Vec3b>(y);
    auto* mrow = out.mask.ptr<uint8_t>(y);
    auto* drow = out.depth.ptr<float>(y);
    for (int x = 0; x < w; ++x) {
      int count = 0;
      float zmax = 0.f, acc[3] = {0.f, 0.f, 0.f};
      for (int dy = 0; dy < ss; ++dy) {
        const std::size_t row = static_cast<std::size_t>(y * ss + dy) * sw;
        for (int dx = 0; dx < ss; ++dx) {
          const std::size_t s = row + x * ss + dx;
          if (zbuf[s] == 0.f) continue;
          ++count;
          zmax = std::max(zmax, zbuf[s]);
          for (int c = 0; c < 3; ++c) acc[c] += cbuf[s * 3 + c];
        }
      }
      mrow[x] = static_cast<uint8_t>((255 * count + ss * ss / 2) / (ss * ss));
      drow[x] = count ? 1.f / zmax : 0.f;
      for (int c = 0; c < 3; ++c)
        crow[x][c] = count ? cv::saturate_cast<uint8_t>(255.f * acc[c] / count) : uint8_t{0};
    }
  }
  return out;
}

cv::Mat CompositeOver(const RenderOutput& render, const cv::Mat& background) {
  if (background.type() != CV_8UC3 || background.size() != render.color.size())
    throw std::invalid_argument("CompositeOver: background must be CV_8UC3 of the render's size");
  cv::Mat out(background.size(), CV_8UC3);
  for (int y = 0; y < out.rows; ++y) {
    const auto* c = render.color.ptr<cv::Vec3b>(y);
    const auto* m = render.mask.ptr<uint8_t>(y);
    const auto* b = background.ptr<cv::Vec3b>(y);
    auto* o = out.ptr<cv::Vec3b>(y);
    for (int x = 0; x < out.cols; ++x)
      for (int k = 0; k < 3; ++k) o[x][k] = static_cast<uint8_t>((c[x][k] * m[x] + b[x][k] * (255 - m[x]) + 127) / 255);
  }
  return out;
}

cv::Mat RenderStructure(const PosedMesh& mesh, const Camera& camera, float extra_yaw_degrees, cv::Size size,
                        const Lighting& lighting, int supersample) {
  CheckMesh(mesh);
  const cv::Size out_size = size.empty() ? camera.image_size : size;
  CheckSize(out_size, supersample);
  const int ss = supersample;
  const int w = out_size.width, h = out_size.height;
  const int sw = w * ss, sh = h * ss;
  const Frame f = MakeFrame(camera, extra_yaw_degrees, sw, sh, static_cast<float>(sh) / camera.image_size.height,
                            lighting);
  const std::vector<float> albedo(mesh.vertices.size(), kStructureAlbedo);
  const auto p = Project<1>(mesh, albedo.data(), 1, f, lighting);
  std::vector<float> zbuf(static_cast<std::size_t>(sw) * sh, 0.f);
  std::vector<float> cbuf(static_cast<std::size_t>(sw) * sh, 0.f);
  Rasterize<1>(mesh, p, sw, sh, zbuf, cbuf);
  cv::Mat out(h, w, CV_8UC1);
  const float inv_samples = 1.f / (ss * ss);
  for (int y = 0; y < h; ++y) {
    auto* row = out.ptr<uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      float acc = 0.f;
      for (int dy = 0; dy < ss; ++dy) {
        const std::size_t r = static_cast<std::size_t>(y * ss + dy) * sw + x * ss;
        // Uncovered samples are the white background.
        for (int dx = 0; dx < ss; ++dx) acc += zbuf[r + dx] == 0.f ? 1.f : cbuf[r + dx];
      }
      row[x] = cv::saturate_cast<uint8_t>(255.f * acc * inv_samples);
    }
  }
  return out;
}

std::vector<cv::Mat> StructureViews(const PosedMesh& mesh, const Camera& camera, cv::Size size,
                                    const Lighting& lighting, int supersample) {
  std::vector<cv::Mat> views;
  for (int yaw : kStructureYawsDegrees)
    views.push_back(RenderStructure(mesh, camera, static_cast<float>(yaw), size, lighting, supersample));
  return views;
}

}  // namespace gcl::data
