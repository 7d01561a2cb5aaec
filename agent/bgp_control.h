// BgpControl: corald's embedded BGP speaker (bgp/speaker), configured from the datastore
// the way Calico's node is: the node's AS and router id, the BGPConfiguration ("default"
// and "node.<name>"), the node-to-node mesh, and every BGPPeer that selects this node
// (by node name, nodeSelector, or peerSelector for peers that are other Coral nodes).
// It originates this node's blocks and its borrowed /32s, and hands learned best paths to
// the route reconciler.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/ip.h"
#include "model/kinds/bgp.h"
#include "model/kinds/node.h"

namespace coral::bgp {
class Speaker;
struct SpeakerConfig;
struct PeerStatus;
}  // namespace coral::bgp

namespace coral::agent {

struct BgpInputs {
  std::string self;
  std::vector<model::Node> nodes;
  std::vector<model::BGPConfiguration> configs;
  std::vector<model::BGPPeer> peers;
  std::vector<common::Prefix> originate;  // this node's blocks and borrowed host routes
  bool restarting = false;                // Coral's routes were in the kernel at start
};

// The speaker configuration for this node; nullopt when the node has no IPv4 address
// (no router id) yet. Pure.
absl::StatusOr<std::optional<bgp::SpeakerConfig>> speakerConfigFor(const BgpInputs& in);

class BgpControl {
 public:
  explicit BgpControl(std::function<void()> on_routes_changed);
  ~BgpControl();

  // Starts, reconfigures in place, or leaves the speaker alone; updates originations.
  absl::Status sync(const BgpInputs& in);
  // Best paths learned from peers: prefix → next hop.
  std::map<common::Prefix, common::IpAddress> learnedRoutes() const;
  // Whether learnedRoutes() is complete enough to replace what the kernel held before a
  // restart (RFC 4724's receiving speaker keeps stale routes until the peer's End-of-RIB;
  // the caller adds the restart-time limit): the speaker runs, every configured peer is
  // Established and has been for `quiet`, and no learned route changed for `quiet`. The
  // speaker does not report End-of-RIB to its host, so a quiet period after the sessions
  // came up stands for it.
  bool converged(std::chrono::steady_clock::time_point now, std::chrono::seconds quiet) const;
  std::vector<bgp::PeerStatus> peers();
  void stop();

 private:
  std::function<void()> on_routes_changed_;
  mutable std::mutex speaker_mu_;  // guards the pointer; the Speaker itself is thread-safe
  std::unique_ptr<bgp::Speaker> speaker_;
  std::unique_ptr<bgp::SpeakerConfig> config_;
  std::vector<common::Prefix> originated_;
  mutable std::mutex mu_;
  std::map<common::Prefix, common::IpAddress> learned_;
  std::chrono::steady_clock::time_point last_learned_change_{};  // under mu_
};

}  // namespace coral::agent
