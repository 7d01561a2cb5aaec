// Lab nodes: one node set up by the same two functions (buildNode, startNode) for `lab up`
// and `lab node add`,
// `lab node del` (pods, corald, the ToR's peer, the datastore's Node and IPAM blocks, the
// namespace), `lab node restart`, and the routers' BIRD (re)configuration.
#include "ctl/lab/nodes.h"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "common/status.h"
#include "common/strings.h"
#include "controller/node_cleanup.h"
#include "ctl/lab/bird.h"
#include "ctl/lab/shell.h"
#include "datastore/backend.h"
#include "datastore/resource_store.h"
#include "ipam/ipam.h"
#include "model/registry.h"

namespace coral::lab {
namespace {

namespace fs = std::filesystem;

// Underlay addresses of nodes start at host .11; the router's bridge port of the node at
// host .(10+k) is n<k>.
constexpr uint64_t kFirstNodeHost = 11;

const LabRouter* routerOf(const LabState& state, const std::string& dc) {
  for (const auto& r : state.routers) {
    if (r.dc == dc) return &r;
  }
  return nullptr;
}

const DataCenter* dcNamed(const LabConfig& config, const std::string& name) {
  for (const auto& dc : config.dcs) {
    if (dc.name == name) return &dc;
  }
  return nullptr;
}

// The ToR's session to the node (its BIRD protocol is the node's name with '_' for '-').
bool sessionEstablished(const LabRouter& r, const std::string& node) {
  std::string proto = node;
  std::replace(proto.begin(), proto.end(), '-', '_');
  return run(fmt::format("birdc -s {} show protocols {}", r.bird_socket, proto))
             .output.find("Established") != std::string::npos;
}

absl::Status writeNodeResource(const LabState& state, const DataCenter& dc, const LabNode& n) {
  auto backend = datastore::openBackend(state.datastore_url);
  if (!backend.ok()) return backend.status();
  datastore::ResourceStore store(**backend);
  model::Node node;
  node.metadata.name = n.name;
  node.metadata.labels = {{"dc", dc.name}};
  node.spec.as_number = dc.node_as;
  // corald publishes what it detects on eth0 too; these are the same addresses.
  node.spec.ipv4_address =
      fmt::format("{}/{}", n.address, dc.underlay.substr(dc.underlay.find('/') + 1));
  if (!n.address_v6.empty()) {
    node.spec.ipv6_address =
        fmt::format("{}/{}", n.address_v6, dc.underlay_v6.substr(dc.underlay_v6.find('/') + 1));
  }
  return store.apply(model::toResource(node)).status();
}

absl::Status checkNodeName(const LabState& state, const DataCenter& dc, const std::string& name) {
  const bool charset = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '-';
  });
  if (!charset || !name.starts_with(dc.name + "-") || name.size() == dc.name.size() + 1 ||
      name.size() > 15 || name.ends_with("-")) {
    return absl::InvalidArgumentError(fmt::format(
        "node name \"{}\": lowercase letters, digits and '-', at most 15 characters, starting "
        "with its data center's name and a dash (like {}-n3)",
        name, dc.name));
  }
  if (state.node(name) != nullptr) {
    return absl::AlreadyExistsError(fmt::format("node {} exists in lab {}", name, state.name));
  }
  return absl::OkStatus();
}

}  // namespace

void Progress::step(const std::string& what) {
  finish();
  out_ << "  " << what << " ... " << std::flush;
  start_ = std::chrono::steady_clock::now();
  open_ = true;
}

void Progress::finish() {
  if (!open_) return;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  out_ << fmt::format("done ({:.1f}s)\n", s);
  open_ = false;
}

void Progress::fail() {
  if (open_) out_ << "FAILED\n";
  open_ = false;
}

