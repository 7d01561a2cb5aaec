// The etcd backend with username/password auth: etcd is set up with a root user and auth
// turned on (through the same generated gRPC client the backend uses), tokens live 1 s, and
// the backend must authenticate, send the token, and authenticate again when it expired.
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "common/log.h"

#include "datastore/etcd/etcd_backend.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"
#include "tests/support/etcd_process.h"

namespace coral::datastore {
namespace {

using namespace std::chrono_literals;

// root:secret with the root role, then AuthEnable.
void enableAuth(const std::string& endpoint) {
  auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  auto auth = etcdserverpb::Auth::NewStub(channel);
  {
    grpc::ClientContext ctx;
    etcdserverpb::AuthUserAddRequest request;
    request.set_name("root");
    request.set_password("s&cret");
    etcdserverpb::AuthUserAddResponse response;
    const grpc::Status status = auth->UserAdd(&ctx, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::AuthUserGrantRoleRequest request;
    request.set_user("root");
    request.set_role("root");
    etcdserverpb::AuthUserGrantRoleResponse response;
    const grpc::Status status = auth->UserGrantRole(&ctx, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::AuthEnableRequest request;
    etcdserverpb::AuthEnableResponse response;
    const grpc::Status status = auth->AuthEnable(&ctx, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
}

TEST(EtcdAuth, AuthenticatesSendsTheTokenAndRenewsItWhenExpired) {
  auto launched = coral::testing::EtcdProcess::launch({"--auth-token-ttl=1"});
  ASSERT_TRUE(launched.ok()) << launched.status();
  auto& etcd = **launched;
  ASSERT_NO_FATAL_FAILURE(enableAuth(etcd.endpoint()));

  // Without credentials etcd refuses.
  auto anonymous = openEtcdBackend(etcd.url());
  ASSERT_TRUE(anonymous.ok()) << anonymous.status();
  EXPECT_FALSE((*anonymous)->put("/a/x", "1").ok());

  auto wrong = openEtcdBackend(etcd.url() + "?username=root&password=nope");
  ASSERT_TRUE(wrong.ok()) << wrong.status();
  auto refused = (*wrong)->put("/a/x", "1");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  EXPECT_NE(std::string(refused.status().message()).find("authenticate as \"root\""),
            std::string::npos)
      << refused.status();

  // The password travels percent-encoded in the URL.
  auto backend = openEtcdBackend(etcd.url() + "?username=root&password=s%26cret");
  ASSERT_TRUE(backend.ok()) << backend.status();
  auto& db = **backend;
  auto first = db.put("/a/x", "1");
  ASSERT_TRUE(first.ok()) << first.status();
  auto watch = db.watch("/a/", 0);
  ASSERT_TRUE(watch.ok()) << watch.status();

  // Let the token expire (TTL 1 s, checked by etcd every second), then use it again.
  std::this_thread::sleep_for(2500ms);
  std::ostringstream logged;
  log::setSink(&logged);
  log::setLevel(log::Level::kDebug);
  auto second = db.put("/a/x", "2");
  log::setSink(nullptr);
  log::setLevel(log::Level::kInfo);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(logged.str().find("token expired"), std::string::npos)
      << "the put did not need a new token; log:\n"
      << logged.str();
  auto kv = db.get("/a/x");
  ASSERT_TRUE(kv.ok()) << kv.status();
  EXPECT_EQ(kv->value, "2");
  auto events = (*watch)->next(5s);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kv.value, "2");
}

}  // namespace
}  // namespace coral::datastore
