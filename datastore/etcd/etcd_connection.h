// EtcdConnection: the gRPC side of the etcd backend, shared by the backend and its
// watches. It owns one channel per endpoint, adds the per-request deadline and the auth
// token to each call, fails over to the next endpoint when one is unavailable,
// re-authenticates once when the token expired, and maps gRPC statuses onto the codes
// of datastore/backend.h. Internal to datastore/etcd: it includes gRPC, so nothing
// outside this folder may include it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "datastore/etcd/etcd_url.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace coral::datastore::etcd {

struct Endpoint {
  std::string address;  // "host:port", for messages
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<etcdserverpb::KV::Stub> kv;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease;
  std::unique_ptr<etcdserverpb::Auth::Stub> auth;
};

class EtcdConnection {
 public:
  // Reads the TLS files and makes the channels; does not connect (gRPC connects lazily).
  static absl::StatusOr<std::shared_ptr<EtcdConnection>> create(EtcdOptions options);

  const EtcdOptions& options() const { return options_; }
  size_t endpointCount() const { return endpoints_.size(); }
  Endpoint& endpoint(size_t index) { return *endpoints_[index]; }
  // The endpoint that answered last; calls start there.
  size_t activeIndex() const { return active_.load(); }
  // Moves on from a failing endpoint (if it still is the active one).
  void markFailed(size_t index);

  // True once endpoint `index` is connected; false if it is not by `deadline`.
  bool waitConnected(size_t index, std::chrono::system_clock::time_point deadline);

  using Rpc = std::function<grpc::Status(Endpoint&, grpc::ClientContext&)>;
  // Runs a unary call (or a short stream exchange) with the deadline and token set.
  // `what` names the request in error messages, e.g. `get "/coral/v1/x"`.
  absl::Status call(std::string_view what, const Rpc& rpc);

  // Prepares a context for a long-lived stream on endpoint `index`: the token (after
  // authenticating when needed) and etcd's require-leader flag, no deadline.
  // Returns the token used ("" without auth) so an expired one can be dropped.
  absl::StatusOr<std::string> prepareStream(size_t index, grpc::ClientContext& context);
  // Forgets `token` if it is the current one, so the next call authenticates again.
  void dropToken(const std::string& token);

  // The deadline-exceeded and unavailable codes become kUnavailable; others keep their code.
  static absl::Status toStatus(const grpc::Status& status, std::string_view endpoint,
                               std::string_view what);
  // etcd says "etcdserver: invalid auth token" when a simple token timed out.
  static bool isTokenExpired(const grpc::Status& status);

 private:
  explicit EtcdConnection(EtcdOptions options) : options_(std::move(options)) {}
  // The current token, authenticating against `ep` when there is none.
  absl::StatusOr<std::string> token(Endpoint& ep);

  EtcdOptions options_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::atomic<size_t> active_{0};
  std::mutex token_mu_;
  std::string token_;
};

}  // namespace coral::datastore::etcd
