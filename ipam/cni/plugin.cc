// coral-ipam command handling: ADD / DEL / CHECK / VERSION over ipam::Ipam; see plugin.h.
#include "ipam/cni/plugin.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "common/strings.h"
#include "datastore/backend.h"
#include "datastore/resource_store.h"
#include "ipam/ipam.h"

namespace coral::ipam::cni {
namespace {

const std::vector<std::string> kSupportedVersions = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"};

struct Failure {
  int code;
  std::string msg;
  std::string details;
};

Response errorResponse(const std::string& version, const Failure& f) {
  model::Json j = {
      {"cniVersion", version.empty() ? "1.0.0" : version}, {"code", f.code}, {"msg", f.msg}};
  if (!f.details.empty()) j["details"] = f.details;
  return {1, j.dump()};
}

int codeOf(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kFailedPrecondition:
      return kNoAddressAvailable;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kDeadlineExceeded:
      return kTryAgainLater;
    case absl::StatusCode::kInvalidArgument:
      return kInvalidNetworkConfig;
    default:
      return kDatastoreError;
  }
}

std::string env(const Request& r, const char* key) {
  auto it = r.env.find(key);
  return it == r.env.end() ? "" : it->second;
}

// CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web-1".
std::map<std::string, std::string> parseCniArgs(const std::string& text) {
  std::map<std::string, std::string> out;
  for (auto part : split(text, ';', /*skip_empty=*/true)) {
    const auto eq = part.find('=');
    if (eq != std::string_view::npos) out[std::string(part.substr(0, eq))] = part.substr(eq + 1);
  }
  return out;
}

struct Config {
  std::string version;
  std::string datastore;
  std::string node;
  bool ipv4 = true;
  bool ipv6 = false;
  std::vector<std::string> ipv4_pools, ipv6_pools;
  bool host_prefix = false;  // "address_prefix": "host" → /32, /128; "pool" (default)
  std::vector<common::IpAddress> gateways;  // "gateway": returned, never allocated
  std::vector<common::Prefix> exclude;      // "exclude": addresses or CIDRs never allocated
  model::Json routes = model::Json::array();
  model::Json prev_result;
};

std::optional<Failure> readConfig(const Request& r, const model::Json& j, Config& c) {
  if (!j.is_object())
    return Failure{kDecodeFailure, "network configuration is not a JSON object", ""};
  c.version = j.value("cniVersion", "");
  if (std::find(kSupportedVersions.begin(), kSupportedVersions.end(), c.version) ==
      kSupportedVersions.end()) {
    return Failure{kIncompatibleVersion,
                   fmt::format("cniVersion \"{}\" is not supported", c.version),
                   fmt::format("supported: {}", join(kSupportedVersions, ", "))};
  }
  if (!j.contains("ipam") || !j["ipam"].is_object()) {
    return Failure{kInvalidNetworkConfig, "network configuration has no \"ipam\" object", ""};
  }
  const auto& ipam = j["ipam"];
  try {
    c.datastore = ipam.value("datastore", env(r, "CORAL_DATASTORE"));
    c.node = ipam.value("nodename", env(r, "CORAL_NODENAME"));
    c.ipv4 = ipam.value("assign_ipv4", true);
    c.ipv6 = ipam.value("assign_ipv6", false);
    c.ipv4_pools = ipam.value("ipv4_pools", std::vector<std::string>{});
    c.ipv6_pools = ipam.value("ipv6_pools", std::vector<std::string>{});
    if (ipam.contains("routes")) c.routes = ipam["routes"];
    const std::string prefix = ipam.value("address_prefix", "pool");
    if (prefix != "pool" && prefix != "host") {
      return Failure{kInvalidNetworkConfig,
                     fmt::format("ipam.address_prefix \"{}\" is not \"pool\" or \"host\"", prefix),
                     ""};
    }
    c.host_prefix = prefix == "host";
    // "gateway": one address, or one per family: ["10.9.0.1", "fd00:9::1"].
    std::vector<std::string> gateways;
    if (ipam.contains("gateway")) {
      if (ipam["gateway"].is_string()) {
        gateways.push_back(ipam["gateway"]);
      } else {
        gateways = ipam["gateway"].get<std::vector<std::string>>();
      }
    }
    for (const auto& text : gateways) {
      auto gw = common::IpAddress::parse(text);
      if (!gw.ok()) {
        return Failure{kInvalidNetworkConfig,
                       fmt::format("ipam.gateway \"{}\" is not an IP address", text),
                       std::string(errorMessage(gw.status()))};
      }
      c.gateways.push_back(*gw);
    }
    for (const auto& text : ipam.value("exclude", std::vector<std::string>{})) {
      absl::StatusOr<common::Prefix> p = common::Prefix::parse(text);
      if (text.find('/') == std::string::npos) {
        auto address = common::IpAddress::parse(text);
        p = address.ok() ? absl::StatusOr<common::Prefix>(common::Prefix::host(*address))
                         : absl::StatusOr<common::Prefix>(address.status());
      }
      if (!p.ok()) {
        return Failure{kInvalidNetworkConfig,
                       fmt::format("ipam.exclude \"{}\" is not an address or CIDR", text),
                       std::string(errorMessage(p.status()))};
      }
      c.exclude.push_back(*p);
    }
  } catch (const model::Json::exception& e) {
    return Failure{kInvalidNetworkConfig, "invalid \"ipam\" section", e.what()};
  }
  if (!c.routes.is_array()) {
    return Failure{kInvalidNetworkConfig, "ipam.routes must be a list of {\"dst\", \"gw\"}", ""};
  }
  if (c.datastore.empty()) c.datastore = std::string(datastore::kDefaultDatastoreUrl);
  if (c.node.empty()) {
    char host[256] = {};
    if (::gethostname(host, sizeof(host) - 1) == 0) c.node = host;
  }
  if (!c.ipv4 && !c.ipv6) {
    return Failure{kInvalidNetworkConfig, "ipam: assign_ipv4 and assign_ipv6 are both false", ""};
  }
  if (j.contains("prevResult")) c.prev_result = j["prevResult"];
  return std::nullopt;
}

model::Json ipEntry(const Config& c, const Assignment& a) {
  // The pool's prefix length by default: the L2 plugins (macvlan, bridge) then reach the
  // pool's other addresses on the link and the kernel has a connected route for CHECK.
  const int length = c.host_prefix ? a.address.bitLength() : a.pool_cidr.length();
  model::Json ip = {{"address", fmt::format("{}/{}", a.address.toString(), length)}};
  if (c.version != "1.0.0") ip["version"] = a.address.isV4() ? "4" : "6";
  for (const auto& gw : c.gateways) {
    if (gw.family() == a.address.family()) ip["gateway"] = gw.toString();
  }
  return ip;
}

}  // namespace

