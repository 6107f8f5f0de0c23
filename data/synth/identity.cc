#include "data/synth/identity.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace gcl::data {
namespace {

struct PaletteEntry {
  cv::Vec3f rgb;
  float weight;  // street clothing is mostly dark and neutral
};

const std::vector<PaletteEntry>& ClothingPalette() {
  static const std::vector<PaletteEntry> kPalette = {
      {{0.05f, 0.05f, 0.06f}, 6.f},  // black
      {{0.20f, 0.20f, 0.22f}, 4.f},  // charcoal
      {{0.45f, 0.45f, 0.47f}, 3.f},  // grey
      {{0.72f, 0.72f, 0.72f}, 2.f},  // light grey
      {{0.90f, 0.90f, 0.88f}, 3.f},  // white
      {{0.08f, 0.10f, 0.25f}, 3.f},  // navy
      {{0.20f, 0.30f, 0.50f}, 3.f},  // denim
      {{0.50f, 0.65f, 0.85f}, 1.f},  // light blue
      {{0.70f, 0.10f, 0.10f}, 1.5f}, // red
      {{0.40f, 0.08f, 0.12f}, 1.f},  // maroon
      {{0.90f, 0.45f, 0.10f}, 0.7f}, // orange
      {{0.90f, 0.80f, 0.20f}, 0.7f}, // yellow
      {{0.15f, 0.45f, 0.20f}, 1.f},  // green
      {{0.35f, 0.38f, 0.18f}, 1.f},  // olive
      {{0.75f, 0.68f, 0.50f}, 1.5f}, // beige
      {{0.40f, 0.26f, 0.15f}, 1.5f}, // brown
      {{0.90f, 0.55f, 0.65f}, 0.7f}, // pink
      {{0.40f, 0.20f, 0.50f}, 0.6f}, // purple
      {{0.10f, 0.50f, 0.50f}, 0.6f}, // teal
  };
  return kPalette;
}

cv::Vec3f PaletteColour(Rng& rng) {
  const auto& palette = ClothingPalette();
  std::vector<float> weights;
  weights.reserve(palette.size());
  for (const auto& entry : palette) weights.push_back(entry.weight);
  return palette[rng.Choice(weights)].rgb;
}

cv::Vec3f Clamp01(const cv::Vec3f& c) {
  return {std::clamp(c[0], 0.f, 1.f), std::clamp(c[1], 0.f, 1.f), std::clamp(c[2], 0.f, 1.f)};
}

// A colour offset shared by the channels (brightness) plus a smaller per-channel part (hue).
cv::Vec3f Jitter(const cv::Vec3f& c, float sigma, Rng& rng) {
  const float shared = rng.Normal(0.f, sigma);
  return Clamp01(c + cv::Vec3f(shared + rng.Normal(0.f, sigma * 0.5f), shared + rng.Normal(0.f, sigma * 0.5f),
                               shared + rng.Normal(0.f, sigma * 0.5f)));
}

void AppendColour(std::ostringstream& out, const char* key, const cv::Vec3f& c) {
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "\"%s\":[%.3f,%.3f,%.3f]", key, c[0], c[1], c[2]);
  out << buffer;
}

}  // namespace

const char* TopKindName(TopKind kind) {
  switch (kind) {
    case TopKind::kTShirt: return "tshirt";
    case TopKind::kLongSleeve: return "long_sleeve";
    case TopKind::kOpenJacket: return "open_jacket";
    case TopKind::kHoodie: return "hoodie";
  }
  return "?";
}

const char* TopPatternName(TopPattern pattern) {
  switch (pattern) {
    case TopPattern::kSolid: return "solid";
    case TopPattern::kHorizontalStripes: return "horizontal_stripes";
    case TopPattern::kVerticalStripes: return "vertical_stripes";
    case TopPattern::kChecker: return "checker";
    case TopPattern::kTwoTone: return "two_tone";
  }
  return "?";
}

const char* BottomKindName(BottomKind kind) {
  switch (kind) {
    case BottomKind::kTrousers: return "trousers";
    case BottomKind::kShorts: return "shorts";
    case BottomKind::kSkirt: return "skirt";
  }
  return "?";
}

const char* BagKindName(BagKind kind) {
  switch (kind) {
    case BagKind::kNone: return "none";
    case BagKind::kBackpack: return "backpack";
    case BagKind::kShoulderBag: return "shoulder_bag";
    case BagKind::kHandbag: return "handbag";
  }
  return "?";
}

std::vector<Outfit> SampleOutfitTemplates(int count, Rng& rng) {
  std::vector<Outfit> templates;
  templates.reserve(std::max(count, 0));
  for (int t = 0; t < count; ++t) {
    Outfit o;
    o.template_id = t;
    o.top = static_cast<TopKind>(rng.Choice({3.f, 3.f, 2.f, 1.5f}));
    o.pattern = static_cast<TopPattern>(rng.Choice({6.f, 1.f, 0.5f, 0.7f, 1.f}));
    o.top_colour = PaletteColour(rng);
    o.top_secondary = PaletteColour(rng);
    o.bottom = static_cast<BottomKind>(rng.Choice({6.f, 1.5f, 1.f}));
    o.bottom_colour = PaletteColour(rng);
    o.shoe_colour = rng.Bernoulli(0.5f) ? cv::Vec3f(0.06f, 0.06f, 0.07f) : PaletteColour(rng);
    templates.push_back(o);
  }
  return templates;
}

