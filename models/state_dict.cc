#include "models/state_dict.h"

#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace gcl::models {
namespace {

[[noreturn]] void Fail(const std::string& path, const std::string& what) {
  throw std::runtime_error(path + ": " + what);
}

std::string ReadPrefix(const std::string& path, size_t n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(path, "cannot open file");
  std::string s(n, '\0');
  in.read(s.data(), static_cast<std::streamsize>(n));
  s.resize(static_cast<size_t>(in.gcount()));
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// A Python value as far as checkpoints need them.
struct PyValue;
using PyRef = std::shared_ptr<PyValue>;

struct PyValue {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kBytes, kTuple, kList, kDict, kGlobal, kStorage, kTensor,
                    kObject };
  Kind kind = Kind::kNone;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;                              // string, bytes, or "module.name" of a global
  std::vector<PyRef> items;                   // tuple, list
  std::vector<std::pair<PyRef, PyRef>> dict;  // dict / OrderedDict in insertion order
  std::unordered_map<std::string, size_t> key_index;  // string key -> position in `dict`
  // kStorage: dtype and element count from the persistent id; `tensor` (1-D) once its bytes are read.
  // kTensor: a view of `storage`, materialised into `tensor` by Materialize().
  torch::Dtype dtype = torch::kFloat32;
  int64_t numel = 0;
  PyRef storage;
  int64_t offset = 0;
  std::vector<int64_t> size, stride;
  torch::Tensor tensor;
};

PyRef Make(PyValue::Kind k) {
  auto v = std::make_shared<PyValue>();
  v->kind = k;
  return v;
}

const char* KindName(PyValue::Kind k) {
  switch (k) {
    case PyValue::Kind::kNone: return "None";
    case PyValue::Kind::kBool: return "bool";
    case PyValue::Kind::kInt: return "int";
    case PyValue::Kind::kFloat: return "float";
    case PyValue::Kind::kString: return "str";
    case PyValue::Kind::kBytes: return "bytes";
    case PyValue::Kind::kTuple: return "tuple";
    case PyValue::Kind::kList: return "list";
    case PyValue::Kind::kDict: return "dict";
    case PyValue::Kind::kGlobal: return "global";
    case PyValue::Kind::kStorage: return "storage";
    case PyValue::Kind::kTensor: return "tensor";
    case PyValue::Kind::kObject: return "object";
  }
  return "?";
}

torch::Dtype StorageDtype(const std::string& global, const std::string& path) {
  static const std::map<std::string, torch::Dtype> kTypes = {
      {"torch.FloatStorage", torch::kFloat32}, {"torch.DoubleStorage", torch::kFloat64},
      {"torch.HalfStorage", torch::kFloat16},  {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kInt64},    {"torch.IntStorage", torch::kInt32},
      {"torch.ShortStorage", torch::kInt16},   {"torch.CharStorage", torch::kInt8},
      {"torch.ByteStorage", torch::kUInt8},    {"torch.BoolStorage", torch::kBool}};
  const auto it = kTypes.find(global);
  if (it == kTypes.end()) Fail(path, "unsupported storage type " + global);
  return it->second;
}

// Returns the storage value for a persistent id's (key, dtype, numel); may fill its bytes now (zip) or later
// (legacy format, where the bytes follow the pickle).
using StorageSource = std::function<PyRef(const std::string& key, torch::Dtype dtype, int64_t numel,
                                          const std::string& type_name)>;

// Reads one pickle (a zip archive's data.pkl, or one of the consecutive pickles of the legacy format) starting at
// byte `start` of `bytes`. Protocols 2 to 5; the opcodes that state dicts and typical training checkpoints use.
class Unpickler {
 public:
  Unpickler(const std::string& path, const std::string& what, const std::string& bytes, size_t start,
            StorageSource storages)
      : path_(path), what_(what), data_(bytes), storage_source_(std::move(storages)), pos_(start) {}

  // Values may nest deeply or refer to themselves (a dict that holds itself, through the memo): freeing them by
  // shared_ptr alone would recurse once per level (a stack overflow) or leak a cycle. Every value this unpickler
  // made is unlinked here first, then freed flat. The values Load() returned are emptied too, so they must be
  // used before the unpickler goes.
  ~Unpickler() {
    for (const PyRef& v : created_) {
      v->items.clear();
      v->dict.clear();
      v->key_index.clear();
    }
  }
  Unpickler(const Unpickler&) = delete;
  Unpickler& operator=(const Unpickler&) = delete;

  size_t position() const { return pos_; }

