// lab pod add / del / exec, and the connectivity matrix. Pods are network namespaces
// attached to their node the way a container runtime does it: the node's conflist, each
// plugin exec'd in order with the previous result, DEL in reverse order.
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <random>
#include <sstream>

#include "common/strings.h"
#include "ctl/lab/lab.h"
#include "ctl/lab/shell.h"
#include "ctl/table.h"
#include "datastore/backend.h"
#include "datastore/resource_store.h"
#include "model/registry.h"

namespace coral::lab {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<LabState> loadComplete(const std::string& lab) {
  auto state = LabState::load(labDir(lab));
  if (!state.ok()) {
    return absl::NotFoundError(fmt::format("lab {} is not up (`coralctl lab up`)", lab));
  }
  return state;
}

struct CniRun {
  int exit_code = -1;
  std::string out;
};

// Runs one CNI plugin binary with the runtime's environment.
CniRun execPlugin(const LabState& state, const std::string& type, const std::string& command,
                  const LabPod& pod, const model::Json& config) {
  const std::string conf_path = fmt::format("{}/run/cni-{}.json", state.dir, ::getpid());
  std::ofstream(conf_path) << config.dump();
  const std::string cni_path = state.dir + "/bin:/usr/lib/cni";
  std::string binary;
  for (std::string_view dir : split(cni_path, ':')) {
    if (fs::exists(fmt::format("{}/{}", dir, type))) {
      binary = fmt::format("{}/{}", dir, type);
      break;
    }
  }
  if (binary.empty()) return {1, fmt::format("CNI plugin \"{}\" not found in {}", type, cni_path)};
  auto r = run(
      fmt::format("CNI_COMMAND={} CNI_CONTAINERID={} CNI_NETNS=/var/run/netns/{} CNI_IFNAME=eth0 "
                  "CNI_PATH={} CNI_ARGS='K8S_POD_NAMESPACE={};K8S_POD_NAME={}' {} < {}",
                  command, pod.container_id, pod.netns, cni_path, pod.pod_namespace, pod.name,
                  binary, conf_path));
  fs::remove(conf_path);
  return {r.exit_code, r.output};
}

// The runtime's side of a conflist: ADD in order with prevResult, DEL in reverse.
absl::StatusOr<model::Json> runConflist(const LabState& state, const std::string& command,
                                        const LabPod& pod) {
  std::ifstream in(state.dir + "/cni/" + pod.node + ".conflist");
  std::stringstream ss;
  ss << in.rdbuf();
  auto list = model::Json::parse(ss.str(), nullptr, false);
  if (list.is_discarded()) return absl::DataLossError("the node's conflist is not JSON");
  auto plugins = list["plugins"];
  model::Json prev;
  std::vector<size_t> order(plugins.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = command == "DEL" ? order.size() - 1 - i : i;
  for (size_t i : order) {
    model::Json conf = plugins[i];
    conf["name"] = list["name"];
    conf["cniVersion"] = list["cniVersion"];
    if (!prev.is_null()) conf["prevResult"] = prev;
    auto r = execPlugin(state, conf["type"], command, pod, conf);
    if (r.exit_code != 0) {
      return absl::InternalError(fmt::format("CNI {} {} failed: {}", command,
                                             conf["type"].get<std::string>(), trim(r.out)));
    }
    if (command == "ADD") {
      auto result = model::Json::parse(r.out, nullptr, false);
      if (result.is_discarded()) return absl::DataLossError("CNI result is not JSON: " + r.out);
      prev = result;
    }
  }
  return prev;
}

}  // namespace

absl::Status podAdd(const std::string& lab, const PodSpec& spec, std::ostream& out) {
  auto state = loadComplete(lab);
  if (!state.ok()) return state.status();
  const LabNode* node = state->node(spec.node);
  if (node == nullptr) {
    std::vector<std::string> names;
    for (const auto& n : state->nodes) names.push_back(n.name);
    return absl::NotFoundError(
        fmt::format("no node {} in lab {} (nodes: {})", spec.node, lab, join(names, ", ")));
  }
  if (state->pod(spec.pod_namespace, spec.name)) {
    return absl::AlreadyExistsError(fmt::format("pod {}/{} exists", spec.pod_namespace, spec.name));
  }
  // The orchestrator's record first: corald reads the pod's labels from it.
  auto backend = datastore::openBackend(state->datastore_url);
  if (!backend.ok()) return backend.status();
  datastore::ResourceStore store(**backend);
  model::Namespace ns;
  ns.metadata.name = spec.pod_namespace;
  model::Pod pod;
  pod.metadata.name = spec.name;
  pod.metadata.namespace_ = spec.pod_namespace;
  pod.metadata.labels = spec.labels;
  pod.spec.node_name = spec.node;
  pod.spec.containers = {
      {.name = "server", .ports = {{.name = "http", .container_port = 80, .protocol = "TCP"}}}};
  absl::Status recorded = store.apply(model::toResource(ns)).status();
  if (recorded.ok()) recorded = store.apply(model::toResource(pod)).status();
  // With the datastore down a real orchestrator still has its pod and still runs CNI ADD:
  // go on, so the answer is coral-cni's own error, as a runtime would see it.
  const bool pod_recorded = recorded.ok();
  if (!pod_recorded && !absl::IsUnavailable(recorded)) return recorded;
  if (!pod_recorded) {
    out << fmt::format("the pod record is not written ({}); running CNI ADD anyway\n",
                       errorMessage(recorded));
  }

  LabPod p;
  p.name = spec.name;
  p.pod_namespace = spec.pod_namespace;
  p.node = spec.node;
  p.labels = spec.labels;
  p.netns = netnsName(lab, fmt::format("p-{}-{}", spec.pod_namespace, spec.name));
  std::mt19937_64 rng(std::random_device{}());
  p.container_id = fmt::format("{:016x}{:016x}", rng(), rng());
  if (auto s = runChecked("ip netns add " + p.netns); !s.ok()) return s;
  state->pods.push_back(p);
  (void)state->save();
  auto result = runConflist(*state, "ADD", p);
  if (!result.ok()) {
    run("ip netns del " + p.netns);
    state->pods.pop_back();
    (void)state->save();
    if (pod_recorded)
      (void)store.remove(model::kindOf<model::Pod>(), spec.pod_namespace, spec.name);
    return result.status();
  }
  for (const auto& ip : (*result)["ips"]) {
    const std::string a = ip["address"].get<std::string>();
    state->pods.back().addresses.push_back(a.substr(0, a.find('/')));
  }
  // A small server on TCP port 80, so the connectivity matrix has something to reach;
  // nc listens on one family, so a second one on IPv6 for a dual-stack pod.
  const bool has_v6 =
      std::any_of(state->pods.back().addresses.begin(), state->pods.back().addresses.end(),
                  [](const std::string& a) { return a.find(':') != std::string::npos; });
  run(fmt::format("ip netns exec {} sh -c 'nohup nc -lk 80 >/dev/null 2>&1 </dev/null &{}'",
                  p.netns, has_v6 ? " nohup nc -6 -lk 80 >/dev/null 2>&1 </dev/null &" : ""));
  if (auto s = state->save(); !s.ok()) return s;
  out << fmt::format("pod {}/{} on {}: {}\n", spec.pod_namespace, spec.name, spec.node,
                     join(state->pods.back().addresses, ", "));
  return absl::OkStatus();
}

absl::Status podDel(const std::string& lab, const std::string& ns, const std::string& name,
                    std::ostream& out) {
  auto state = loadComplete(lab);
  if (!state.ok()) return state.status();
  const LabPod* found = state->pod(ns, name);
  if (found == nullptr)
    return absl::NotFoundError(fmt::format("no pod {}/{} in lab {}", ns, name, lab));
  LabPod pod = *found;
  auto result = runConflist(*state, "DEL", pod);
  const std::string pids = run("ip netns pids " + pod.netns).output;  // split() views into it
  for (std::string_view pid : split(pids, '\n', true)) {
    if (auto p = parseInt<int>(trim(pid))) stopProcess(*p, 500);
  }
  run("ip netns del " + pod.netns);
  std::erase_if(state->pods,
                [&](const LabPod& p) { return p.pod_namespace == ns && p.name == name; });
  (void)state->save();
  if (auto backend = datastore::openBackend(state->datastore_url); backend.ok()) {
    datastore::ResourceStore store(**backend);
    (void)store.remove(model::kindOf<model::Pod>(), ns, name);
  }
  if (!result.ok()) return result.status();
  out << fmt::format("pod {}/{} deleted\n", ns, name);
  return absl::OkStatus();
}

int podExec(const std::string& lab, const std::string& ns, const std::string& name,
            const std::vector<std::string>& command) {
  auto state = loadComplete(lab);
  if (!state.ok()) {
    std::cerr << "error: " << errorMessage(state.status()) << '\n';
    return 1;
  }
  const LabPod* pod = state->pod(ns, name);
  if (pod == nullptr) {
    std::cerr << fmt::format("error: no pod {}/{} in lab {}\n", ns, name, lab);
    return 1;
  }
  std::vector<std::string> argv = {"ip", "netns", "exec", pod->netns};
  argv.insert(argv.end(), command.begin(), command.end());
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  ::execvp("ip", args.data());
  std::cerr << "error: cannot run ip: " << std::strerror(errno) << '\n';
  return 127;
}

absl::Status printMatrix(const std::string& lab, int port, bool ipv6, std::ostream& out) {
  auto state = loadComplete(lab);
  if (!state.ok()) return state.status();
  const auto& pods = state->pods;
  if (pods.empty())
    return absl::FailedPreconditionError("the lab has no pods (`coralctl lab pod add`)");
  // Each pod's address of the family asked for (empty: it has none, shown as "n/a").
  std::vector<std::string> targets;
  for (const auto& p : pods) {
    std::string target;
    for (const auto& a : p.addresses) {
      if ((a.find(':') != std::string::npos) == ipv6) {
        target = a;
        break;
      }
    }
    targets.push_back(target);
  }
  std::vector<std::vector<std::future<bool>>> probes(pods.size());
  for (size_t i = 0; i < pods.size(); ++i) {
    for (size_t j = 0; j < pods.size(); ++j) {
      probes[i].push_back(std::async(std::launch::async, [&, i, j] {
        if (i == j || targets[j].empty()) return true;
        return run(fmt::format("ip netns exec {} nc -z -w 2 {} {}", pods[i].netns, targets[j],
                               port))
            .ok();
      }));
    }
  }
  std::vector<std::string> headers = {
      fmt::format("FROM \\ TO (tcp/{}{})", port, ipv6 ? ", IPv6" : "")};
  for (const auto& p : pods) headers.push_back(p.pod_namespace + "/" + p.name);
  ctl::Table table(headers);
  for (size_t i = 0; i < pods.size(); ++i) {
    std::vector<std::string> row = {
        fmt::format("{}/{} ({})", pods[i].pod_namespace, pods[i].name, pods[i].node)};
    for (size_t j = 0; j < pods.size(); ++j) {
      const bool ok = probes[i][j].get();
      row.push_back(i == j ? "-" : (targets[j].empty() ? "n/a" : (ok ? "ok" : "BLOCKED")));
    }
    table.addRow(std::move(row));
  }
  table.print(out);
  return absl::OkStatus();
}

}  // namespace coral::lab
