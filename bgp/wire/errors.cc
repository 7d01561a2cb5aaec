// Graded decode errors: names and selection of the strongest.
#include "bgp/wire/errors.h"

#include <fmt/format.h>

namespace coral::bgp {

std::string_view errorActionName(ErrorAction action) {
  switch (action) {
    case ErrorAction::kNone:
      return "none";
    case ErrorAction::kAttributeDiscard:
      return "attribute-discard";
    case ErrorAction::kTreatAsWithdraw:
      return "treat-as-withdraw";
    case ErrorAction::kAfiSafiDisable:
      return "afi-safi-disable";
    case ErrorAction::kSessionReset:
      return "session-reset";
  }
  return "unknown";
}

ErrorAction strongestAction(const WireErrors& errors) {
  const WireError* e = strongestError(errors);
  return e == nullptr ? ErrorAction::kNone : e->action;
}

const WireError* strongestError(const WireErrors& errors) {
  const WireError* best = nullptr;
  for (const WireError& e : errors) {
    if (best == nullptr || e.action > best->action) best = &e;
  }
  return best;
}

std::string formatError(const WireError& error) {
  return fmt::format("{} ({}/{}): {}", errorActionName(error.action), error.code, error.subcode,
                     error.reason);
}

}  // namespace coral::bgp