  PyRef Load() {
    while (true) {
      const uint8_t op = U8();
      switch (op) {
        case 0x80: U8(); break;       // PROTO
        case 0x95: Bytes(8); break;   // FRAME: length of the next frame, only a read-ahead hint
        case '.': {                   // STOP
          if (stack_.size() != 1) Bad("STOP with " + std::to_string(stack_.size()) + " values on the stack");
          return stack_.back();
        }
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case '}':
          stack_.push_back(New(PyValue::Kind::kDict));
          break;
        case ']':
          stack_.push_back(New(PyValue::Kind::kList));
          break;
        case ')':
          stack_.push_back(New(PyValue::Kind::kTuple));
          break;
        case 'N':
          stack_.push_back(New(PyValue::Kind::kNone));
          break;
        case 0x88: case 0x89: {
          auto v = New(PyValue::Kind::kBool);
          v->b = op == 0x88;
          stack_.push_back(v);
          break;
        }
        case 'J': PushInt(static_cast<int32_t>(LittleEndian(4))); break;
        case 'K': PushInt(U8()); break;
        case 'M': PushInt(static_cast<int64_t>(LittleEndian(2))); break;
        case 0x8a: PushLong(U8()); break;
        case 0x8b: PushLong(LittleEndian(4)); break;
        case 'G': {
          const std::string raw = Bytes(8);
          uint64_t bits = 0;
          for (int k = 0; k < 8; ++k) bits = (bits << 8) | static_cast<uint8_t>(raw[k]);  // big-endian
          auto v = New(PyValue::Kind::kFloat);
          std::memcpy(&v->f, &bits, 8);
          stack_.push_back(v);
          break;
        }
        case 'X': PushString(PyValue::Kind::kString, LittleEndian(4)); break;
        case 0x8c: PushString(PyValue::Kind::kString, U8()); break;
        case 0x8d: PushString(PyValue::Kind::kString, LittleEndian(8)); break;
        case 'T': PushString(PyValue::Kind::kString, LittleEndian(4)); break;
        case 'U': PushString(PyValue::Kind::kString, U8()); break;
        case 'B': PushString(PyValue::Kind::kBytes, LittleEndian(4)); break;
        case 'C': PushString(PyValue::Kind::kBytes, U8()); break;
        case 0x8e: PushString(PyValue::Kind::kBytes, LittleEndian(8)); break;
        case 'c': {  // GLOBAL
          const std::string module = Line();
          PushGlobal(module + "." + Line());
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          const PyRef name = Pop(), module = Pop();
          if (name->kind != PyValue::Kind::kString || module->kind != PyValue::Kind::kString) {
            Bad("STACK_GLOBAL needs two strings");
          }
          PushGlobal(module->s + "." + name->s);
          break;
        }
        case 'q': memo_[U8()] = Top(); break;
        case 'r': memo_[LittleEndian(4)] = Top(); break;
        case 0x94: memo_[memo_.size()] = Top(); break;  // MEMOIZE
        case 'p': memo_[Decimal(Line())] = Top(); break;
        case 'h': stack_.push_back(Memo(U8())); break;
        case 'j': stack_.push_back(Memo(LittleEndian(4))); break;
        case 'g': stack_.push_back(Memo(Decimal(Line()))); break;
        case 't': {
          auto v = New(PyValue::Kind::kTuple);
          v->items = PopMark();
          stack_.push_back(v);
          break;
        }
        case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
          auto v = New(PyValue::Kind::kTuple);
          v->items.resize(op - 0x84);
          for (size_t k = v->items.size(); k-- > 0;) v->items[k] = Pop();
          stack_.push_back(v);
          break;
        }
        case 'l': {
          auto v = New(PyValue::Kind::kList);
          v->items = PopMark();
          stack_.push_back(v);
          break;
        }
        case 'a': {
          const PyRef x = Pop();
          Expect(Top(), PyValue::Kind::kList, "APPEND")->items.push_back(x);
          break;
        }
        case 'e': {
          std::vector<PyRef> xs = PopMark();
          auto& items = Expect(Top(), PyValue::Kind::kList, "APPENDS")->items;
          items.insert(items.end(), xs.begin(), xs.end());
          break;
        }
        case 'd': {
          auto v = New(PyValue::Kind::kDict);
          SetItems(v, PopMark());
          stack_.push_back(v);
          break;
        }
        case 's': {
          const PyRef value = Pop(), key = Pop();
          SetItems(Top(), {key, value});
          break;
        }
        case 'u': {
          std::vector<PyRef> kv = PopMark();
          SetItems(Top(), kv);
          break;
        }
        case 'R': {  // REDUCE
          const PyRef args = Pop(), callable = Pop();
          stack_.push_back(Reduce(callable, args));
          break;
        }
        case 0x81: {  // NEWOBJ: cls.__new__(cls, *args)
          const PyRef args = Pop(), cls = Pop();
          stack_.push_back(Reduce(cls, args));
          break;
        }
        case 'b': {  // BUILD: object state (e.g. an OrderedDict's _metadata attribute); kept only for objects
          const PyRef state = Pop();
          if (Top()->kind == PyValue::Kind::kObject) Top()->items.push_back(state);
          break;
        }
        case 'Q': {  // BINPERSID
          stack_.push_back(PersistentLoad(Pop()));
          break;
        }
        case '0': Pop(); break;
        case '1': PopMark(); break;
        case '2': stack_.push_back(Top()); break;
        default: {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "0x%02x", op);
          Bad(std::string("unsupported pickle opcode ") + hex);
        }
      }
    }
  }

 private:
  [[noreturn]] void Bad(const std::string& what) const {
    Fail(path_, what_ + " at byte " + std::to_string(pos_) + ": " + what);
  }
  PyRef New(PyValue::Kind k) {
    PyRef v = Make(k);
    created_.push_back(v);
    return v;
  }
  uint8_t U8() {
    if (pos_ >= data_.size()) Bad("unexpected end of pickle");
    return static_cast<uint8_t>(data_[pos_++]);
  }
  std::string Bytes(uint64_t n) {
    if (n > data_.size() - pos_) Bad("unexpected end of pickle");
    std::string s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  uint64_t LittleEndian(int n) {
    uint64_t v = 0;
    for (int k = 0; k < n; ++k) v |= static_cast<uint64_t>(U8()) << (8 * k);
    return v;
  }
  std::string Line() {
    const size_t end = data_.find('\n', pos_);
    if (end == std::string::npos) Bad("unterminated text argument");
    std::string s = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  uint64_t Decimal(const std::string& text) {
    if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
      Bad("memo index '" + text + "' is not a decimal number");
    }
    return std::stoull(text);
  }
  void PushInt(int64_t x) {
    auto v = New(PyValue::Kind::kInt);
    v->i = x;
    stack_.push_back(v);
  }
  void PushLong(uint64_t n) {
    const std::string raw = Bytes(n);
    if (n > 8) {  // kept as its little-endian bytes (the legacy format's magic number is 80 bits wide)
      auto v = New(PyValue::Kind::kObject);
      v->s = "bigint:" + raw;
      stack_.push_back(v);
      return;
    }
    uint64_t x = 0;
    for (uint64_t k = 0; k < n; ++k) x |= static_cast<uint64_t>(static_cast<uint8_t>(raw[k])) << (8 * k);
    if (n > 0 && n < 8 && (static_cast<uint8_t>(raw[n - 1]) & 0x80)) x |= ~uint64_t{0} << (8 * n);  // sign
    PushInt(static_cast<int64_t>(x));
  }
  void PushString(PyValue::Kind k, uint64_t n) {
    auto v = Make(k);
    v->s = Bytes(n);
    stack_.push_back(v);
  }
  void PushGlobal(const std::string& name) {
    auto v = New(PyValue::Kind::kGlobal);
    v->s = name;
    stack_.push_back(v);
  }
  PyRef Pop() {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back())) Bad("stack underflow");
    PyRef v = stack_.back();
    stack_.pop_back();
    return v;
  }
  PyRef Top() {
    if (stack_.empty()) Bad("stack underflow");
    return stack_.back();
  }
  std::vector<PyRef> PopMark() {
    if (marks_.empty()) Bad("no MARK on the stack");
    const size_t at = marks_.back();
    marks_.pop_back();
    std::vector<PyRef> xs(stack_.begin() + static_cast<std::ptrdiff_t>(at), stack_.end());
    stack_.resize(at);
    return xs;
  }
  PyRef Memo(uint64_t key) {
    const auto it = memo_.find(key);
    if (it == memo_.end()) Bad("memo key " + std::to_string(key) + " was never stored");
    return it->second;
  }
  PyRef Expect(const PyRef& v, PyValue::Kind k, const char* op) {
    if (v->kind != k) Bad(std::string(op) + " on a " + KindName(v->kind));
    return v;
  }
  void SetItems(const PyRef& target, const std::vector<PyRef>& kv) {
    Expect(target, PyValue::Kind::kDict, "SETITEM(S)");
    if (kv.size() % 2 != 0) Bad("odd number of dict items");
    for (size_t k = 0; k < kv.size(); k += 2) {
      // A string key set again replaces its value (Python's dict), found through the index in constant time: a
      // linear search made a pickle of many keys quadratic.
      if (kv[k]->kind == PyValue::Kind::kString) {
        const auto [it, inserted] = target->key_index.emplace(kv[k]->s, target->dict.size());
        if (!inserted) {
          target->dict[it->second].second = kv[k + 1];
          continue;
        }
      }
      target->dict.emplace_back(kv[k], kv[k + 1]);
    }
  }
  int64_t IntArg(const PyRef& args, size_t k, const char* what) {
    if (args->items.size() <= k || args->items[k]->kind != PyValue::Kind::kInt) Bad(std::string(what) + " must be an int");
    return args->items[k]->i;
  }
  std::vector<int64_t> IntTuple(const PyRef& args, size_t k, const char* what) {
    if (args->items.size() <= k || args->items[k]->kind != PyValue::Kind::kTuple) Bad(std::string(what) + " must be a tuple");
    std::vector<int64_t> out;
    for (const auto& x : args->items[k]->items) {
      if (x->kind != PyValue::Kind::kInt) Bad(std::string(what) + " must hold ints");
      out.push_back(x->i);
    }
    return out;
  }
  PyRef Reduce(const PyRef& callable, const PyRef& args) {
    if (callable->kind != PyValue::Kind::kGlobal || args->kind != PyValue::Kind::kTuple) {
      auto v = New(PyValue::Kind::kObject);
      v->s = callable->kind == PyValue::Kind::kGlobal ? callable->s : "?";
      return v;
    }
    const std::string& name = callable->s;
    if (name == "collections.OrderedDict") {
      if (!args->items.empty()) Bad("OrderedDict with constructor arguments");
      return New(PyValue::Kind::kDict);
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      if (args->items.empty() || args->items[0]->kind != PyValue::Kind::kStorage) Bad(name + " without a storage");
      const int64_t storage_numel = args->items[0]->numel;
      const int64_t offset = IntArg(args, 1, "storage offset");
      const std::vector<int64_t> size = IntTuple(args, 2, "tensor size"), stride = IntTuple(args, 3, "tensor stride");
      if (size.size() != stride.size()) Bad("tensor size and stride differ in length");
      // Highest element index the view touches, with overflow checks; views must not overlap themselves
      // (numel <= storage numel), which every tensor torch.save writes satisfies unless it was expanded.
      int64_t last = offset, numel = 1;
      bool overflow = false;
      for (size_t d = 0; d < size.size(); ++d) {
        if (size[d] < 0 || stride[d] < 0) Bad("negative tensor size or stride");
        overflow = overflow || __builtin_mul_overflow(numel, size[d], &numel);
        int64_t reach = 0;
        if (size[d] > 0) {
          overflow = overflow || __builtin_mul_overflow(size[d] - 1, stride[d], &reach) ||
                     __builtin_add_overflow(last, reach, &last);
        }
      }
      if (numel == 0) last = offset - 1;
      if (overflow || offset < 0 || last >= storage_numel || numel > storage_numel) {
        Bad("tensor view " + c10::str(torch::IntArrayRef(size)) + " at offset " + std::to_string(offset) +
            " runs past its storage of " + std::to_string(storage_numel) + " elements");
      }
      auto v = New(PyValue::Kind::kTensor);
      v->storage = args->items[0];
      v->offset = offset;
      v->size = size;
      v->stride = stride;
      return v;
    }
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
      if (args->items.empty() || args->items[0]->kind != PyValue::Kind::kTensor) Bad(name + " without a tensor");
      return args->items[0];
    }
    auto v = New(PyValue::Kind::kObject);  // anything else is opaque to us and skipped
    v->s = name;
    return v;
  }
  PyRef PersistentLoad(const PyRef& pid) {
    // ('storage', <storage type global>, key, location, numel) as torch.save writes it, plus a sixth entry,
    // view metadata, in the legacy format (None unless a storage view was saved).
    if (pid->kind != PyValue::Kind::kTuple || pid->items.size() < 5 || pid->items[0]->kind != PyValue::Kind::kString ||
        pid->items[0]->s != "storage" || pid->items[1]->kind != PyValue::Kind::kGlobal ||
        pid->items[2]->kind != PyValue::Kind::kString || pid->items[4]->kind != PyValue::Kind::kInt) {
      Bad("persistent id is not a ('storage', type, key, location, numel) tuple");
    }
    if (pid->items.size() > 5 && pid->items[5]->kind != PyValue::Kind::kNone) {
      Bad("storage views (legacy view metadata) are not supported");
    }
    if (!storage_source_) Bad("unexpected persistent id");
    const std::string key = pid->items[2]->s;
    auto cached = storages_.find(key);
    if (cached != storages_.end()) return cached->second;
    const int64_t numel = pid->items[4]->i;
    if (numel < 0) Bad("storage " + key + " has a negative size");
    PyRef v = storage_source_(key, StorageDtype(pid->items[1]->s, path_), numel, pid->items[1]->s);
    storages_[key] = v;
    return v;
  }

  const std::string& path_;
  const std::string what_;
  const std::string& data_;
  StorageSource storage_source_;
  size_t pos_ = 0;
  std::vector<PyRef> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PyRef> memo_;
  std::unordered_map<std::string, PyRef> storages_;
  std::vector<PyRef> created_;
};

