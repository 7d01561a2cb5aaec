// FakeKubeApiServer: an in-process HTTPS server that speaks the Kubernetes API's REST
// protocol for the resources Coral uses, for tests (no real API server can run here). It
// is a fake, not a mock: it keeps an MVCC store like the API server's etcd and follows
// the documented API semantics —
//  * one global revision; metadata.resourceVersion is the revision of the last change;
//  * get / list / create (POST) / update (PUT, CAS on metadata.resourceVersion: 409
//    Conflict) / delete (preconditions: 409; the deleted object carries the deletion
//    revision), 404 NotFound and 409 AlreadyExists as Status objects;
//  * list with labelSelector (=, !=, exists), fieldSelector (a.b=c), limit/continue
//    (a consistent snapshot at the first page's revision; 410 Expired once compacted),
//    remainingItemCount; items of built-in types without apiVersion/kind, as the server
//    sends them;
//  * watch (?watch=1) from a resourceVersion: ADDED/MODIFIED/DELETED in revision order,
//    BOOKMARK with allowWatchBookmarks, synthetic ADDED for resourceVersion "" or "0",
//    an ERROR event with a 410 Status when the revision was compacted, timeoutSeconds;
//  * bearer-token or client-certificate authentication (401), RBAC denials (403 with the API
//  server's message),
//    429 with Retry-After and 5xx injected on demand.
// Test hooks: compact(), dropWatches(), expireNextContinue(), setTokens(), deny(),
// failNext(). A throwaway CA, server certificate (IP 127.0.0.1) and client certificate are
// made with the openssl command, once per process (Options::own_ca: per fake).
#pragma once

#include <chrono>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "model/codec.h"

namespace coral::testing {

class FakeKubeApiServer {
 public:
  struct Options {
    std::string token = "coral-test-token";  // accepted bearer token
    std::chrono::milliseconds bookmark_interval{1000};
    // The identity 403 messages name.
    std::string user = "system:serviceaccount:coral-system:coral";
    // A CA of its own; otherwise every fake of the process shares one (made once).
    bool own_ca = false;
  };
  static absl::StatusOr<std::unique_ptr<FakeKubeApiServer>> start(Options options);
  static absl::StatusOr<std::unique_ptr<FakeKubeApiServer>> start() { return start(Options{}); }
  ~FakeKubeApiServer();

  int port() const;
  std::string server() const;  // https://127.0.0.1:port
  std::string caPath() const;
  std::string dir() const;  // scratch directory (certificates, kubeconfigs)
  // Writes a kubeconfig (token auth) and returns its path; the datastore URL is
  // "kubernetes://" + path.
  std::string writeKubeconfig(const std::string& name = "kubeconfig",
                              const std::string& token = "") const;

  // A kubeconfig with a client certificate (CN system:node:node-1) and the CA inline
  // (*-data fields), no token.
  std::string writeClientCertKubeconfig(const std::string& name = "kubeconfig-cert") const;

  // Test hooks.
  void setTokens(std::set<std::string> tokens);
  void deny(const std::string& verb, const std::string& group, const std::string& resource);
  void failNext(int count, int status, int retry_after_s = -1);
  void dropWatches();              // closes every watch connection mid-stream
  void expireNextContinue();       // the next list page with a continue token gets 410
  void compact(int64_t revision);  // forgets history before `revision`
  int64_t revision() const;
  int64_t requestCount() const;
  int activeWatches() const;

  // Direct writes, as kubectl would make them. `collection` is the API path without
  // namespace: "/api/v1/pods", "/apis/networking.k8s.io/v1/networkpolicies". Returns the
  // stored object.
  absl::StatusOr<model::Json> create(const std::string& collection, model::Json object);
  absl::StatusOr<model::Json> update(const std::string& collection, model::Json object);
  absl::Status remove(const std::string& collection, const std::string& ns,
                      const std::string& name);

  class Impl;

 private:
  explicit FakeKubeApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace coral::testing
