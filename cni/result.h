// The CNI ADD result in one version-neutral model (the 1.0.0 shape), parsed from any
// supported version's JSON (a prevResult) and printed in the version a request asks for:
// 0.3.x/0.4.0 tag each ip with "version", 1.0.0 does not, 1.1.0 adds interface "mtu".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cni/error.h"

namespace coral::cni {

struct Interface {
  std::string name;
  std::string mac;
  std::string sandbox;  // the netns path for interfaces in the container, empty on the host
  std::optional<uint32_t> mtu;

  friend bool operator==(const Interface&, const Interface&) = default;
};

struct IpConfig {
  std::string address;           // CIDR: "10.244.0.5/32"
  std::string gateway;           // may be empty
  std::optional<int> interface;  // index into Result::interfaces

  friend bool operator==(const IpConfig&, const IpConfig&) = default;
};

struct Route {
  std::string dst;  // CIDR
  std::string gw;   // may be empty

  friend bool operator==(const Route&, const Route&) = default;
};

struct Dns {
  std::vector<std::string> nameservers;
  std::string domain;
  std::vector<std::string> search;
  std::vector<std::string> options;

  bool empty() const {
    return nameservers.empty() && domain.empty() && search.empty() && options.empty();
  }
  friend bool operator==(const Dns&, const Dns&) = default;
};

struct Result {
  std::vector<Interface> interfaces;
  std::vector<IpConfig> ips;
  std::vector<Route> routes;
  Dns dns;

  bool empty() const { return interfaces.empty() && ips.empty() && routes.empty() && dns.empty(); }
  friend bool operator==(const Result&, const Result&) = default;
};

// Parses a result (e.g. a prevResult) written in `cni_version`'s format. Checks what a
// consumer relies on: addresses are CIDRs, gateways are addresses, interface indexes are in
// range, and in 0.3.x/0.4.0 an ip's "version" matches its address. Errors are code 7
// (invalid network configuration: prevResult is part of it).
CniOr<Result> parseResult(std::string_view json, std::string_view cni_version);

// The result as CNI JSON for `cni_version` (which must be supported), with "cniVersion".
std::string formatResult(const Result& result, std::string_view cni_version);

}  // namespace coral::cni
