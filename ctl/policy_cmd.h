// coralctl policy trace / counters.
//
//   trace     reads pods, workload endpoints, namespaces, nodes and every kind of policy
//             from the datastore, builds the same policy::Snapshot corald builds
//             (agent/policy/snapshot_builder.h) and prints policy::Tracer's explanation.
//   counters  per-rule packet and byte counters of `table inet coral`, read with
//             `nft -j list table inet coral` in coralctl's own network namespace: run it on
//             the node (or `ip netns exec <node>` in the lab). With NS/POD, only that
//             endpoint's chains and the policy chains they jump to (found by compiling the
//             node's program from the datastore). Needs root, like nft.
#pragma once

#include <CLI/CLI.hpp>

#include <iosfwd>
#include <string>

#include "datastore/resource_store.h"

namespace coral::ctl {

struct PolicyTraceOptions {
  std::string from;  // "ns/pod" or an IP
  std::string to;
  std::string port = "80/tcp";
};

class PolicyCommands {
 public:
  // Registers `policy` and its subcommands on `app`; the object lives as long as `app`.
  explicit PolicyCommands(CLI::App& app);
  bool parsed() const { return policy_->parsed(); }
  int run(datastore::ResourceStore& store, std::ostream& out, std::ostream& err);

 private:
  CLI::App* policy_;
  CLI::App* trace_;
  CLI::App* counters_;
  PolicyTraceOptions trace_opts_;
  std::string counters_endpoint_;
};

// Exit code 0 when the trace ran (whatever the verdict), 1 on errors.
int runPolicyTrace(datastore::ResourceStore& store, const PolicyTraceOptions& options,
                   std::ostream& out, std::ostream& err);
int runPolicyCounters(datastore::ResourceStore& store, const std::string& endpoint,
                      std::ostream& out, std::ostream& err);

}  // namespace coral::ctl
