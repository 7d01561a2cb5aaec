// Parsing of etcd datastore URLs into connection options, and the prefix → key range rule
// (no gRPC here, so both are
// unit-testable and cheap to include). URLs:
//   etcd://host:port[,host:port...][/][?cacert=P&cert=P&key=P&username=U&password=W&timeout_ms=N]
//   etcds://...   as etcd:// with TLS required
//   etcd+unix:///abs/path/to/socket[?options]   one etcd listening on a unix socket (etcd's
//                 --listen-client-urls=unix://NAME:PORT makes the file NAME:PORT in its working
//                 directory); reachable from every network namespace through the filesystem
// A host without a port gets etcd's client port 2379; IPv6 hosts are bracketed: [fd00::1]:2379.
// Query values are percent-decoded, so a password may contain '&' as %26.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace coral::datastore::etcd {

inline constexpr int kDefaultEtcdPort = 2379;

struct EtcdOptions {
  std::vector<std::string> endpoints;  // "host:port", in the URL's order, or "unix:/path"
  bool tls = false;                    // etcds://, or any of cacert/cert/key given
  std::string cacert_path;             // empty: the system roots
  std::string cert_path;               // client certificate; needs key_path
  std::string key_path;
  std::string username;  // empty: no auth
  std::string password;
  std::chrono::milliseconds timeout{5000};  // per-request deadline
  bool operator==(const EtcdOptions&) const = default;
};

// kInvalidArgument naming the part of the URL that is wrong.
absl::StatusOr<EtcdOptions> parseEtcdUrl(std::string_view url);

}  // namespace coral::datastore::etcd

namespace coral::datastore::etcd {

// The etcd range_end that, with key = prefix, selects every key starting with `prefix`:
// the prefix with its last byte below 0xff incremented and the rest cut off. A prefix of
// only 0xff bytes (or empty) has no such end: "\0" then means "every key >= key".
std::string prefixRangeEnd(std::string_view prefix);

}  // namespace coral::datastore::etcd
