// coral-ipam: a CNI IPAM plugin (spec 1.0.0; results also in 0.3.x/0.4.0 form) that gives
// the reference plugins (macvlan, bridge, ipvlan, ...) addresses from Coral's pools:
//
//   "ipam": {"type": "coral-ipam", "datastore": "etcd://10.0.0.1:2379", "nodename": "n1",
//            "assign_ipv4": true, "assign_ipv6": false,
//            "ipv4_pools": ["default-ipv4"], "routes": [{"dst": "0.0.0.0/0"}],
//            "address_prefix": "pool",   // or "host": /32 and /128 as Coral's own pods get
//            "gateway": "10.9.0.1",       // or a list, one per family: returned, never allocated
//            "exclude": ["10.9.0.2", "10.9.0.240/28"]}   // never allocated
//
// With "pool" prefixes the pool's network and broadcast addresses (IPv6: the all-zero host
// part) are never allocated: the L2 plugins use the pool's prefix as the link's subnet.
// Allocations carry owner=coral-ipam: check and GC count them alive while their node
// exists, since no Pod or WorkloadEndpoint is written for these pods (see ipam/README.md).
//
// `datastore` and `nodename` fall back to $CORAL_DATASTORE and $CORAL_NODENAME (then the
// default store and the host name). ADD allocates for the handle "<container id>.<ifname>"
// (a retried ADD gets the same address), DEL releases it (idempotent), CHECK verifies that
// the handle still holds its addresses (and those of prevResult). CNI_ARGS
// K8S_POD_NAMESPACE / K8S_POD_NAME become the allocation's namespace/pod, for leak checks.
// This file is the logic, testable without a process; main.cc reads env and stdin.
#pragma once

#include <map>
#include <string>

#include "model/codec.h"

namespace coral::ipam::cni {

// CNI error codes (spec 1.0.0 "Error" section) and ours (100+).
enum ErrorCode {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnvironment = 4,
  kIoFailure = 5,
  kDecodeFailure = 6,
  kInvalidNetworkConfig = 7,
  kTryAgainLater = 11,
  kNoAddressAvailable = 100,  // pools exhausted or no pool selects the node
  kAllocationMissing = 101,   // CHECK: the handle does not hold what it should
  kDatastoreError = 102,
};

struct Request {
  std::map<std::string, std::string> env;  // CNI_COMMAND, CNI_CONTAINERID, CNI_IFNAME, ...
  std::string stdin_config;                // the network configuration JSON
};

struct Response {
  int exit_code = 0;
  std::string stdout_text;  // a result, a version reply, an error, or nothing (DEL)
};

Response handle(const Request& request);

}  // namespace coral::ipam::cni
