// lab up / lab down (the nodes themselves are built by nodes.cc, as `lab node add` builds
// one).
#include "ctl/lab/lab.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "common/status.h"
#include "common/strings.h"
#include "ctl/lab/nodes.h"
#include "ctl/lab/reflector.h"
#include "ctl/lab/shell.h"
#include "datastore/backend.h"
#include "datastore/resource_store.h"
#include "model/registry.h"
#include "model/yaml.h"

namespace coral::lab {
namespace {

namespace fs = std::filesystem;

std::string hostAt(const std::string& cidr, uint64_t index) {
  auto p = common::Prefix::parse(cidr).value();
  return p.addressAt(index)->toString();
}
int prefixLen(const std::string& cidr) { return common::Prefix::parse(cidr)->length(); }

absl::Status checkTools(const LabConfig& config) {
  if (::geteuid() != 0) {
    return absl::PermissionDeniedError(
        "coralctl lab needs root: it creates network namespaces, veths and routes (run it "
        "with sudo)");
  }
  std::vector<std::pair<std::string, std::string>> tools = {
      {"ip", "iproute2"}, {"bird", "bird2"}, {"birdc", "bird2"}, {"nc", "netcat-openbsd"}};
  if (config.datastore == "etcd") tools.push_back({"etcd", "etcd-server"});
  for (const auto& [tool, package] : tools) {
    if (!run("command -v " + tool).ok()) {
      return absl::FailedPreconditionError(
          fmt::format("coralctl lab needs `{}`: install the Debian package {} (or run "
                      "scripts/setup-debian.sh)",
                      tool, package));
    }
  }
  return absl::OkStatus();
}

// The lab must not shadow anything the machine routes today.
absl::Status checkRanges(const LabConfig& config) {
  auto routes = run("ip -4 route show table all; ip -6 route show table all");
  std::vector<common::Prefix> machine;
  for (std::string_view line : split(routes.output, '\n', true)) {
    auto words = split(trim(line), ' ', true);
    if (words.empty()) continue;
    size_t i = 0;
    // Route types precede the prefix; local routes count (the machine's own addresses and
    // loopback range), broadcast/multicast entries do not.
    if (words[0] == "broadcast" || words[0] == "multicast" || words[0] == "anycast") continue;
    if (words[0] == "unreachable" || words[0] == "blackhole" || words[0] == "local" ||
        words[0] == "prohibit" || words[0] == "throw") {
      i = 1;
    }
    if (i >= words.size() || words[i] == "default") continue;
    if (auto p = common::Prefix::parseLoose(words[i]); p.ok() && !p->address().isLinkLocal()) {
      machine.push_back(*p);
    }
  }
  for (const auto& mine : labRanges(config)) {
    for (const auto& theirs : machine) {
      if (mine.overlaps(theirs)) {
        return absl::FailedPreconditionError(fmt::format(
            "lab range {} overlaps the machine's route to {}: choose other ranges in the lab "
            "config (underlay, pods, wan)",
            mine.toString(), theirs.toString()));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status writeResources(const LabState& state) {
  auto backend = datastore::openBackend(state.datastore_url);
  if (!backend.ok()) return backend.status();
  datastore::ResourceStore store(**backend);
  std::string yaml = fmt::format(R"(apiVersion: coral.network/v1
kind: BGPConfiguration
metadata: {{name: default}}
spec: {{nodeToNodeMesh: false}}
---
apiVersion: coral.network/v1
kind: IPAMConfiguration
metadata: {{name: default}}
spec: {{strictAffinity: true}}
)");
  for (const auto& dc : state.config.dcs) {
    const LabRouter* router = nullptr;
    for (const auto& r : state.routers) {
      if (r.dc == dc.name) router = &r;
    }
    yaml += fmt::format(R"(---
apiVersion: coral.network/v1
kind: IPPool
metadata: {{name: {0}-v4}}
spec: {{cidr: {1}, nodeSelector: "dc == '{0}'", encapsulation: {2}}}
---
apiVersion: coral.network/v1
kind: BGPPeer
metadata: {{name: {0}-tor}}
spec: {{nodeSelector: "dc == '{0}'", peerIP: {3}, asNumber: {4}}}
)",
                        dc.name, dc.pods, state.config.encapsulation, router->address, router->as);
    if (!dc.pods_v6.empty()) {
      yaml += fmt::format(R"(---
apiVersion: coral.network/v1
kind: IPPool
metadata: {{name: {0}-v6}}
spec: {{cidr: "{1}", nodeSelector: "dc == '{0}'"}}
)",
                          dc.name, dc.pods_v6);
    }
    if (state.config.bgp == "mesh") {
      // An iBGP full mesh among the DC's nodes (same AS), beside their eBGP to the ToR.
      yaml += fmt::format(R"(---
apiVersion: coral.network/v1
kind: BGPPeer
metadata: {{name: {0}-mesh}}
spec: {{nodeSelector: "dc == '{0}'", peerSelector: "dc == '{0}'"}}
)",
                          dc.name);
    }
    if (state.config.bgp == "rr") {
      // iBGP (the DC's node AS) with the DC's route reflector, beside the eBGP to the ToR.
      yaml += fmt::format(R"(---
apiVersion: coral.network/v1
kind: BGPPeer
metadata: {{name: {0}-rr}}
spec: {{nodeSelector: "dc == '{0}'", peerIP: {1}, asNumber: {2}}}
)",
                          dc.name, hostAt(dc.underlay, kReflectorHost), dc.node_as);
    }
  }
  for (auto& doc : model::parseResources(yaml)) {
    if (!doc.resource.ok()) return doc.resource.status();
    auto applied = store.apply(*doc.resource);
    if (!applied.ok()) return applied.status();
  }
  return absl::OkStatus();
}

bool etcdHealthy(const LabState& state) {
  return run(fmt::format("printf 'GET /health HTTP/1.0\\r\\n\\r\\n' | nc -U -w 2 {}",
                         shellQuote(state.dir + "/etcd/" + kEtcdSocket)))
             .output.find("\"health\":\"true\"") != std::string::npos;
}

// The lab's etcd: one member in its own namespace (its peer port on that namespace's
// loopback, so several labs never collide), clients on a unix socket in the lab directory.
// Node namespaces reach it through the filesystem, as they reach the file datastore; no
// address or route is added anywhere. etcd 3.4 takes `unix://NAME:PORT` and makes the
// socket NAME:PORT in its working directory, hence the cd. Records the pid at once so
// `lab down` stops it even when it never became healthy.
absl::StatusOr<int> startEtcd(LabState& state, const std::string& netns) {
  const std::string dir = state.dir + "/etcd";
  fs::create_directories(dir);
  const std::string socket_url = std::string("unix://") + kEtcdSocket;
  const std::string command = fmt::format(
      "sh -c {}", shellQuote(fmt::format(
                      "cd {0} && exec etcd --name {1} --data-dir {0}/data --listen-client-urls {2} "
                      "--advertise-client-urls {2} --listen-peer-urls http://127.0.0.1:2380 "
                      "--initial-advertise-peer-urls http://127.0.0.1:2380 "
                      "--initial-cluster {1}=http://127.0.0.1:2380 --initial-cluster-state new "
                      "--initial-cluster-token coral-lab-{1} --heartbeat-interval 50 "
                      "--election-timeout 500 --log-level warn --logger zap",
                      shellQuote(dir), state.name, socket_url)));
  auto pid = spawnInNetns(netns, command, state.dir + "/logs/etcd.log");
  if (!pid.ok()) return pid.status();
  state.etcd_pid = *pid;
  (void)state.save();
  if (!waitFor([&] { return etcdHealthy(state); }, std::chrono::seconds(20))) {
    return absl::DeadlineExceededError(
        fmt::format("etcd is not healthy after 20 s; see {}/logs/etcd.log", state.dir));
  }
  return *pid;
}

}  // namespace

bool coraldReady(const LabNode& n) {
  return run("ip netns exec " + n.netns +
             " bash -c 'exec 3<>/dev/tcp/127.0.0.1/9099 && printf \"GET /readyz "
             "HTTP/1.0\\r\\n\\r\\n\" >&3 && cat <&3'")
             .output.find("200 OK") != std::string::npos;
}

absl::StatusOr<Binaries> findBinaries() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  Binaries b;
  b.coralctl = self.string();
  const fs::path dir = self.parent_path();
  for (const auto& [name, subdir, out] : {std::tuple{"corald", "agent", &b.corald},
                                          {"coral-cni", "cni", &b.coral_cni},
                                          {"coral-bgpd", "bgp", &b.coral_bgpd}}) {
    for (const fs::path& candidate : {dir.parent_path() / subdir / name, dir / name}) {
      if (fs::exists(candidate)) {
        *out = candidate.string();
        break;
      }
    }
    if (out->empty()) {
      auto found = run(std::string("command -v ") + name);
      if (found.ok()) *out = std::string(trim(found.output));
    }
    if (out->empty() && out != &b.coral_bgpd) {  // only `bgp: rr` needs coral-bgpd
      return absl::FailedPreconditionError(
          fmt::format("cannot find {} next to {} or on PATH: build it (scripts/build.sh)", name,
                      self.string()));
    }
  }
  return b;
}

