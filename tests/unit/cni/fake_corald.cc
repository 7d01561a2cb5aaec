// FakeCorald's gRPC service and server.
#include "tests/unit/cni/fake_corald.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "coral/api/v1/cni.grpc.pb.h"
#include "tests/unit/cni/pod_result.h"

namespace coral::cni::testing {
namespace {

namespace v1 = ::coral::api::v1;

v1::CniResult toProto(const Result& result) {
  v1::CniResult out;
  for (const Interface& iface : result.interfaces) {
    auto* item = out.add_interfaces();
    item->set_name(iface.name);
    item->set_mac(iface.mac);
    item->set_sandbox(iface.sandbox);
    if (iface.mtu) item->set_mtu(*iface.mtu);
  }
  for (const IpConfig& ip : result.ips) {
    auto* item = out.add_ips();
    item->set_address(ip.address);
    item->set_gateway(ip.gateway);
    if (ip.interface) item->set_interface(*ip.interface);
  }
  for (const Route& route : result.routes) {
    auto* item = out.add_routes();
    item->set_dst(route.dst);
    item->set_gw(route.gw);
  }
  for (const auto& s : result.dns.nameservers) out.mutable_dns()->add_nameservers(s);
  out.mutable_dns()->set_domain(result.dns.domain);
  for (const auto& s : result.dns.search) out.mutable_dns()->add_search(s);
  for (const auto& s : result.dns.options) out.mutable_dns()->add_options(s);
  return out;
}

}  // namespace

struct FakeCorald::Impl final : public v1::Cni::Service {
  grpc::Status Add(grpc::ServerContext* context, const v1::CniRequest* request,
                   v1::CniResponse* response) override {
    return answer("Add", context, *request, response);
  }
  grpc::Status Del(grpc::ServerContext* context, const v1::CniRequest* request,
                   v1::CniResponse* response) override {
    return answer("Del", context, *request, response);
  }
  grpc::Status Check(grpc::ServerContext* context, const v1::CniRequest* request,
                     v1::CniResponse* response) override {
    return answer("Check", context, *request, response);
  }
  grpc::Status Status(grpc::ServerContext* context, const v1::CniRequest* request,
                      v1::CniResponse* response) override {
    return answer("Status", context, *request, response);
  }
  grpc::Status Gc(grpc::ServerContext* context, const v1::CniRequest* request,
                  v1::CniResponse* response) override {
    return answer("Gc", context, *request, response);
  }

  grpc::Status answer(const char* rpc, grpc::ServerContext* context, const v1::CniRequest& request,
                      v1::CniResponse* response) {
    std::optional<Result> add_result;
    std::optional<v1::CniError> error;
    {
      std::lock_guard lock(mu);
      calls.push_back({rpc, request});
      add_result = this->add_result;
      error = this->error;
    }
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (hang && !stopping && !context->IsCancelled() &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (hang) return grpc::Status(grpc::StatusCode::CANCELLED, "fake corald hung");
    if (error) {
      *response->mutable_error() = *error;
    } else if (std::string_view(rpc) == "Add") {
      *response->mutable_result() = toProto(add_result ? *add_result : podResult(request.netns()));
    }
    return grpc::Status::OK;
  }

  std::mutex mu;
  std::vector<Call> calls;
  std::optional<Result> add_result;
  std::optional<v1::CniError> error;
  std::atomic<bool> hang{false};
  std::atomic<bool> stopping{false};
  std::unique_ptr<grpc::Server> server;
};

FakeCorald::FakeCorald(const std::string& socket_path)
    : socket_path_(socket_path), impl_(std::make_unique<Impl>()) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path, grpc::InsecureServerCredentials());
  builder.RegisterService(impl_.get());
  impl_->server = builder.BuildAndStart();
}

FakeCorald::~FakeCorald() {
  impl_->stopping = true;
  if (impl_->server) impl_->server->Shutdown(std::chrono::system_clock::now());
}

bool FakeCorald::started() const { return impl_->server != nullptr; }

void FakeCorald::setAddResult(const Result& result) {
  std::lock_guard lock(impl_->mu);
  impl_->add_result = result;
}

void FakeCorald::setError(std::optional<api::v1::CniError> error) {
  std::lock_guard lock(impl_->mu);
  impl_->error = std::move(error);
}

void FakeCorald::setHang(bool hang) { impl_->hang = hang; }

std::vector<FakeCorald::Call> FakeCorald::calls() const {
  std::lock_guard lock(impl_->mu);
  return impl_->calls;
}

}  // namespace coral::cni::testing
