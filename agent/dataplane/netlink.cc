#include "agent/dataplane/netlink.h"

#include <fmt/format.h>

#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vxlan.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>

#include <cstring>
#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace coral::agent {
namespace {

struct LinkDeleter {
  void operator()(rtnl_link* l) const { rtnl_link_put(l); }
};
struct AddrDeleter {
  void operator()(nl_addr* a) const { nl_addr_put(a); }
};
struct RtAddrDeleter {
  void operator()(rtnl_addr* a) const { rtnl_addr_put(a); }
};
struct RouteDeleter {
  void operator()(rtnl_route* r) const { rtnl_route_put(r); }
};
struct NeighDeleter {
  void operator()(rtnl_neigh* n) const { rtnl_neigh_put(n); }
};
struct CacheDeleter {
  void operator()(nl_cache* c) const { nl_cache_free(c); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkDeleter>;
using AddrPtr = std::unique_ptr<nl_addr, AddrDeleter>;
using RtAddrPtr = std::unique_ptr<rtnl_addr, RtAddrDeleter>;
using RoutePtr = std::unique_ptr<rtnl_route, RouteDeleter>;
using NeighPtr = std::unique_ptr<rtnl_neigh, NeighDeleter>;
using CachePtr = std::unique_ptr<nl_cache, CacheDeleter>;

absl::Status nlError(int err, std::string_view what) {
  const std::string msg = fmt::format("{}: {}", what, nl_geterror(err));
  switch (err < 0 ? -err : err) {
    case NLE_EXIST:
      return absl::AlreadyExistsError(msg);
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV:
    case NLE_NOADDR:
      return absl::NotFoundError(msg);
    case NLE_PERM:
    case NLE_NOACCESS:
      return absl::PermissionDeniedError(msg + " (corald needs CAP_NET_ADMIN)");
    case NLE_INVAL:
    case NLE_RANGE:
      return absl::InvalidArgumentError(msg);
    default:
      return absl::InternalError(msg);
  }
}

AddrPtr toNlAddr(const common::IpAddress& ip, int prefix_len) {
  auto bytes = ip.bytes();
  nl_addr* a = nl_addr_build(ip.isV4() ? AF_INET : AF_INET6, bytes.data(), bytes.size());
  nl_addr_set_prefixlen(a, prefix_len);
  return AddrPtr(a);
}
AddrPtr toNlAddr(const common::Prefix& p) { return toNlAddr(p.address(), p.length()); }

std::optional<common::IpAddress> fromNlAddr(nl_addr* a) {
  if (a == nullptr) return std::nullopt;
  const auto len = nl_addr_get_len(a);
  if (len != 4 && len != 16) return std::nullopt;
  auto ip = common::IpAddress::fromBytes(
      std::span<const uint8_t>(static_cast<const uint8_t*>(nl_addr_get_binary_addr(a)), len));
  if (!ip.ok()) return std::nullopt;
  return *ip;
}

LinkInfo infoOf(rtnl_link* l) {
  LinkInfo info;
  info.index = rtnl_link_get_ifindex(l);
  info.name = rtnl_link_get_name(l) ? rtnl_link_get_name(l) : "";
  if (nl_addr* a = rtnl_link_get_addr(l); a && nl_addr_get_len(a) == 6) {
    std::memcpy(info.mac.data(), nl_addr_get_binary_addr(a), 6);
  }
  info.mtu = rtnl_link_get_mtu(l);
  info.up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
  if (const char* kind = rtnl_link_get_type(l)) info.kind = kind;
  return info;
}

// The kernel's current state of the link called `name`.
absl::StatusOr<LinkPtr> fetchLink(nl_sock* sock, std::string_view name) {
  rtnl_link* raw = nullptr;
  const std::string n(name);
  if (int err = rtnl_link_get_kernel(sock, 0, n.c_str(), &raw); err < 0) {
    return nlError(err, fmt::format("link {}", name));
  }
  return LinkPtr(raw);
}

// Applies what `set` puts into an empty change to the link called `name`.
absl::Status changeLink(nl_sock* sock, std::string_view name,
                        const std::function<void(rtnl_link*)>& set, std::string_view what) {
  auto current = fetchLink(sock, name);
  if (!current.ok()) return current.status();
  LinkPtr change(rtnl_link_alloc());
  set(change.get());
  if (int err = rtnl_link_change(sock, current->get(), change.get(), 0); err < 0) {
    return nlError(err, what);
  }
  return absl::OkStatus();
}

// The raw route socket: Coral's route dumps and batches, parsed here without libnl.

// Bytes of requests sent per send() (about 600 routes), fewer when the receive buffer
// could not be made large: the kernel queues one ack per request before send() returns
// and drops acks that do not fit (ENOBUFS).
constexpr size_t kBatchBytes = 64 * 1024;
// What one queued ack costs the receive buffer (its skb's truesize), with margin.
constexpr size_t kAckBufferBytes = 2048;
// The receive buffer: room for many batches of acks and for dumps; SO_RCVBUFFORCE needs
// CAP_NET_ADMIN (corald has it), else SO_RCVBUF (capped by net.core.rmem_max).
constexpr int kRouteSocketBuffer = 8 * 1024 * 1024;
constexpr size_t kRecvBytes = 64 * 1024;  // dumps send at most 32 KiB per message

absl::StatusOr<int> openRouteSocket() {
  const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    return absl::InternalError(fmt::format("netlink: route socket: {}", std::strerror(errno)));
  }
  const int size = kRouteSocketBuffer;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0) {
    (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
  }
  const int on = 1;
  // Acks without a copy of the request; error messages from the kernel (extended acks);
  // dumps filtered by the kernel. Each is best effort: older kernels lack some.
  (void)::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof(on));
  (void)::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof(on));
  (void)::setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof(on));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)) < 0) {
    const int err = errno;
    ::close(fd);
    return absl::InternalError(fmt::format("netlink: bind route socket: {}", std::strerror(err)));
  }
  return fd;
}