bool waitFor(const std::function<bool()>& ready, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

absl::StatusOr<std::string> addNetns(LabState& state, const std::string& what) {
  const std::string ns = netnsName(state.name, what);
  state.namespaces.push_back(ns);
  (void)state.save();
  if (auto s = runChecked("ip netns add " + ns); !s.ok()) return s;
  if (auto s = runChecked("ip netns exec " + ns + " ip link set lo up"); !s.ok()) return s;
  return ns;
}

absl::Status inNetns(const std::string& netns, const std::string& cmd) {
  return runChecked("ip netns exec " + netns + " sh -c " + shellQuote(cmd));
}

absl::Status attachToUnderlay(const LabRouter& router, const std::string& netns,
                              const std::string& port, const std::string& address,
                              int prefix_length, const std::string& address_v6,
                              int prefix_length_v6) {
  if (auto s = runChecked(fmt::format("ip link add {} netns {} type veth peer name eth0 netns {}",
                                      port, router.netns, netns));
      !s.ok()) {
    return s;
  }
  if (auto s = inNetns(router.netns,
                       fmt::format("ip link set {0} master br0 && ip link set {0} up", port));
      !s.ok()) {
    return s;
  }
  if (auto s = inNetns(netns, fmt::format("ip link set eth0 up && ip addr add {}/{} dev eth0 && "
                                          "ip route add default via {}",
                                          address, prefix_length, router.address));
      !s.ok()) {
    return s;
  }
  if (address_v6.empty()) return absl::OkStatus();
  // No DAD: usable at once.
  return inNetns(netns, fmt::format("ip -6 addr add {}/{} dev eth0 nodad && "
                                    "ip -6 route add default via {}",
                                    address_v6, prefix_length_v6, router.address_v6));
}

absl::Status configureBird(const LabState& state, const LabRouter& router) {
  const DataCenter* dc = dcNamed(state.config, router.dc);
  if (dc == nullptr) return absl::InternalError("router " + router.name + " has no data center");
  const std::string conf = state.dir + "/bird/" + router.name + ".conf";
  std::ofstream(conf) << birdConfig(state, router, *dc);
  if (auto check = run("bird -p -c " + conf); !check.ok()) {
    return absl::InternalError("BIRD rejects " + conf + ": " + check.output);
  }
  if (!processMatches(router.pid, "bird")) return absl::OkStatus();  // not started yet
  auto r = run(fmt::format("birdc -s {} configure", router.bird_socket));
  if (!r.ok() || r.output.find("Reconfigur") == std::string::npos) {
    return absl::InternalError(
        fmt::format("birdc configure of {} failed: {}", router.name, trim(r.output)));
  }
  return absl::OkStatus();
}

// corald for one node: routes to other nodes in the DC from the datastore (they share the
// bridge), its blocks announced to the ToR by its own BGP speaker; with VXLAN, every route
// to another node's pods goes through the tunnel and nothing is announced.
absl::StatusOr<int> startCorald(const LabState& state, const LabNode& n,
                                const std::string& corald) {
  const std::string env = fmt::format(
      "env CORAL_NODENAME={} CORAL_DATASTORE={} CORAL_CNI_SOCKET={} CORAL_HTTP_PORT=9099 "
      "CORAL_UNDERLAY_INTERFACE=eth0 CORAL_ROUTE_SOURCE={}{}",
      n.name, state.datastore_url, n.socket,
      // With the mesh or a route reflector, routes within the DC are the iBGP paths the
      // node learns.
      state.config.bgp == "mesh" || state.config.bgp == "rr" ? "bgp" : "datastore",
      // Encapsulated labs: no BGP at all, the routers know nothing of pods.
      state.config.encapsulation != "None" ? " CORAL_BGP=disabled" : "");
  return spawnInNetns(n.netns, env + " " + corald, state.dir + "/logs/" + n.name + ".corald.log");
}

absl::Status buildNode(LabState& state, const DataCenter& dc, const std::string& name,
                       Progress& progress) {
  const LabRouter* router = routerOf(state, dc.name);
  if (router == nullptr) return absl::NotFoundError("no router for data center " + dc.name);
  auto underlay = common::Prefix::parse(dc.underlay);
  if (!underlay.ok()) return underlay.status();
  // The next free underlay address of the DC.
  uint64_t host = kFirstNodeHost;
  for (;; ++host) {
    auto address = underlay->addressAt(host);
    if (!address || host + 1 >= (uint64_t{1} << (32 - underlay->length()))) {
      return absl::ResourceExhaustedError(
          fmt::format("no free node address left in {}'s underlay {}", dc.name, dc.underlay));
    }
    const bool used = std::any_of(state.nodes.begin(), state.nodes.end(), [&](const LabNode& n) {
      return n.address == address->toString();
    });
    if (!used) break;
  }
  LabNode n;
  n.name = name;
  n.dc = dc.name;
  n.address = underlay->addressAt(host)->toString();
  n.socket = state.dir + "/run/" + n.name + ".sock";
  progress.step(fmt::format("node {} on {} ({})", n.name, dc.underlay, n.address));
  auto ns = addNetns(state, n.name);
  if (!ns.ok()) return ns.status();
  n.netns = *ns;
  state.nodes.push_back(n);
  (void)state.save();
  int length_v6 = 0;
  if (!router->address_v6.empty()) {
    // Dual stack: the node's IPv6 underlay address (same host number), published in its
    // Node resource as the next hop of its v6 blocks.
    auto underlay_v6 = common::Prefix::parse(dc.underlay_v6);
    if (!underlay_v6.ok()) return underlay_v6.status();
    auto address_v6 = underlay_v6->addressAt(host);
    if (!address_v6) {
      return absl::ResourceExhaustedError(
          fmt::format("no node address {} in {}'s underlay {}", host, dc.name, dc.underlay_v6));
    }
    n.address_v6 = address_v6->toString();
    length_v6 = underlay_v6->length();
    state.nodes.back().address_v6 = n.address_v6;
    (void)state.save();
  }
  const std::string port = fmt::format("n{}", host - (kFirstNodeHost - 1));
  if (auto s = attachToUnderlay(*router, n.netns, port, n.address, underlay->length(), n.address_v6,
                                length_v6);
      !s.ok()) {
    return s;
  }

  if (auto s = writeNodeResource(state, dc, n); !s.ok()) return s;
  if (state.config.encapsulation == "None") {
    progress.step(fmt::format("BGP peer {} on {}", n.name, router->name));
    if (auto s = configureBird(state, *router); !s.ok()) return s;
  }

  return absl::OkStatus();
}

absl::Status startNode(LabState& state, const std::string& name, const Binaries& bins,
                       Progress& progress) {
  LabNode* node = nullptr;
  for (auto& x : state.nodes) {
    if (x.name == name) node = &x;
  }
  if (node == nullptr) return absl::NotFoundError("no node " + name + " in the lab state");
  LabNode& n = *node;
  progress.step(fmt::format("corald on {}", n.name));
  auto pid = startCorald(state, n, bins.corald);
  if (!pid.ok()) return pid.status();
  n.pid = *pid;
  (void)state.save();
  // One CNI configuration per node, as each node's /etc/cni/net.d would hold.
  std::ofstream(state.dir + "/cni/" + n.name + ".conflist") << fmt::format(R"({{
  "cniVersion": "1.0.0",
  "name": "coral-lab",
  "plugins": [
    {{"type": "coral", "socket": "{}"}}
  ]
}}
)",
                                                                           n.socket);
  return absl::OkStatus();
}

