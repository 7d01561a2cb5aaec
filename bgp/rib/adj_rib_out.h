// Adj-RIB-Out: what one peer has been told, and what it must be told next. The speaker
// sets the exported route of each prefix (or none); flush() packs every pending change
// into UPDATEs — withdrawals together, announcements grouped by their interned attribute
// set — with the wire packer, so one attribute set and many prefixes share few messages.
// Stored compactly (PrefixMap, attribute sets by number).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bgp/rib/prefix_map.h"
#include "bgp/rib/shared_index.h"
#include "bgp/wire/attributes.h"
#include "bgp/wire/context.h"
#include "bgp/wire/packer.h"
#include "common/ip.h"

namespace coral::bgp {

struct FlushResult {
  EncodedMessages messages;
  size_t announced = 0;
  size_t withdrawn = 0;
  std::vector<std::string> errors;  // groups that could not be encoded (not sent)
};

class AdjRibOut {
 public:
  // The route to advertise for `prefix`; nullptr withdraws. Nothing is queued when the
  // peer already has exactly this.
  void set(const common::Prefix& prefix, PathAttributesPtr attrs);
  // Starts loading `prefix`'s place in the tables (see PrefixMap::prefetch).
  void prefetch(const common::Prefix& prefix) const {
    if (!sent_.empty()) sent_.prefetch(prefix);
    if (!pending_.empty()) pending_.prefetch(prefix);
  }
  // Route refresh: everything advertised is sent again on the next flush.
  void resendAll();
  // The session went down: nothing is advertised any more.
  void clear();
  bool hasPending() const { return !pending_.empty(); }
  // Nothing advertised and nothing pending.
  bool empty() const { return sent_.empty() && pending_.empty(); }
  size_t pendingCount() const { return pending_.size(); }
  // Packs the pending changes; at most `max_prefixes` of them (0: all), so a large table
  // goes out in slices the caller can interleave with reading.
  FlushResult flush(const SessionContext& ctx, size_t max_prefixes = 0);

  size_t advertisedCount() const { return sent_.size(); }
  const PathAttributes* advertised(const common::Prefix& prefix) const;
  void forEach(
      const std::function<void(const common::Prefix&, const PathAttributesPtr&)>& fn) const;

 private:
  void eraseSent(const common::Prefix& prefix);

  // What the peer has: 12 bytes per IPv4 route (the attribute set by number).
  PrefixMap<uint32_t> sent_;
  SharedIndex<PathAttributes> sent_attrs_;
  struct Pending {
    common::Prefix prefix;    // kept whole: flushing needs no key conversion
    PathAttributesPtr attrs;  // nullptr: withdraw
  };
  PrefixMap<Pending> pending_;
};

}  // namespace coral::bgp