Identity SampleIdentity(int pid, const std::vector<Outfit>& templates, float colour_jitter, Rng& rng) {
  if (templates.empty()) throw std::invalid_argument("SampleIdentity: no outfit templates");
  Identity id;
  id.pid = pid;
  ShapeParams& s = id.shape;
  s.gender = rng.Bernoulli(0.5f) ? rng.Uniform(0.65f, 1.f) : rng.Uniform(0.f, 0.35f);
  s.muscle = rng.Uniform(0.2f, 0.8f);
  s.weight = std::clamp(rng.Normal(0.45f, 0.18f), 0.f, 1.f);
  // MakeHuman's height slider spans 1.36 m to 2.45 m for an average man (docs/rendering.md); sigma 0.08 and
  // the clamp keep statures in the adult range instead of drawing dwarfs and giants.
  s.height = std::clamp(rng.Normal(0.5f, 0.08f), 0.35f, 0.65f);
  float e[3] = {rng.Unit() + 0.05f, rng.Unit() + 0.05f, rng.Unit() + 0.05f};
  const int dominant = rng.UniformInt(0, 2);
  e[dominant] += 2.f;
  const float sum = e[0] + e[1] + e[2];
  s.african = e[0] / sum;
  s.asian = e[1] / sum;
  s.caucasian = e[2] / sum;

  const cv::Vec3f dark_skin(0.33f, 0.21f, 0.14f), asian_skin(0.85f, 0.68f, 0.52f), light_skin(0.93f, 0.74f, 0.64f);
  id.skin_colour = Jitter(dark_skin * s.african + asian_skin * s.asian + light_skin * s.caucasian, 0.03f, rng);
  const std::vector<cv::Vec3f> hair = {{0.04f, 0.03f, 0.03f}, {0.20f, 0.12f, 0.07f}, {0.45f, 0.30f, 0.15f},
                                       {0.80f, 0.68f, 0.40f}, {0.55f, 0.55f, 0.55f}};
  id.hair_colour = Jitter(hair[rng.Choice({5.f + 4.f * (s.african + s.asian), 3.f, 1.5f, 1.f * s.caucasian, 0.6f})],
                          0.02f, rng);
  id.hair_length = s.gender < 0.5f ? rng.Uniform(0.4f, 1.f) : rng.Uniform(0.f, 0.4f);

  Outfit& o = id.outfit;
  o = templates[rng.UniformInt(0, static_cast<int>(templates.size()) - 1)];
  o.top_colour = Jitter(o.top_colour, colour_jitter, rng);
  o.top_secondary = Jitter(o.top_secondary, colour_jitter, rng);
  o.bottom_colour = Jitter(o.bottom_colour, colour_jitter, rng);
  o.shoe_colour = Jitter(o.shoe_colour, colour_jitter, rng);
  // What tells look-alikes apart belongs to the identity, and is mostly visible from one side only.
  o.front_print = rng.Bernoulli(0.35f);
  o.print_colour = PaletteColour(rng);
  o.back_print = rng.Bernoulli(0.2f);
  o.back_print_colour = PaletteColour(rng);
  o.bag = static_cast<BagKind>(rng.Choice({4.f, 2.5f, 1.5f, 1.f}));
  o.bag_colour = PaletteColour(rng);
  o.hat = rng.Bernoulli(0.12f);
  o.hat_colour = PaletteColour(rng);
  return id;
}

std::string IdentityToJson(const Identity& id) {
  std::ostringstream out;
  const ShapeParams& s = id.shape;
  char buffer[256];
  std::snprintf(buffer, sizeof(buffer),
                "{\"shape\":{\"gender\":%.3f,\"muscle\":%.3f,\"weight\":%.3f,\"height\":%.3f,\"african\":%.3f,"
                "\"asian\":%.3f,\"caucasian\":%.3f},",
                s.gender, s.muscle, s.weight, s.height, s.african, s.asian, s.caucasian);
  out << buffer;
  AppendColour(out, "skin", id.skin_colour);
  out << ",";
  AppendColour(out, "hair", id.hair_colour);
  std::snprintf(buffer, sizeof(buffer), ",\"hair_length\":%.3f,", id.hair_length);
  out << buffer;
  const Outfit& o = id.outfit;
  out << "\"outfit\":{\"template\":" << o.template_id << ",\"top\":\"" << TopKindName(o.top) << "\",\"pattern\":\""
      << TopPatternName(o.pattern) << "\",";
  AppendColour(out, "top_colour", o.top_colour);
  out << ",";
  AppendColour(out, "top_secondary", o.top_secondary);
  out << ",\"front_print\":" << (o.front_print ? "true" : "false") << ",";
  AppendColour(out, "print_colour", o.print_colour);
  out << ",\"back_print\":" << (o.back_print ? "true" : "false") << ",";
  AppendColour(out, "back_print_colour", o.back_print_colour);
  out << ",\"bottom\":\"" << BottomKindName(o.bottom) << "\",";
  AppendColour(out, "bottom_colour", o.bottom_colour);
  out << ",";
  AppendColour(out, "shoe_colour", o.shoe_colour);
  out << ",\"bag\":\"" << BagKindName(o.bag) << "\",";
  AppendColour(out, "bag_colour", o.bag_colour);
  out << ",\"hat\":" << (o.hat ? "true" : "false") << ",";
  AppendColour(out, "hat_colour", o.hat_colour);
  out << "}}";
  return out.str();
}

}  // namespace gcl::data
