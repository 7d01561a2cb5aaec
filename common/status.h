// Error-handling helpers over absl::Status / absl::StatusOr, Coral's error type.
// Recoverable errors are values; these macros keep the early returns short.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CORAL_STATUS_CONCAT_INNER_(a, b) a##b
#define CORAL_STATUS_CONCAT_(a, b) CORAL_STATUS_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` (an absl::Status) is not OK.
#define CORAL_RETURN_IF_ERROR(expr)                \
  do {                                             \
    ::absl::Status coral_status_ = (expr);         \
    if (!coral_status_.ok()) return coral_status_; \
  } while (0)

// `CORAL_ASSIGN_OR_RETURN(auto x, f());` assigns the value or returns the error.
#define CORAL_ASSIGN_OR_RETURN(lhs, expr) \
  CORAL_ASSIGN_OR_RETURN_IMPL_(CORAL_STATUS_CONCAT_(coral_statusor_, __LINE__), lhs, expr)
#define CORAL_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

namespace coral {

// Prefixes an error's message with context, keeping its code.
inline absl::Status annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), std::string(context) + ": " + std::string(status.message()));
}

}  // namespace coral
