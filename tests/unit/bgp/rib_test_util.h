// Builders shared by the RIB tests: sources, attribute sets and paths in one line each.
#pragma once

#include <memory>
#include <string>

#include "bgp/rib/path.h"
#include "common/ip.h"

namespace coral::bgp::testing {

inline common::IpAddress ip(const std::string& s) { return *common::IpAddress::parse(s); }
inline common::Prefix pfx(const std::string& s) { return *common::Prefix::parse(s); }

inline PathSourcePtr peer(uint32_t id, const std::string& address, uint32_t as, bool ebgp,
                          uint32_t router_id = 0) {
  auto s = std::make_shared<PathSource>();
  s->id = id;
  s->address = ip(address);
  s->peer_as = as;
  s->ebgp = ebgp;
  s->router_id = router_id ? router_id : ip(address).v4Value();
  s->name = address;
  return s;
}

inline PathAttributes attrs(std::initializer_list<uint32_t> as_path,
                            const std::string& nh = "192.0.2.1") {
  PathAttributes a;
  a.origin = Origin::kIgp;
  a.as_path = AsPath{};
  if (as_path.size() > 0) a.as_path->segments.push_back({AsSegmentType::kSequence, as_path});
  a.next_hop = ip(nh);
  return a;
}

inline Path path(const PathSourcePtr& source, const PathAttributes& a, uint32_t weight = 0) {
  return Path{std::make_shared<const PathAttributes>(a), source, weight, false};
}

}  // namespace coral::bgp::testing
