// GrpcAgent: converts the shim's Request to a CniRequest, calls the rpc that matches the
// command, and converts the CniResponse (or the gRPC status) back.
#include "cni/agent_client.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "coral/api/v1/cni.grpc.pb.h"

namespace coral::cni {
namespace {

namespace v1 = ::coral::api::v1;

Result fromProto(const v1::CniResult& in) {
  Result out;
  for (const auto& iface : in.interfaces()) {
    Interface item{iface.name(), iface.mac(), iface.sandbox(), std::nullopt};
    if (iface.mtu() != 0) item.mtu = iface.mtu();
    out.interfaces.push_back(std::move(item));
  }
  for (const auto& ip : in.ips()) {
    IpConfig item{ip.address(), ip.gateway(), std::nullopt};
    if (ip.has_interface()) item.interface = ip.interface();
    out.ips.push_back(std::move(item));
  }
  for (const auto& route : in.routes()) out.routes.push_back({route.dst(), route.gw()});
  const auto& dns = in.dns();
  out.dns.nameservers.assign(dns.nameservers().begin(), dns.nameservers().end());
  out.dns.domain = dns.domain();
  out.dns.search.assign(dns.search().begin(), dns.search().end());
  out.dns.options.assign(dns.options().begin(), dns.options().end());
  return out;
}

v1::CniRequest toProto(const Request& request) {
  v1::CniRequest out;
  out.set_container_id(request.container_id);
  out.set_netns(request.netns);
  out.set_ifname(request.ifname);
  out.set_cni_version(request.cni_version);
  for (const auto& [key, value] : request.args) (*out.mutable_args())[key] = value;
  out.set_pod_namespace(request.pod_namespace);
  out.set_pod_name(request.pod_name);
  out.set_network_config_json(request.config_json);
  if (request.prev_result) {
    // corald reads one shape: the 1.0.0 one, whatever version the runtime speaks.
    out.set_prev_result_json(formatResult(*request.prev_result, "1.0.0"));
  }
  for (const Attachment& a : request.valid_attachments) {
    auto* item = out.add_valid_attachments();
    item->set_container_id(a.container_id);
    item->set_ifname(a.ifname);
  }
  return out;
}

AgentFailure failure(const grpc::Status& status) {
  AgentFailure out;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      out.kind = AgentFailure::Kind::kUnreachable;
      break;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      out.kind = AgentFailure::Kind::kTimeout;
      break;
    case grpc::StatusCode::UNIMPLEMENTED:
      out.kind = AgentFailure::Kind::kUnimplemented;
      break;
    default:
      out.kind = AgentFailure::Kind::kOther;
      break;
  }
  out.details = fmt::format("grpc status {}: {}", static_cast<int>(status.error_code()),
                            status.error_message());
  return out;
}

}  // namespace

AgentAnswer GrpcAgent::call(const Request& request) {
  // A missing socket is the common "corald is not running" case; say so plainly.
  struct stat st {};
  if (::stat(request.socket_path.c_str(), &st) != 0) {
    return AgentFailure{AgentFailure::Kind::kUnreachable,
                        fmt::format("socket {}: {}", request.socket_path, std::strerror(errno))};
  }
  if (!S_ISSOCK(st.st_mode)) {
    return AgentFailure{AgentFailure::Kind::kUnreachable,
                        fmt::format("{} is not a unix socket", request.socket_path)};
  }
  auto channel =
      grpc::CreateChannel("unix:" + request.socket_path, grpc::InsecureChannelCredentials());
  auto stub = v1::Cni::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(request.timeout_ms));
  const v1::CniRequest proto = toProto(request);
  v1::CniResponse response;
  grpc::Status status;
  switch (request.command) {
    case Command::kAdd:
      status = stub->Add(&context, proto, &response);
      break;
    case Command::kDel:
      status = stub->Del(&context, proto, &response);
      break;
    case Command::kCheck:
      status = stub->Check(&context, proto, &response);
      break;
    case Command::kStatus:
      status = stub->Status(&context, proto, &response);
      break;
    case Command::kGc:
      status = stub->Gc(&context, proto, &response);
      break;
    case Command::kVersion:
      return Result{};
  }
  if (!status.ok()) return failure(status);
  if (response.has_error()) {
    const auto& error = response.error();
    if (error.code() == 0) {
      return makeError(kBadAgentAnswer, "corald answered an error without a code", error.msg());
    }
    return makeError(error.code(), error.msg(), error.details());
  }
  if (response.has_result()) return fromProto(response.result());
  return Result{};
}

}  // namespace coral::cni
