// SessionContext: what the codec must know about the session an UPDATE arrived on or
// is sent on (negotiated 4-octet AS, eBGP or iBGP, the two AS numbers).
#pragma once

#include <cstdint>

namespace coral::bgp {

struct SessionContext {
  bool four_octet_as = true;  // both OPENs carried the 4-octet AS capability (RFC 6793)
  bool is_ebgp = true;
  uint32_t local_as = 0;
  uint32_t peer_as = 0;
  friend bool operator==(const SessionContext&, const SessionContext&) = default;
};

}  // namespace coral::bgp
