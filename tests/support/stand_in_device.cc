#include "tests/support/stand_in_device.h"

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/core/stack.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/library.h>

#include <array>
#include <atomic>
#include <string>
#include <utility>
#include <vector>

namespace gcl::testing {
namespace {

constexpr c10::DeviceType kStandInType = c10::DeviceType::XPU;
constexpr c10::DispatchKey kStandInKey = c10::DispatchKey::XPU;

std::atomic<int64_t> g_operations{0};

const c10::Device& StandIn() {
  static const c10::Device device(kStandInType, 0);
  return device;
}

// A Storage over the same bytes as `from` that reports `device`. It keeps `from` alive. `resizable` storages get
// the CPU allocator, so that a CPU kernel may grow an output it was handed (the new bytes are then its own).
c10::Storage SameBytes(const c10::Storage& from, c10::Device device, bool resizable) {
  auto* keep = new c10::Storage(from);
  c10::DataPtr ptr(const_cast<void*>(from.data()), keep,
                   [](void* ctx) { delete static_cast<c10::Storage*>(ctx); }, device);
  return c10::Storage(c10::Storage::use_byte_size_t(), from.nbytes(), std::move(ptr),
                      resizable ? c10::GetAllocator(c10::kCPU) : nullptr, resizable);
}

at::Tensor TensorOn(c10::Storage storage, c10::DispatchKey key, const at::Tensor& geometry) {
  at::Tensor t = at::detail::make_tensor<c10::TensorImpl>(std::move(storage), c10::DispatchKeySet(key),
                                                          geometry.dtype());
  t.unsafeGetTensorImpl()->set_sizes_and_strides(geometry.sizes(), geometry.strides(), geometry.storage_offset());
  return t;
}

// A CPU tensor over a stand-in tensor's bytes, for the CPU kernel.
at::Tensor CpuView(const at::Tensor& stand_in) {
  return TensorOn(SameBytes(stand_in.storage(), c10::Device(c10::kCPU), /*resizable=*/true), c10::DispatchKey::CPU,
                  stand_in);
}

// After a CPU kernel ran on `cpu_view`, `original` takes over what it did to the view's geometry or storage
// (out= arguments that were resized, in-place view operations).
void TakeOver(const at::Tensor& original, const at::Tensor& cpu_view) {
  c10::TensorImpl* impl = original.unsafeGetTensorImpl();
  if (cpu_view.storage().data() != original.storage().data() ||
      cpu_view.storage().nbytes() != original.storage().nbytes()) {
    impl->set_storage_keep_dtype(SameBytes(cpu_view.storage(), StandIn(), /*resizable=*/false));
  }
  if (cpu_view.sizes() != original.sizes() || cpu_view.strides() != original.strides() ||
      cpu_view.storage_offset() != original.storage_offset()) {
    impl->set_sizes_and_strides(cpu_view.sizes(), cpu_view.strides(), cpu_view.storage_offset());
  }
}

bool IsCopy(const std::string& op) {
  return op == "aten::copy_" || op == "aten::_copy_from" || op == "aten::_copy_from_and_resize";
}

struct Argument {
  at::Tensor original;  // what the caller passed
  at::Tensor passed;    // what the CPU kernel got: a CPU view of a stand-in tensor, or the CPU tensor itself
};

// Every operation on stand-in tensors arrives here (a boxed fallback for the XPU dispatch key): stand-in tensors
// become CPU views of the same bytes, the CPU kernel runs, and its results become stand-in tensors again.
void RunOnCpu(const c10::OperatorHandle& op, c10::DispatchKeySet /*keys*/, torch::jit::Stack* stack) {
  g_operations.fetch_add(1, std::memory_order_relaxed);
  const c10::FunctionSchema& schema = op.schema();
  const std::string& name = schema.name();
  const size_t num_arguments = schema.arguments().size();
  const size_t first = stack->size() - num_arguments;
  std::vector<Argument> tensors;
  bool explicit_cpu_device = false;
  auto to_cpu = [&](const at::Tensor& t) -> at::Tensor {
    if (!t.defined()) return t;
    if (t.device().type() == kStandInType) {
      tensors.push_back({t, CpuView(t)});
      return tensors.back().passed;
    }
    // A GPU refuses the same mix (TensorIterator's device check), except CPU scalars and copies.
    TORCH_CHECK(!t.device().is_cpu() || t.dim() == 0 || IsCopy(name),
                "Expected all tensors to be on the same device, but found at least two devices, ", StandIn(),
                " and cpu! (", name, " on the test's stand-in device, tests/support/stand_in_device.h)");
    tensors.push_back({t, t});
    return t;
  };
  for (size_t i = first; i < stack->size(); ++i) {
    c10::IValue& v = (*stack)[i];
    if (v.isTensor()) {
      v = to_cpu(v.toTensor());
    } else if (v.isTensorList()) {
      c10::List<at::Tensor> list = v.toTensorList();
      for (size_t j = 0; j < list.size(); ++j) list.set(j, to_cpu(list.get(j)));
      v = list;
    } else if (v.isList()) {  // e.g. the optional index tensors of aten::index
      c10::List<c10::IValue> list = v.toList();
      for (size_t j = 0; j < list.size(); ++j) {
        const c10::IValue e = list.get(j);
        if (e.isTensor()) list.set(j, to_cpu(e.toTensor()));
      }
    } else if (v.isStorage()) {  // Tensor::set_(Storage, ...), e.g. when a checkpoint archive reads a tensor back
      const c10::Storage storage = v.toStorage();
      if (storage.device_type() == kStandInType) {
        v = c10::IValue(SameBytes(storage, c10::Device(c10::kCPU), /*resizable=*/true));
      }
    } else if (v.isDevice()) {
      if (v.toDevice().type() == kStandInType) {
        v = c10::IValue(c10::Device(c10::kCPU));
      } else if (v.toDevice().is_cpu()) {
        explicit_cpu_device = true;
      }
    } else if (v.isGenerator()) {
      TORCH_CHECK(!v.toGenerator().device().is_cpu(), name, ": a CPU generator was given for tensors on ", StandIn(),
                  " (a GPU refuses it too)");
    }
  }

  torch::jit::Stack& s = *stack;
  if (name == "aten::_copy_from" || name == "aten::_copy_from_and_resize") {
    // copy_ hands copies that involve a device it does not know to _copy_from(src, dst), which device backends
    // implement; here both sides are host memory.
    const at::Tensor src = s[first].toTensor();
    at::Tensor dst = s[first + 1].toTensor();
    if (name == "aten::_copy_from_and_resize") dst.resize_(src.sizes());
    dst.copy_(src, name == "aten::_copy_from" && s[first + 2].toBool());
    torch::jit::drop(s, num_arguments);
    s.emplace_back(dst);
  } else if (name == "aten::convolution_overrideable") {
    // at::_convolution hands devices it does not know to the *_overrideable operations; the CPU path takes them.
    at::Tensor out =
        at::convolution(s[first].toTensor(), s[first + 1].toTensor(), s[first + 2].toOptional<at::Tensor>(),
                        s[first + 3].toIntVector(), s[first + 4].toIntVector(), s[first + 5].toIntVector(),
                        s[first + 6].toBool(), s[first + 7].toIntVector(), s[first + 8].toInt());
    torch::jit::drop(s, num_arguments);
    s.emplace_back(std::move(out));
  } else if (name == "aten::convolution_backward_overrideable") {
    const at::Tensor weight = s[first + 2].toTensor();
    const bool transposed = s[first + 6].toBool();
    const int64_t groups = s[first + 8].toInt();
    const std::vector<int64_t> bias_sizes{transposed ? weight.size(1) * groups : weight.size(0)};
    auto grads = at::convolution_backward(s[first].toTensor(), s[first + 1].toTensor(), weight, bias_sizes,
                                          s[first + 3].toIntVector(), s[first + 4].toIntVector(),
                                          s[first + 5].toIntVector(), transposed, s[first + 7].toIntVector(), groups,
                                          s[first + 9].to<std::array<bool, 3>>());
    torch::jit::drop(s, num_arguments);
    s.emplace_back(std::move(std::get<0>(grads)));
    s.emplace_back(std::move(std::get<1>(grads)));
    s.emplace_back(std::move(std::get<2>(grads)));
  } else {
    op.redispatchBoxed(c10::DispatchKeySet(c10::DispatchKey::CPU), stack);
  }

  for (const Argument& a : tensors) {
    if (a.original.device().type() == kStandInType) TakeOver(a.original, a.passed);
  }
  auto back = [&](const at::Tensor& t) -> at::Tensor {
    if (!t.defined()) return t;
    for (const Argument& a : tensors) {
      if (t.unsafeGetTensorImpl() == a.passed.unsafeGetTensorImpl()) return a.original;  // in-place, out=
    }
    if (!t.device().is_cpu() || explicit_cpu_device) return t;
    for (const Argument& a : tensors) {
      // A view of an argument: it shares the argument's storage, as views do on any device.
      if (a.original.device().type() == kStandInType && t.storage().data() == a.passed.storage().data() &&
          t.storage().data() != nullptr) {
        return TensorOn(a.original.storage(), kStandInKey, t);
      }
    }
    return TensorOn(SameBytes(t.storage(), StandIn(), /*resizable=*/false), kStandInKey, t);
  };
  const size_t num_returns = schema.returns().size();
  for (size_t i = s.size() - num_returns; i < s.size(); ++i) {
    c10::IValue& v = s[i];
    if (v.isTensor()) {
      v = back(v.toTensor());
    } else if (v.isTensorList()) {
      c10::List<at::Tensor> list = v.toTensorList();
      for (size_t j = 0; j < list.size(); ++j) list.set(j, back(list.get(j)));
      v = list;
    }
  }
}

TORCH_LIBRARY_IMPL(_, XPU, m) { m.fallback(torch::CppFunction::makeFromBoxedFunction<&RunOnCpu>()); }

// These two have a default kernel for every backend (one that throws "not implemented"), so the fallback above
// never sees them unless they are registered for the key by name.
TORCH_LIBRARY_IMPL(aten, XPU, m) {
  m.impl("convolution_overrideable", torch::CppFunction::makeFromBoxedFunction<&RunOnCpu>());
  m.impl("convolution_backward_overrideable", torch::CppFunction::makeFromBoxedFunction<&RunOnCpu>());
}

// Device guards, streams and the autograd engine's per-device worker need a guard implementation for the type.
C10_REGISTER_GUARD_IMPL(XPU, c10::impl::NoOpDeviceGuardImpl<c10::DeviceType::XPU>);

}  // namespace

c10::Device StandInDevice() { return StandIn(); }

int64_t StandInOperationCount() { return g_operations.load(std::memory_order_relaxed); }

}  // namespace gcl::testing
