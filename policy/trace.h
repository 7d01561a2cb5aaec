// Policy trace: why a connection is allowed or denied. Resolves the two ends (a pod
// "ns/name" or an IP; an IP of a known endpoint is that endpoint), compiles the programs of
// the nodes involved and walks the source's egress chain and the destination's ingress
// chain with evaluate.h — the same program the renderers turn into nftables rules.
// `coralctl policy trace` prints TraceResult::toString().
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/compiler.h"
#include "policy/evaluate.h"
#include "policy/snapshot.h"

namespace coral::policy {

struct TraceRequest {
  std::string from;  // "ns/pod" or an IP address
  std::string to;
  uint8_t protocol = kProtoTcp;
  uint16_t port = 0;  // destination port for TCP/UDP/SCTP/UDPLite
  std::optional<int> icmp_type;
  std::optional<int> icmp_code;
};

struct TraceHop {
  std::string endpoint;  // "ns/pod"
  std::string node;
  Direction direction = Direction::kIngress;
  ChainVerdict verdict;
};

struct TraceResult {
  bool allowed = false;
  std::string summary;         // "tcp 10.0.0.1 (x/a) -> 10.0.0.2 (y/b) port 80"
  std::vector<TraceHop> hops;  // source egress, then destination ingress; endpoints only
  std::string note;            // set when no chain was walked (loopback, no endpoint)
  // Multi-line text, ending in "verdict: ALLOW" or "verdict: DENY".
  std::string toString() const;
};

// Parses "80/tcp", "53/udp", "132" (a bare port is TCP), "icmp", "icmp/8", "icmp/8/0".
absl::Status parsePortSpec(std::string_view text, TraceRequest& request);

class Tracer {
 public:
  // The snapshot must outlive the tracer and not change while it is used.
  explicit Tracer(const Snapshot& snapshot) : snapshot_(snapshot) {}
  absl::StatusOr<TraceResult> trace(const TraceRequest& request);

 private:
  struct NodeState {
    Program program;
    MemberMap members;
  };
  const NodeState& node(const std::string& name);
  const Snapshot& snapshot_;
  std::map<std::string, NodeState> nodes_;
};

}  // namespace coral::policy
