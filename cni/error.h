// CNI errors as the shim prints them: the spec's error codes, the CniError value and
// CniOr<T>, a value-or-CniError carrier for the pure parsing and formatting layer.
// The printed form is `{"cniVersion", "code", "msg", "details"}` on stdout, exit status 1.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace coral::cni {

// Error codes of the CNI spec (1.0.0 section "Error"; 50/51 from 1.1.0's STATUS).
// 100 and above are Coral's own and come from corald.
enum ErrorCode : uint32_t {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnvironment = 4,
  kIoFailure = 5,
  kDecodingFailure = 6,
  kInvalidNetworkConfig = 7,
  kTryAgainLater = 11,
  kPluginNotAvailable = 50,
  kPluginNotAvailableLimitedConnectivity = 51,
};

struct CniError {
  uint32_t code = 0;
  std::string msg;
  std::string details;

  friend bool operator==(const CniError&, const CniError&) = default;
};

inline CniError makeError(uint32_t code, std::string msg, std::string details = {}) {
  return CniError{code, std::move(msg), std::move(details)};
}

// The error as CNI JSON, tagged with `cni_version` (the request's version when it is
// known and supported, otherwise the newest this shim speaks).
std::string formatError(const CniError& error, std::string_view cni_version);

// A value or a CniError. Small on purpose: the shim's layer is a few functions deep.
template <typename T>
class CniOr {
 public:
  CniOr(T value) : v_(std::move(value)) {}         // NOLINT: implicit like StatusOr
  CniOr(CniError error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const CniError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, CniError> v_;
};

}  // namespace coral::cni