absl::Status labUp(const LabConfig& config, std::ostream& out) {
  if ((config.bgp == "mesh" || config.bgp == "rr") && config.encapsulation != "None") {
    return absl::InvalidArgumentError(fmt::format(
        "lab bgp {} needs encapsulation None: encapsulated labs run no BGP", config.bgp));
  }
  if (auto s = checkTools(config); !s.ok()) return s;
  if (auto s = checkRanges(config); !s.ok()) return s;
  auto bins = findBinaries();
  if (!bins.ok()) return bins.status();
  if (config.bgp == "rr" && bins->coral_bgpd.empty()) {
    return absl::FailedPreconditionError(
        "lab bgp rr needs coral-bgpd: build it (cmake --build BUILD --target coral-bgpd) next to "
        "coralctl or put it on PATH");
  }
  LabState state;
  state.name = config.name;
  state.dir = labDir(config.name);
  state.config = config;
  if (fs::exists(state.dir + "/state.json")) {
    return absl::AlreadyExistsError(
        fmt::format("lab {} is already up (state in {}): `coralctl lab down {}` first", config.name,
                    state.dir, config.name));
  }
  for (const char* sub : {"", "/logs", "/cni", "/bird", "/run"})
    fs::create_directories(state.dir + sub);
  state.datastore_url = config.datastore == "etcd"
                            ? "etcd+unix://" + state.dir + "/etcd/" + kEtcdSocket
                            : "file://" + state.dir + "/store";
  out << fmt::format("Building lab {} in {}\n", config.name, state.dir);
  Progress progress(out);
  auto fail = [&](absl::Status s) {
    progress.fail();
    (void)state.save();
    return annotate(
        s, fmt::format("lab up (remove what was built with `coralctl lab down {}`)", config.name));
  };
  auto addNetns = [&](const std::string& what) { return lab::addNetns(state, what); };
  auto inNs = inNetns;

  if (config.datastore == "etcd") {
    progress.step(fmt::format("etcd in namespace {} (socket {}/etcd/{})",
                              netnsName(config.name, "etcd"), state.dir, kEtcdSocket));
    auto ns = addNetns("etcd");
    if (!ns.ok()) return fail(ns.status());
    auto pid = startEtcd(state, *ns);
    if (!pid.ok()) return fail(pid.status());
  }

  // Routers and their DC bridges.
  for (size_t d = 0; d < config.dcs.size(); ++d) {
    const auto& dc = config.dcs[d];
    progress.step(fmt::format("router {}-r (AS {}) with the {} underlay {}", dc.name, dc.router_as,
                              dc.name, dc.underlay));
    LabRouter r;
    r.name = dc.name + "-r";
    r.dc = dc.name;
    r.as = dc.router_as;
    auto ns = addNetns(r.name);
    if (!ns.ok()) return fail(ns.status());
    r.netns = *ns;
    r.address = hostAt(dc.underlay, 1);
    r.bird_socket = state.dir + "/run/" + r.name + ".bird.ctl";
    if (auto s = inNs(r.netns,
                      fmt::format("ip link add br0 type bridge && ip link set br0 up && "
                                  "ip addr add {}/{} dev br0 && sysctl -qw net.ipv4.ip_forward=1",
                                  r.address, prefixLen(dc.underlay)));
        !s.ok()) {
      return fail(s);
    }
    if (!dc.underlay_v6.empty()) {
      // Dual stack: the bridge's IPv6 address is the nodes' v6 gateway and BGP next hop.
      r.address_v6 = hostAt(dc.underlay_v6, 1);
      if (auto s = inNs(r.netns, fmt::format("sysctl -qw net.ipv6.conf.all.forwarding=1 && "
                                             "ip -6 addr add {}/{} dev br0 nodad",
                                             r.address_v6, prefixLen(dc.underlay_v6)));
          !s.ok()) {
        return fail(s);
      }
    }
    state.routers.push_back(r);
  }
  if (config.dcs.size() == 2) {
    progress.step(fmt::format("WAN link {} between the routers", config.wan));
    auto& r1 = state.routers[0];
    auto& r2 = state.routers[1];
    r1.wan_address = hostAt(config.wan, 1);
    r2.wan_address = hostAt(config.wan, 2);
    const int len = prefixLen(config.wan);
    if (auto s = runChecked(fmt::format(
            "ip link add wan0 netns {} type veth peer name wan0 netns {}", r1.netns, r2.netns));
        !s.ok()) {
      return fail(s);
    }
    for (const auto* r : {&r1, &r2}) {
      if (auto s = inNs(r->netns, fmt::format("ip link set wan0 up && ip addr add {}/{} dev wan0",
                                              r->wan_address, len));
          !s.ok()) {
        return fail(s);
      }
    }
    if (!config.wan_v6.empty() && !r1.address_v6.empty() && !r2.address_v6.empty()) {
      r1.wan_address_v6 = hostAt(config.wan_v6, 1);
      r2.wan_address_v6 = hostAt(config.wan_v6, 2);
      for (const auto* r : {&r1, &r2}) {
        if (auto s = inNs(r->netns, fmt::format("ip -6 addr add {}/{} dev wan0 nodad",
                                                r->wan_address_v6, prefixLen(config.wan_v6)));
            !s.ok()) {
          return fail(s);
        }
      }
    }
  }

  progress.step("datastore resources (pools and BGP peers per DC)");
  if (auto s = writeResources(state); !s.ok()) return fail(s);

  // The routers' BIRD first, with no node yet: each node below is added to its ToR's
  // configuration as `lab node add` adds one.
  for (auto& r : state.routers) {
    progress.step(fmt::format("BIRD on {}", r.name));
    if (auto s = configureBird(state, r); !s.ok()) return fail(s);
    const std::string conf = state.dir + "/bird/" + r.name + ".conf";
    auto pid = spawnInNetns(r.netns, fmt::format("bird -f -c {} -s {}", conf, r.bird_socket),
                            state.dir + "/logs/" + r.name + ".bird.out");
    if (!pid.ok()) return fail(pid.status());
    r.pid = *pid;
    (void)state.save();
    if (!waitFor([&] { return run("birdc -s " + r.bird_socket + " show status").ok(); },
                 std::chrono::seconds(10))) {
      return fail(absl::DeadlineExceededError(
          fmt::format("BIRD on {} does not answer on {} after 10 s; see {}/logs/{}.bird.out",
                      r.name, r.bird_socket, state.dir, r.name)));
    }
  }

  // bgp rr: a coral-bgpd route reflector per DC, before the nodes that will peer with it.
  if (config.bgp == "rr") {
    for (const auto& dc : config.dcs) {
      if (auto s = startReflector(state, dc, bins->coral_bgpd, progress); !s.ok()) return fail(s);
    }
  }

  // Nodes on their DC's bridge.
  for (const auto& dc : config.dcs) {
    for (int i = 1; i <= dc.nodes; ++i) {
      if (auto s = buildNode(state, dc, fmt::format("{}-n{}", dc.name, i), progress); !s.ok()) {
        return fail(s);
      }
    }
  }
  for (const auto& n : std::vector<LabNode>(state.nodes)) {
    if (auto s = startNode(state, n.name, *bins, progress); !s.ok()) return fail(s);
  }
  fs::create_directories(state.dir + "/bin");
  fs::remove(state.dir + "/bin/coral");
  fs::create_symlink(bins->coral_cni, state.dir + "/bin/coral");

  progress.step("waiting for every corald to be ready");
  for (const auto& n : state.nodes) {
    const bool ready = waitFor([&] { return coraldReady(n); }, std::chrono::seconds(30));
    if (!ready) {
      return fail(absl::DeadlineExceededError(
          fmt::format("corald on {} is not ready after 30 s; see {}/logs/{}.corald.log", n.name,
                      state.dir, n.name)));
    }
  }
  if (state.routers.size() == 2) {
    progress.step("waiting for the WAN eBGP session between the data centers");
    const auto& r = state.routers[0];
    const bool up = waitFor(
        [&] {
          return run(fmt::format("birdc -s {} show protocols wan", r.bird_socket))
                     .output.find("Established") != std::string::npos;
        },
        std::chrono::seconds(30));
    if (!up) {
      return fail(absl::DeadlineExceededError(
          fmt::format("the WAN BGP session is not Established after 30 s; see {}/logs/{}.bird.log",
                      state.dir, r.name)));
    }
  }
  progress.finish();
  state.complete = true;
  if (auto s = state.save(); !s.ok()) return s;
  out << fmt::format(
      "Lab {} is up: {} routers, {} nodes. Add pods with `coralctl lab pod add "
      "NAME --node {}`.\n",
      config.name, state.routers.size(), state.nodes.size(), state.nodes[0].name);
  return absl::OkStatus();
}

