// Runs the real coral-cni binary as a runtime would, against FakeCorald on a temp unix
// socket: every command in every version, the CniRequest it sends, corald down (no socket,
// stale socket), corald hanging past the timeout, and the parse errors, checking that
// stdout holds exactly one JSON document and the exit status is 0 or 1.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cni/result.h"
#include "tests/support/child_process.h"
#include "tests/unit/cni/fake_corald.h"
#include "tests/unit/cni/pod_result.h"
#include "tests/unit/cni/run_plugin.h"

namespace coral::cni::testing {
namespace {

using Json = nlohmann::json;

const char* const kVersions[] = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};

class CniBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    socket_ = dir_.path() + "/cni.sock";
    fake_ = std::make_unique<FakeCorald>(socket_);
    ASSERT_TRUE(fake_->started()) << "FakeCorald could not listen on " << socket_;
  }

  std::map<std::string, std::string> env(const std::string& command) const {
    return {{"CNI_COMMAND", command},
            {"CNI_CONTAINERID", "c0ffee01"},
            {"CNI_NETNS", "/var/run/netns/pod1"},
            {"CNI_IFNAME", "eth0"},
            {"CNI_PATH", "/opt/cni/bin"},
            {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0"}};
  }

  std::string config(const std::string& version, const std::string& extra = "",
                     const std::string& socket = "") const {
    return R"({"cniVersion":")" + version + R"(","name":"k8s-pod-network","type":"coral",)" +
           R"("socket":")" + (socket.empty() ? socket_ : socket) + "\"" + extra + "}";
  }

  static PluginRun run(const std::map<std::string, std::string>& env, const std::string& in) {
    return runPlugin({CORAL_CNI_BINARY}, env, in);
  }

  // One JSON document and a newline, nothing else; returns it parsed.
  static Json onlyDocument(const PluginRun& r) {
    EXPECT_FALSE(r.out.empty());
    EXPECT_EQ(r.out.back(), '\n');
    EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
    return Json::parse(r.out, nullptr, false);
  }

  static void expectError(const PluginRun& r, uint32_t code, const std::string& version,
                          const std::string& msg_contains) {
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
    const Json doc = onlyDocument(r);
    ASSERT_TRUE(doc.is_object()) << r.out;
    EXPECT_EQ(doc.value("code", 0u), code) << r.out;
    EXPECT_EQ(doc.value("cniVersion", ""), version) << r.out;
    EXPECT_NE(doc.value("msg", "").find(msg_contains), std::string::npos) << r.out;
    EXPECT_EQ(doc.size(), doc.contains("details") ? 4u : 3u) << r.out;
  }

  coral::testing::TempDir dir_;
  std::string socket_;
  std::unique_ptr<FakeCorald> fake_;
};

TEST_F(CniBinaryTest, VersionInEveryVersion) {
  for (const char* version : kVersions) {
    const PluginRun r =
        run({{"CNI_COMMAND", "VERSION"}}, R"({"cniVersion":")" + std::string(version) + "\"}");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, R"({"cniVersion":")" + std::string(version) +
                         R"(","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]})"
                         "\n");
  }
  EXPECT_TRUE(fake_->calls().empty());
}

TEST_F(CniBinaryTest, AddInEveryVersionSendsTheRequest) {
  for (const char* version : kVersions) {
    SCOPED_TRACE(version);
    const std::string in = config(version, R"(,"mtu":1450)");
    const PluginRun r = run(env("ADD"), in);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, formatResult(podResult("/var/run/netns/pod1"), version) + "\n");
    const auto calls = fake_->calls();
    ASSERT_FALSE(calls.empty());
    const auto& req = calls.back().request;
    EXPECT_EQ(calls.back().rpc, "Add");
    EXPECT_EQ(req.container_id(), "c0ffee01");
    EXPECT_EQ(req.netns(), "/var/run/netns/pod1");
    EXPECT_EQ(req.ifname(), "eth0");
    EXPECT_EQ(req.cni_version(), version);
    EXPECT_EQ(req.args().size(), 3u);
    EXPECT_EQ(req.args().at("K8S_POD_NAME"), "web-0");
    EXPECT_EQ(req.pod_namespace(), "shop");
    EXPECT_EQ(req.pod_name(), "web-0");
    EXPECT_EQ(req.network_config_json(), in);
    EXPECT_EQ(req.prev_result_json(), "");
  }
}

TEST_F(CniBinaryTest, DelAndCheckInEveryVersion) {
  for (const char* version : kVersions) {
    SCOPED_TRACE(version);
    PluginRun r = run(env("DEL"), config(version));
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(fake_->calls().back().rpc, "Del");
    r = run(env("CHECK"), config(version));
    if (std::string_view(version) < "0.4.0") {
      expectError(r, 1, version, "CHECK needs cniVersion 0.4.0");
      EXPECT_EQ(fake_->calls().back().rpc, "Del");
    } else {
      EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
      EXPECT_EQ(r.out, "");
      EXPECT_EQ(fake_->calls().back().rpc, "Check");
    }
  }
}