PyRef MakeStorage(torch::Dtype dtype, int64_t numel) {
  auto v = Make(PyValue::Kind::kStorage);
  v->dtype = dtype;
  v->numel = numel;
  return v;
}

torch::Tensor Materialize(PyValue& t, const std::string& path) {
  if (!t.tensor.defined()) {
    if (!t.storage->tensor.defined()) Fail(path, "a tensor's storage was never written to the file");
    t.tensor = t.storage->tensor.as_strided(t.size, t.stride, t.offset).clone(at::MemoryFormat::Contiguous);
  }
  return t.tensor;
}

// Levels of `state_dict` / `model` dicts followed down from the top (training checkpoints nest one or two).
constexpr int kMaxNestedLevels = 4;

// The tensor entries of a dict, preferring a nested `state_dict` / `model` dict; nothing is materialised yet.
void FindTensors(const PyRef& root, const std::string& path, int level, std::set<const PyValue*>* visited,
                 Checkpoint* out, std::vector<std::pair<std::string, PyRef>>* found) {
  if (root->kind != PyValue::Kind::kDict) {
    Fail(path, std::string("top-level object is a ") + KindName(root->kind) + ", expected a dict of tensors");
  }
  visited->insert(root.get());
  for (const char* nested : {"state_dict", "model"}) {
    for (const auto& [key, value] : root->dict) {
      if (key->kind == PyValue::Kind::kString && key->s == nested && value->kind == PyValue::Kind::kDict) {
        // A pickle can make a dict hold itself (memo references): followed blindly, that spins forever.
        if (visited->count(value.get()) != 0) {
          Fail(path, std::string("the '") + nested + "' entry contains the dict that holds it (a cyclic pickle)");
        }
        if (level + 1 > kMaxNestedLevels) {
          Fail(path, std::string("'state_dict' / 'model' entries nest more than ") + std::to_string(kMaxNestedLevels) +
                         " levels deep");
        }
        for (const auto& [k, v] : root->dict) {
          if (k->kind == PyValue::Kind::kString && k->s != nested) out->skipped_entries.push_back(k->s);
        }
        FindTensors(value, path, level + 1, visited, out, found);
        return;
      }
    }
  }
  for (const auto& [key, value] : root->dict) {
    if (key->kind != PyValue::Kind::kString) continue;
    if (value->kind == PyValue::Kind::kTensor) {
      found->emplace_back(key->s, value);
    } else {
      out->skipped_entries.push_back(key->s);
    }
  }
}

