#include "agent/cni_handler.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "agent/dataplane/workload.h"
#include "common/log.h"
#include "common/strings.h"

namespace coral::agent {
namespace {

std::string escapeDashes(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '-')
      out += "--";
    else
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

CniFailure failure(uint32_t code, std::string msg, const absl::Status& status = absl::OkStatus()) {
  return CniFailure{code, std::move(msg), status.ok() ? "" : std::string(errorMessage(status))};
}

bool datastoreDown(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s);
}

std::string podOf(const CniCall& call) {
  return fmt::format("{}/{}", call.pod_namespace,
                     call.pod_name.empty() ? call.container_id.substr(0, 12) : call.pod_name);
}

// The datastore cannot be reached: the message names it and its reason, so the runtime's
// event says why at a glance (the runtime shows msg, not details), and the code is CNI's
// "try again later": nothing is wrong with the pod, and ADD works once the datastore is back.
CniFailure unavailable(const CniCall& call, std::string_view what, const absl::Status& s) {
  return failure(
      kCniErrTryAgainLater,
      fmt::format("{} for pod {}: datastore unavailable: {}", what, podOf(call), errorMessage(s)),
      s);
}

CniFailure ipamFailure(const CniCall& call, std::string msg, const absl::Status& s) {
  if (datastoreDown(s)) return unavailable(call, "IPAM", s);
  return failure(kCniErrNoAddress, std::move(msg), s);
}

}  // namespace

uint32_t podMtu(const AgentConfig& config, Netlink& netlink) {
  if (config.mtu > 0) return static_cast<uint32_t>(config.mtu);
  if (!config.underlay_interface.empty()) {
    if (auto link = netlink.link(config.underlay_interface); link.ok() && link->mtu > 0) {
      return link->mtu;
    }
  }
  return 1500;
}

