// Graded decode errors (RFC 7606). Every problem found while decoding or validating a
// message becomes a WireError carrying the action RFC 7606 asks for and the NOTIFICATION
// (code, subcode, data) to send if the session is reset. The strongest action wins.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace coral::bgp {

// Ordered from weakest to strongest; comparisons pick the strongest.
enum class ErrorAction : uint8_t {
  kNone = 0,
  kAttributeDiscard = 1,  // drop the attribute, keep the routes
  kTreatAsWithdraw = 2,   // withdraw every prefix the UPDATE carried
  kAfiSafiDisable = 3,    // stop using the AFI/SAFI on this session (or reset)
  kSessionReset = 4,      // send the NOTIFICATION and close the session
};

std::string_view errorActionName(ErrorAction action);

struct WireError {
  ErrorAction action = ErrorAction::kSessionReset;
  uint8_t code = 0;     // NOTIFICATION error code (RFC 4271 4.5)
  uint8_t subcode = 0;  // NOTIFICATION error subcode
  std::vector<uint8_t> data;
  std::string reason;  // for people: what was wrong with which input
  // For kAfiSafiDisable: the family to stop using (0/0 otherwise).
  uint16_t afi = 0;
  uint8_t safi = 0;

  friend bool operator==(const WireError&, const WireError&) = default;
};

using WireErrors = std::vector<WireError>;

// The strongest action among `errors` (kNone when empty).
ErrorAction strongestAction(const WireErrors& errors);
// The first error with the strongest action, or nullptr when there is none.
const WireError* strongestError(const WireErrors& errors);

// "session-reset (3/11): AS_PATH segment overruns the attribute"
std::string formatError(const WireError& error);

}  // namespace coral::bgp