// Tensor entries of a dict, materialised. Views share storages, so a few bytes of pickle could ask for the same
// large storage many times over; what the views copy is capped at twice the storages they use (tied weights
// appear twice) plus 1 MiB.
void CollectTensors(const PyRef& root, const std::string& path, Checkpoint* out) {
  std::set<const PyValue*> visited;
  std::vector<std::pair<std::string, PyRef>> found;
  FindTensors(root, path, 0, &visited, out, &found);
  std::set<const PyValue*> tensors, storages;
  uint64_t viewed = 0, stored = 0;
  for (const auto& [key, t] : found) {
    const uint64_t element = c10::elementSize(t->storage->dtype);
    if (tensors.insert(t.get()).second) {
      uint64_t numel = 1;
      for (const int64_t d : t->size) numel *= static_cast<uint64_t>(d);  // checked for overflow when built
      viewed += numel * element;
    }
    if (storages.insert(t->storage.get()).second) stored += static_cast<uint64_t>(t->storage->numel) * element;
  }
  if (viewed > 2 * stored + (uint64_t{1} << 20)) {
    Fail(path, "its tensors view " + std::to_string(viewed) + " bytes of only " + std::to_string(stored) +
                   " bytes of storage (the same storage many times over)");
  }
  for (const auto& [key, t] : found) out->tensors.emplace_back(key, Materialize(*t, path));
}

// ---------------------------------------------------------------------------------------------------------
// safetensors: a JSON header of {name: {dtype, shape, data_offsets}} plus optional string metadata.
struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = Kind::kNull;
  bool b = false;
  double number = 0;
  std::string s;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;
};