// The kernel's error message of an extended ack, or empty.
std::string extAckMessage(const nlmsghdr* h) {
  if (!(h->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  const auto* e = reinterpret_cast<const nlmsgerr*>(NLMSG_DATA(h));
  size_t offset = NLMSG_HDRLEN + sizeof(nlmsgerr);
  if (!(h->nlmsg_flags & NLM_F_CAPPED)) offset += e->msg.nlmsg_len - NLMSG_HDRLEN;
  const auto* base = reinterpret_cast<const uint8_t*>(h);
  while (offset + sizeof(nlattr) <= h->nlmsg_len) {
    const auto* a = reinterpret_cast<const nlattr*>(base + offset);
    if (a->nla_len < sizeof(nlattr) || offset + a->nla_len > h->nlmsg_len) break;
    if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
      const char* text = reinterpret_cast<const char*>(a) + NLA_HDRLEN;
      return std::string(text, strnlen(text, a->nla_len - NLA_HDRLEN));
    }
    offset += NLA_ALIGN(a->nla_len);
  }
  return {};
}

absl::Status errnoError(int err, std::string_view what, std::string_view detail = {}) {
  std::string msg = fmt::format("{}: {}", what, std::strerror(err));
  if (!detail.empty()) msg += fmt::format(" ({})", detail);
  switch (err) {
    case EEXIST:
      return absl::AlreadyExistsError(msg);
    case ESRCH:
    case ENOENT:
    case ENODEV:
      return absl::NotFoundError(msg);
    case EPERM:
    case EACCES:
      return absl::PermissionDeniedError(msg + " (corald needs CAP_NET_ADMIN)");
    case EINVAL:
    case ERANGE:
      return absl::InvalidArgumentError(msg);
    case ENOBUFS:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

std::optional<common::IpAddress> ipOf(const nlattr* a) {
  const size_t len = a->nla_len - NLA_HDRLEN;
  if (len != 4 && len != 16) return std::nullopt;
  auto ip = common::IpAddress::fromBytes(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(a) + NLA_HDRLEN, len));
  if (!ip.ok()) return std::nullopt;
  return *ip;
}

// One RTM_NEWROUTE of a dump as a Route, or nullopt when it is not one of the main
// table's (with `protocol`, when given) or not IPv4/IPv6. Multipath routes give their
// first next hop.
std::optional<Route> parseRoute(const nlmsghdr* h, std::optional<uint8_t> protocol) {
  if (h->nlmsg_len < NLMSG_LENGTH(sizeof(rtmsg))) return std::nullopt;
  const auto* rt = reinterpret_cast<const rtmsg*>(NLMSG_DATA(h));
  if (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6) return std::nullopt;
  if (protocol && rt->rtm_protocol != *protocol) return std::nullopt;
  if (rt->rtm_flags & RTM_F_CLONED) return std::nullopt;
  uint32_t table = rt->rtm_table;
  std::optional<common::IpAddress> dst;
  Route r;
  r.protocol = rt->rtm_protocol;
  r.type = rt->rtm_type == RTN_BLACKHOLE ? RouteType::kBlackhole : RouteType::kUnicast;
  r.onlink = (rt->rtm_flags & RTNH_F_ONLINK) != 0;
  int len = static_cast<int>(RTM_PAYLOAD(h));
  for (const rtattr* a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    const auto* attr = reinterpret_cast<const nlattr*>(a);
    switch (a->rta_type) {
      case RTA_TABLE:
        if (RTA_PAYLOAD(a) >= sizeof(uint32_t)) std::memcpy(&table, RTA_DATA(a), 4);
        break;
      case RTA_DST:
        dst = ipOf(attr);
        break;
      case RTA_GATEWAY:
        r.gateway = ipOf(attr);
        break;
      case RTA_OIF:
        if (RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
          uint32_t oif = 0;
          std::memcpy(&oif, RTA_DATA(a), 4);
          r.ifindex = static_cast<int>(oif);
        }
        break;
      case RTA_MULTIPATH: {
        if (RTA_PAYLOAD(a) < sizeof(rtnexthop)) break;
        const auto* nh = static_cast<const rtnexthop*>(RTA_DATA(a));
        if (nh->rtnh_len < sizeof(rtnexthop) || nh->rtnh_len > RTA_PAYLOAD(a)) break;
        r.ifindex = nh->rtnh_ifindex;
        r.onlink = (nh->rtnh_flags & RTNH_F_ONLINK) != 0;
        int nh_len = static_cast<int>(nh->rtnh_len - sizeof(rtnexthop));
        for (const rtattr* n = RTNH_DATA(nh); RTA_OK(n, nh_len); n = RTA_NEXT(n, nh_len)) {
          if (n->rta_type == RTA_GATEWAY) r.gateway = ipOf(reinterpret_cast<const nlattr*>(n));
        }
        break;
      }
      default:
        break;
    }
  }
  if (table != RT_TABLE_MAIN) return std::nullopt;
  if (!dst) {
    // The default route has no RTA_DST.
    dst = common::IpAddress::zero(rt->rtm_family == AF_INET ? common::Family::kV4
                                                            : common::Family::kV6);
  }
  auto prefix = common::Prefix::make(*dst, rt->rtm_dst_len);
  if (!prefix.ok()) return std::nullopt;
  r.dst = *prefix;
  return r;
}

void appendAttr(std::vector<uint8_t>& out, uint16_t type, const void* data, size_t len) {
  rtattr a{};
  a.rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
  a.rta_type = type;
  const size_t at = out.size();
  out.resize(at + RTA_SPACE(len), 0);
  std::memcpy(out.data() + at, &a, sizeof(a));
  std::memcpy(out.data() + at + RTA_LENGTH(0), data, len);
}

// Appends the RTM_NEWROUTE (create or replace) or RTM_DELROUTE request for `c`, acked.
void encodeRouteRequest(const Netlink::RouteChange& c, uint32_t seq, std::vector<uint8_t>& out) {
  const Route& r = c.route;
  const bool del = c.op == Netlink::RouteChange::Op::kDelete;
  const size_t start = out.size();
  out.resize(start + NLMSG_SPACE(sizeof(rtmsg)), 0);
  rtmsg rt{};
  rt.rtm_family = r.dst.isV4() ? AF_INET : AF_INET6;
  rt.rtm_dst_len = static_cast<uint8_t>(r.dst.length());
  rt.rtm_table = RT_TABLE_MAIN;
  // A delete names the protocol too, so the kernel only ever deletes a route of ours.
  rt.rtm_protocol = r.protocol;
  if (del) {
    rt.rtm_scope = RT_SCOPE_NOWHERE;  // any scope, as `ip route del`
    rt.rtm_type = r.type == RouteType::kBlackhole ? RTN_BLACKHOLE : RTN_UNSPEC;
  } else if (r.type == RouteType::kBlackhole) {
    rt.rtm_scope = RT_SCOPE_UNIVERSE;
    rt.rtm_type = RTN_BLACKHOLE;
  } else {
    rt.rtm_scope = r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    rt.rtm_type = RTN_UNICAST;
  }
  if (r.onlink && r.type == RouteType::kUnicast) rt.rtm_flags |= RTNH_F_ONLINK;
  std::memcpy(out.data() + start + NLMSG_HDRLEN, &rt, sizeof(rt));
  const auto dst = r.dst.address().bytes();
  appendAttr(out, RTA_DST, dst.data(), dst.size());
  if (r.type == RouteType::kUnicast) {
    if (r.gateway) {
      const auto gw = r.gateway->bytes();
      appendAttr(out, RTA_GATEWAY, gw.data(), gw.size());
    }
    if (r.ifindex > 0) {
      const uint32_t oif = static_cast<uint32_t>(r.ifindex);
      appendAttr(out, RTA_OIF, &oif, sizeof(oif));
    }
  }
  nlmsghdr h{};
  h.nlmsg_len = static_cast<uint32_t>(out.size() - start);
  h.nlmsg_type = del ? RTM_DELROUTE : RTM_NEWROUTE;
  h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | (del ? 0 : NLM_F_CREATE | NLM_F_REPLACE);
  h.nlmsg_seq = seq;
  std::memcpy(out.data() + start, &h, sizeof(h));
}

}  // namespace

std::string formatMac(const MacAddress& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

absl::StatusOr<MacAddress> parseMac(std::string_view text) {
  MacAddress mac{};
  auto parts = split(text, ':');
  if (parts.size() != 6) {
    return absl::InvalidArgumentError(fmt::format("\"{}\" is not a MAC address", text));
  }
  for (size_t i = 0; i < 6; ++i) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(parts[i].data(), parts[i].data() + parts[i].size(), value, 16);
    if (parts[i].size() != 2 || ec != std::errc() || ptr != parts[i].data() + 2) {
      return absl::InvalidArgumentError(fmt::format("\"{}\" is not a MAC address", text));
    }
    mac[i] = static_cast<uint8_t>(value);
  }
  return mac;
}

absl::StatusOr<std::unique_ptr<Netlink>> Netlink::open() {
  nl_sock* sock = nl_socket_alloc();
  if (sock == nullptr) return absl::ResourceExhaustedError("netlink: cannot allocate a socket");
  if (int err = nl_connect(sock, NETLINK_ROUTE); err < 0) {
    nl_socket_free(sock);
    return nlError(err, "netlink: connect");
  }
  auto route_fd = openRouteSocket();
  if (!route_fd.ok()) {
    nl_socket_free(sock);
    return route_fd.status();
  }
  auto netlink = std::unique_ptr<Netlink>(new Netlink(sock, *route_fd));
  netlink->recv_buffer_.resize(kRecvBytes);
  return netlink;
}

Netlink::~Netlink() {
  nl_socket_free(sock_);
  ::close(route_fd_);
}

absl::StatusOr<LinkInfo> Netlink::link(std::string_view name) {
  auto l = fetchLink(sock_, name);
  if (!l.ok()) return l.status();
  return infoOf(l->get());
}

absl::StatusOr<LinkInfo> Netlink::linkByIndex(int index) {
  rtnl_link* raw = nullptr;
  if (int err = rtnl_link_get_kernel(sock_, index, nullptr, &raw); err < 0) {
    return nlError(err, fmt::format("link #{}", index));
  }
  LinkPtr l(raw);
  return infoOf(l.get());
}

absl::StatusOr<std::vector<LinkInfo>> Netlink::links() {
  nl_cache* raw = nullptr;
  if (int err = rtnl_link_alloc_cache(sock_, AF_UNSPEC, &raw); err < 0) {
    return nlError(err, "list links");
  }
  CachePtr cache(raw);
  std::vector<LinkInfo> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    out.push_back(infoOf(reinterpret_cast<rtnl_link*>(o)));
  }
  return out;
}