Response handle(const Request& r) {
  const std::string command = env(r, "CNI_COMMAND");
  if (command == "VERSION") {
    model::Json j = {{"cniVersion", "1.0.0"}, {"supportedVersions", kSupportedVersions}};
    return {0, j.dump()};
  }
  auto json = model::Json::parse(r.stdin_config, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return errorResponse("", {kDecodeFailure, "network configuration on stdin is not JSON", ""});
  }
  Config c;
  if (auto f = readConfig(r, json, c)) return errorResponse(c.version, *f);
  if (command != "ADD" && command != "DEL" && command != "CHECK") {
    return errorResponse(c.version, {kInvalidEnvironment,
                                     fmt::format("CNI_COMMAND \"{}\" is not ADD, DEL, CHECK or "
                                                 "VERSION",
                                                 command),
                                     ""});
  }
  const std::string container = env(r, "CNI_CONTAINERID");
  const std::string ifname = env(r, "CNI_IFNAME");
  if (container.empty() || ifname.empty()) {
    return errorResponse(c.version,
                         {kInvalidEnvironment, "CNI_CONTAINERID and CNI_IFNAME must be set", ""});
  }
  auto backend = datastore::openBackend(c.datastore);
  if (!backend.ok()) {
    return errorResponse(c.version,
                         {kTryAgainLater, fmt::format("cannot open datastore {}", c.datastore),
                          std::string(errorMessage(backend.status()))});
  }
  datastore::ResourceStore store(**backend);
  Ipam ipam(store);
  const std::string handle = handleIdFor(container, ifname);

  if (command == "DEL") {
    auto s = ipam.releaseHandle(handle);
    if (!s.ok()) {
      return errorResponse(c.version, {codeOf(s), fmt::format("release of {} failed", handle),
                                       std::string(errorMessage(s))});
    }
    return {0, ""};
  }
  if (command == "CHECK") {
    auto held = ipam.addressesOf(handle);
    if (!held.ok()) {
      return errorResponse(c.version, {codeOf(held.status()), "datastore read failed",
                                       std::string(errorMessage(held.status()))});
    }
    if (held->empty()) {
      return errorResponse(
          c.version, {kAllocationMissing, fmt::format("handle {} holds no address", handle), ""});
    }
    if (c.prev_result.is_object() && c.prev_result.contains("ips")) {
      for (const auto& ip : c.prev_result["ips"]) {
        const std::string addr = ip.value("address", "");
        // "10.77.0.1/24": the address before the length (parseLoose would clear host bits).
        auto address = common::IpAddress::parse(addr.substr(0, addr.find('/')));
        const bool found =
            address.ok() && std::any_of(held->begin(), held->end(),
                                        [&](const Assignment& a) { return a.address == *address; });
        if (!found) {
          return errorResponse(
              c.version,
              {kAllocationMissing,
               fmt::format("prevResult address {} is not held by {}", addr, handle), ""});
        }
      }
    }
    return {0, ""};
  }

  AssignRequest req;
  req.handle_id = handle;
  req.node = c.node;
  req.ipv4 = c.ipv4;
  req.ipv6 = c.ipv6;
  req.ipv4_pools = c.ipv4_pools;
  req.ipv6_pools = c.ipv6_pools;
  req.attributes[kAttrContainerId] = container;
  // No Pod or WorkloadEndpoint will ever name this allocation: tell check and GC that its
  // release is CNI DEL, not a missing workload (see ipam/README.md).
  req.attributes[kAttrOwner] = kOwnerCoralIpam;
  // The L2 plugins use the pool's prefix as the link's subnet: its network and broadcast
  // addresses are not host addresses. The gateway is the bridge's or the router's.
  req.skip_pool_edges = !c.host_prefix;
  req.reserved = c.exclude;
  for (const auto& gw : c.gateways) req.reserved.push_back(common::Prefix::host(gw));
  const auto args = parseCniArgs(env(r, "CNI_ARGS"));
  if (auto it = args.find("K8S_POD_NAMESPACE"); it != args.end()) {
    req.attributes[kAttrNamespace] = it->second;
  }
  if (auto it = args.find("K8S_POD_NAME"); it != args.end()) req.attributes[kAttrPod] = it->second;
  auto result = ipam.autoAssign(req);
  if (!result.ok()) {
    return errorResponse(c.version, {codeOf(result.status()),
                                     fmt::format("no address for {} on node {}", handle, c.node),
                                     std::string(errorMessage(result.status()))});
  }
  model::Json ips = model::Json::array();
  if (result->ipv4) ips.push_back(ipEntry(c, *result->ipv4));
  if (result->ipv6) ips.push_back(ipEntry(c, *result->ipv6));
  model::Json out = {{"cniVersion", c.version},
                     {"ips", ips},
                     {"routes", c.routes},
                     {"dns", model::Json::object()}};
  return {0, out.dump()};
}

}  // namespace coral::ipam::cni
