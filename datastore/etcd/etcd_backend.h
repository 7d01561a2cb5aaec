// The etcd v3 datastore backend: datastore::Backend over etcd's gRPC API (KV, Watch,
// Lease, Auth). gRPC stays behind this header; callers see only backend.h types.
//
//   auto backend = openEtcdBackend("etcd://10.0.0.1:2379,10.0.0.2:2379?timeout_ms=2000");
//
// URL options (query parameters): cacert, cert, key (TLS; etcds:// requires TLS),
// username + password (a token from Auth.Authenticate, renewed when it expires),
// timeout_ms (per-request deadline, default 5000). Opening does not contact etcd: an
// unreachable store shows up as kUnavailable on the first call. Requests go to the
// endpoint that answered last and move on to the next one when it is unavailable.
// Watches run a gRPC stream on their own thread and resume after a reconnect from the
// revision after the last one they delivered.
#pragma once

#include <string_view>

#include "datastore/backend.h"

namespace coral::datastore {

// kInvalidArgument naming the wrong part of a bad URL or an unreadable TLS file.
absl::StatusOr<BackendPtr> openEtcdBackend(std::string_view url);

}  // namespace coral::datastore