class JsonParser {
 public:
  JsonParser(const std::string& path, const std::string& text) : path_(path), t_(text) {}
  Json Parse() {
    Json v = Value();
    Space();
    if (i_ != t_.size()) Bad("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void Bad(const std::string& what) const {
    Fail(path_, "safetensors header at char " + std::to_string(i_) + ": " + what);
  }
  void Space() {
    while (i_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[i_]))) ++i_;
  }
  char Peek() {
    Space();
    if (i_ >= t_.size()) Bad("unexpected end");
    return t_[i_];
  }
  void Eat(char c) {
    if (Peek() != c) Bad(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string String() {
    Eat('"');
    std::string s;
    while (true) {
      if (i_ >= t_.size()) Bad("unterminated string");
      const char c = t_[i_++];
      if (c == '"') return s;
      if (c != '\\') {
        s += c;
        continue;
      }
      if (i_ >= t_.size()) Bad("unterminated escape");
      const char e = t_[i_++];
      switch (e) {
        case 'n': s += '\n'; break;
        case 't': s += '\t'; break;
        case 'r': s += '\r'; break;
        case 'b': s += '\b'; break;
        case 'f': s += '\f'; break;
        case 'u': {
          if (i_ + 4 > t_.size() || t_.substr(i_, 4).find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
            Bad("bad \\u escape");
          }
          const unsigned code = std::stoul(t_.substr(i_, 4), nullptr, 16);
          i_ += 4;
          if (code < 0x80) {
            s += static_cast<char>(code);
          } else if (code < 0x800) {
            s += static_cast<char>(0xC0 | (code >> 6));
            s += static_cast<char>(0x80 | (code & 0x3F));
          } else {
            s += static_cast<char>(0xE0 | (code >> 12));
            s += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
            s += static_cast<char>(0x80 | (code & 0x3F));
          }
          break;
        }
        default: s += e;
      }
    }
  }
  Json Value() {
    // safetensors headers nest three levels; a cap keeps hostile input from exhausting the stack. Each value takes
    // ~100 bytes parsed against 2 in the text ("[0,0,..."), so their number is capped too (~10 per tensor).
    if (++depth_ > 32) Bad("nesting deeper than 32 levels");
    if (++values_ > kMaxValues) Bad("more than " + std::to_string(kMaxValues) + " values");
    Json v = ValueAtDepth();
    --depth_;
    return v;
  }
  Json ValueAtDepth() {
    Json v;
    const char c = Peek();
    if (c == '{') {
      v.kind = Json::Kind::kObject;
      Eat('{');
      if (Peek() == '}') {
        ++i_;
        return v;
      }
      while (true) {
        std::string key = String();
        Eat(':');
        v.members.emplace_back(std::move(key), Value());
        if (Peek() == ',') {
          ++i_;
          continue;
        }
        Eat('}');
        return v;
      }
    }
    if (c == '[') {
      v.kind = Json::Kind::kArray;
      Eat('[');
      if (Peek() == ']') {
        ++i_;
        return v;
      }
      while (true) {
        v.items.push_back(Value());
        if (Peek() == ',') {
          ++i_;
          continue;
        }
        Eat(']');
        return v;
      }
    }
    if (c == '"') {
      v.kind = Json::Kind::kString;
      v.s = String();
      return v;
    }
    for (const char* word : {"true", "false", "null"}) {
      if (t_.compare(i_, std::strlen(word), word) == 0) {
        i_ += std::strlen(word);
        v.kind = word[0] == 'n' ? Json::Kind::kNull : Json::Kind::kBool;
        v.b = word[0] == 't';
        return v;
      }
    }
    size_t used = 0;
    try {
      v.number = std::stod(t_.substr(i_, 32), &used);
    } catch (const std::exception&) {
      Bad("invalid value");
    }
    i_ += used;
    v.kind = Json::Kind::kNumber;
    return v;
  }
  static constexpr int64_t kMaxValues = 1000000;
  const std::string& path_;
  const std::string& t_;
  size_t i_ = 0;
  int depth_ = 0;
  int64_t values_ = 0;
};

const std::vector<std::pair<std::string, torch::Dtype>>& SafetensorsDtypes() {
  static const std::vector<std::pair<std::string, torch::Dtype>> kTypes = {
      {"F64", torch::kFloat64}, {"F32", torch::kFloat32}, {"F16", torch::kFloat16}, {"BF16", torch::kBFloat16},
      {"I64", torch::kInt64},   {"I32", torch::kInt32},   {"I16", torch::kInt16},   {"I8", torch::kInt8},
      {"U8", torch::kUInt8},    {"BOOL", torch::kBool}};
  return kTypes;
}

std::string JsonQuote(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

bool IsLittleEndianHost() {
  const uint16_t one = 1;
  uint8_t first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

}  // namespace

namespace {
Checkpoint ReadLegacyOrThrowC10(const std::string& path);

// The sizes a zip archive's central directory gives for each record, read before any record is extracted:
// PyTorchStreamReader::getRecord allocates the uncompressed size the directory claims, so a 1 KB file claiming a
// 1 TB record would allocate (or fail to allocate) that much before the data is found missing. Records are keyed
// by their name below the archive's top folder ("data.pkl", "data/0"), as PyTorchStreamReader names them.
struct ZipRecord {
  uint32_t method = 0;
  uint64_t compressed = 0;
  uint64_t uncompressed = 0;
};

uint64_t LittleEndianAt(const std::string& b, size_t at, int n) {
  uint64_t v = 0;
  for (int k = 0; k < n; ++k) v |= static_cast<uint64_t>(static_cast<uint8_t>(b[at + k])) << (8 * k);
  return v;
}

std::map<std::string, ZipRecord> ReadZipDirectory(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) Fail(path, "cannot open file");
  const uint64_t file_size = static_cast<uint64_t>(in.tellg());
  auto read = [&](uint64_t at, uint64_t n) {
    if (at > file_size || n > file_size - at) Fail(path, "zip directory runs past the end of the file");
    std::string bytes(n, '\0');
    in.seekg(static_cast<std::streamoff>(at));
    in.read(bytes.data(), static_cast<std::streamsize>(n));
    if (!in) Fail(path, "cannot read the zip directory");
    return bytes;
  };
  // End of central directory: 22 bytes plus a comment of up to 65535 bytes at the end of the file.
  const uint64_t tail_size = std::min<uint64_t>(file_size, 22 + 65535);
  const std::string tail = read(file_size - tail_size, tail_size);
  size_t eocd = std::string::npos;
  for (size_t i = tail.size() >= 22 ? tail.size() - 22 + 1 : 0; i-- > 0;) {
    if (LittleEndianAt(tail, i, 4) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos) Fail(path, "not a complete zip archive (no end of central directory; truncated?)");
  uint64_t entries = LittleEndianAt(tail, eocd + 10, 2);
  uint64_t directory_size = LittleEndianAt(tail, eocd + 12, 4);
  uint64_t directory_offset = LittleEndianAt(tail, eocd + 16, 4);
  if (entries == 0xFFFF || directory_size == 0xFFFFFFFF || directory_offset == 0xFFFFFFFF) {
    // ZIP64: a locator just before the record gives the offset of the 64-bit end of central directory.
    const uint64_t eocd_at = file_size - tail_size + eocd;
    if (eocd_at < 20) Fail(path, "zip64 archive without its locator");
    const std::string locator = read(eocd_at - 20, 20);
    if (LittleEndianAt(locator, 0, 4) != 0x07064b50) Fail(path, "zip64 archive without its locator");
    const std::string record = read(LittleEndianAt(locator, 8, 8), 56);
    if (LittleEndianAt(record, 0, 4) != 0x06064b50) Fail(path, "zip64 end of central directory is damaged");
    entries = LittleEndianAt(record, 32, 8);
    directory_size = LittleEndianAt(record, 40, 8);
    directory_offset = LittleEndianAt(record, 48, 8);
  }
  const std::string directory = read(directory_offset, directory_size);
  std::map<std::string, ZipRecord> records;
  size_t at = 0;
  for (uint64_t e = 0; e < entries; ++e) {
    if (at + 46 > directory.size() || LittleEndianAt(directory, at, 4) != 0x02014b50) {
      Fail(path, "zip central directory is damaged (entry " + std::to_string(e) + ")");
    }
    ZipRecord r;
    r.method = static_cast<uint32_t>(LittleEndianAt(directory, at + 10, 2));
    r.compressed = LittleEndianAt(directory, at + 20, 4);
    r.uncompressed = LittleEndianAt(directory, at + 24, 4);
    const size_t name_length = LittleEndianAt(directory, at + 28, 2),
                 extra_length = LittleEndianAt(directory, at + 30, 2),
                 comment_length = LittleEndianAt(directory, at + 32, 2);
    if (at + 46 + name_length + extra_length + comment_length > directory.size()) {
      Fail(path, "zip central directory is damaged (entry " + std::to_string(e) + ")");
    }
    const std::string name = directory.substr(at + 46, name_length);
    // ZIP64 extended information (header 0x0001): the 64-bit sizes of fields that hold 0xFFFFFFFF.
    for (size_t x = at + 46 + name_length; x + 4 <= at + 46 + name_length + extra_length;) {
      const uint64_t id = LittleEndianAt(directory, x, 2), size = LittleEndianAt(directory, x + 2, 2);
      if (x + 4 + size > at + 46 + name_length + extra_length) break;
      if (id == 0x0001) {
        size_t field = x + 4;
        if (r.uncompressed == 0xFFFFFFFF && field + 8 <= x + 4 + size) {
          r.uncompressed = LittleEndianAt(directory, field, 8);
          field += 8;
        }
        if (r.compressed == 0xFFFFFFFF && field + 8 <= x + 4 + size) r.compressed = LittleEndianAt(directory, field, 8);
      }
      x += 4 + size;
    }
    // Stored records hold their bytes as they are; deflate expands at most 1032:1.
    const bool plausible =
        r.compressed <= file_size && ((r.method == 0 && r.uncompressed == r.compressed) ||
                                      (r.method == 8 && r.uncompressed <= r.compressed * 1032 + 1024));
    if (!plausible) {
      Fail(path, "zip record " + name + " claims " + std::to_string(r.uncompressed) + " bytes from " +
                     std::to_string(r.compressed) + " stored bytes (method " + std::to_string(r.method) +
                     ") in a file of " + std::to_string(file_size) + " bytes");
    }
    const size_t slash = name.find('/');
    records[slash == std::string::npos ? name : name.substr(slash + 1)] = r;
    at += 46 + name_length + extra_length + comment_length;
  }
  return records;
}

Checkpoint ReadTorchZipOrThrowC10(const std::string& path) {
  const std::string magic = ReadPrefix(path, 4);
  if (magic != std::string("PK\x03\x04", 4)) {
    if (!magic.empty() && static_cast<uint8_t>(magic[0]) == 0x80) return ReadLegacyOrThrowC10(path);
    Fail(path, "neither a torch.save file nor a safetensors file");
  }
  const std::map<std::string, ZipRecord> records = ReadZipDirectory(path);
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> zip;
  try {
    zip = std::make_unique<caffe2::serialize::PyTorchStreamReader>(path);
  } catch (const c10::Error& e) {
    Fail(path, std::string("cannot read the zip archive: ") + e.what_without_backtrace());
  }
  if (!zip->hasRecord("data.pkl")) {
    Fail(path, "zip archive has no data.pkl (a TorchScript archive? only torch.save files are supported)");
  }
  if (zip->hasRecord("byteorder")) {
    if (!records.count("byteorder") || records.at("byteorder").uncompressed > 16)
      Fail(path, "byteorder record is damaged");
    at::DataPtr ptr;
    size_t n = 0;
    std::tie(ptr, n) = zip->getRecord("byteorder");
    const std::string order(static_cast<const char*>(ptr.get()), n);
    if (order != "little" || !IsLittleEndianHost()) Fail(path, "byte order '" + order + "' is not supported");
  }
  at::DataPtr ptr;
  size_t n = 0;
  std::tie(ptr, n) = zip->getRecord("data.pkl");
  const std::string pickle(static_cast<const char*>(ptr.get()), n);
  caffe2::serialize::PyTorchStreamReader* archive = zip.get();
  auto source = [&](const std::string& key, torch::Dtype dtype, int64_t numel, const std::string& type_name) {
    const std::string record = "data/" + key;
    if (!archive->hasRecord(record) || !records.count(record)) {
      Fail(path, "storage record " + record + " is missing from the archive");
    }
    const auto element = static_cast<uint64_t>(c10::elementSize(dtype));
    const uint64_t claimed = records.at(record).uncompressed;
    if (claimed % element != 0 || claimed / element != static_cast<uint64_t>(numel)) {
      Fail(path, "storage record " + record + " holds " + std::to_string(claimed) + " bytes, not " +
                     std::to_string(numel) + " elements of " + type_name);
    }
    at::DataPtr data;
    size_t bytes = 0;
    std::tie(data, bytes) = archive->getRecord(record);
    if (bytes % element != 0 || bytes / element != static_cast<uint64_t>(numel)) {
      Fail(path, "storage record " + record + " holds " + std::to_string(bytes) + " bytes, not " +
                     std::to_string(numel) + " elements of " + type_name);
    }
    PyRef v = MakeStorage(dtype, numel);
    v->tensor = torch::empty({numel}, torch::TensorOptions().dtype(dtype));
    if (bytes > 0) std::memcpy(v->tensor.data_ptr(), data.get(), bytes);
    return v;
  };
  Unpickler unpickler(path, "data.pkl", pickle, 0, source);
  Checkpoint out;
  CollectTensors(unpickler.Load(), path, &out);
  return out;
}

// The legacy format (torch.save before PyTorch 1.6, or _use_new_zipfile_serialization=False): consecutive
// pickles of the magic number 0x1950a86a20f9469cfc6c, the protocol version 1001 and a sys_info dict; the object
// pickle, whose storages are persistent ids; the list of storage keys; then per key an int64 element count and
// the raw bytes.
Checkpoint ReadLegacyOrThrowC10(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(path, "cannot open file");
  const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t pos = 0;
  std::vector<std::unique_ptr<Unpickler>> unpicklers;  // the values they made live until the tensors are collected
  auto next = [&](const std::string& what, StorageSource source = nullptr) {
    unpicklers.push_back(std::make_unique<Unpickler>(path, what, data, pos, std::move(source)));
    PyRef v = unpicklers.back()->Load();
    pos = unpicklers.back()->position();
    return v;
  };
  const PyRef magic = next("legacy magic number");
  const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);  // 0x1950a86a20f9469cfc6c
  if (magic->kind != PyValue::Kind::kObject || magic->s != "bigint:" + kMagic) {
    Fail(path, "not a torch.save file (legacy magic number missing)");
  }
  const PyRef version = next("legacy protocol version");
  if (version->kind != PyValue::Kind::kInt || version->i != 1001) Fail(path, "unsupported legacy protocol version");
  const PyRef sys_info = next("legacy sys_info");
  if (sys_info->kind == PyValue::Kind::kDict) {
    for (const auto& [k, v] : sys_info->dict) {
      if (k->kind == PyValue::Kind::kString && k->s == "little_endian" && (v->kind != PyValue::Kind::kBool || !v->b)) {
        Fail(path, "big-endian legacy checkpoints are not supported");
      }
    }
  }
  std::map<std::string, PyRef> pending;
  const PyRef root = next("legacy object pickle", [&](const std::string& key, torch::Dtype dtype, int64_t numel,
                                                      const std::string&) {
    PyRef v = MakeStorage(dtype, numel);
    pending[key] = v;
    return v;
  });
  const PyRef keys = next("legacy storage key list");
  if (keys->kind != PyValue::Kind::kList) Fail(path, "legacy storage key list is not a list");
  for (const PyRef& key : keys->items) {
    if (key->kind != PyValue::Kind::kString || !pending.count(key->s)) {
      Fail(path, "legacy storage key list names a storage the object pickle does not use");
    }
    PyValue& storage = *pending[key->s];
    if (data.size() - pos < 8) Fail(path, "file ends before storage " + key->s);
    int64_t count = 0;
    std::memcpy(&count, data.data() + pos, 8);
    pos += 8;
    const auto element = static_cast<uint64_t>(c10::elementSize(storage.dtype));
    if (count != storage.numel || static_cast<uint64_t>(count) > (data.size() - pos) / element) {
      Fail(path, "storage " + key->s + " holds " + std::to_string(count) + " elements where " +
                     std::to_string(storage.numel) + " are expected, or runs past the end of the file");
    }
    storage.tensor = torch::empty({count}, torch::TensorOptions().dtype(storage.dtype));
    if (count > 0) std::memcpy(storage.tensor.data_ptr(), data.data() + pos, count * element);
    pos += count * element;
  }
  Checkpoint out;
  CollectTensors(root, path, &out);
  return out;
}
}  // namespace

Checkpoint ReadTorchZip(const std::string& path) {
  try {
    return ReadTorchZipOrThrowC10(path);
  } catch (const c10::Error& e) {  // zip-level damage reported by PyTorchStreamReader, or a bad tensor view
    Fail(path, e.what_without_backtrace());
  }
}

Checkpoint ReadSafetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) Fail(path, "cannot open file");
  const auto file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0);
  if (file_size < 8) Fail(path, "too short for a safetensors file");
  uint8_t len_bytes[8];
  in.read(reinterpret_cast<char*>(len_bytes), 8);
  uint64_t header_len = 0;
  for (int k = 0; k < 8; ++k) header_len |= static_cast<uint64_t>(len_bytes[k]) << (8 * k);
  if (header_len > file_size - 8) Fail(path, "safetensors header length " + std::to_string(header_len) + " exceeds the file");
  // The format's own reader refuses headers above 100 MB; ours are a few KB.
  if (header_len > 100000000)
    Fail(path, "safetensors header of " + std::to_string(header_len) + " bytes (at most 100 MB)");
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));
  const Json root = JsonParser(path, header).Parse();
  if (root.kind != Json::Kind::kObject) Fail(path, "safetensors header is not a JSON object");
  const uint64_t data_start = 8 + header_len, data_size = file_size - data_start;
  Checkpoint out;
  struct SafetensorsEntry {
    std::string name;
    torch::Dtype dtype;
    std::vector<int64_t> shape;
    uint64_t begin, end;
  };
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, entry] : root.members) {
    if (name == "__metadata__") {
      for (const auto& [k, v] : entry.members) {
        if (v.kind != Json::Kind::kString) Fail(path, "__metadata__." + k + " is not a string");
        out.metadata[k] = v.s;
      }
      continue;
    }
    auto field = [&](const char* f) -> const Json& {
      for (const auto& m : entry.members) {
        if (m.first == f) return m.second;
      }
      Fail(path, "tensor '" + name + "' has no " + f);
    };
    const Json& dtype_json = field("dtype");
    torch::Dtype dtype = torch::kFloat32;
    bool known = false;
    for (const auto& [code, t] : SafetensorsDtypes()) {
      if (code == dtype_json.s) {
        dtype = t;
        known = true;
      }
    }
    if (!known) Fail(path, "tensor '" + name + "' has unsupported dtype '" + dtype_json.s + "'");
    std::vector<int64_t> shape;
    for (const Json& d : field("shape").items) {
      if (d.kind != Json::Kind::kNumber || !(d.number >= 0 && d.number <= 9007199254740992.0) ||
          d.number != static_cast<double>(static_cast<int64_t>(d.number))) {
        Fail(path, "tensor '" + name + "' has a shape entry that is not a non-negative integer");
      }
      shape.push_back(static_cast<int64_t>(d.number));
    }
    const Json& offsets = field("data_offsets");
    if (offsets.items.size() != 2) Fail(path, "tensor '" + name + "' data_offsets must have two entries");
    for (const Json& o : offsets.items) {
      if (o.kind != Json::Kind::kNumber || !(o.number >= 0 && o.number <= 9007199254740992.0) ||
          o.number != static_cast<double>(static_cast<uint64_t>(o.number))) {
        Fail(path, "tensor '" + name + "' data_offsets must be non-negative integers");
      }
    }
    const auto begin = static_cast<uint64_t>(offsets.items[0].number), end = static_cast<uint64_t>(offsets.items[1].number);
    uint64_t need = c10::elementSize(dtype);
    bool overflow = false;
    for (const int64_t d : shape) overflow = overflow || __builtin_mul_overflow(need, static_cast<uint64_t>(d), &need);
    if (overflow || end < begin || end > data_size || end - begin != need) {
      Fail(path, "tensor '" + name + "' data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                     ") do not fit shape " + c10::str(torch::IntArrayRef(shape)) + " (" +
                     (overflow ? std::string("overflowing") : std::to_string(need)) + " bytes) in a data section of " +
                     std::to_string(data_size) + " bytes");
    }
    entries.push_back({name, dtype, shape, begin, end});
  }
  // Tensors own disjoint byte ranges (the format's rule): overlapping ranges would let a small file ask for its
  // data section many times over.
  std::vector<const SafetensorsEntry*> by_offset;
  for (const SafetensorsEntry& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const SafetensorsEntry* a, const SafetensorsEntry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    if (by_offset[i]->begin < by_offset[i - 1]->end) {
      Fail(path,
           "tensors '" + by_offset[i - 1]->name + "' and '" + by_offset[i]->name + "' overlap in the data section");
    }
  }
  for (const SafetensorsEntry& e : entries) {
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype));
    in.seekg(static_cast<std::streamoff>(data_start + e.begin));
    in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(e.end - e.begin));
    if (!in) Fail(path, "short read of tensor '" + e.name + "'");
    out.tensors.emplace_back(e.name, t);
  }
  return out;
}

