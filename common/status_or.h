// gcl::StatusOr<T>: a value of type T, or a message that says why there is none.
//
// For functions that check untrusted input (a decoded message, a file) and whose callers are expected to handle
// a failure rather than unwind through it, e.g. an actor that answers a malformed request with a caf::error.
//
//   gcl::StatusOr<at::Tensor> t = gcl::proto::DecodeTensor(message);
//   if (!t.ok()) return caf::make_error(caf::sec::invalid_argument, t.error());
//   Use(*t);
//
// value() (and operator*, operator->) on an error throws std::runtime_error carrying the message, so a caller that
// forgets to check gets a clear exception, never undefined behaviour. Functions that cannot fail on their input
// return plain values and throw on programming errors instead.
#ifndef GCL_COMMON_STATUS_OR_H_
#define GCL_COMMON_STATUS_OR_H_

#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace gcl {

// The error half of a StatusOr: a human-readable message naming the field and the problem.
struct Error {
  std::string message;
};

// Makes an Error; `return gcl::MakeError("shape[2] is negative");` converts to any StatusOr<T>.
inline Error MakeError(std::string message) { return Error{std::move(message)}; }

template <class T>
class StatusOr {
 public:
  static_assert(!std::is_same<std::decay_t<T>, Error>::value, "StatusOr<Error> is ambiguous");

  StatusOr(T value) : state_(std::in_place_index<0>, std::move(value)) {}      // NOLINT: implicit by design
  StatusOr(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // The error message; empty when ok().
  const std::string& error() const {
    static const std::string kNone;
    return ok() ? kNone : std::get<1>(state_).message;
  }

  const T& value() const& {
    CheckOk();
    return std::get<0>(state_);
  }
  T& value() & {
    CheckOk();
    return std::get<0>(state_);
  }
  T&& value() && {
    CheckOk();
    return std::get<0>(std::move(state_));
  }

  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  void CheckOk() const {
    if (!ok()) throw std::runtime_error(std::get<1>(state_).message);
  }

  std::variant<T, Error> state_;
};

}  // namespace gcl

#endif  // GCL_COMMON_STATUS_OR_H_