uint32_t conflistMtu(std::string_view network_config_json) {
  if (network_config_json.empty()) return 0;
  auto doc = nlohmann::json::parse(network_config_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return 0;
  auto it = doc.find("mtu");
  if (it == doc.end() || !it->is_number_unsigned()) return 0;
  const auto mtu = it->get<uint64_t>();
  return mtu <= 65535 ? static_cast<uint32_t>(mtu) : 0;
}

CniHandler::CniHandler(const AgentConfig& config, datastore::ResourceStore& store, ipam::Ipam& ipam,
                       std::function<void()> on_endpoints_changed, PolicyHooks policy,
                       std::function<uint32_t()> pod_mtu)
    : config_(config),
      store_(store),
      ipam_(ipam),
      on_endpoints_changed_(std::move(on_endpoints_changed)),
      policy_(std::move(policy)),
      pod_mtu_(std::move(pod_mtu)) {}

std::string CniHandler::workloadId(const CniCall& call) {
  if (!call.pod_name.empty()) {
    return fmt::format("{}.{}.{}", call.pod_namespace, call.pod_name, call.ifname);
  }
  return fmt::format("{}.{}", call.container_id, call.ifname);
}

std::string CniHandler::endpointName(const CniCall& call) const {
  const std::string workload =
      call.pod_name.empty() ? call.container_id.substr(0, 12) : call.pod_name;
  return fmt::format("{}-{}-{}", escapeDashes(config_.node_name), escapeDashes(workload),
                     escapeDashes(call.ifname));
}

absl::StatusOr<std::pair<bool, bool>> CniHandler::familiesForNode() {
  auto pools = ipam_.pools();
  if (!pools.ok()) return pools.status();
  common::Labels labels;
  if (auto node = store_.get<model::Node>(config_.node_name); node.ok()) {
    labels = node->metadata.labels;
  }
  const bool v4 = !ipam::poolsForNode(*pools, common::Family::kV4, labels).empty();
  const bool v6 = !ipam::poolsForNode(*pools, common::Family::kV6, labels).empty();
  return std::make_pair(v4, v6);
}

std::variant<CniSuccess, CniFailure> CniHandler::add(const CniCall& call) {
  std::lock_guard lock(mu_);
  if (call.container_id.empty()) return failure(kCniErrInvalidEnv, "CNI_CONTAINERID is empty");
  if (call.netns.empty()) return failure(kCniErrInvalidEnv, "CNI_NETNS is empty");
  if (call.ifname.empty() || call.ifname.size() > 15) {
    return failure(kCniErrInvalidEnv,
                   fmt::format("CNI_IFNAME \"{}\" is not an interface name", call.ifname));
  }
  if (::access(call.netns.c_str(), F_OK) != 0) {
    return failure(kCniErrInvalidEnv, fmt::format("CNI_NETNS {} does not exist", call.netns));
  }
  auto families = familiesForNode();
  if (!families.ok()) return ipamFailure(call, "cannot read IP pools", families.status());
  if (!families->first && !families->second) {
    return failure(kCniErrNoAddress,
                   fmt::format("no enabled IP pool selects node {}", config_.node_name));
  }

  // 1. Addresses.
  const std::string handle = ipam::handleIdFor(call.container_id, call.ifname);
  ipam::AssignRequest request;
  request.handle_id = handle;
  request.node = config_.node_name;
  request.ipv4 = families->first;
  request.ipv6 = families->second;
  request.attributes = {{ipam::kAttrNamespace, call.pod_namespace},
                        {ipam::kAttrContainerId, call.container_id}};
  if (!call.pod_name.empty()) request.attributes[ipam::kAttrPod] = call.pod_name;
  auto assigned = ipam_.autoAssign(request);
  if (!assigned.ok()) {
    return ipamFailure(call, fmt::format("no address for pod {}", podOf(call)), assigned.status());
  }
  std::vector<common::IpAddress> addresses;
  if (assigned->ipv4) addresses.push_back(assigned->ipv4->address);
  if (assigned->ipv6) addresses.push_back(assigned->ipv6->address);
  auto undoIpam = [&] {
    if (auto s = ipam_.releaseHandle(handle); !s.ok()) {
      log::error("rollback: cannot release addresses",
                 {{"handle", handle}, {"error", errorMessage(s)}});
    }
  };

  // 2. Links and routes.
  auto netlink = Netlink::open();
  if (!netlink.ok()) {
    undoIpam();
    return failure(kCniErrDataplane, "netlink", netlink.status());
  }
  WorkloadSpec spec;
  spec.host_ifname = hostInterfaceName(workloadId(call));
  spec.pod_ifname = call.ifname;
  spec.netns_path = call.netns;
  spec.addresses = addresses;
  // Encapsulation decides the MTU (underlay minus VXLAN overhead): the agent knows it.
  // The conflist's mtu, when set, wins over corald's own choice, as with Calico's.
  spec.mtu = call.mtu > 0 ? call.mtu : (pod_mtu_ ? pod_mtu_() : 0);
  if (spec.mtu == 0) spec.mtu = podMtu(config_, **netlink);
  auto links = plumbWorkload(**netlink, spec);
  if (!links.ok()) {
    undoIpam();
    return failure(kCniErrDataplane, fmt::format("cannot set up {} in {}", call.ifname, call.netns),
                   links.status());
  }
  auto undoLinks = [&] { (void)unplumbWorkload(**netlink, spec.host_ifname); };

  // 3. The endpoint record, with the pod's labels.
  model::WorkloadEndpoint wep;
  wep.metadata.name = endpointName(call);
  wep.metadata.namespace_ = call.pod_namespace;
  if (!call.pod_name.empty()) {
    if (auto pod = store_.get<model::Pod>(call.pod_namespace, call.pod_name); pod.ok()) {
      wep.metadata.labels = pod->metadata.labels;
      for (const auto& c : pod->spec.containers) {
        for (const auto& p : c.ports) {
          if (p.name.empty()) continue;
          wep.spec.ports.push_back(
              model::EndpointPort{.name = p.name,
                                  .protocol = p.protocol.empty() ? "TCP" : p.protocol,
                                  .port = p.container_port});
        }
      }
      wep.spec.service_account_name = pod->spec.service_account_name;
    } else if (datastoreDown(pod.status())) {
      // Without its labels the endpoint would escape the policies that select the pod.
      undoLinks();
      undoIpam();
      return unavailable(call, "pod labels", pod.status());
    }
  }
  wep.metadata.labels["coral.network/namespace"] = call.pod_namespace;
  wep.spec.orchestrator = call.pod_name.empty() ? "cni" : "k8s";
  wep.spec.node = config_.node_name;
  wep.spec.pod = call.pod_name;
  wep.spec.container_id = call.container_id;
  wep.spec.endpoint = call.ifname;
  wep.spec.interface_name = spec.host_ifname;
  wep.spec.mac = formatMac(links->pod_mac);
  for (const auto& ip : addresses)
    wep.spec.ip_networks.push_back(common::Prefix::host(ip).toString());
  // 4. Policy before the pod can send: its chains exist before ADD answers.
  if (policy_.protect) {
    if (auto s = policy_.protect(wep); !s.ok()) {
      undoLinks();
      undoIpam();
      return failure(kCniErrDataplane, "cannot program the pod's network policy", s);
    }
  }
  auto applied = store_.apply(model::toResource(wep));
  if (!applied.ok()) {
    if (policy_.forget) policy_.forget(wep);
    undoLinks();
    undoIpam();
    if (datastoreDown(applied.status())) {
      return unavailable(call, "workload endpoint", applied.status());
    }
    return failure(
        datastore::isConflict(applied.status()) ? kCniErrTryAgainLater : kCniErrDatastore,
        "cannot record the workload endpoint", applied.status());
  }
  on_endpoints_changed_();
  log::info("pod added", {{"pod", call.pod_namespace + "/" + call.pod_name},
                          {"container", call.container_id.substr(0, 12)},
                          {"interface", spec.host_ifname},
                          {"addresses", join(
                                            [&] {
                                              std::vector<std::string> v;
                                              for (const auto& a : addresses)
                                                v.push_back(a.toString());
                                              return v;
                                            }(),
                                            ",")}});
  return CniSuccess{spec.host_ifname, kHostSideMac, call.ifname, links->pod_mac,
                    call.netns,       spec.mtu,     addresses};
}

std::optional<CniFailure> CniHandler::del(const CniCall& call) {
  std::lock_guard lock(mu_);
  if (call.container_id.empty()) return failure(kCniErrInvalidEnv, "CNI_CONTAINERID is empty");
  // The endpoint record names the interface this container got; fall back to the name
  // ADD would have used.
  std::string host_ifname = hostInterfaceName(workloadId(call));
  const std::string wep_name = endpointName(call);
  auto wep = store_.get<model::WorkloadEndpoint>(call.pod_namespace, wep_name);
  bool ours = true;
  if (wep.ok()) {
    if (!wep->spec.container_id.empty() && wep->spec.container_id != call.container_id) {
      // A newer sandbox of the same pod owns the endpoint and the interface: leave them.
      ours = false;
    } else {
      host_ifname = wep->spec.interface_name;
    }
  } else if (datastoreDown(wep.status())) {
    return unavailable(call, "workload endpoint", wep.status());
  } else if (!datastore::isNotFound(wep.status())) {
    return failure(kCniErrTryAgainLater, "cannot read the workload endpoint", wep.status());
  }
  if (ours) {
    auto netlink = Netlink::open();
    if (!netlink.ok()) return failure(kCniErrDataplane, "netlink", netlink.status());
    if (auto s = unplumbWorkload(**netlink, host_ifname); !s.ok()) {
      return failure(kCniErrDataplane, fmt::format("cannot remove {}", host_ifname), s);
    }
    if (wep.ok() && policy_.forget) policy_.forget(*wep);
    if (wep.ok()) {
      auto removed = store_.remove(model::kindOf<model::WorkloadEndpoint>(), call.pod_namespace,
                                   wep_name, wep->metadata.resource_version);
      if (!removed.ok() && !datastore::isNotFound(removed.status())) {
        return failure(kCniErrTryAgainLater, "cannot delete the workload endpoint",
                       removed.status());
      }
    }
  }
  if (auto s = ipam_.releaseHandle(ipam::handleIdFor(call.container_id, call.ifname)); !s.ok()) {
    if (datastoreDown(s)) return unavailable(call, "IPAM release", s);
    return failure(kCniErrTryAgainLater, "cannot release the addresses", s);
  }
  on_endpoints_changed_();
  log::info("pod deleted", {{"pod", call.pod_namespace + "/" + call.pod_name},
                            {"container", call.container_id.substr(0, 12)}});
  return std::nullopt;
}

std::optional<CniFailure> CniHandler::check(const CniCall& call) {
  std::lock_guard lock(mu_);
  const std::string wep_name = endpointName(call);
  auto wep = store_.get<model::WorkloadEndpoint>(call.pod_namespace, wep_name);
  if (!wep.ok()) {
    return failure(datastore::isNotFound(wep.status()) ? kCniErrDataplane : kCniErrTryAgainLater,
                   "workload endpoint record", wep.status());
  }
  if (wep->spec.container_id != call.container_id) {
    return failure(kCniErrDataplane, fmt::format("endpoint {} belongs to container {}", wep_name,
                                                 wep->spec.container_id));
  }
  auto held = ipam_.addressesOf(ipam::handleIdFor(call.container_id, call.ifname));
  if (!held.ok()) return failure(kCniErrTryAgainLater, "IPAM", held.status());
  WorkloadSpec spec;
  spec.host_ifname = wep->spec.interface_name;
  spec.pod_ifname = call.ifname;
  spec.netns_path = call.netns;
  for (const auto& net : wep->spec.ip_networks) {
    auto p = common::Prefix::parse(net);
    if (!p.ok()) continue;
    spec.addresses.push_back(p->address());
    const bool allocated = std::any_of(held->begin(), held->end(), [&](const ipam::Assignment& a) {
      return a.address == p->address();
    });
    if (!allocated) {
      return failure(kCniErrDataplane,
                     fmt::format("{} is not allocated to this container in IPAM", net));
    }
  }
  if (held->size() != spec.addresses.size()) {
    return failure(kCniErrDataplane, "IPAM holds addresses the endpoint does not list");
  }
  auto netlink = Netlink::open();
  if (!netlink.ok()) return failure(kCniErrDataplane, "netlink", netlink.status());
  if (auto s = checkWorkload(**netlink, spec); !s.ok()) {
    return failure(kCniErrDataplane, std::string(errorMessage(s)));
  }
  return std::nullopt;
}

}  // namespace coral::agent
