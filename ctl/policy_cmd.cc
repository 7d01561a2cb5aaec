// coralctl policy trace / counters (see policy_cmd.h).
#include "ctl/policy_cmd.h"

#include <fmt/format.h>
#include <stdio.h>
#include <sys/wait.h>

#include <ostream>
#include <set>

#include "agent/policy/nft_table_state.h"
#include "agent/policy/snapshot_builder.h"
#include "common/strings.h"
#include "ctl/table.h"
#include "model/kinds/k8s.h"
#include "model/kinds/node.h"
#include "model/kinds/policy.h"
#include "model/registry.h"
#include "policy/compiler.h"
#include "policy/trace.h"

namespace coral::ctl {
namespace {

// Every resource policy reads, from the datastore.
absl::StatusOr<agent::SnapshotBuild> loadSnapshot(datastore::ResourceStore& store) {
  const model::KindInfo* kinds[] = {&model::kindOf<model::Namespace>(),
                                    &model::kindOf<model::Node>(),
                                    &model::kindOf<model::NetworkPolicy>(),
                                    &model::kindOf<model::GlobalNetworkPolicy>(),
                                    &model::kindOf<model::KubernetesNetworkPolicy>(),
                                    &model::kindOf<model::Pod>(),
                                    &model::kindOf<model::WorkloadEndpoint>()};
  std::vector<model::Resource> resources;
  for (const model::KindInfo* kind : kinds) {
    auto list = store.list(*kind);
    if (!list.ok()) return list.status();
    for (auto& r : list->items) resources.push_back(std::move(r));
  }
  return agent::buildPolicySnapshot(resources);
}

void printSkipped(const agent::SnapshotBuild& build, std::ostream& err) {
  for (const auto& e : build.errors) err << "warning: skipped " << e << '\n';
}

absl::StatusOr<std::string> nftListing() {
  FILE* pipe = ::popen("nft -j list table inet coral 2>&1", "r");
  if (pipe == nullptr) return absl::FailedPreconditionError("cannot run nft");
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::FailedPreconditionError(
        fmt::format("nft -j list table inet coral: {} (run on the node, as root)", trim(out)));
  }
  return out;
}

}  // namespace

PolicyCommands::PolicyCommands(CLI::App& app) {
  policy_ = app.add_subcommand("policy", "Network policy: trace a connection, read counters");
  policy_->require_subcommand(1);
  trace_ = policy_->add_subcommand("trace", "Explain whether a connection is allowed and why");
  trace_->add_option("--from", trace_opts_.from, "NS/POD or IP")->required();
  trace_->add_option("--to", trace_opts_.to, "NS/POD or IP")->required();
  trace_->add_option("--port", trace_opts_.port,
                     "PORT/PROTOCOL (80/tcp, 53/udp), icmp[/TYPE[/CODE]]; default 80/tcp");
  counters_ = policy_->add_subcommand(
      "counters", "Per-rule counters of table inet coral on this node (runs nft; root)");
  counters_->add_option("endpoint", counters_endpoint_, "NS/POD: only its chains");
}

int PolicyCommands::run(datastore::ResourceStore& store, std::ostream& out, std::ostream& err) {
  if (trace_->parsed()) return runPolicyTrace(store, trace_opts_, out, err);
  if (counters_->parsed()) return runPolicyCounters(store, counters_endpoint_, out, err);
  return 1;
}

int runPolicyTrace(datastore::ResourceStore& store, const PolicyTraceOptions& options,
                   std::ostream& out, std::ostream& err) {
  policy::TraceRequest request;
  request.from = options.from;
  request.to = options.to;
  if (auto s = policy::parsePortSpec(options.port, request); !s.ok()) {
    err << "error: " << errorMessage(s) << '\n';
    return 1;
  }
  auto build = loadSnapshot(store);
  if (!build.ok()) {
    err << "error: reading the datastore: " << errorMessage(build.status()) << '\n';
    return 1;
  }
  printSkipped(*build, err);
  policy::Tracer tracer(build->snapshot);
  auto result = tracer.trace(request);
  if (!result.ok()) {
    err << "error: " << errorMessage(result.status()) << '\n';
    return 1;
  }
  out << result->toString();
  return 0;
}

int runPolicyCounters(datastore::ResourceStore& store, const std::string& endpoint,
                      std::ostream& out, std::ostream& err) {
  std::set<std::string> chains;
  if (!endpoint.empty()) {
    auto build = loadSnapshot(store);
    if (!build.ok()) {
      err << "error: reading the datastore: " << errorMessage(build.status()) << '\n';
      return 1;
    }
    const policy::Endpoint* e = build->snapshot.findEndpoint(endpoint);
    if (e == nullptr) {
      err << fmt::format("error: endpoint \"{}\": no such pod or workload endpoint\n", endpoint);
      return 1;
    }
    const policy::Program program = policy::compile(build->snapshot, e->node);
    const policy::EndpointProgram* ep = program.findEndpoint(endpoint);
    if (ep != nullptr) {
      for (const auto* chain : {&ep->ingress, &ep->egress}) {
        chains.insert(chain->name);
        chains.insert(chain->policy_chains.begin(), chain->policy_chains.end());
      }
    }
  }
  auto listing = nftListing();
  if (!listing.ok()) {
    err << "error: " << errorMessage(listing.status()) << '\n';
    return 1;
  }
  auto counters = agent::countersFromJson(*listing);
  if (!counters.ok()) {
    err << "error: " << errorMessage(counters.status()) << '\n';
    return 1;
  }
  Table table({"CHAIN", "PACKETS", "BYTES", "VERDICT", "RULE"});
  for (const auto& c : *counters) {
    if (!chains.empty() && !chains.count(c.chain)) continue;
    table.addRow(
        {c.chain, std::to_string(c.packets), std::to_string(c.bytes), c.verdict, c.comment});
  }
  table.print(out);
  return 0;
}

}  // namespace coral::ctl
