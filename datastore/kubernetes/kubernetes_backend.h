// The Kubernetes datastore backend: datastore::Backend over the API server (HTTPS with
// Boost.Beast + OpenSSL; see kube_client.h for retries, tokens and errors and
// resource_map.h for where each key lives).
//
//   auto backend = openKubernetesBackend("kubernetes");          // in-cluster or KUBECONFIG
//   auto backend = openKubernetesBackend("kubernetes:///home/me/.kube/config?context=lab");
//
// How the etcd-shaped seam maps onto the API (the differences are real and documented):
//  * Revisions: metadata.resourceVersion, read as a number. Kubernetes calls it opaque; on
//    every etcd3-backed API server it is etcd's global revision, which is what this
//    backend (and the conformance suite) relies on. currentRevision() is the
//    resourceVersion of a one-item list.
//  * CAS: update/remove send the expected revision as metadata.resourceVersion or a
//    delete precondition; 409 Conflict → kAborted, 409 AlreadyExists → kAlreadyExists.
//    update() and put() read the object first (to keep its create revision).
//  * list(prefix): paginated lists (limit 500 + continue, relisting from scratch when a
//    continue token expired) of every collection the prefix can reach, filtered by key.
//  * watch(prefix): one collection per watch (a prefix inside one kind, or outside
//    /coral/v1/); a prefix spanning several kinds is kInvalidArgument. Watches use
//    allowWatchBookmarks, resume from the last resourceVersion after a dropped connection
//    or a server timeout, and report 410 Gone (an ERROR event or a 410 response) as
//    kOutOfRange: the caller relists.
//  * Leases: a coordination.k8s.io/v1 Lease per datastore lease in the client's namespace
//    (label coral.network/kv-lease); keys carry the lease id as a label. Nothing in
//    Kubernetes expires them, so every client that used leases sweeps expired ones
//    (every lease_sweep_ms) and deletes their keys.
//  * compact(): the API server compacts by itself; without a compaction hook (tests give
//    the fake server's) it is kUnimplemented.
//  * Pods, Namespaces, Nodes and NetworkPolicies are read-only (kFailedPrecondition on
//    writes).
#pragma once

#include <functional>
#include <string_view>

#include "datastore/backend.h"

namespace coral::datastore {

struct KubernetesBackendOptions {
  // What compact(revision) does; unset: kUnimplemented.
  std::function<absl::Status(Revision)> compact;
};

// kInvalidArgument / kNotFound naming the bad URL part or unreadable file. Opening does
// not contact the API server.
absl::StatusOr<BackendPtr> openKubernetesBackend(std::string_view url,
                                                 KubernetesBackendOptions options = {});

}  // namespace coral::datastore
