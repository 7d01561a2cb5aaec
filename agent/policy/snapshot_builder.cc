// buildPolicySnapshot (see snapshot_builder.h).
#include "agent/policy/snapshot_builder.h"

#include <fmt/format.h>

#include <map>

#include "common/strings.h"
#include "model/kinds/k8s.h"
#include "model/kinds/node.h"
#include "model/registry.h"
#include "policy/convert.h"

namespace coral::agent {

SnapshotBuild buildPolicySnapshot(const std::vector<model::Resource>& resources) {
  SnapshotBuild out;
  auto report = [&](const model::Resource& r, const absl::Status& status) {
    out.errors.push_back(fmt::format("{}: {}", r.displayName(), errorMessage(status)));
  };
  std::map<std::string, policy::Endpoint> from_pods;  // id → endpoint
  std::map<std::string, policy::Endpoint> from_weps;
  for (const auto& r : resources) {
    if (r.kind == "Pod") {
      auto pod = model::fromResource<model::Pod>(r);
      if (!pod.ok()) {
        report(r, pod.status());
        continue;
      }
      if (pod->spec.host_network) continue;  // not an endpoint (see policy/README.md)
      auto e = policy::fromPod(*pod);
      if (!e.ok()) {
        report(r, e.status());
        continue;
      }
      from_pods[e->id()] = std::move(*e);
    } else if (r.kind == "WorkloadEndpoint") {
      auto wep = model::fromResource<model::WorkloadEndpoint>(r);
      if (!wep.ok()) {
        report(r, wep.status());
        continue;
      }
      auto e = policy::fromWorkloadEndpoint(*wep);
      if (!e.ok()) {
        report(r, e.status());
        continue;
      }
      from_weps[e->id()] = std::move(*e);
    } else if (auto status = policy::applyResource(out.snapshot, r); !status.ok()) {
      report(r, status);
    }
  }
  for (auto& [id, e] : from_weps) {
    auto pod = from_pods.find(id);
    if (pod != from_pods.end()) {
      e.labels = pod->second.labels;
      if (e.ports.empty()) e.ports = pod->second.ports;
      if (e.addresses.empty()) e.addresses = pod->second.addresses;
      from_pods.erase(pod);
    }
    out.snapshot.addEndpoint(std::move(e));
  }
  for (auto& [id, e] : from_pods) {
    if (!e.addresses.empty()) out.snapshot.addEndpoint(std::move(e));
  }
  return out;
}

}  // namespace coral::agent
