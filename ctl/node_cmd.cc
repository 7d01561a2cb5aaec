#include "ctl/node_cmd.h"

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include <iostream>

#include "coral/api/v1/status.grpc.pb.h"
#include "ctl/table.h"

namespace coral::ctl {

NodeCommands::NodeCommands(CLI::App& app) {
  node_ = app.add_subcommand("node", "The local node's agent");
  node_->require_subcommand(1);
  status_ = node_->add_subcommand("status", "corald's readiness, endpoints, routes and BGP peers");
  status_->add_option("--socket", socket_, "corald's socket (default /var/run/coral/cni.sock)");
  status_->add_option("-o,--output", output_, "json for machine-readable output");
}

int NodeCommands::run(std::ostream& out, std::ostream& err) {
  auto channel = grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials());
  auto stub = api::v1::Status::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  api::v1::StatusRequest req;
  api::v1::StatusResponse resp;
  grpc::Status s = stub->Get(&ctx, req, &resp);
  if (!s.ok()) {
    err << fmt::format("error: corald at {} does not answer ({}); is it running? (--socket)\n",
                       socket_, s.error_message());
    return 1;
  }
  if (output_ == "json") {
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    (void)google::protobuf::util::MessageToJsonString(resp, &json, options);
    out << json;
    return 0;
  }
  out << fmt::format("node {}: {} (corald {}, up {}s)\n\n", resp.node(),
                     resp.ready() ? "ready" : "NOT READY", resp.version(), resp.uptime_s());
  Table peers(
      {"PEER", "AS", "STATE", "UPTIME", "RECEIVED", "ACCEPTED", "ADVERTISED", "LAST ERROR"});
  for (const auto& p : resp.peers()) {
    peers.addRow({p.address(), std::to_string(p.as_number()), p.state(),
                  fmt::format("{}s", p.uptime_s()), std::to_string(p.prefixes_received()),
                  std::to_string(p.prefixes_accepted()), std::to_string(p.prefixes_advertised()),
                  p.last_error().empty() ? "-" : p.last_error()});
  }
  if (resp.peers_size() > 0) {
    peers.print(out);
    out << '\n';
  }
  Table endpoints({"NAMESPACE", "POD", "INTERFACE", "ADDRESSES"});
  for (const auto& e : resp.endpoints()) {
    std::string addrs;
    for (const auto& a : e.addresses()) addrs += (addrs.empty() ? "" : ",") + a;
    endpoints.addRow({e.namespace_(), e.pod().empty() ? "-" : e.pod(), e.interface_name(), addrs});
  }
  endpoints.print(out);
  out << '\n';
  Table routes({"PREFIX", "KIND", "VIA", "DEVICE"});
  for (const auto& r : resp.routes()) {
    routes.addRow({r.prefix(), r.kind(), r.via().empty() ? "-" : r.via(),
                   r.device().empty() ? "-" : r.device()});
  }
  routes.print(out);
  return 0;
}

}  // namespace coral::ctl
