// The pod result the coral-cni tests use everywhere: what corald answers for a dual-stack
// pod (host veth end, pod eth0, /32 and /128, routes via 169.254.1.1 and fe80::1, DNS).
#pragma once

#include "cni/result.h"

namespace coral::cni::testing {

inline Result podResult(const std::string& netns = "/var/run/netns/pod1") {
  Result r;
  r.interfaces.push_back({"cor3f2a9c41d0e", "ee:ee:ee:ee:ee:ee", "", 1500});
  r.interfaces.push_back({"eth0", "0a:58:0a:f4:01:05", netns, 1500});
  r.ips.push_back({"10.244.1.5/32", "169.254.1.1", 1});
  r.ips.push_back({"fd00:10:244:1::5/128", "fe80::ecee:eeff:feee:eeee", 1});
  r.routes.push_back({"0.0.0.0/0", "169.254.1.1"});
  r.routes.push_back({"::/0", "fe80::ecee:eeff:feee:eeee"});
  r.dns.nameservers = {"10.96.0.10"};
  r.dns.search = {"shop.svc.cluster.local", "svc.cluster.local"};
  r.dns.options = {"ndots:5"};
  return r;
}

}  // namespace coral::cni::testing
