// LabState: everything a lab made, written to <dir>/state.json after every step so that
// `lab down` can remove a half-built lab or one whose coralctl crashed. `lab down` also
// works with no state file at all: it finds the lab's namespaces by name prefix and the
// processes inside them with `ip netns pids`.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ctl/lab/config.h"
#include "model/field.h"

namespace coral::lab {

struct LabNode {
  std::string name;  // dc1-n1
  std::string dc;
  std::string netns;       // coral-demo-dc1-n1
  std::string address;     // underlay IPv4
  std::string address_v6;  // underlay IPv6 (dual-stack DCs)
  std::string socket;      // corald's CNI socket
  int pid = 0;             // corald
  template <class V>
  void describe(V& v) {
    v("name", name);
    v("dc", dc);
    v("netns", netns);
    v("address", address);
    v("addressV6", address_v6);
    v("socket", socket);
    v("pid", pid);
  }
  bool operator==(const LabNode&) const = default;
};

struct LabRouter {
  std::string name;  // dc1-r
  std::string dc;
  std::string netns;
  std::string address;  // on the DC underlay
  std::string address_v6;
  std::string wan_address;
  std::string wan_address_v6;
  uint32_t as = 0;
  std::string bird_socket;
  int pid = 0;  // bird
  template <class V>
  void describe(V& v) {
    v("name", name);
    v("dc", dc);
    v("netns", netns);
    v("address", address);
    v("addressV6", address_v6);
    v("wanAddress", wan_address);
    v("wanAddressV6", wan_address_v6);
    v("as", as);
    v("birdSocket", bird_socket);
    v("pid", pid);
  }
  bool operator==(const LabRouter&) const = default;
};

// A DC's route reflector (`bgp: rr`): coral-bgpd in its own namespace on the DC's bridge,
// iBGP with the DC's nodes as route-reflector clients.
struct LabReflector {
  std::string name;  // dc1-rr
  std::string dc;
  std::string netns;
  std::string address;  // on the DC underlay (host .2)
  std::string address_v6;
  uint32_t as = 0;     // the DC's node AS
  std::string socket;  // coral-bgpd's status socket
  int pid = 0;         // coral-bgpd
  template <class V>
  void describe(V& v) {
    v("name", name);
    v("dc", dc);
    v("netns", netns);
    v("address", address);
    v("addressV6", address_v6);
    v("as", as);
    v("socket", socket);
    v("pid", pid);
  }
  bool operator==(const LabReflector&) const = default;
};

struct LabPod {
  std::string name;
  std::string pod_namespace;
  std::string node;
  std::string netns;
  std::string container_id;
  std::vector<std::string> addresses;
  std::map<std::string, std::string> labels;
  template <class V>
  void describe(V& v) {
    v("name", name);
    v("namespace", pod_namespace);
    v("node", node);
    v("netns", netns);
    v("containerID", container_id);
    v("addresses", addresses);
    v("labels", labels);
  }
  bool operator==(const LabPod&) const = default;
};

struct LabState {
  std::string name;
  std::string dir;
  std::string datastore_url;
  int etcd_pid = 0;  // the lab's own etcd (datastore etcd), in namespace coral-NAME-etcd
  LabConfig config;
  std::vector<std::string> namespaces;
  std::vector<LabRouter> routers;
  std::vector<LabNode> nodes;
  std::vector<LabReflector> reflectors;  // bgp: rr
  std::vector<LabPod> pods;
  bool complete = false;  // lab up finished
  template <class V>
  void describe(V& v) {
    v("name", name);
    v("dir", dir);
    v("datastore", datastore_url);
    v("etcdPid", etcd_pid);
    v("config", config);
    v("namespaces", namespaces);
    v("routers", routers);
    v("nodes", nodes);
    v("reflectors", reflectors);
    v("pods", pods);
    v("complete", complete);
  }
  bool operator==(const LabState&) const = default;

  absl::Status save() const;  // atomically: write temp + rename
  static absl::StatusOr<LabState> load(const std::string& dir);
  const LabNode* node(const std::string& name) const;
  const LabPod* pod(const std::string& ns, const std::string& name) const;
};

// Default base directory for labs; one directory per lab under it.
inline constexpr const char* kLabBaseDir = "/var/run/coral-lab";
std::string labDir(const std::string& name);
std::string netnsName(const std::string& lab, const std::string& what);

}  // namespace coral::lab