TEST_F(CniBinaryTest, DelWithoutNetnsIsSentAndSucceeds) {
  auto e = env("DEL");
  e.erase("CNI_NETNS");
  const PluginRun r = run(e, config("1.0.0"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "");
  ASSERT_EQ(fake_->calls().size(), 1u);
  EXPECT_EQ(fake_->calls()[0].rpc, "Del");
  EXPECT_EQ(fake_->calls()[0].request.netns(), "");
}

TEST_F(CniBinaryTest, StatusAndGcOn110) {
  PluginRun r = run({{"CNI_COMMAND", "STATUS"}}, config("1.1.0"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "");
  r = run({{"CNI_COMMAND", "GC"}},
          config("1.1.0", R"(,"cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}])"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const auto calls = fake_->calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].rpc, "Status");
  EXPECT_EQ(calls[1].rpc, "Gc");
  ASSERT_EQ(calls[1].request.valid_attachments_size(), 1);
  EXPECT_EQ(calls[1].request.valid_attachments(0).container_id(), "a");
}

TEST_F(CniBinaryTest, ChainedAddSendsPrevResultAsOneZeroZero) {
  const std::string prev = formatResult(podResult("/var/run/netns/pod1"), "0.4.0");
  const PluginRun r = run(env("ADD"), config("0.4.0", R"(,"prevResult":)" + prev));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_EQ(fake_->calls().size(), 1u);
  EXPECT_EQ(fake_->calls()[0].request.prev_result_json(),
            formatResult(podResult("/var/run/netns/pod1"), "1.0.0"));
}

TEST_F(CniBinaryTest, CoraldErrorPassesThrough) {
  api::v1::CniError error;
  error.set_code(104);
  error.set_msg("address pool exhausted");
  error.set_details("pool default-ipv4");
  fake_->setError(error);
  const PluginRun r = run(env("ADD"), config("1.0.0"));
  expectError(r, 104, "1.0.0", "address pool exhausted");
  EXPECT_EQ(Json::parse(r.out).value("details", ""), "pool default-ipv4");
}

TEST_F(CniBinaryTest, AgentDownNoSocket) {
  for (const char* command : {"ADD", "DEL", "CHECK"}) {
    SCOPED_TRACE(command);
    const PluginRun r = run(env(command), config("1.0.0", "", dir_.path() + "/absent.sock"));
    expectError(r, 11, "1.0.0", "corald is not reachable");
  }
  const PluginRun status =
      run({{"CNI_COMMAND", "STATUS"}}, config("1.1.0", "", dir_.path() + "/absent.sock"));
  expectError(status, 50, "1.1.0", "plugin not available");
}

TEST_F(CniBinaryTest, AgentDownStaleSocket) {
  // A socket file nobody listens on: connect() is refused.
  const std::string stale = dir_.path() + "/stale.sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, stale.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  const PluginRun r = run(env("ADD"), config("0.3.1", R"(,"timeout_ms":5000)", stale));
  expectError(r, 11, "0.3.1", "");
  EXPECT_LT(r.elapsed.count(), 4000) << "a refused connection must not wait for the timeout";
}

TEST_F(CniBinaryTest, AgentHangingTimesOut) {
  fake_->setHang(true);
  const PluginRun r = run(env("ADD"), config("1.0.0", R"(,"timeout_ms":300)"));
  expectError(r, 11, "1.0.0", "timeout: corald did not answer Add within 300 ms");
  EXPECT_GE(r.elapsed.count(), 250);
  EXPECT_LT(r.elapsed.count(), 5000);
}

TEST_F(CniBinaryTest, ParseErrors) {
  expectError(run(env("ADD"), "{not json"), 6, "1.1.0", "not valid JSON");
  expectError(run(env("ADD"), R"({"cniVersion":"1.0.0","name":"k8s","type":"bridge"})"), 7, "1.0.0",
              "type \"bridge\"");
  auto missing = env("ADD");
  missing.erase("CNI_NETNS");
  expectError(run(missing, config("0.4.0")), 4, "0.4.0", "CNI_NETNS is not set for ADD");
  expectError(run({}, config("0.4.0")), 4, "0.4.0", "CNI_COMMAND is not set");
  expectError(run(env("ADD"), config("0.2.0")), 1, "1.1.0", "\"0.2.0\" is not supported");
  expectError(run(env("ADD"), config("1.2.0")), 1, "1.1.0", "\"1.2.0\" is not supported");
  EXPECT_TRUE(fake_->calls().empty());
}

}  // namespace
}  // namespace coral::cni::testing
