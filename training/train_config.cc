#include "training/train_config.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "actors/run_config.h"
#include "common/read_file.h"
#include "common/user_path.h"
#include "models/tfjs/bundled_models.h"

namespace gcl::training {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

class Collector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, int column, const std::string& message) override {
    if (!text_.empty()) text_ += "; ";
    text_ += std::to_string(line + 1) + ":" + std::to_string(column + 1) + ": " + message;
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

void Require(bool ok, const std::string& field, const std::string& problem) {
  if (!ok) throw std::runtime_error("TrainConfig." + field + ": " + problem);
}

std::string Num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

void Positive(double v, const std::string& field) { Require(v > 0 && std::isfinite(v), field, "must be > 0, got " + Num(v)); }

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, sep)) out.push_back(item);
  return out;
}


// Defaults and checks of one DataConfig, named `field` in errors ("data" or "source"). The target (`data`) needs
// the structure renders of the GAN stages; the UDA source only feeds stage 1, which uses none.
void ResolveData(proto::DataConfig* data, const std::string& field, bool needs_structures) {
  proto::DataConfig& d = *data;
  if (d.dataset().empty()) d.set_dataset("synthetic");
  const std::vector<std::string> datasets = {"synthetic", "market1501", "dukemtmc-reid", "msmt17", "folder", "csv"};
  Require(std::find(datasets.begin(), datasets.end(), d.dataset()) != datasets.end(), field + ".dataset",
          "unknown '" + d.dataset() + "' (synthetic, market1501, dukemtmc-reid, msmt17, folder, csv)");
  Require(d.dataset() == "synthetic" || !d.root().empty(), field + ".root", "required for dataset " + d.dataset());
  Require(!needs_structures || d.dataset() == "synthetic" || !d.mesh_dir().empty(), field + ".mesh_dir",
          "required for dataset " + d.dataset() + " (GCL's structure renders, reference §3)");
  if (d.synthetic_preset().empty()) d.set_synthetic_preset("quick");
  if (d.synthetic_seed() == 0) d.set_synthetic_seed(1);
  Require(d.height() >= 0 && d.width() >= 0, field + ".height/width", "negative");
  if (d.height() == 0) d.set_height(256);
  if (d.width() == 0) d.set_width(128);
  // E_str works at 1/4 resolution and its ASPP pads by reflection with dilation 9 (reference §2.2): each side
  // of the quarter-size map must exceed 9 pixels.
  // The upper bound keeps a typo (height 25600) from allocating batches of gigabytes.
  Require(d.height() % 4 == 0 && d.width() % 4 == 0 && d.height() >= 40 && d.width() >= 40 && d.height() <= 2048 &&
              d.width() <= 2048,
          field + ".height/width",
          "must be multiples of 4 from 40 (E_str's ASPP) to 2048, got " + std::to_string(d.height()) + " x " +
              std::to_string(d.width()));
  Require(d.decode_threads() >= 0 && d.decode_threads() <= 64, field + ".decode_threads", "outside 0..64");
  if (d.decode_threads() == 0) d.set_decode_threads(1);
  Require(d.eval_batch_size() >= 0 && d.eval_batch_size() <= 65536, field + ".eval_batch_size", "outside 0..65536");
  if (d.eval_batch_size() == 0) d.set_eval_batch_size(64);
}

// UDA mode: warmup.mode SUPERVISED_SOURCE and `source` go together; the source is a different, labelled dataset
// seen at the target's input size.
void ResolveSource(proto::TrainConfig* config) {
  proto::TrainConfig& c = *config;
  proto::WarmupConfig& w = *c.mutable_warmup();
  if (w.mode() == proto::WarmupConfig::MODE_UNSPECIFIED) w.set_mode(proto::WarmupConfig::UNSUPERVISED);
  const bool supervised = w.mode() == proto::WarmupConfig::SUPERVISED_SOURCE;
  Require(supervised || !c.has_source(), "source",
          "a source dataset is used by warmup.mode SUPERVISED_SOURCE only (UDA); set that mode or remove source");
  if (!supervised) return;
  Require(c.has_source() && !c.source().dataset().empty(), "source.dataset",
          "warmup.mode SUPERVISED_SOURCE needs a labelled source dataset (e.g. source { dataset: \"dukemtmc-reid\" "
          "root: ... })");
  Require(c.run().warmup_epochs() > 0, "run.warmup_epochs",
          "warmup.mode SUPERVISED_SOURCE trains E_id on the source in stage 1: set at least 1");
  proto::DataConfig& s = *c.mutable_source();
  const proto::DataConfig& d = c.data();
  // One synthetic-world cache for both (empty: the default cache).
  if (s.cache_dir().empty()) s.set_cache_dir(d.cache_dir());
  // One E_id input size for both domains: 0 takes the target's.
  if (s.height() == 0) s.set_height(d.height());
  if (s.width() == 0) s.set_width(d.width());
  Require(s.height() == d.height() && s.width() == d.width(), "source.height/width",
          std::to_string(s.height()) + " x " + std::to_string(s.width()) + " differs from data's " +
              std::to_string(d.height()) + " x " + std::to_string(d.width()) + " (E_id has one input size)");
  ResolveData(&s, "source", /*needs_structures=*/false);
  // Folder datasets may hold unlabelled train images in one identity folder: stage 1 needs real identities,
  // checked when the source is loaded (training/gcl_backends.h).
  const bool same = s.dataset() == d.dataset() &&
                    (s.dataset() == "synthetic"
                         ? s.synthetic_preset() == d.synthetic_preset() && s.synthetic_seed() == d.synthetic_seed()
                         : s.root() == d.root());
  Require(!same, "source", "is the target dataset itself (data): UDA needs a different, labelled source");
}
}  // namespace