absl::Status Netlink::createVeth(std::string_view host_name, const MacAddress& host_mac,
                                 uint32_t mtu, std::string_view peer_name, int peer_netns_fd) {
  struct VethDeleter {
    void operator()(rtnl_link* l) const { rtnl_link_veth_release(l); }
  };
  std::unique_ptr<rtnl_link, VethDeleter> veth(rtnl_link_veth_alloc());
  if (!veth) return absl::ResourceExhaustedError("veth: cannot allocate");
  const std::string host(host_name);
  const std::string peer_n(peer_name);
  rtnl_link_set_name(veth.get(), host.c_str());
  AddrPtr mac(nl_addr_build(AF_LLC, host_mac.data(), host_mac.size()));
  rtnl_link_set_addr(veth.get(), mac.get());
  if (mtu > 0) rtnl_link_set_mtu(veth.get(), mtu);
  LinkPtr peer(rtnl_link_veth_get_peer(veth.get()));
  rtnl_link_set_name(peer.get(), peer_n.c_str());
  if (mtu > 0) rtnl_link_set_mtu(peer.get(), mtu);
  rtnl_link_set_ns_fd(peer.get(), peer_netns_fd);
  if (int err = rtnl_link_add(sock_, veth.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0) {
    return nlError(err, fmt::format("create veth {} (peer {} in the pod)", host_name, peer_name));
  }
  return absl::OkStatus();
}

absl::Status Netlink::setLinkUp(std::string_view name) {
  return changeLink(
      sock_, name, [](rtnl_link* l) { rtnl_link_set_flags(l, IFF_UP); },
      fmt::format("set {} up", name));
}

absl::Status Netlink::setLinkMtu(std::string_view name, uint32_t mtu) {
  return changeLink(
      sock_, name, [&](rtnl_link* l) { rtnl_link_set_mtu(l, mtu); },
      fmt::format("set mtu {} on {}", mtu, name));
}

absl::Status Netlink::createVxlan(const VxlanDevice& d) {
  LinkPtr link(rtnl_link_vxlan_alloc());
  if (!link) return absl::ResourceExhaustedError("vxlan: cannot allocate");
  rtnl_link_set_name(link.get(), d.name.c_str());
  AddrPtr mac(nl_addr_build(AF_LLC, d.mac.data(), d.mac.size()));
  rtnl_link_set_addr(link.get(), mac.get());
  if (d.mtu > 0) rtnl_link_set_mtu(link.get(), d.mtu);
  rtnl_link_set_flags(link.get(), IFF_UP);
  rtnl_link_vxlan_set_id(link.get(), d.vni);
  rtnl_link_vxlan_set_port(link.get(), d.port);
  rtnl_link_vxlan_set_learning(link.get(), d.learning ? 1 : 0);
  AddrPtr local = toNlAddr(d.local, d.local.bitLength());
  rtnl_link_vxlan_set_local(link.get(), local.get());
  if (d.parent_ifindex > 0) rtnl_link_vxlan_set_link(link.get(), d.parent_ifindex);
  if (int err = rtnl_link_add(sock_, link.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0) {
    return nlError(err, fmt::format("create vxlan {} (vni {}, port {}, local {})", d.name, d.vni,
                                    d.port, d.local.toString()));
  }
  return absl::OkStatus();
}

absl::StatusOr<VxlanDevice> Netlink::vxlan(std::string_view name) {
  auto fetched = fetchLink(sock_, name);
  if (!fetched.ok()) return fetched.status();
  LinkPtr l = std::move(*fetched);
  if (!rtnl_link_is_vxlan(l.get())) {
    return absl::FailedPreconditionError(
        fmt::format("link {} exists but is not a VXLAN device", name));
  }
  const LinkInfo info = infoOf(l.get());
  VxlanDevice d;
  d.name = info.name;
  d.mac = info.mac;
  d.mtu = info.mtu;
  uint32_t value = 0;
  if (rtnl_link_vxlan_get_id(l.get(), &value) == 0) d.vni = value;
  if (rtnl_link_vxlan_get_port(l.get(), &value) == 0) d.port = static_cast<uint16_t>(value);
  if (rtnl_link_vxlan_get_link(l.get(), &value) == 0) d.parent_ifindex = static_cast<int>(value);
  d.learning = rtnl_link_vxlan_get_learning(l.get()) > 0;
  nl_addr* local = nullptr;
  if (rtnl_link_vxlan_get_local(l.get(), &local) == 0 && local) {
    if (auto ip = fromNlAddr(local)) d.local = *ip;
    nl_addr_put(local);
  }
  return d;
}

absl::Status Netlink::deleteLink(std::string_view name) {
  LinkPtr l(rtnl_link_alloc());
  const std::string n(name);
  rtnl_link_set_name(l.get(), n.c_str());
  if (int err = rtnl_link_delete(sock_, l.get()); err < 0) {
    return nlError(err, fmt::format("delete link {}", name));
  }
  return absl::OkStatus();
}

absl::Status Netlink::addAddress(std::string_view link_name, const InterfaceAddress& address) {
  auto l = link(link_name);
  if (!l.ok()) return l.status();
  RtAddrPtr addr(rtnl_addr_alloc());
  rtnl_addr_set_ifindex(addr.get(), l->index);
  rtnl_addr_set_family(addr.get(), address.ip.isV4() ? AF_INET : AF_INET6);
  AddrPtr local = toNlAddr(address.ip, address.prefix_len);
  rtnl_addr_set_local(addr.get(), local.get());
  rtnl_addr_set_prefixlen(addr.get(), address.prefix_len);
  if (address.ip.isV6()) rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
  if (int err = rtnl_addr_add(sock_, addr.get(), 0); err < 0 && err != -NLE_EXIST) {
    return nlError(err, fmt::format("add address {} to {}", address.toString(), link_name));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<InterfaceAddress>> Netlink::addresses(std::string_view link_name) {
  auto l = link(link_name);
  if (!l.ok()) return l.status();
  nl_cache* raw = nullptr;
  if (int err = rtnl_addr_alloc_cache(sock_, &raw); err < 0) return nlError(err, "list addresses");
  CachePtr cache(raw);
  std::vector<InterfaceAddress> out;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) != l->index) continue;
    if (auto ip = fromNlAddr(rtnl_addr_get_local(a))) {
      out.push_back({*ip, rtnl_addr_get_prefixlen(a)});
    }
  }
  return out;
}

absl::Status Netlink::deleteAddress(std::string_view link_name, const InterfaceAddress& address) {
  auto l = link(link_name);
  if (!l.ok()) return l.status();
  RtAddrPtr addr(rtnl_addr_alloc());
  rtnl_addr_set_ifindex(addr.get(), l->index);
  rtnl_addr_set_family(addr.get(), address.ip.isV4() ? AF_INET : AF_INET6);
  AddrPtr local = toNlAddr(address.ip, address.prefix_len);
  rtnl_addr_set_local(addr.get(), local.get());
  rtnl_addr_set_prefixlen(addr.get(), address.prefix_len);
  if (int err = rtnl_addr_delete(sock_, addr.get(), 0); err < 0) {
    return nlError(err, fmt::format("delete address {} from {}", address.toString(), link_name));
  }
  return absl::OkStatus();
}

namespace {
RoutePtr buildRoute(const Route& r) {
  RoutePtr route(rtnl_route_alloc());
  rtnl_route_set_family(route.get(), r.dst.isV4() ? AF_INET : AF_INET6);
  AddrPtr dst = toNlAddr(r.dst);
  rtnl_route_set_dst(route.get(), dst.get());
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(route.get(), r.protocol);
  if (r.type == RouteType::kBlackhole) {
    rtnl_route_set_type(route.get(), RTN_BLACKHOLE);
    rtnl_route_set_scope(route.get(), RT_SCOPE_UNIVERSE);
    return route;
  }
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (r.ifindex > 0) rtnl_route_nh_set_ifindex(nh, r.ifindex);
  if (r.gateway) {
    AddrPtr gw = toNlAddr(*r.gateway, r.gateway->bitLength());
    rtnl_route_nh_set_gateway(nh, gw.get());
    rtnl_route_set_scope(route.get(), RT_SCOPE_UNIVERSE);
  } else {
    rtnl_route_set_scope(route.get(), RT_SCOPE_LINK);
  }
  if (r.onlink) rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
  rtnl_route_add_nexthop(route.get(), nh);  // the route owns nh now
  return route;
}

std::string describe(const Route& r) {
  std::string s = r.type == RouteType::kBlackhole ? "blackhole " : "";
  s += r.dst.toString();
  if (r.gateway) s += " via " + r.gateway->toString();
  if (r.ifindex) s += fmt::format(" dev #{}", r.ifindex);
  return s;
}
}  // namespace

absl::Status Netlink::replaceRoute(const Route& r) {
  RoutePtr route = buildRoute(r);
  if (int err = rtnl_route_add(sock_, route.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0) {
    return nlError(err, fmt::format("route {}", describe(r)));
  }
  return absl::OkStatus();
}

absl::Status Netlink::deleteRoute(const Route& r) {
  RoutePtr route = buildRoute(r);
  if (int err = rtnl_route_delete(sock_, route.get(), 0); err < 0) {
    return nlError(err, fmt::format("delete route {}", describe(r)));
  }
  return absl::OkStatus();
}

absl::Status Netlink::dumpRoutes(int family, std::optional<uint8_t> protocol,
                                 std::vector<Route>& out) {
  const std::string what = fmt::format("list {} routes", family == AF_INET ? "IPv4" : "IPv6");
  for (int attempt = 0;; ++attempt) {
    const size_t kept = out.size();
    struct {
      nlmsghdr header;
      rtmsg route;
    } request{};
    request.header.nlmsg_len = sizeof(request);
    request.header.nlmsg_type = RTM_GETROUTE;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.header.nlmsg_seq = route_seq_++;
    request.route.rtm_family = static_cast<uint8_t>(family);
    // With strict checking the kernel filters by table and protocol itself; without it
    // these are ignored and parseRoute filters.
    request.route.rtm_table = RT_TABLE_MAIN;
    request.route.rtm_protocol = protocol.value_or(0);
    if (::send(route_fd_, &request, sizeof(request), 0) < 0) return errnoError(errno, what);
    bool interrupted = false;
    for (bool done = false; !done;) {
      const ssize_t n = ::recv(route_fd_, recv_buffer_.data(), recv_buffer_.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        return errnoError(errno, what);
      }
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(recv_buffer_.data()); NLMSG_OK(h, len);
           h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_seq != request.header.nlmsg_seq) continue;  // a late ack of a batch
        if (h->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
        if (h->nlmsg_type == NLMSG_DONE) {
          done = true;
          break;
        }
        if (h->nlmsg_type == NLMSG_ERROR) {
          const int err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
          // A namespace whose main table has never held a route has no table to dump.
          if (err == ENOENT) {
            done = true;
            break;
          }
          return errnoError(err, what, extAckMessage(h));
        }
        if (h->nlmsg_type != RTM_NEWROUTE) continue;
        if (auto r = parseRoute(h, protocol)) out.push_back(std::move(*r));
      }
    }
    // The table changed during the dump: what we read may be inconsistent; read again.
    if (!interrupted) return absl::OkStatus();
    out.resize(kept);
    if (attempt >= 3) return absl::AbortedError(what + ": interrupted by changes 4 times");
  }
}

absl::StatusOr<std::vector<Route>> Netlink::listRoutes(std::optional<uint8_t> protocol) {
  std::vector<Route> out;
  for (int family : {AF_INET, AF_INET6}) {
    if (auto s = dumpRoutes(family, protocol, out); !s.ok()) return s;
  }
  return out;
}

absl::StatusOr<std::vector<absl::Status>> Netlink::applyRoutes(
    const std::vector<RouteChange>& changes) {
  std::vector<absl::Status> result(changes.size());
  std::vector<uint8_t> batch;
  batch.reserve(kBatchBytes + 256);
  const uint32_t first_seq = route_seq_;
  route_seq_ += static_cast<uint32_t>(changes.size());
  size_t next = 0;  // the next change to encode
  int receive_buffer = 0;
  socklen_t len = sizeof(receive_buffer);
  if (::getsockopt(route_fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, &len) < 0) {
    receive_buffer = 0;
  }
  const size_t max_requests =
      std::max<size_t>(16, static_cast<size_t>(receive_buffer) / kAckBufferBytes);
  while (next < changes.size()) {
    // Encode and send a batch; the kernel handles it before send returns, so its acks
    // are all queued (or some were dropped, which recv reports as ENOBUFS).
    batch.clear();
    const size_t begin = next;
    while (next < changes.size() && batch.size() < kBatchBytes && next - begin < max_requests) {
      encodeRouteRequest(changes[next], first_seq + static_cast<uint32_t>(next), batch);
      ++next;
    }
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    ssize_t sent;
    do {
      sent = ::sendto(route_fd_, batch.data(), batch.size(), 0,
                      reinterpret_cast<sockaddr*>(&kernel), sizeof(kernel));
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) return errnoError(errno, fmt::format("send {} route changes", next - begin));
    size_t pending = next - begin;
    while (pending > 0) {
      const ssize_t n = ::recv(route_fd_, recv_buffer_.data(), recv_buffer_.size(), 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == ENOBUFS) {
          return absl::UnavailableError(
              "route changes: the kernel dropped acknowledgements (ENOBUFS); their outcome is "
              "unknown");
        }
        return errnoError(errno, "read route change acknowledgements");
      }
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(recv_buffer_.data()); NLMSG_OK(h, len);
           h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type != NLMSG_ERROR) continue;
        const uint32_t index = h->nlmsg_seq - first_seq;
        if (index < begin || index >= next) continue;  // not one of this batch's
        --pending;
        const int err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
        if (err == 0) continue;
        const RouteChange& c = changes[index];
        result[index] =
            errnoError(err,
                       fmt::format("{}route {}", c.op == RouteChange::Op::kDelete ? "delete " : "",
                                   describe(c.route)),
                       extAckMessage(h));
      }
    }
  }
  return result;
}

