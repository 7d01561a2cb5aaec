// Netlink: the kernel seam for links, addresses, routes and neighbours, on libnl-route.
// One object owns NETLINK_ROUTE sockets bound to the network namespace of the thread
// that created it. Every call is synchronous and returns a Status naming the object and
// the kernel's reason. Routes carry a protocol number so Coral only ever lists, changes
// or deletes routes it owns. Route listing and batches of route changes go over a second,
// raw socket (no libnl cache): a dump parsed message by message, and requests pipelined
// with their acknowledgements read afterwards.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/ip.h"

struct nl_sock;

namespace coral::agent {

// The route protocol number on every route Coral installs ("proto 77" in `ip route`).
// Calico uses 80 and BIRD 12, so the three can share a host.
inline constexpr uint8_t kCoralRouteProtocol = 77;

using MacAddress = std::array<uint8_t, 6>;
std::string formatMac(const MacAddress& mac);
absl::StatusOr<MacAddress> parseMac(std::string_view text);

struct LinkInfo {
  int index = 0;
  std::string name;
  MacAddress mac{};
  uint32_t mtu = 0;
  bool up = false;
  std::string kind;  // "veth", "vxlan", ... (empty for physical)
};

struct InterfaceAddress {
  common::IpAddress ip;
  int prefix_len = 0;
  std::string toString() const { return ip.toString() + "/" + std::to_string(prefix_len); }
  bool operator==(const InterfaceAddress&) const = default;
};

enum class RouteType { kUnicast, kBlackhole };

struct Route {
  common::Prefix dst;
  RouteType type = RouteType::kUnicast;
  int ifindex = 0;                           // output device (0: none, e.g. blackhole)
  std::optional<common::IpAddress> gateway;  // next hop
  bool onlink = false;                       // next hop not on a local subnet (VXLAN)
  uint8_t protocol = kCoralRouteProtocol;
  bool operator==(const Route&) const = default;
};

// A VXLAN device as Coral makes it: unicast only (no group, no learning), bound to the
// underlay device and address.
struct VxlanDevice {
  std::string name;
  uint32_t vni = 4096;
  uint16_t port = 4789;
  common::IpAddress local;  // the underlay address: source of the outer header
  int parent_ifindex = 0;   // the underlay device
  MacAddress mac{};
  uint32_t mtu = 0;
  bool learning = false;
  bool operator==(const VxlanDevice&) const = default;
};

struct Neighbour {
  common::IpAddress ip;
  MacAddress mac{};
  bool permanent = false;
  bool operator==(const Neighbour&) const = default;
};

// A forwarding database entry of a VXLAN device: frames to `mac` go to `remote`.
struct FdbEntry {
  MacAddress mac{};
  common::IpAddress remote;
  bool operator==(const FdbEntry&) const = default;
  auto operator<=>(const FdbEntry&) const = default;
};

class Netlink {
 public:
  // Opens a socket in the calling thread's current network namespace.
  static absl::StatusOr<std::unique_ptr<Netlink>> open();
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // Links.
  absl::StatusOr<LinkInfo> link(std::string_view name);
  absl::StatusOr<LinkInfo> linkByIndex(int index);
  absl::StatusOr<std::vector<LinkInfo>> links();
  // A veth pair: `host_name` here, `peer_name` created directly inside the network
  // namespace `peer_netns_fd` (so its name cannot clash with anything on the host).
  absl::Status createVeth(std::string_view host_name, const MacAddress& host_mac, uint32_t mtu,
                          std::string_view peer_name, int peer_netns_fd);
  absl::Status setLinkUp(std::string_view name);
  absl::Status setLinkMtu(std::string_view name, uint32_t mtu);
  // VXLAN devices: created up; vxlan() reads back what the kernel has (kNotFound when
  // absent, kFailedPrecondition when the name is taken by another kind of link).
  absl::Status createVxlan(const VxlanDevice& device);
  absl::StatusOr<VxlanDevice> vxlan(std::string_view name);
  absl::Status deleteLink(std::string_view name);  // kNotFound when absent

  // Addresses with their subnet length (10.0.0.5/32, 192.0.2.11/24). IPv6 skips DAD.
  absl::Status addAddress(std::string_view link_name, const InterfaceAddress& address);
  absl::StatusOr<std::vector<InterfaceAddress>> addresses(std::string_view link_name);
  absl::Status deleteAddress(std::string_view link_name, const InterfaceAddress& address);

  // Routes in the main table. replaceRoute creates or replaces.
  absl::Status replaceRoute(const Route& route);
  absl::Status deleteRoute(const Route& route);
  // Routes of the main table with this protocol number, both families.
  absl::StatusOr<std::vector<Route>> routes(uint8_t protocol = kCoralRouteProtocol);
  // Every route of the main table (for checks), both families.
  absl::StatusOr<std::vector<Route>> allRoutes();
  // Many route changes at once: the requests are sent in large batches without waiting,
  // then the kernel's acknowledgements are read and matched to their change by sequence
  // number. Returns one Status per change, in order (a failed delete of an absent route
  // is kNotFound). kUnavailable when the kernel dropped acknowledgements (ENOBUFS): the
  // outcome of the changes is then unknown and the caller must list the kernel again.
  struct RouteChange {
    enum class Op { kReplace, kDelete };
    Op op = Op::kReplace;
    Route route;
  };
  absl::StatusOr<std::vector<absl::Status>> applyRoutes(const std::vector<RouteChange>& changes);

  // A permanent neighbour entry (IPv4 ARP / IPv6 NDP).
  absl::Status addPermanentNeighbour(std::string_view link_name, const common::IpAddress& ip,
                                     const MacAddress& mac);
  // IPv4 and IPv6 neighbours of a link, and deletion of one.
  absl::StatusOr<std::vector<Neighbour>> neighbours(std::string_view link_name);
  absl::Status deleteNeighbour(std::string_view link_name, const common::IpAddress& ip);
  // Permanent FDB entries of a VXLAN device ("bridge fdb ... dev vxlan.coral dst ...").
  absl::StatusOr<std::vector<FdbEntry>> fdbEntries(std::string_view link_name);
  absl::Status replaceFdbEntry(std::string_view link_name, const FdbEntry& entry);
  absl::Status deleteFdbEntry(std::string_view link_name, const FdbEntry& entry);

 private:
  Netlink(nl_sock* sock, int route_fd) : sock_(sock), route_fd_(route_fd) {}
  absl::StatusOr<std::vector<Route>> listRoutes(std::optional<uint8_t> protocol);
  absl::Status dumpRoutes(int family, std::optional<uint8_t> protocol, std::vector<Route>& out);
  nl_sock* sock_;
  int route_fd_;  // raw NETLINK_ROUTE socket for dumps and batches
  uint32_t route_seq_ = 1;
  std::vector<uint8_t> recv_buffer_;
};

// Writes a value under /proc/sys of the calling thread's network namespace, e.g.
// writeSysctl("net/ipv4/conf/cor123/proxy_arp", "1").
absl::Status writeSysctl(std::string_view path, std::string_view value);
absl::StatusOr<std::string> readSysctl(std::string_view path);

}  // namespace coral::agent
