// KubeClient: HTTPS requests to the Kubernetes API server (Boost.Beast + OpenSSL behind a
// pimpl: no Asio or Beast in this header). It verifies the server certificate, sends the
// bearer token (re-read from its file when the file changes, and after a 401) or a client
// certificate, retries 429 (honouring Retry-After), 5xx and connection errors with
// exponential backoff and jitter, rate-limits itself (token bucket, QPS/burst), and turns API
// errors into absl::Status with messages that name the request — a 403 names the RBAC verb,
// resource and API group it lacked.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "datastore/kubernetes/kube_config.h"

namespace coral::datastore::kubernetes {

// What a request is, in RBAC terms, for error messages ("list pods in group \"\"").
struct RequestInfo {
  std::string verb;      // get list watch create update delete
  std::string group;     // "" for the core API
  std::string resource;  // plural: "pods"
  std::string ns;        // empty: cluster scope
  std::string name;
};

struct Response {
  int status = 0;
  std::string body;
  std::string retry_after;
};

// A streamed (watch) response: lines of JSON as they arrive.
class LineStream {
 public:
  virtual ~LineStream() = default;
  // Complete lines that arrived within `timeout` (possibly none). kUnavailable when the
  // connection dropped, kCancelled... never: end of stream is `ended()`.
  virtual absl::StatusOr<std::vector<std::string>> next(std::chrono::milliseconds timeout) = 0;
  // The server finished the response (watch timeout): reconnect from the last version.
  virtual bool ended() const = 0;
};

class KubeClient {
 public:
  static absl::StatusOr<std::unique_ptr<KubeClient>> create(ClientConfig config);
  ~KubeClient();

  // One request with retries. Returns the response for any status the caller should
  // interpret (2xx, 404, 409, 410, 422); 401, 403, and 429/5xx after the last retry,
  // become errors (kUnauthenticated, kPermissionDenied, kUnavailable).
  absl::StatusOr<Response> request(std::string_view method, const std::string& target,
                                   const RequestInfo& info, const std::string& body = {});
  // Opens a watch (or any streamed GET) on a connection of its own. Non-200 statuses are
  // errors built with errorFromResponse (a 410 becomes kOutOfRange).
  absl::StatusOr<std::unique_ptr<LineStream>> stream(const std::string& target,
                                                     const RequestInfo& info);

  const ClientConfig& config() const;
  // Backoff before retry `attempt` (0-based): 100 ms doubling to 5 s, with full jitter in
  // [d/2, d]; Retry-After (seconds) when the server sent it.
  static std::chrono::milliseconds backoff(int attempt, std::string_view retry_after = {});

  class Impl;

 private:
  explicit KubeClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The absl::Status for an API error response: 404 kNotFound, 409 kAlreadyExists (reason
// AlreadyExists) or kAborted (Conflict), 410 kOutOfRange, 401 kUnauthenticated,
// 403 kPermissionDenied naming the missing permission, 429/5xx kUnavailable, 422/400
// kInvalidArgument. The message includes the server's Status message.
absl::Status errorFromResponse(const RequestInfo& info, int status, std::string_view body);

// "verb resource" with group and namespace, as RBAC rules spell them.
std::string describePermission(const RequestInfo& info);

}  // namespace coral::datastore::kubernetes
