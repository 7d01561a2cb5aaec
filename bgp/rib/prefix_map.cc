// PrefixMap helpers that need common::Prefix's factory.
#include "bgp/rib/prefix_map.h"

namespace coral::bgp {

common::Prefix prefixOf(const V4Key& key) {
  // The key was made from a valid prefix: the length is in range, host bits are clear.
  return *common::Prefix::make(common::IpAddress::v4(key.address), key.length);
}

}  // namespace coral::bgp