absl::StatusOr<std::vector<Route>> Netlink::routes(uint8_t protocol) {
  return listRoutes(protocol);
}
absl::StatusOr<std::vector<Route>> Netlink::allRoutes() { return listRoutes(std::nullopt); }

absl::Status Netlink::addPermanentNeighbour(std::string_view link_name, const common::IpAddress& ip,
                                            const MacAddress& mac) {
  auto l = link(link_name);
  if (!l.ok()) return l.status();
  NeighPtr neigh(rtnl_neigh_alloc());
  rtnl_neigh_set_ifindex(neigh.get(), l->index);
  AddrPtr dst = toNlAddr(ip, ip.bitLength());
  rtnl_neigh_set_dst(neigh.get(), dst.get());
  AddrPtr ll(nl_addr_build(AF_LLC, mac.data(), mac.size()));
  rtnl_neigh_set_lladdr(neigh.get(), ll.get());
  rtnl_neigh_set_state(neigh.get(), NUD_PERMANENT);
  if (int err = rtnl_neigh_add(sock_, neigh.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0) {
    return nlError(err, fmt::format("neighbour {} on {}", ip.toString(), link_name));
  }
  return absl::OkStatus();
}

namespace {
// Every neighbour-table entry of one link (ARP, NDP and, for VXLAN devices, the FDB).
template <class F>
absl::Status forEachNeighbour(nl_sock* sock, int ifindex, F&& f) {
  nl_cache* raw = nullptr;
  if (int err = rtnl_neigh_alloc_cache_flags(sock, &raw, NL_CACHE_AF_ITER); err < 0) {
    return nlError(err, "list neighbours");
  }
  CachePtr cache(raw);
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* n = reinterpret_cast<rtnl_neigh*>(o);
    if (rtnl_neigh_get_ifindex(n) == ifindex) f(n);
  }
  return absl::OkStatus();
}

std::optional<MacAddress> macOf(rtnl_neigh* n) {
  nl_addr* a = rtnl_neigh_get_lladdr(n);
  if (a == nullptr || nl_addr_get_len(a) != 6) return std::nullopt;
  MacAddress mac{};
  std::memcpy(mac.data(), nl_addr_get_binary_addr(a), 6);
  return mac;
}

NeighPtr fdbNeigh(int ifindex, const FdbEntry& e) {
  NeighPtr neigh(rtnl_neigh_alloc());
  rtnl_neigh_set_ifindex(neigh.get(), ifindex);
  AddrPtr ll(nl_addr_build(AF_LLC, e.mac.data(), e.mac.size()));
  rtnl_neigh_set_lladdr(neigh.get(), ll.get());
  AddrPtr dst = toNlAddr(e.remote, e.remote.bitLength());
  rtnl_neigh_set_dst(neigh.get(), dst.get());  // before the family: libnl checks they agree
  rtnl_neigh_set_family(neigh.get(), AF_BRIDGE);
  rtnl_neigh_set_state(neigh.get(), NUD_PERMANENT);
  rtnl_neigh_set_flags(neigh.get(), NTF_SELF);
  return neigh;
}
}  // namespace

