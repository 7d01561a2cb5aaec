// Path and PathSource: one route to a prefix as the RIB holds it — the interned attribute
// set plus who it came from (a peer or this speaker) and the local-only knobs (weight,
// stale) that never travel on the wire.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "bgp/wire/attributes.h"
#include "common/ip.h"

namespace coral::bgp {

// Who a path came from. Id 0 is this speaker (locally originated routes).
struct PathSource {
  uint32_t id = 0;
  common::IpAddress address;  // the peer's address; unspecified for local routes
  uint32_t router_id = 0;     // the peer's BGP identifier (host order)
  uint32_t peer_as = 0;
  bool ebgp = false;
  bool rr_client = false;  // we reflect for this iBGP peer (RFC 4456)
  std::string name;        // for people: "10.0.0.2" or "local"

  bool isLocal() const { return id == kLocalId; }
  static constexpr uint32_t kLocalId = 0;
  friend bool operator==(const PathSource&, const PathSource&) = default;
};
using PathSourcePtr = std::shared_ptr<const PathSource>;

// The source of locally originated routes.
PathSourcePtr localSource();

struct Path {
  PathAttributesPtr attrs;
  PathSourcePtr source;
  uint32_t weight = 0;  // local to this speaker; higher wins (set by import policy)
  bool stale = false;   // kept through a peer's graceful restart (RFC 4724)

  uint32_t sourceId() const { return source->id; }
  // Same source and same attributes (pointer-equal after interning, or equal values).
  bool sameAs(const Path& other) const;
  friend bool operator==(const Path& a, const Path& b) { return a.sameAs(b) && a.stale == b.stale; }
};

}  // namespace coral::bgp
