// Socket options for BGP transport on a raw fd: TCP MD5 signatures (RFC 2385), the TTL
// of outgoing packets (eBGP single hop / multihop) and GTSM (RFC 5082) minimum TTL.
// Plain POSIX so it stays out of the Asio headers.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "common/ip.h"

namespace coral::bgp {

// Sets (or with an empty key, clears) the MD5 key for peers in `peer` (a host prefix
// for one peer, wider for dynamic neighbours) on `fd` (a listener or a client socket).
// `socket_family` is the fd's family: an IPv4 peer on an IPv6 socket is keyed as the
// mapped address.
absl::Status setMd5Key(int fd, common::Family socket_family, const common::Prefix& peer,
                       const std::string& key);

// Outgoing TTL (IPv4) / hop limit (IPv6).
absl::Status setTtl(int fd, common::Family family, int ttl);
// GTSM: drop segments arriving with a TTL below `min_ttl`.
absl::Status setMinTtl(int fd, common::Family family, int min_ttl);

}  // namespace coral::bgp
