// CniHandler: what corald does for a CNI ADD, DEL and CHECK, free of gRPC.
//
// ADD: addresses from IPAM (one per family that has a pool for this node), the veth and
// the pod's interface, the host route, then the WorkloadEndpoint with the pod's labels.
// Any failure undoes the earlier steps in reverse order: no half-built pod, no leaked
// address. DEL undoes everything and succeeds when things are already gone. CHECK
// compares the kernel, the endpoint record and IPAM with what ADD made.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "agent/config.h"
#include "agent/dataplane/netlink.h"
#include "agent/routes/route_calc.h"
#include "datastore/resource_store.h"
#include "ipam/ipam.h"

namespace coral::agent {

// CNI error codes: the spec's (1.0.0 "Error" section), and Coral's own from 100.
inline constexpr uint32_t kCniErrInvalidEnv = 4;
inline constexpr uint32_t kCniErrInvalidConfig = 7;
inline constexpr uint32_t kCniErrNotReady = 50;  // CNI 1.1 STATUS: plugin not available
inline constexpr uint32_t kCniErrTryAgainLater = 11;
inline constexpr uint32_t kCniErrNoAddress = 100;
inline constexpr uint32_t kCniErrDataplane = 101;
inline constexpr uint32_t kCniErrDatastore = 102;

struct CniCall {
  std::string container_id;
  std::string netns;
  std::string ifname = "eth0";
  std::string pod_namespace = "default";
  std::string pod_name;
  uint32_t mtu = 0;  // the conflist's "mtu"; 0: corald decides (config, then the underlay)
};

struct CniFailure {
  uint32_t code = 0;
  std::string msg;
  std::string details;
};

struct CniSuccess {
  std::string host_ifname;
  MacAddress host_mac{};
  std::string pod_ifname;
  MacAddress pod_mac{};
  std::string netns;
  uint32_t mtu = 0;
  std::vector<common::IpAddress> addresses;
};

// How the policy dataplane joins a pod's path: `protect` makes the new endpoint's chains
// (default deny when a policy selects it) before ADD answers; `forget` drops them.
struct PolicyHooks {
  std::function<absl::Status(const model::WorkloadEndpoint&)> protect;
  std::function<void(const model::WorkloadEndpoint&)> forget;
};

class CniHandler {
 public:
  CniHandler(const AgentConfig& config, datastore::ResourceStore& store, ipam::Ipam& ipam,
             std::function<void()> on_endpoints_changed, PolicyHooks policy = {},
             std::function<uint32_t()> pod_mtu = {});

  std::variant<CniSuccess, CniFailure> add(const CniCall& call);
  std::optional<CniFailure> del(const CniCall& call);
  std::optional<CniFailure> check(const CniCall& call);

  // The WorkloadEndpoint name for a pod's interface on this node.
  std::string endpointName(const CniCall& call) const;
  // The workload id the host interface name is derived from.
  static std::string workloadId(const CniCall& call);

 private:
  // Families that have an enabled pool selecting this node.
  absl::StatusOr<std::pair<bool, bool>> familiesForNode();

  const AgentConfig& config_;
  datastore::ResourceStore& store_;
  ipam::Ipam& ipam_;
  std::function<void()> on_endpoints_changed_;
  PolicyHooks policy_;
  std::function<uint32_t()> pod_mtu_;  // the agent's current pod MTU; 0 or unset: podMtu()
  // ADD/DEL/CHECK for one pod must not interleave; one lock is simple and fast enough.
  std::mutex mu_;
};

// The pod MTU: the configured one, else the underlay's.
uint32_t podMtu(const AgentConfig& config, Netlink& netlink);

// The "mtu" of the network configuration coral-cni was given (the conflist entry), 0 when
// absent or unusable (the shim has already rejected one out of range).
uint32_t conflistMtu(std::string_view network_config_json);

}  // namespace coral::agent
