// A small cluster for policy tests, the same one the kernel truth-table test will build:
// namespaces x, y, z (labels ns=<name>, team=blue for x and y, team=red for z), pods a, b, c
// in each (label pod=<name>; a has tier=front, b tier=back). a and b run on node n1, c on n2.
// Named ports: a and b serve http=80/TCP and dns=80/UDP, c serves http=81/TCP, dns=81/UDP.
// Pod IPs: x/a 10.1.0.1, x/b 10.1.0.2, x/c 10.1.0.3, y/* 10.2.0.*, z/* 10.3.0.*.
// Node addresses: n1 192.168.1.1, n2 192.168.1.2.
//
// expectMatrix() probes every ordered pair of pods with the trace evaluator and compares the
// verdicts with an expectation; on failure it prints one grid per probe, '.' allowed,
// 'X' denied, '+' allowed but expected denied, '-' denied but expected allowed.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "common/strings.h"
#include "model/yaml.h"
#include "policy/convert.h"
#include "policy/snapshot.h"
#include "policy/trace.h"

namespace coral::policy::testing {

struct PodRef {
  std::string ns;
  std::string pod;
  std::string id() const { return ns + "/" + pod; }
};

struct Probe {
  uint8_t protocol;
  uint16_t port;
  std::string name() const { return fmt::format("{}/{}", protocolName(protocol), port); }
};

inline const std::vector<Probe> kTcpUdp = {
    {kProtoTcp, 80}, {kProtoTcp, 81}, {kProtoUdp, 80}, {kProtoUdp, 81}};

using Expectation = std::function<bool(const PodRef& from, const PodRef& to, const Probe& probe)>;

inline std::vector<PodRef> allPods() {
  std::vector<PodRef> out;
  for (const char* ns : {"x", "y", "z"}) {
    for (const char* pod : {"a", "b", "c"}) out.push_back({ns, pod});
  }
  return out;
}

inline Snapshot makeWorld() {
  Snapshot s;
  const std::map<std::string, std::string> team = {{"x", "blue"}, {"y", "blue"}, {"z", "red"}};
  int ns_index = 0;
  for (const char* ns : {"x", "y", "z"}) {
    ++ns_index;
    s.addNamespace({ns, {{"ns", ns}, {"team", team.at(ns)}, {"kubernetes.io/metadata.name", ns}}});
    int pod_index = 0;
    for (const char* pod : {"a", "b", "c"}) {
      ++pod_index;
      Endpoint e;
      e.namespace_ = ns;
      e.name = pod;
      e.node = pod_index < 3 ? "n1" : "n2";
      e.interface_name = fmt::format("cor{}{}", ns, pod);
      e.labels = {{"pod", pod}};
      if (pod_index == 1) e.labels["tier"] = "front";
      if (pod_index == 2) e.labels["tier"] = "back";
      e.addresses = {*common::IpAddress::parse(fmt::format("10.{}.0.{}", ns_index, pod_index))};
      const uint16_t port = pod_index < 3 ? 80 : 81;
      e.ports = {{"http", kProtoTcp, port}, {"dns", kProtoUdp, port}};
      s.addEndpoint(std::move(e));
    }
  }
  s.setNodeAddresses("n1", {*common::IpAddress::parse("192.168.1.1")});
  s.setNodeAddresses("n2", {*common::IpAddress::parse("192.168.1.2")});
  return s;
}

// Applies every document of a YAML stream; fails the test on any error.
inline void applyYaml(Snapshot& s, std::string_view yaml) {
  for (auto& doc : model::parseResources(yaml)) {
    ASSERT_TRUE(doc.resource.ok()) << "document " << doc.index << ": " << doc.resource.status();
    auto status = applyResource(s, *doc.resource);
    ASSERT_TRUE(status.ok()) << status;
  }
}

inline bool traceAllowed(Tracer& tracer, const std::string& from, const std::string& to,
                         const Probe& probe) {
  TraceRequest req{from, to, probe.protocol, probe.port, std::nullopt, std::nullopt};
  auto result = tracer.trace(req);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() && result->allowed;
}

// Empty when every verdict matches; otherwise the grids of the probes that differ.
inline std::string matrixDiff(const Snapshot& s, const std::vector<Probe>& probes,
                              const Expectation& expect) {
  Tracer tracer(s);
  const auto pods = allPods();
  std::string out;
  for (const auto& probe : probes) {
    bool differs = false;
    std::string grid = fmt::format("{:<8}", probe.name());
    for (const auto& to : pods) grid += fmt::format(" {:>3}", to.id());
    grid += "\n";
    for (const auto& from : pods) {
      grid += fmt::format("{:<8}", from.id());
      for (const auto& to : pods) {
        const bool want = from.id() == to.id() || expect(from, to, probe);
        const bool got = traceAllowed(tracer, from.id(), to.id(), probe);
        char cell = got ? '.' : 'X';
        if (got != want) {
          cell = got ? '+' : '-';
          differs = true;
        }
        grid += fmt::format(" {:>3}", cell);
      }
      grid += "\n";
    }
    if (differs) out += grid;
  }
  return out;
}

inline bool isTcp(const Probe& p) { return p.protocol == kProtoTcp; }

}  // namespace coral::policy::testing
