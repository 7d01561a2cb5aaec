// The lab: a multi-node, multi-datacenter Coral cluster on one machine, made of network
// namespaces (routers running BIRD 2, nodes running corald, pods attached through the
// real coral-cni), with all its state under one directory.
#pragma once

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ctl/lab/config.h"
#include "ctl/lab/state.h"

namespace coral::lab {

// Where the binaries are: next to coralctl in the build tree or installed beside it.
struct Binaries {
  std::string corald;
  std::string coral_cni;
  std::string coralctl;
  std::string coral_bgpd;  // empty when not built: only `bgp: rr` needs it
};
absl::StatusOr<Binaries> findBinaries();

// The lab's etcd client socket, in <lab dir>/etcd/ (`--datastore etcd`).
inline constexpr const char* kEtcdSocket = "etcd.sock:2379";

// Builds the lab; prints progress (step, seconds) to `out`. On failure the half-built
// lab stays recorded in its state file: `lab down` removes it.
absl::Status labUp(const LabConfig& config, std::ostream& out);
// Removes every namespace, process and file of the lab `name`; works after a crash and
// without a state file. Returns OK when there was nothing to remove.
absl::Status labDown(const std::string& name, std::ostream& out);

// corald on the node answers /readyz with 200.
bool coraldReady(const LabNode& node);

// Stops corald on a node (SIGKILL with `kill`, else SIGTERM) and starts it again; returns
// when it is ready. Pods keep their connectivity: the kernel state stays, and the ToR
// keeps the node's routes through BGP graceful restart.
absl::Status nodeRestart(const std::string& lab, const std::string& node, bool kill,
                         std::ostream& out);

// Adds node `node` (like dc1-n3) to data center `dc` of a running lab, built exactly as
// `lab up` builds its nodes; returns when its corald is ready and its ToR's session is up.
absl::Status nodeAdd(const std::string& lab, const std::string& node, const std::string& dc,
                     std::ostream& out);
// Removes a node: refused while pods are on it unless `force` (then CNI DEL of each);
// stops corald, removes the ToR's peer, the Node and its IPAM blocks and affinities from
// the datastore (so every other node and router drops the routes to them), its namespace.
absl::Status nodeDel(const std::string& lab, const std::string& node, bool force,
                     std::ostream& out);

struct PodSpec {
  std::string name;
  std::string pod_namespace = "default";
  std::string node;
  std::map<std::string, std::string> labels;
};
absl::Status podAdd(const std::string& lab, const PodSpec& spec, std::ostream& out);
absl::Status podDel(const std::string& lab, const std::string& ns, const std::string& name,
                    std::ostream& out);
// Runs a command inside a pod's namespace; returns its exit code.
int podExec(const std::string& lab, const std::string& ns, const std::string& name,
            const std::vector<std::string>& command);

// Who reaches whom: a TCP connect to port 80 from every pod to every other pod, to its
// IPv4 address, or its IPv6 address with `ipv6`.
absl::Status printMatrix(const std::string& lab, int port, bool ipv6, std::ostream& out);
absl::Status printStatus(const std::string& lab, std::ostream& out);
absl::Status writeGraph(const std::string& lab, const std::string& path);

}  // namespace coral::lab
