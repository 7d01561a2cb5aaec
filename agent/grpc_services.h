// The gRPC side of corald: the CNI service (a thin adapter over CniHandler) and the
// status service, served on a unix socket. gRPC stays inside grpc_services.cc.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "agent/cni_handler.h"

namespace coral::agent {

class GrpcServer {
 public:
  using StatusProvider = std::function<std::string()>;  // a serialized StatusResponse
  GrpcServer(CniHandler& handler, std::function<bool()> ready, StatusProvider status);
  ~GrpcServer();
  // Listens on unix:PATH (mode 0660, stale socket files replaced).
  absl::Status start(const std::string& socket_path);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coral::agent
