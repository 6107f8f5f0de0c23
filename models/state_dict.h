// Reading and writing named tensors (state dicts) without Python, and loading them into modules by name.
//
// Formats read (detected by content, not by file name):
//   - PyTorch's zip format, as `torch.save(model.state_dict(), f)` writes it since PyTorch 1.6: a zip holding
//     `data.pkl` and one `data/<key>` record per storage. LibTorch 1.13's torch::pickle_load rejects the
//     OrderedDict a state dict is, so `data.pkl` is read by a small unpickler of our own that understands the
//     subset checkpoints use (dicts and OrderedDicts, lists, tuples, ints, floats, strings, bools, None,
//     `torch._utils._rebuild_tensor_v2` / `_rebuild_parameter` over persistent storages); any other object
//     (argparse.Namespace, numpy scalars...) is kept as an opaque value and skipped.
//   - the legacy format (PyTorch < 1.6, or _use_new_zipfile_serialization=False), used by checkpoints of the
//     torch-1.2 era the reference pins: consecutive pickles followed by the raw storages;
//   - safetensors (8-byte little-endian header length, JSON header, raw little-endian data).
// Not read: TorchScript archives, legacy storage views, big-endian files (clear errors).
//
//   gcl::models::Checkpoint ckpt = gcl::models::ReadCheckpoint("resnet50.pth");
//   gcl::models::LoadReport r = gcl::models::LoadStateDict(*net, ckpt.tensors, {}, "resnet50.pth");
#ifndef GCL_MODELS_STATE_DICT_H_
#define GCL_MODELS_STATE_DICT_H_

#include <torch/torch.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gcl::models {

// Named tensors in file order.
using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

struct Checkpoint {
  StateDict tensors;
  // safetensors `__metadata__` (string to string); empty for .pth files.
  std::map<std::string, std::string> metadata;
  // .pth: top-level entries that are not tensors (e.g. `epoch`, `best_mAP`), listed so callers can report them.
  std::vector<std::string> skipped_entries;
};

// Reads a .pth (zip or legacy) or .safetensors file. For a .pth whose top level is a dict, the tensors are its
// tensor-valued entries, or, when it has a dict-valued `state_dict` (or `model`) entry, that dict's entries.
// Throws std::runtime_error naming the file and the problem.
Checkpoint ReadCheckpoint(const std::string& path);
Checkpoint ReadTorchZip(const std::string& path);
Checkpoint ReadSafetensors(const std::string& path);

// Writes tensors (moved to CPU, made contiguous) as safetensors with the given metadata; written to a temporary
// file and renamed, so readers never see a half-written file. Supported dtypes: f64, f32, f16, bf16, i64, i32,
// i16, i8, u8, bool.
void WriteSafetensors(const std::string& path, const StateDict& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// All parameters and buffers of a module under their state-dict names, in registration order.
StateDict ModuleStateDict(const torch::nn::Module& module);

struct LoadOptions {
  // Prefixes removed from checkpoint keys before matching (DataParallel writes `module.`).
  std::vector<std::string> strip_prefixes = {"module."};
  // Module keys starting with one of these may be absent from the checkpoint (they keep their init).
  std::vector<std::string> optional_prefixes;
  // BatchNorm's `num_batches_tracked` counter may be absent (checkpoints written before PyTorch 0.4.1 lack it);
  // it only matters for momentum=None BatchNorm, which nothing here uses.
  bool allow_missing_num_batches_tracked = true;
  // A NaN or Inf in a floating-point tensor is an error naming the key: no trained model holds one, and loading
  // it would only turn every output into NaN (an export of a diverged run once made `extract` write NaN features).
  bool require_finite = true;
};

struct LoadReport {
  std::vector<std::string> loaded;      // module keys copied from the checkpoint
  std::vector<std::string> unexpected;  // checkpoint keys (after prefix stripping) the module does not have
  std::vector<std::string> missing;     // module keys absent from the checkpoint but allowed to be
};

// Copies matching tensors into the module's parameters and buffers (converted to the module tensor's dtype
// and device). Throws std::runtime_error naming `source` and the key when a required key is missing, a shape
// differs (both shapes given) or a value is not finite (LoadOptions.require_finite). Extra checkpoint keys are
// ignored and listed in the report.
LoadReport LoadStateDict(torch::nn::Module& module, const StateDict& tensors, const LoadOptions& options,
                         const std::string& source);

}  // namespace gcl::models

#endif  // GCL_MODELS_STATE_DICT_H_
