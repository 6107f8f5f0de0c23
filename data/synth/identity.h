// Identities of the synthetic world: body shape, skin, hair and an outfit.
//
// Re-identification is made hard on purpose: outfits come from a small pool of templates (look-alike people
// wearing nearly the same clothes), and what tells two look-alikes apart is often visible from one side only
// (a print on the chest, an open jacket, a backpack on the back), while the cameras see different sides.
//
//   gcl::data::Rng rng(7);
//   std::vector<gcl::data::Outfit> templates = gcl::data::SampleOutfitTemplates(30, rng);
//   gcl::data::Identity person = gcl::data::SampleIdentity(/*pid=*/1, templates, /*colour_jitter=*/0.06f, rng);
//
// Colours are linear-ish RGB in [0, 1] (not OpenCV's BGR order).
#ifndef GCL_DATA_SYNTH_IDENTITY_H_
#define GCL_DATA_SYNTH_IDENTITY_H_

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "data/synth/rng.h"

namespace gcl::data {

// The body-model shape sliders (mirrors gcl::data::BodyShape of data/body/body_model.h, each in [0, 1]).
struct ShapeParams {
  float gender = 0.5f;  // 0 female .. 1 male
  float muscle = 0.5f;
  float weight = 0.5f;
  float height = 0.5f;
  float african = 0.f;  // the three ethnicity weights sum to 1
  float asian = 0.f;
  float caucasian = 1.f;
};

enum class TopKind { kTShirt, kLongSleeve, kOpenJacket, kHoodie };
enum class TopPattern { kSolid, kHorizontalStripes, kVerticalStripes, kChecker, kTwoTone };
enum class BottomKind { kTrousers, kShorts, kSkirt };
enum class BagKind { kNone, kBackpack, kShoulderBag, kHandbag };

struct Outfit {
  int template_id = -1;
  TopKind top = TopKind::kTShirt;
  TopPattern pattern = TopPattern::kSolid;
  cv::Vec3f top_colour;
  cv::Vec3f top_secondary;  // pattern colour, or the shirt under an open jacket
  bool front_print = false; // a logo/print on the chest: seen from the front only
  cv::Vec3f print_colour;
  bool back_print = false;  // a print on the back: seen from behind only
  cv::Vec3f back_print_colour;
  BottomKind bottom = BottomKind::kTrousers;
  cv::Vec3f bottom_colour;
  cv::Vec3f shoe_colour;
  BagKind bag = BagKind::kNone;
  cv::Vec3f bag_colour;
  bool hat = false;
  cv::Vec3f hat_colour;
};

struct Identity {
  int pid = 0;
  ShapeParams shape;
  cv::Vec3f skin_colour;
  cv::Vec3f hair_colour;
  float hair_length = 0.2f;  // 0 shaved .. 1 shoulder-long
  Outfit outfit;
};

const char* TopKindName(TopKind kind);
const char* TopPatternName(TopPattern pattern);
const char* BottomKindName(BottomKind kind);
const char* BagKindName(BagKind kind);

// Outfit templates: realistic clothing colours (many dark and neutral ones, as in street footage).
std::vector<Outfit> SampleOutfitTemplates(int count, Rng& rng);

// One person: a template chosen uniformly, its colours jittered by `colour_jitter` (std, RGB), and the
// identity's own shape, skin, hair, prints and accessories.
Identity SampleIdentity(int pid, const std::vector<Outfit>& templates, float colour_jitter, Rng& rng);

// A JSON object describing the identity's shape and outfit (used by the ground-truth file).
std::string IdentityToJson(const Identity& identity);

}  // namespace gcl::data

#endif  // GCL_DATA_SYNTH_IDENTITY_H_