absl::Status nodeAdd(const std::string& lab, const std::string& node, const std::string& dc_name,
                     std::ostream& out) {
  auto state = LabState::load(labDir(lab));
  if (!state.ok()) return absl::NotFoundError(fmt::format("lab {} is not up", lab));
  if (!state->complete) {
    return absl::FailedPreconditionError(
        fmt::format("lab {} is incomplete (a failed `lab up`): run `coralctl lab down`", lab));
  }
  const DataCenter* dc = dcNamed(state->config, dc_name);
  if (dc == nullptr) {
    std::vector<std::string> names;
    for (const auto& d : state->config.dcs) names.push_back(d.name);
    return absl::NotFoundError(fmt::format("no data center {} in lab {} (data centers: {})",
                                           dc_name, lab, join(names, ", ")));
  }
  if (auto s = checkNodeName(*state, *dc, node); !s.ok()) return s;
  auto bins = findBinaries();
  if (!bins.ok()) return bins.status();
  Progress progress(out);
  auto fail = [&](absl::Status s) {
    progress.fail();
    (void)state->save();
    return annotate(s, fmt::format("lab node add {} (what was built is in the state file: "
                                   "`coralctl lab --name {} node del {}` or `lab down` removes it)",
                                   node, lab, node));
  };
  if (auto s = buildNode(*state, *dc, node, progress); !s.ok()) return fail(s);
  if (auto s = startNode(*state, node, *bins, progress); !s.ok()) return fail(s);
  progress.step(fmt::format("waiting for corald on {} to be ready", node));
  const LabNode& n = *state->node(node);
  if (!waitFor([&] { return coraldReady(n); }, std::chrono::seconds(30))) {
    return fail(absl::DeadlineExceededError(
        fmt::format("corald on {} is not ready after 30 s; see {}/logs/{}.corald.log", node,
                    state->dir, node)));
  }
  if (state->config.encapsulation == "None") {
    const LabRouter& router = *routerOf(*state, dc->name);
    progress.step(fmt::format("waiting for the BGP session {} - {}", router.name, node));
    if (!waitFor([&] { return sessionEstablished(router, node); }, std::chrono::seconds(30))) {
      return fail(absl::DeadlineExceededError(
          fmt::format("the BGP session of {} with {} is not Established after 30 s; see "
                      "{}/logs/{}.bird.log and {}/logs/{}.corald.log",
                      router.name, node, state->dir, router.name, state->dir, node)));
    }
  }
  progress.finish();
  out << fmt::format(
      "Node {} joined {} at {}. Add pods with `coralctl lab --name {} pod add "
      "NAME --node {}`.\n",
      node, dc->name, n.address, lab, node);
  return absl::OkStatus();
}