Checkpoint ReadCheckpoint(const std::string& path) {
  const std::string head = ReadPrefix(path, 9);
  if (head.size() >= 4 && head.compare(0, 4, std::string("PK\x03\x04", 4)) == 0) return ReadTorchZip(path);
  if (head.size() == 9 && head[8] == '{') return ReadSafetensors(path);
  if (!head.empty() && static_cast<uint8_t>(head[0]) == 0x80) return ReadTorchZip(path);  // legacy format
  Fail(path, "neither a torch.save zip archive nor a safetensors file");
}

void WriteSafetensors(const std::string& path, const StateDict& tensors,
                      const std::map<std::string, std::string>& metadata) {
  if (!IsLittleEndianHost()) Fail(path, "writing safetensors needs a little-endian host");
  std::string header = "{";
  bool first = true;
  if (!metadata.empty()) {
    header += "\"__metadata__\":{";
    for (const auto& [k, v] : metadata) {
      header += (first ? "" : ",") + JsonQuote(k) + ":" + JsonQuote(v);
      first = false;
    }
    header += "}";
  }
  std::vector<torch::Tensor> data;
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    if (name == "__metadata__" || !names.insert(name).second) Fail(path, "duplicate or reserved tensor name '" + name + "'");
    std::string code;
    for (const auto& [c, t] : SafetensorsDtypes()) {
      if (t == tensor.scalar_type()) code = c;
    }
    if (code.empty()) Fail(path, "tensor '" + name + "' has a dtype safetensors cannot hold");
    torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(t.numel()) * t.element_size();
    header += std::string(first ? "" : ",") + JsonQuote(name) + ":{\"dtype\":\"" + code + "\",\"shape\":[";
    for (int64_t d = 0; d < t.dim(); ++d) header += (d ? "," : "") + std::to_string(t.size(d));
    header += "],\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) + "]}";
    first = false;
    offset += bytes;
    data.push_back(t);
  }
  header += "}";
  while (header.size() % 8 != 0) header += ' ';  // keeps the data section 8-byte aligned
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) Fail(tmp, "cannot open for writing");
    uint8_t len[8];
    for (int k = 0; k < 8; ++k) len[k] = static_cast<uint8_t>(static_cast<uint64_t>(header.size()) >> (8 * k));
    out.write(reinterpret_cast<const char*>(len), 8);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (const torch::Tensor& t : data) {
      out.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * t.element_size()));
    }
    out.flush();
    if (!out) Fail(tmp, "write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) Fail(path, "cannot rename " + tmp + " into place");
}