absl::StatusOr<std::vector<Neighbour>> Netlink::neighbours(std::string_view link_name) {
  auto l = link(link_name);
  if (!l.ok()) return l.status();
  std::vector<Neighbour> out;
  auto s = forEachNeighbour(sock_, l->index, [&](rtnl_neigh* n) {
    const int family = rtnl_neigh_get_family(n);
    if (family != AF_INET && family != AF_INET6) return;
    auto ip = fromNlAddr(rtnl_neigh_get_dst(n));
    if (!ip) return;
    out.push_back(
        {*ip, macOf(n).value_or(MacAddress{}), (rtnl_neigh_get_state(n) & NUD_PERMANENT) != 0});
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status Netlink::deleteNeighbour(std::string_view link_name, const common::IpAddress& ip) {
  auto l = link(link_name);
  if (!l.ok()) return l.status();
  NeighPtr neigh(rtnl_neigh_alloc());
  rtnl_neigh_set_ifindex(neigh.get(), l->index);
  AddrPtr dst = toNlAddr(ip, ip.bitLength());
  rtnl_neigh_set_dst(neigh.get(), dst.get());
  if (int err = rtnl_neigh_delete(sock_, neigh.get(), 0); err < 0) {
    return nlError(err, fmt::format("delete neighbour {} on {}", ip.toString(), link_name));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<FdbEntry>> Netlink::fdbEntries(std::string_view link_name) {
  auto l = link(link_name);
  if (!l.ok()) return l.status();
  std::vector<FdbEntry> out;
  auto s = forEachNeighbour(sock_, l->index, [&](rtnl_neigh* n) {
    if (rtnl_neigh_get_family(n) != AF_BRIDGE) return;
    auto mac = macOf(n);
    auto remote = fromNlAddr(rtnl_neigh_get_dst(n));
    if (mac && remote) out.push_back({*mac, *remote});
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status Netlink::replaceFdbEntry(std::string_view link_name, const FdbEntry& entry) {
  auto l = link(link_name);
  if (!l.ok()) return l.status();
  NeighPtr neigh = fdbNeigh(l->index, entry);
  if (int err = rtnl_neigh_add(sock_, neigh.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0) {
    return nlError(err, fmt::format("fdb {} dst {} on {}", formatMac(entry.mac),
                                    entry.remote.toString(), link_name));
  }
  return absl::OkStatus();
}

absl::Status Netlink::deleteFdbEntry(std::string_view link_name, const FdbEntry& entry) {
  auto l = link(link_name);
  if (!l.ok()) return l.status();
  NeighPtr neigh = fdbNeigh(l->index, entry);
  if (int err = rtnl_neigh_delete(sock_, neigh.get(), 0); err < 0) {
    return nlError(err, fmt::format("delete fdb {} dst {} on {}", formatMac(entry.mac),
                                    entry.remote.toString(), link_name));
  }
  return absl::OkStatus();
}

absl::Status writeSysctl(std::string_view path, std::string_view value) {
  const std::string full = fmt::format("/proc/sys/{}", path);
  std::ofstream out(full);
  if (!out) {
    return absl::FailedPreconditionError(
        fmt::format("sysctl {}: cannot open: {}", full, std::strerror(errno)));
  }
  out << value;
  out.flush();
  if (!out) {
    return absl::FailedPreconditionError(
        fmt::format("sysctl {}: cannot write: {}", full, std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> readSysctl(std::string_view path) {
  const std::string full = fmt::format("/proc/sys/{}", path);
  std::ifstream in(full);
  if (!in) return absl::NotFoundError(fmt::format("sysctl {}: cannot open", full));
  std::stringstream ss;
  ss << in.rdbuf();
  return std::string(trim(ss.str()));
}

}  // namespace coral::agent
