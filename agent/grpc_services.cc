#include "agent/grpc_services.h"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <filesystem>

#include "agent/dataplane/workload.h"
#include "common/log.h"
#include "common/strings.h"
#include "coral/api/v1/cni.grpc.pb.h"
#include "coral/api/v1/status.grpc.pb.h"

namespace coral::agent {
namespace {

CniCall callFrom(const api::v1::CniRequest& req) {
  CniCall call;
  call.container_id = req.container_id();
  call.netns = req.netns();
  call.ifname = req.ifname().empty() ? "eth0" : req.ifname();
  call.pod_namespace = req.pod_namespace().empty() ? "default" : req.pod_namespace();
  call.pod_name = req.pod_name();
  call.mtu = conflistMtu(req.network_config_json());
  return call;
}

void fillError(const CniFailure& f, api::v1::CniResponse* resp) {
  auto* e = resp->mutable_error();
  e->set_code(f.code);
  e->set_msg(f.msg);
  e->set_details(f.details);
}

class CniService final : public api::v1::Cni::Service {
 public:
  CniService(CniHandler& handler, std::function<bool()> ready)
      : handler_(handler), ready_(std::move(ready)) {}

  grpc::Status Add(grpc::ServerContext*, const api::v1::CniRequest* req,
                   api::v1::CniResponse* resp) override {
    auto out = handler_.add(callFrom(*req));
    if (auto* f = std::get_if<CniFailure>(&out)) {
      log::warn("CNI ADD failed", {{"container", req->container_id()},
                                   {"code", f->code},
                                   {"error", f->msg},
                                   {"details", f->details}});
      fillError(*f, resp);
      return grpc::Status::OK;
    }
    const auto& ok = std::get<CniSuccess>(out);
    auto* result = resp->mutable_result();
    auto* host = result->add_interfaces();
    host->set_name(ok.host_ifname);
    host->set_mac(formatMac(ok.host_mac));
    auto* pod = result->add_interfaces();
    pod->set_name(ok.pod_ifname);
    pod->set_mac(formatMac(ok.pod_mac));
    pod->set_sandbox(ok.netns);
    pod->set_mtu(ok.mtu);
    bool v4 = false, v6 = false;
    for (const auto& ip : ok.addresses) {
      auto* entry = result->add_ips();
      entry->set_address(common::Prefix::host(ip).toString());
      entry->set_gateway(ip.isV4() ? gatewayV4().toString() : gatewayV6().toString());
      entry->set_interface(1);
      (ip.isV4() ? v4 : v6) = true;
    }
    if (v4) {
      auto* r = result->add_routes();
      r->set_dst("0.0.0.0/0");
    }
    if (v6) {
      auto* r = result->add_routes();
      r->set_dst("::/0");
    }
    return grpc::Status::OK;
  }

  grpc::Status Del(grpc::ServerContext*, const api::v1::CniRequest* req,
                   api::v1::CniResponse* resp) override {
    if (auto f = handler_.del(callFrom(*req))) fillError(*f, resp);
    return grpc::Status::OK;
  }

  grpc::Status Check(grpc::ServerContext*, const api::v1::CniRequest* req,
                     api::v1::CniResponse* resp) override {
    if (auto f = handler_.check(callFrom(*req))) fillError(*f, resp);
    return grpc::Status::OK;
  }

  // CNI 1.1 STATUS: can ADD be served now?
  grpc::Status Status(grpc::ServerContext*, const api::v1::CniRequest*,
                      api::v1::CniResponse* resp) override {
    if (!ready_()) {
      fillError(CniFailure{kCniErrNotReady, "corald is not ready",
                           "the datastore is not synced or the dataplane not yet programmed"},
                resp);
    }
    return grpc::Status::OK;
  }

  // CNI 1.1 GC: Coral's own garbage collection (IPAM leak GC with a grace period and a
  // re-check) already reclaims what the runtime forgot; nothing to do per request.
  grpc::Status Gc(grpc::ServerContext*, const api::v1::CniRequest*,
                  api::v1::CniResponse*) override {
    return grpc::Status::OK;
  }

 private:
  CniHandler& handler_;
  std::function<bool()> ready_;
};

class StatusService final : public api::v1::Status::Service {
 public:
  explicit StatusService(GrpcServer::StatusProvider provider) : provider_(std::move(provider)) {}
  grpc::Status Get(grpc::ServerContext*, const api::v1::StatusRequest*,
                   api::v1::StatusResponse* resp) override {
    if (!resp->ParseFromString(provider_())) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "status unavailable");
    }
    return grpc::Status::OK;
  }

 private:
  GrpcServer::StatusProvider provider_;
};

}  // namespace

struct GrpcServer::Impl {
  CniService cni;
  StatusService status;
  std::unique_ptr<grpc::Server> server;
  Impl(CniHandler& h, std::function<bool()> ready, StatusProvider p)
      : cni(h, std::move(ready)), status(std::move(p)) {}
};

GrpcServer::GrpcServer(CniHandler& handler, std::function<bool()> ready, StatusProvider status)
    : impl_(std::make_unique<Impl>(handler, std::move(ready), std::move(status))) {}

GrpcServer::~GrpcServer() { stop(); }

absl::Status GrpcServer::start(const std::string& socket_path) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(socket_path).parent_path(), ec);
  std::filesystem::remove(socket_path, ec);  // a stale socket from a previous corald
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials());
  builder.RegisterService(&impl_->cni);
  builder.RegisterService(&impl_->status);
  // The socket is created inside BuildAndStart: with umask 0117 it is born 0660, with no
  // window in which another local user could connect before a chmod.
  const mode_t old_umask = ::umask(0117);
  impl_->server = builder.BuildAndStart();
  ::umask(old_umask);
  if (!impl_->server) {
    return absl::FailedPreconditionError(
        fmt::format("cannot serve gRPC on unix:{} (is another corald running?)", socket_path));
  }
  ::chmod(socket_path.c_str(), 0660);  // in case the socket was made by another thread
  return absl::OkStatus();
}

void GrpcServer::stop() {
  if (impl_ && impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    impl_->server->Wait();
    impl_->server.reset();
  }
}

}  // namespace coral::agent
