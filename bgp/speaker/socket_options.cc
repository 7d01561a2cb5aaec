// setsockopt wrappers for MD5, TTL and minimum TTL.
#include "bgp/speaker/socket_options.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

namespace coral::bgp {
namespace {

absl::Status errnoStatus(std::string_view what) {
  return absl::InternalError(fmt::format("{}: {}", what, std::strerror(errno)));
}

}  // namespace

absl::Status setMd5Key(int fd, common::Family socket_family, const common::Prefix& peer,
                       const std::string& key) {
  if (key.size() > TCP_MD5SIG_MAXKEYLEN) {
    return absl::InvalidArgumentError(fmt::format("TCP MD5 password for {} is longer than {} bytes",
                                                  peer.toString(), TCP_MD5SIG_MAXKEYLEN));
  }
  struct tcp_md5sig sig;
  std::memset(&sig, 0, sizeof(sig));
  const common::IpAddress& a = peer.address();
  int prefix_len = peer.length();
  if (a.isV4() && socket_family == common::Family::kV4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&sig.tcpm_addr);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, a.bytes().data(), 4);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&sig.tcpm_addr);
    sin6->sin6_family = AF_INET6;
    if (a.isV4()) {  // v4-mapped on a dual-stack socket
      sin6->sin6_addr.s6_addr[10] = 0xff;
      sin6->sin6_addr.s6_addr[11] = 0xff;
      std::memcpy(&sin6->sin6_addr.s6_addr[12], a.bytes().data(), 4);
      prefix_len += 96;
    } else {
      std::memcpy(&sin6->sin6_addr, a.bytes().data(), 16);
    }
  }
  sig.tcpm_keylen = static_cast<uint16_t>(key.size());
  std::memcpy(sig.tcpm_key, key.data(), key.size());
  int option = TCP_MD5SIG;
  if (!peer.isHost()) {
    option = TCP_MD5SIG_EXT;
    sig.tcpm_flags = TCP_MD5SIG_FLAG_PREFIX;
    sig.tcpm_prefixlen = static_cast<uint8_t>(prefix_len);
  }
  if (::setsockopt(fd, IPPROTO_TCP, option, &sig, sizeof(sig)) != 0) {
    // Clearing a key that was never set is not an error.
    if (key.empty() && errno == ENOENT) return absl::OkStatus();
    return errnoStatus(fmt::format("TCP_MD5SIG for {}", peer.toString()));
  }
  return absl::OkStatus();
}

absl::Status setTtl(int fd, common::Family family, int ttl) {
  const int rc = family == common::Family::kV4
                     ? ::setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl))
                     : ::setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof(ttl));
  return rc == 0 ? absl::OkStatus() : errnoStatus(fmt::format("set TTL {}", ttl));
}

absl::Status setMinTtl(int fd, common::Family family, int min_ttl) {
  const int rc = family == common::Family::kV4
                     ? ::setsockopt(fd, IPPROTO_IP, IP_MINTTL, &min_ttl, sizeof(min_ttl))
                     : ::setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &min_ttl, sizeof(min_ttl));
  return rc == 0 ? absl::OkStatus() : errnoStatus(fmt::format("set minimum TTL {}", min_ttl));
}

}  // namespace coral::bgp
