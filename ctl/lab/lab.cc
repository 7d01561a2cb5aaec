// lab up / lab down.
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
#include "ctl/lab/bird.h"
#include "ctl/lab/shell.h"
#include "datastore/backend.h"
#include "datastore/resource_store.h"
#include "model/registry.h"
#include "model/yaml.h"

namespace coral::lab {
namespace {

namespace fs = std::filesystem;

class Progress {
 public:
  explicit Progress(std::ostream& out) : out_(out) {}
  void step(const std::string& what) {
    finish();
    out_ << "  " << what << " ... " << std::flush;
    start_ = std::chrono::steady_clock::now();
    open_ = true;
  }
  void finish() {
    if (!open_) return;
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    out_ << fmt::format("done ({:.1f}s)\n", s);
    open_ = false;
  }
  void fail() {
    if (open_) out_ << "FAILED\n";
    open_ = false;
  }

 private:
  std::ostream& out_;
  std::chrono::steady_clock::time_point start_;
  bool open_ = false;
};

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
    for (const auto& n : state.nodes) {
      if (n.dc != dc.name) continue;
      yaml += fmt::format(R"(---
apiVersion: coral.network/v1
kind: Node
metadata: {{name: {0}, labels: {{dc: {1}}}}}
spec: {{asNumber: {2}}}
)",
                          n.name, dc.name, dc.node_as);
    }
  }
  for (auto& doc : model::parseResources(yaml)) {
    if (!doc.resource.ok()) return doc.resource.status();
    auto applied = store.apply(*doc.resource);
    if (!applied.ok()) return applied.status();
  }
  return absl::OkStatus();
}

bool waitFor(const std::function<bool()>& ready, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
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

// corald for one node: routes to other nodes in the DC from the datastore (they share the
// bridge), its blocks announced to the ToR by its own BGP speaker; with VXLAN, every route
// to another node's pods goes through the tunnel and nothing is announced.
absl::StatusOr<int> startCorald(const LabState& state, const LabNode& n,
                                const std::string& corald) {
  const std::string env = fmt::format(
      "env CORAL_NODENAME={} CORAL_DATASTORE={} CORAL_CNI_SOCKET={} CORAL_HTTP_PORT=9099 "
      "CORAL_UNDERLAY_INTERFACE=eth0 CORAL_ROUTE_SOURCE={}{}",
      n.name, state.datastore_url, n.socket,
      // With the mesh, routes within the DC are the iBGP paths the node learns.
      state.config.bgp == "mesh" ? "bgp" : "datastore",
      // Encapsulated labs: no BGP at all, the routers know nothing of pods.
      state.config.encapsulation != "None" ? " CORAL_BGP=disabled" : "");
  return spawnInNetns(n.netns, env + " " + corald, state.dir + "/logs/" + n.name + ".corald.log");
}

}  // namespace

bool coraldReady(const LabNode& n) {
  return run("ip netns exec " + n.netns +
             " bash -c 'exec 3<>/dev/tcp/127.0.0.1/9099 && printf \"GET /readyz "
             "HTTP/1.0\\r\\n\\r\\n\" >&3 && cat <&3'")
             .output.find("200 OK") != std::string::npos;
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

absl::StatusOr<Binaries> findBinaries() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  Binaries b;
  b.coralctl = self.string();
  const fs::path dir = self.parent_path();
  for (const auto& [name, subdir, out] :
       {std::tuple{"corald", "agent", &b.corald}, {"coral-cni", "cni", &b.coral_cni}}) {
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
    if (out->empty()) {
      return absl::FailedPreconditionError(
          fmt::format("cannot find {} next to {} or on PATH: build it (scripts/build.sh)", name,
                      self.string()));
    }
  }
  return b;
}

absl::Status labUp(const LabConfig& config, std::ostream& out) {
  if (config.bgp == "mesh" && config.encapsulation != "None") {
    return absl::InvalidArgumentError(
        "lab bgp mesh needs encapsulation None: encapsulated labs run no BGP");
  }
  if (auto s = checkTools(config); !s.ok()) return s;
  if (auto s = checkRanges(config); !s.ok()) return s;
  auto bins = findBinaries();
  if (!bins.ok()) return bins.status();
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
  auto addNetns = [&](const std::string& what) -> absl::StatusOr<std::string> {
    const std::string ns = netnsName(config.name, what);
    state.namespaces.push_back(ns);
    (void)state.save();
    if (auto s = runChecked("ip netns add " + ns); !s.ok()) return s;
    if (auto s = runChecked("ip netns exec " + ns + " ip link set lo up"); !s.ok()) return s;
    return ns;
  };
  auto inNs = [](const std::string& ns, const std::string& cmd) {
    return runChecked("ip netns exec " + ns + " sh -c " + shellQuote(cmd));
  };

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
  }

  // Nodes on their DC's bridge.
  for (const auto& dc : config.dcs) {
    const LabRouter& router = *std::find_if(state.routers.begin(), state.routers.end(),
                                            [&](const LabRouter& r) { return r.dc == dc.name; });
    for (int i = 1; i <= dc.nodes; ++i) {
      LabNode n;
      n.name = fmt::format("{}-n{}", dc.name, i);
      n.dc = dc.name;
      progress.step(fmt::format("node {} on {}", n.name, dc.underlay));
      auto ns = addNetns(n.name);
      if (!ns.ok()) return fail(ns.status());
      n.netns = *ns;
      n.address = hostAt(dc.underlay, 10 + i);
      n.socket = state.dir + "/run/" + n.name + ".sock";
      const std::string port = fmt::format("n{}", i);
      if (auto s =
              runChecked(fmt::format("ip link add {} netns {} type veth peer name eth0 netns {}",
                                     port, router.netns, n.netns));
          !s.ok()) {
        return fail(s);
      }
      if (auto s = inNs(router.netns,
                        fmt::format("ip link set {0} master br0 && ip link set {0} up", port));
          !s.ok()) {
        return fail(s);
      }
      if (auto s = inNs(n.netns, fmt::format("ip link set eth0 up && ip addr add {}/{} dev eth0 && "
                                             "ip route add default via {}",
                                             n.address, prefixLen(dc.underlay), router.address));
          !s.ok()) {
        return fail(s);
      }
      state.nodes.push_back(n);
    }
  }
  (void)state.save();

  progress.step("datastore resources (pools per DC, BGP peers, nodes)");
  if (auto s = writeResources(state); !s.ok()) return fail(s);

  for (auto& r : state.routers) {
    progress.step(fmt::format("BIRD on {}", r.name));
    const DataCenter& dc = *std::find_if(config.dcs.begin(), config.dcs.end(),
                                         [&](const DataCenter& d) { return d.name == r.dc; });
    const std::string conf = state.dir + "/bird/" + r.name + ".conf";
    std::ofstream(conf) << birdConfig(state, r, dc);
    if (auto check = run("bird -p -c " + conf); !check.ok()) {
      return fail(absl::InternalError("BIRD rejects " + conf + ": " + check.output));
    }
    auto pid = spawnInNetns(r.netns, fmt::format("bird -f -c {} -s {}", conf, r.bird_socket),
                            state.dir + "/logs/" + r.name + ".bird.out");
    if (!pid.ok()) return fail(pid.status());
    r.pid = *pid;
    (void)state.save();
  }

  for (auto& n : state.nodes) {
    progress.step(fmt::format("corald on {}", n.name));
    auto pid = startCorald(state, n, bins->corald);
    if (!pid.ok()) return fail(pid.status());
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
