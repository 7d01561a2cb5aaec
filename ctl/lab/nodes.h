// Building blocks shared by `lab up` and `lab node add|del|restart` (nodes.cc): one node
// is set up by one function, whether the lab is being built or is already running, and
// a router's BIRD configuration is (re)written from the state in one place.
#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <string>

#include "absl/status/statusor.h"
#include "ctl/lab/config.h"
#include "ctl/lab/lab.h"
#include "ctl/lab/state.h"

namespace coral::lab {

// "  step ... done (1.2s)" lines while building.
class Progress {
 public:
  explicit Progress(std::ostream& out) : out_(out) {}
  void step(const std::string& what);
  void finish();
  void fail();

 private:
  std::ostream& out_;
  std::chrono::steady_clock::time_point start_;
  bool open_ = false;
};

// Polls `ready` every 200 ms until it is true (true) or `limit` passed (false).
bool waitFor(const std::function<bool()>& ready, std::chrono::seconds limit);

// Creates the network namespace coral-LAB-WHAT (recorded in the state before it exists,
// so `lab down` removes it whatever happens next) with its loopback up.
absl::StatusOr<std::string> addNetns(LabState& state, const std::string& what);
// Runs `cmd` with sh inside `netns`; an error naming the command when it fails.
absl::Status inNetns(const std::string& netns, const std::string& cmd);

// Plugs namespace `netns` into its DC's underlay as every node is: a veth whose end `port`
// is a port of the router's bridge br0 and whose end eth0 in `netns` holds `address` (and
// `address_v6` when not empty), with default routes via the router.
absl::Status attachToUnderlay(const LabRouter& router, const std::string& netns,
                              const std::string& port, const std::string& address,
                              int prefix_length, const std::string& address_v6,
                              int prefix_length_v6);

// Writes the router's BIRD configuration from the state (one BGP protocol per node of its
// DC), checks it with `bird -p`, and, when its BIRD runs, applies it with `birdc
// configure`: a new node's protocol starts, a removed node's protocol stops and its routes
// are gone (no graceful-restart stale routes: the protocol no longer exists).
absl::Status configureBird(const LabState& state, const LabRouter& router);

// corald for one node (see nodes.cc for its environment).
absl::StatusOr<int> startCorald(const LabState& state, const LabNode& node,
                                const std::string& corald);

// Adds node `name` to data center `dc` of the lab, exactly as `lab up` builds each node:
// its namespace, an underlay veth to the DC's bridge with the next free underlay address
// (.11, .12, ...; and the same host number in the DC's IPv6 underlay), its Node resource in
// the lab's datastore, and its ToR's BGP peer (BIRD reconfigured). Every step is in the
// state file as soon as it is made. startNode then runs it.
absl::Status buildNode(LabState& state, const DataCenter& dc, const std::string& name,
                       Progress& progress);
// Starts corald on a built node and writes the node's CNI conflist; does not wait for
// corald to be ready. `lab up` builds every node before it starts any corald, so each
// corald's first view holds all the lab's nodes (with the mesh, a node appearing later
// reconfigures every speaker).
absl::Status startNode(LabState& state, const std::string& name, const Binaries& bins,
                       Progress& progress);

}  // namespace coral::lab
