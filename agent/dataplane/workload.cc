#include "agent/dataplane/workload.h"
#include "common/hash.h"

#include <fmt/format.h>

#include <algorithm>

#include "agent/dataplane/netns.h"
#include "common/status.h"
#include "common/strings.h"

namespace coral::agent {
namespace {

common::Prefix defaultRoute(const common::IpAddress& family_of) {
  return common::Prefix::make(common::IpAddress::zero(family_of.family()), 0).value();
}

absl::Status configurePodSide(const WorkloadSpec& spec, MacAddress* pod_mac) {
  CORAL_ASSIGN_OR_RETURN(auto nl, Netlink::open());
  CORAL_RETURN_IF_ERROR(nl->setLinkUp("lo"));
  CORAL_ASSIGN_OR_RETURN(LinkInfo eth, nl->link(spec.pod_ifname));
  *pod_mac = eth.mac;
  const bool has_v6 = std::any_of(spec.addresses.begin(), spec.addresses.end(),
                                  [](const auto& a) { return a.isV6(); });
  if (has_v6) {
    // Static addressing only: no router advertisements, no DAD delay.
    (void)writeSysctl(fmt::format("net/ipv6/conf/{}/accept_ra", spec.pod_ifname), "0");
    (void)writeSysctl(fmt::format("net/ipv6/conf/{}/accept_dad", spec.pod_ifname), "0");
    CORAL_RETURN_IF_ERROR(
        writeSysctl(fmt::format("net/ipv6/conf/{}/disable_ipv6", spec.pod_ifname), "0"));
  }
  CORAL_RETURN_IF_ERROR(nl->setLinkUp(spec.pod_ifname));
  for (const auto& ip : spec.addresses) {
    CORAL_RETURN_IF_ERROR(nl->addAddress(spec.pod_ifname, {ip, ip.bitLength()}));
    const common::IpAddress gw = ip.isV4() ? gatewayV4() : gatewayV6();
    CORAL_RETURN_IF_ERROR(nl->addPermanentNeighbour(spec.pod_ifname, gw, kHostSideMac));
    if (ip.isV4()) {
      Route to_gw{.dst = common::Prefix::host(gw), .ifindex = eth.index, .gateway = {}};
      CORAL_RETURN_IF_ERROR(nl->replaceRoute(to_gw));
    }
    Route def{.dst = defaultRoute(ip), .ifindex = eth.index, .gateway = gw};
    CORAL_RETURN_IF_ERROR(nl->replaceRoute(def));
  }
  return absl::OkStatus();
}

absl::Status configureHostSide(Netlink& host, const WorkloadSpec& spec, int* ifindex) {
  const std::string& name = spec.host_ifname;
  const bool has_v4 = std::any_of(spec.addresses.begin(), spec.addresses.end(),
                                  [](const auto& a) { return a.isV4(); });
  const bool has_v6 = std::any_of(spec.addresses.begin(), spec.addresses.end(),
                                  [](const auto& a) { return a.isV6(); });
  if (has_v4) {
    CORAL_RETURN_IF_ERROR(writeSysctl(fmt::format("net/ipv4/conf/{}/proxy_arp", name), "1"));
    CORAL_RETURN_IF_ERROR(writeSysctl(fmt::format("net/ipv4/neigh/{}/proxy_delay", name), "0"));
    CORAL_RETURN_IF_ERROR(writeSysctl(fmt::format("net/ipv4/conf/{}/forwarding", name), "1"));
  }
  if (has_v6) {
    // The host end needs its link-local address: it is the pods' IPv6 gateway.
    (void)writeSysctl(fmt::format("net/ipv6/conf/{}/disable_ipv6", name), "0");
    (void)writeSysctl(fmt::format("net/ipv6/conf/{}/accept_ra", name), "0");
    // Usable at once: a tentative link-local would delay the node's first neighbour
    // solicitation towards the pod by the length of DAD.
    (void)writeSysctl(fmt::format("net/ipv6/conf/{}/accept_dad", name), "0");
  }
  CORAL_RETURN_IF_ERROR(host.setLinkUp(name));
  CORAL_ASSIGN_OR_RETURN(LinkInfo link, host.link(name));
  *ifindex = link.index;
  for (const auto& ip : spec.addresses) {
    Route r{.dst = common::Prefix::host(ip), .ifindex = link.index, .gateway = {}};
    CORAL_RETURN_IF_ERROR(host.replaceRoute(r));
  }
  return absl::OkStatus();
}

}  // namespace

common::IpAddress gatewayV4() { return common::IpAddress::v4(0xa9fe0101); }  // 169.254.1.1

common::IpAddress gatewayV6() {
  // fe80:: + EUI-64 of ee:ee:ee:ee:ee:ee (universal/local bit flipped: ee -> ec).
  return common::IpAddress::v6(
      {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0xec, 0xee, 0xee, 0xff, 0xfe, 0xee, 0xee, 0xee});
}

std::string hostInterfaceName(std::string_view workload_id) {
  return fmt::format("cor{:011x}", fnv1a64(workload_id) & 0xfffffffffffULL);
}

absl::StatusOr<WorkloadLinks> plumbWorkload(Netlink& host, const WorkloadSpec& spec) {
  if (spec.addresses.empty()) return absl::InvalidArgumentError("workload has no address");
  CORAL_ASSIGN_OR_RETURN(NetnsFd netns, NetnsFd::open(spec.netns_path));
  // A leftover host end from an earlier sandbox of the same pod is stale: replace it.
  if (host.link(spec.host_ifname).ok()) (void)host.deleteLink(spec.host_ifname);
  CORAL_RETURN_IF_ERROR(
      host.createVeth(spec.host_ifname, kHostSideMac, spec.mtu, spec.pod_ifname, netns.fd()));
  WorkloadLinks out;
  absl::Status status = runInNetns(netns, [&] { return configurePodSide(spec, &out.pod_mac); });
  if (status.ok()) status = configureHostSide(host, spec, &out.host_ifindex);
  if (!status.ok()) {
    (void)host.deleteLink(spec.host_ifname);  // takes the pod end and the host routes along
    return status;
  }
  return out;
}

absl::Status unplumbWorkload(Netlink& host, const std::string& host_ifname) {
  auto status = host.deleteLink(host_ifname);
  if (status.ok() || absl::IsNotFound(status)) return absl::OkStatus();
  return status;
}

absl::Status checkWorkload(Netlink& host, const WorkloadSpec& spec) {
  CORAL_ASSIGN_OR_RETURN(LinkInfo link, host.link(spec.host_ifname));
  if (!link.up) return absl::FailedPreconditionError(fmt::format("{} is down", spec.host_ifname));
  CORAL_ASSIGN_OR_RETURN(auto routes, host.routes());
  for (const auto& ip : spec.addresses) {
    const auto want = common::Prefix::host(ip);
    const bool found = std::any_of(routes.begin(), routes.end(), [&](const Route& r) {
      return r.dst == want && r.ifindex == link.index;
    });
    if (!found) {
      return absl::FailedPreconditionError(
          fmt::format("host route {} dev {} is missing", want.toString(), spec.host_ifname));
    }
  }
  CORAL_ASSIGN_OR_RETURN(NetnsFd netns, NetnsFd::open(spec.netns_path));
  return runInNetns(netns, [&]() -> absl::Status {
    CORAL_ASSIGN_OR_RETURN(auto nl, Netlink::open());
    CORAL_ASSIGN_OR_RETURN(LinkInfo eth, nl->link(spec.pod_ifname));
    if (!eth.up) {
      return absl::FailedPreconditionError(fmt::format("{} in the pod is down", spec.pod_ifname));
    }
    CORAL_ASSIGN_OR_RETURN(auto addrs, nl->addresses(spec.pod_ifname));
    CORAL_ASSIGN_OR_RETURN(auto pod_routes, nl->allRoutes());
    for (const auto& ip : spec.addresses) {
      const InterfaceAddress want{ip, ip.bitLength()};
      if (std::find(addrs.begin(), addrs.end(), want) == addrs.end()) {
        return absl::FailedPreconditionError(fmt::format("address {} is missing on {} in the pod",
                                                         want.toString(), spec.pod_ifname));
      }
      const common::IpAddress gw = ip.isV4() ? gatewayV4() : gatewayV6();
      const bool has_default =
          std::any_of(pod_routes.begin(), pod_routes.end(), [&](const Route& r) {
            return r.dst == defaultRoute(ip) && r.gateway == gw && r.ifindex == eth.index;
          });
      if (!has_default) {
        return absl::FailedPreconditionError(fmt::format(
            "the pod's default route via {} dev {} is missing", gw.toString(), spec.pod_ifname));
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace coral::agent