StateDict ModuleStateDict(const torch::nn::Module& module) {
  StateDict out;
  for (const auto& p : module.named_parameters()) out.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers()) out.emplace_back(b.key(), b.value());
  return out;
}

LoadReport LoadStateDict(torch::nn::Module& module, const StateDict& tensors, const LoadOptions& options,
                         const std::string& source) {
  std::map<std::string, torch::Tensor> by_name;
  std::vector<std::string> order;
  for (const auto& [raw, tensor] : tensors) {
    std::string name = raw;
    for (bool stripped = true; stripped;) {
      stripped = false;
      for (const std::string& prefix : options.strip_prefixes) {
        if (!prefix.empty() && name.rfind(prefix, 0) == 0) {
          name = name.substr(prefix.size());
          stripped = true;
        }
      }
    }
    if (by_name.count(name)) throw std::runtime_error(source + ": key '" + name + "' appears twice");
    by_name[name] = tensor;
    order.push_back(name);
  }
  LoadReport report;
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : ModuleStateDict(module)) {
    const auto it = by_name.find(name);
    if (it == by_name.end()) {
      bool optional = options.allow_missing_num_batches_tracked &&
                      name.size() >= 20 && name.compare(name.size() - 20, 20, ".num_batches_tracked") == 0;
      for (const std::string& prefix : options.optional_prefixes) optional = optional || name.rfind(prefix, 0) == 0;
      if (!optional) {
        throw std::runtime_error(source + ": missing key '" + name + "' (module expects shape " +
                                 c10::str(target.sizes()) + ")");
      }
      report.missing.push_back(name);
      continue;
    }
    const torch::Tensor& value = it->second;
    if (value.sizes() != target.sizes()) {
      throw std::runtime_error(source + ": key '" + name + "' has shape " + c10::str(value.sizes()) +
                               " in the checkpoint, the module expects " + c10::str(target.sizes()));
    }
    if (options.require_finite && value.is_floating_point()) {
      const int64_t bad = value.numel() - torch::isfinite(value).sum().item<int64_t>();
      if (bad > 0) {
        throw std::runtime_error(source + ": key '" + name + "' holds " + std::to_string(bad) + " NaN or Inf value" +
                                 (bad == 1 ? "" : "s") + " of " + std::to_string(value.numel()) +
                                 " (a diverged or damaged model); refusing to load it");
      }
    }
    target.copy_(value.to(target.device(), target.scalar_type()));
    used.insert(name);
    report.loaded.push_back(name);
  }
  for (const std::string& name : order) {
    if (!used.count(name)) report.unexpected.push_back(name);
  }
  return report;
}

}  // namespace gcl::models