proto::TrainConfig ParseTrainConfig(const std::string& text, const std::string& source) {
  proto::TrainConfig config;
  google::protobuf::TextFormat::Parser parser;
  Collector errors;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &config)) {
    throw std::runtime_error("train config " + source + " does not parse: " + errors.text());
  }
  return config;
}

std::string FindTrainConfig(const std::string& name_or_path, const std::string& working_dir) {
  if (name_or_path.empty()) throw std::runtime_error("an empty config name");
  if (name_or_path.find('/') != std::string::npos || name_or_path.find(".pbtxt") != std::string::npos) {
    return ResolveAgainst(name_or_path, working_dir);
  }
  namespace fs = std::filesystem;
  for (const fs::path& dir : {fs::path("configs"), fs::path(working_dir) / "configs"}) {
    const fs::path path = dir / (name_or_path + ".pbtxt");
    if (fs::exists(path)) return path.string();
  }
  throw std::runtime_error("config '" + name_or_path + "': no configs/" + name_or_path +
                           ".pbtxt (give a preset name or a file)");
}

proto::TrainConfig LoadTrainConfig(const std::string& path) {
  return ParseTrainConfig(ReadWholeFile(path, actors::kMaxConfigBytes, "train config"), path);
}

void ApplyOverride(const std::string& assignment, proto::TrainConfig* config) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw std::runtime_error("--set '" + assignment + "': expected <field path>=<value>, e.g. run.joint_epochs=3");
  }
  const std::string key = assignment.substr(0, eq);
  const std::string value = assignment.substr(eq + 1);
  Message* message = config;
  const std::vector<std::string> parts = Split(key, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const Descriptor* d = message->GetDescriptor();
    const FieldDescriptor* field = d->FindFieldByName(parts[i]);
    if (field == nullptr) {
      std::string known;
      for (int f = 0; f < d->field_count(); ++f) known += (f ? ", " : "") + d->field(f)->name();
      throw std::runtime_error("--set " + key + ": unknown field '" + parts[i] + "' in " + d->name() +
                               " (known: " + known + ")");
    }
    const Reflection* r = message->GetReflection();
    if (i + 1 < parts.size()) {
      if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_repeated()) {
        throw std::runtime_error("--set " + key + ": '" + parts[i] + "' is not a message field");
      }
      message = r->MutableMessage(message, field);
      continue;
    }
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      throw std::runtime_error("--set " + key + ": '" + parts[i] + "' is a message; name one of its fields");
    }
    std::string text;
    const std::vector<std::string> values = field->is_repeated() ? Split(value, ',') : std::vector<std::string>{value};
    for (const std::string& v : values) {
      std::string literal = v;
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING && (v.empty() || v.front() != '"')) {
        literal = "\"";
        for (char c : v) literal += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
        literal += "\"";
      }
      text += field->name() + ": " + literal + "\n";
    }
    std::unique_ptr<Message> parsed(message->New());
    google::protobuf::TextFormat::Parser parser;
    Collector errors;
    parser.RecordErrorsTo(&errors);
    if (!parser.ParseFromString(text, parsed.get())) {
      throw std::runtime_error("--set " + key + ": bad value '" + value + "' (" + errors.text() + ")");
    }
    // Cleared first: a proto3 scalar set to 0 / false would otherwise merge nothing.
    r->ClearField(message, field);
    message->MergeFrom(*parsed);
  }
}

