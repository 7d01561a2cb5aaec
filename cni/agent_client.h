// GrpcAgent: the Agent seam (cni/shim.h) over gRPC to corald's Cni service on its unix
// socket. gRPC stays inside agent_client.cc; this header only names the shim's types.
#pragma once

#include "cni/shim.h"

namespace coral::cni {

class GrpcAgent : public Agent {
 public:
  // Connects to request.socket_path per call (the shim makes one call per process) with
  // request.timeout_ms as the deadline of the whole call, connection included.
  AgentAnswer call(const Request& request) override;
};

}  // namespace coral::cni