absl::Status nodeDel(const std::string& lab, const std::string& node, bool force,
                     std::ostream& out) {
  auto state = LabState::load(labDir(lab));
  if (!state.ok()) return absl::NotFoundError(fmt::format("lab {} is not up", lab));
  if (state->node(node) == nullptr) {
    return absl::NotFoundError(fmt::format("no node {} in lab {}", node, lab));
  }
  std::vector<LabPod> pods;
  for (const auto& p : state->pods) {
    if (p.node == node) pods.push_back(p);
  }
  if (!pods.empty() && !force) {
    std::vector<std::string> names;
    for (const auto& p : pods) names.push_back(p.pod_namespace + "/" + p.name);
    return absl::FailedPreconditionError(
        fmt::format("node {} still has pods: {}; delete them first (`coralctl lab pod del`) or "
                    "use --force (CNI DEL of each, then the node)",
                    node, join(names, ", ")));
  }
  Progress progress(out);
  for (const auto& p : pods) {
    progress.step(fmt::format("pod {}/{} (CNI DEL)", p.pod_namespace, p.name));
    std::ostringstream ignored;
    if (auto s = podDel(lab, p.pod_namespace, p.name, ignored); !s.ok()) {
      progress.fail();
      return s;
    }
  }
  state = LabState::load(labDir(lab));  // podDel changed it
  if (!state.ok()) return state.status();
  const LabNode n = *state->node(node);

  progress.step(fmt::format("corald on {} (SIGTERM, pid {})", node, n.pid));
  if (processMatches(n.pid, "corald")) stopProcess(n.pid);
  std::erase_if(state->nodes, [&](const LabNode& x) { return x.name == node; });
  (void)state->save();

  if (const LabRouter* router = routerOf(*state, n.dc);
      router != nullptr && state->config.encapsulation == "None") {
    progress.step(fmt::format("BGP peer {} on {}", node, router->name));
    if (auto s = configureBird(*state, *router); !s.ok()) {
      progress.fail();
      return s;
    }
  }

  // What the controller does for a node that left a cluster: its blocks and affinities
  // released (the DC's other nodes drop their routes to them), node-scoped BGPPeers and
  // the Node deleted.
  progress.step(fmt::format("Node {}, its IPAM blocks and affinities in the datastore", node));
  auto backend = datastore::openBackend(state->datastore_url);
  if (!backend.ok()) {
    progress.fail();
    return backend.status();
  }
  datastore::ResourceStore store(**backend);
  ipam::Ipam ipam(store);
  if (auto removed = controller::removeNode(store, ipam, node); !removed.ok()) {
    progress.fail();
    return removed.status();
  }

  progress.step(fmt::format("namespace {}", n.netns));
  const std::string pids = run("ip netns pids " + n.netns).output;  // split() views into it
  for (std::string_view pid : split(pids, '\n', true)) {
    if (auto p = parseInt<int>(trim(pid))) stopProcess(*p, 500);
  }
  // The veth goes with the namespace, and its bridge port on the router with it.
  if (run("ip netns list | grep -qw " + shellQuote(n.netns)).ok()) {
    if (auto s = runChecked("ip netns del " + n.netns); !s.ok()) {
      progress.fail();
      return s;
    }
  }
  std::erase(state->namespaces, n.netns);
  std::error_code ec;
  fs::remove(state->dir + "/cni/" + node + ".conflist", ec);
  fs::remove(n.socket, ec);
  if (auto s = state->save(); !s.ok()) return s;
  progress.finish();
  out << fmt::format("Node {} removed from lab {}.\n", node, lab);
  return absl::OkStatus();
}

absl::Status nodeRestart(const std::string& lab, const std::string& node, bool kill,
                         std::ostream& out) {
  auto state = LabState::load(labDir(lab));
  if (!state.ok()) return absl::NotFoundError(fmt::format("lab {} is not up", lab));
  auto bins = findBinaries();
  if (!bins.ok()) return bins.status();
  for (auto& n : state->nodes) {
    if (n.name != node) continue;
    const auto t0 = std::chrono::steady_clock::now();
    if (processMatches(n.pid, "corald")) {
      if (kill) {
        ::kill(n.pid, SIGKILL);
        for (int i = 0; i < 100 && ::kill(n.pid, 0) == 0; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      } else {
        stopProcess(n.pid);
      }
    }
    auto pid = startCorald(*state, n, bins->corald);
    if (!pid.ok()) return pid.status();
    n.pid = *pid;
    if (auto s = state->save(); !s.ok()) return s;
    if (!waitFor([&] { return coraldReady(n); }, std::chrono::seconds(30))) {
      return absl::DeadlineExceededError(fmt::format("corald on {} is not ready after 30 s", node));
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out << fmt::format("corald on {} {} and ready again in {:.1f}s\n", node,
                       kill ? "killed (SIGKILL)" : "stopped", secs);
    return absl::OkStatus();
  }
  return absl::NotFoundError(fmt::format("no node {} in lab {}", node, lab));
}

}  // namespace coral::lab