proto::TrainConfig ResolveTrainConfig(proto::TrainConfig c) {
  Require(c.version() <= kTrainConfigVersion, "version",
          std::to_string(c.version()) + " is newer than this build's " + std::to_string(kTrainConfigVersion));
  c.set_version(kTrainConfigVersion);
  proto::RunConfig& run = *c.mutable_run();
  if (run.name().empty()) run.set_name("quick");
  try {
    run = actors::ResolveRunConfig(run);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("TrainConfig.run: ") + e.what());
  }
  Require(run.joint_epochs() == 0 || run.gan_warmup_epochs() > 0 ||
              c.ablation().joint_mode() == proto::AblationConfig::CONTRAST_ONLY,
          "run.gan_warmup_epochs", "stage 3 needs a warmed-up GAN (stage 2, reference §7): set at least 1");

  ResolveData(c.mutable_data(), "data", /*needs_structures=*/true);
  ResolveSource(&c);

  proto::ModelConfig& m = *c.mutable_model();
  if (m.backbone().empty()) m.set_backbone("resnet");
  Require(m.backbone() == "resnet" || m.backbone() == "mobilenet_v2", "model.backbone",
          "must be resnet or mobilenet_v2, got '" + m.backbone() + "'");
  const bool tfjs_init = IsTfjsIdentityInit(m.identity_init());
  Require(!tfjs_init || m.backbone() == "mobilenet_v2", "model.identity_init",
          "'" + m.identity_init() + "' is a TF.js MoveNet model: it initialises model.backbone mobilenet_v2, not " +
              m.backbone());
  if (m.mobilenet_width() == 0) m.set_mobilenet_width(m.identity_init() == "movenet-thunder" ? 1.75 : 1.0);
  Positive(m.mobilenet_width(), "model.mobilenet_width");
  if (m.backbone_batch_norm().empty()) m.set_backbone_batch_norm(tfjs_init ? "frozen" : "train");
  Require(m.backbone_batch_norm() == "train" || m.backbone_batch_norm() == "frozen", "model.backbone_batch_norm",
          "must be train or frozen, got '" + m.backbone_batch_norm() + "'");
  if (m.depth() == 0) m.set_depth(50);
  Require(m.depth() == 18 || m.depth() == 34 || m.depth() == 50 || m.depth() == 101, "model.depth",
          "must be 18, 34, 50 or 101, got " + std::to_string(m.depth()));
  if (m.width() == 0) m.set_width(1.0);
  Positive(m.width(), "model.width");
  Require(m.width() <= 16, "model.width", "must be at most 16, got " + Num(m.width()));
  if (m.embedding_dim() == 0) m.set_embedding_dim(run.feature_dim());
  Require(m.embedding_dim() == run.feature_dim(), "model.embedding_dim",
          std::to_string(m.embedding_dim()) + " differs from run.feature_dim " + std::to_string(run.feature_dim()));
  Require(m.generator_dim() >= 0 && m.mlp_dim() >= 0 && m.discriminator_dim() >= 0 && m.generator_dim() <= 4096 &&
              m.mlp_dim() <= 65536 && m.discriminator_dim() <= 4096,
          "model.generator_dim/mlp_dim/discriminator_dim", "outside 0..4096 (mlp_dim 0..65536)");
  Require(m.discriminator_scales() >= 0 && m.discriminator_scales() <= 8, "model.discriminator_scales", "outside 0..8");
  if (m.generator_dim() == 0) m.set_generator_dim(16);
  if (m.mlp_dim() == 0) m.set_mlp_dim(512);
  if (m.discriminator_dim() == 0) m.set_discriminator_dim(32);
  if (m.discriminator_scales() == 0) m.set_discriminator_scales(3);

  Require(run.joint_epochs() == 0 || run.warmup_epochs() > 0 || !m.identity_init().empty(), "model.identity_init",
          "stage 3 needs a warmed-up E_id: give a stage-1 checkpoint here or set run.warmup_epochs (our stage 1)");

  proto::OptimConfig& o = *c.mutable_optim();
  auto fill = [](double v, double def) { return v == 0 ? def : v; };
  o.set_generator_lr(fill(o.generator_lr(), 1e-4));
  o.set_discriminator_lr(fill(o.discriminator_lr(), 1e-4));
  o.set_joint_generator_lr(fill(o.joint_generator_lr(), 1e-5));
  o.set_identity_lr(fill(o.identity_lr(), 3.5e-4));
  if (o.identity_milestones_size() == 0) o.add_identity_milestones(10);
  o.set_gamma(fill(o.gamma(), 0.1));
  o.set_weight_decay(fill(o.weight_decay(), 5e-4));
  o.set_recon_weight(fill(o.recon_weight(), 5.0));
  Require(o.memory_weight() >= 0, "optim.memory_weight", "negative");
  o.set_memory_weight(fill(o.memory_weight(), 1.0));
  Positive(o.generator_lr(), "optim.generator_lr");
  Positive(o.discriminator_lr(), "optim.discriminator_lr");
  Positive(o.joint_generator_lr(), "optim.joint_generator_lr");
  Positive(o.identity_lr(), "optim.identity_lr");
  Positive(o.gamma(), "optim.gamma");
  Positive(o.weight_decay(), "optim.weight_decay");
  Positive(o.recon_weight(), "optim.recon_weight");
  for (int i = 0; i < o.identity_milestones_size(); ++i) {
    Require(o.identity_milestones(i) > 0 && (i == 0 || o.identity_milestones(i) > o.identity_milestones(i - 1)),
            "optim.identity_milestones", "must be positive and increasing");
  }

  proto::WarmupConfig& w = *c.mutable_warmup();
  w.set_lr(fill(w.lr(), 3.5e-4));
  Positive(w.lr(), "warmup.lr");
  Require(w.num_negatives() >= 0, "warmup.num_negatives", "negative");
  if (w.num_negatives() == 0) w.set_num_negatives(run.num_negatives());
  Require(w.background_swap() >= 0.0 && w.background_swap() <= 1.0, "warmup.background_swap",
          "is a probability: must be in [0, 1]");
  Require(c.joint().background_swap() >= 0.0 && c.joint().background_swap() <= 1.0, "joint.background_swap",
          "is a probability: must be in [0, 1]");

  proto::AblationConfig& a = *c.mutable_ablation();
  // proto3 enums are open: a number in a config file parses even when it names no value.
  Require(proto::AblationConfig::JointMode_IsValid(a.joint_mode()), "ablation.joint_mode",
          "unknown value " + std::to_string(a.joint_mode()) + " (FULL, GENERATION_ONLY, CONTRAST_ONLY)");
  Require(proto::AblationConfig::ViewInvariantTerms_IsValid(a.view_invariant_terms()), "ablation.view_invariant_terms",
          "unknown value " + std::to_string(a.view_invariant_terms()) + " (L_VI, L_VI_PRIME, ALL)");
  if (a.joint_mode() == proto::AblationConfig::JOINT_MODE_UNSPECIFIED) a.set_joint_mode(proto::AblationConfig::FULL);
  if (a.view_invariant_terms() == proto::AblationConfig::VIEW_INVARIANT_TERMS_UNSPECIFIED) {
    a.set_view_invariant_terms(proto::AblationConfig::ALL);
  }
  Require(a.view_invariant_terms() == proto::AblationConfig::ALL || a.joint_mode() == proto::AblationConfig::FULL,
          "ablation.view_invariant_terms",
          proto::AblationConfig::ViewInvariantTerms_Name(a.view_invariant_terms()) +
              " selects terms of joint_mode FULL; joint_mode " + proto::AblationConfig::JointMode_Name(a.joint_mode()) +
              " trains no view-invariant term (leave it at ALL)");
  if (a.joint_mode() == proto::AblationConfig::GENERATION_ONLY) o.set_memory_weight(0);  // Tab. 3 "generation only"

  proto::OutputConfig& out = *c.mutable_output();
  Require(out.view_grid_images() >= 0 && out.view_grid_images() <= 64, "output.view_grid_images", "outside 0..64");
  if (out.view_grid_images() == 0) out.set_view_grid_images(4);
  Require(out.progress_interval_s() >= 0, "output.progress_interval_s", "negative");
  if (out.progress_interval_s() == 0) out.set_progress_interval_s(0.5);
  return c;
}

ViewInvariantTermWeights TermWeightsOf(const proto::AblationConfig& a) {
  if (a.joint_mode() == proto::AblationConfig::GENERATION_ONLY) return {0, 0, 0};
  // Tab. 3 adds L_vi, then L'_vi, then L''_vi.
  const proto::AblationConfig::ViewInvariantTerms terms = a.view_invariant_terms();
  ViewInvariantTermWeights w;
  if (terms == proto::AblationConfig::L_VI) w.l_vi_prime = 0;
  if (terms == proto::AblationConfig::L_VI || terms == proto::AblationConfig::L_VI_PRIME) w.l_vi_double_prime = 0;
  return w;
}

std::string TrainConfigToText(const proto::TrainConfig& config) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(config, &text);
  return text;
}

bool IsTfjsIdentityInit(const std::string& identity_init) {
  const std::string json = ".json";
  return models::tfjs::IsBundledModel(identity_init) ||
         (identity_init.size() > json.size() &&
          identity_init.compare(identity_init.size() - json.size(), json.size(), json) == 0);
}

}  // namespace gcl::training
