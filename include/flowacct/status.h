// File: flowacct/status.h
//
// Status and Result<T>: how every fallible libflowacct call reports failure.
// No exception crosses a libflowacct boundary; calls that can fail return one
// of these. Both are [[nodiscard]].
//
//   flowacct::Result<std::unique_ptr<Decoder>> decoder = Decoder::Create(opts);
//   if (!decoder.ok()) {
//     std::cerr << decoder.status().ToString() << "\n";
//     return 1;
//   }
//   (*decoder)->Decode(datagram, &batch);
//
// Code conventions (docs/errors.md):
//   kInvalidArgument    malformed or truncated input, bad option values
//   kFailedPrecondition state does not allow the call (e.g. unknown template)
//   kUnimplemented      unsupported version / set / feature
//   kResourceExhausted  a configured cap was hit
//   kNotFound           a looked-up entity does not exist
//   kIoError            a file or socket operation failed (io/ and daemon only)
//   kUnavailable        a server (database, broker) cannot be reached or
//                       dropped the connection: transient, retry later
//   kInternal           a bug in libflowacct
//
// Thread-safety: value types; distinct objects may be used concurrently.

#ifndef FLOWACCT_STATUS_H_
#define FLOWACCT_STATUS_H_

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace flowacct {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,
  kFailedPrecondition,
  kUnimplemented,
  kResourceExhausted,
  kNotFound,
  kIoError,
  kInternal,
  kUnavailable,
};

// Returns "OK", "INVALID_ARGUMENT", ...
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // An OK status.
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "OK" or "<CODE>: <message>".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgumentError(std::string msg) {
  return Status(StatusCode::kInvalidArgument, std::move(msg));
}
inline Status FailedPreconditionError(std::string msg) {
  return Status(StatusCode::kFailedPrecondition, std::move(msg));
}
inline Status UnimplementedError(std::string msg) {
  return Status(StatusCode::kUnimplemented, std::move(msg));
}
inline Status ResourceExhaustedError(std::string msg) {
  return Status(StatusCode::kResourceExhausted, std::move(msg));
}
inline Status NotFoundError(std::string msg) {
  return Status(StatusCode::kNotFound, std::move(msg));
}
inline Status IoError(std::string msg) {
  return Status(StatusCode::kIoError, std::move(msg));
}
inline Status InternalError(std::string msg) {
  return Status(StatusCode::kInternal, std::move(msg));
}
inline Status UnavailableError(std::string msg) {
  return Status(StatusCode::kUnavailable, std::move(msg));
}

// Either a T or a non-OK Status.
//
// REQUIRES: a Result is never constructed from an OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : value_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(value_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(value_); }

  // The error, or an OK status when a value is held.
  Status status() const {
    return ok() ? Status::Ok() : std::get<Status>(value_);
  }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(value_); }
  const T& value() const& { return std::get<T>(value_); }
  T&& value() && { return std::get<T>(std::move(value_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace flowacct

#endif  // FLOWACCT_STATUS_H_