absl::Status labDown(const std::string& name, std::ostream& out) {
  if (::geteuid() != 0) return absl::PermissionDeniedError("coralctl lab down needs root");
  const std::string dir = labDir(name);
  auto state = LabState::load(dir);
  std::vector<std::string> namespaces;
  if (state.ok()) {
    // Daemons recorded by pid: stop them only while the pid is still theirs.
    for (const auto& n : state->nodes) {
      if (processMatches(n.pid, "corald")) stopProcess(n.pid);
    }
    for (const auto& r : state->routers) {
      if (processMatches(r.pid, "bird")) stopProcess(r.pid);
    }
    for (const auto& rr : state->reflectors) {
      if (processMatches(rr.pid, "coral-bgpd")) stopProcess(rr.pid);
    }
    // etcd last: corald may still be writing while it stops.
    if (processMatches(state->etcd_pid, "etcd")) stopProcess(state->etcd_pid, 5000);
    namespaces = state->namespaces;
    for (const auto& p : state->pods) namespaces.push_back(p.netns);
  }
  // Also every namespace named after the lab: a crash may have left some unrecorded.
  const std::string prefix = netnsName(name, "");
  // The output outlives the loop: split() returns views into it.
  const std::string listed = run("ip netns list").output;
  for (std::string_view line : split(listed, '\n', true)) {
    std::string ns(trim(line.substr(0, line.find(' '))));
    if (ns.starts_with(prefix) &&
        std::find(namespaces.begin(), namespaces.end(), ns) == namespaces.end()) {
      namespaces.push_back(ns);
    }
  }
  size_t removed = 0;
  for (const auto& ns : namespaces) {
    if (!run("ip netns list | grep -qw " + shellQuote(ns)).ok()) continue;
    // Every process still inside (pod servers, a corald started by hand, ...).
    const std::string pids = run("ip netns pids " + ns).output;
    for (std::string_view pid : split(pids, '\n', true)) {
      if (auto p = parseInt<int>(trim(pid))) stopProcess(*p, 500);
    }
    if (run("ip netns del " + ns).ok()) ++removed;
  }
  std::error_code ec;
  const bool had_dir = fs::exists(dir, ec);
  fs::remove_all(dir, ec);
  if (removed == 0 && !had_dir) {
    out << fmt::format("Lab {}: nothing to remove.\n", name);
  } else {
    out << fmt::format("Lab {} removed: {} namespaces, state in {}.\n", name, removed, dir);
  }
  return absl::OkStatus();
}

}  // namespace coral::lab
