// A chained conflist as a runtime runs it: coral-cni (against FakeCorald answering a pod
// result) followed by the reference tuning, portmap and bandwidth plugins from Debian's
// containernetworking-plugins, each fed the previous plugin's stdout as prevResult; then
// CHECK and DEL through the chain, in every cniVersion the reference plugins speak.
// The pod is dual-stack, as Coral pods are. portmap 1.1.1's CHECK is broken upstream: for
// an IPv4-only pod it wants IPv6 chains (containernetworking/plugins#819), for a dual-stack
// one it looks for the IPv4 rules in ip6tables; that one failure is tolerated, by message.
//
// Kernel safety: every plugin runs inside a "host" network namespace this test creates
// (`ip netns exec`), the pod is a second namespace, and the veth FakeCorald's result names
// is created between the two. Both namespaces are deleted on every path (RAII). Needs root
// and /usr/lib/cni/{tuning,portmap,bandwidth}: fails, not skips, without them.
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cni/result.h"
#include "tests/support/child_process.h"
#include "tests/unit/cni/fake_corald.h"
#include "tests/unit/cni/run_plugin.h"

namespace coral::cni::testing {
namespace {

using Json = nlohmann::json;

constexpr const char* kPluginDir = "/usr/lib/cni";
constexpr const char* kIp = "/usr/sbin/ip";
constexpr const char* kHostIf = "cor3f2a9c41d0e";
constexpr const char* kHostMac = "ee:ee:ee:ee:ee:ee";
constexpr const char* kPodMac = "0a:58:0a:f4:01:05";
constexpr const char* kPodAddress = "10.244.1.5/32";
constexpr const char* kPodAddress6 = "fd00:10:244:1::5/128";

std::map<std::string, std::string> baseEnv() { return {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"}}; }

// Runs `ip args...`; returns stdout, failing the test when ip fails.
std::string ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kIp};
  argv.insert(argv.end(), args.begin(), args.end());
  const PluginRun r = runPlugin(argv, baseEnv(), "");
  EXPECT_EQ(r.exit_code, 0) << "ip " << ::testing::PrintToString(args) << ": " << r.err;
  return r.out;
}

// A network namespace with a name unique to this process, deleted when it goes away.
class Netns {
 public:
  explicit Netns(const std::string& role) {
    static std::atomic<int> counter{0};
    name_ = "coralcni-" + role + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    const PluginRun r = runPlugin({kIp, "netns", "add", name_}, baseEnv(), "");
    ok_ = r.exit_code == 0;
    EXPECT_TRUE(ok_) << "ip netns add " << name_ << ": " << r.err;
  }
  ~Netns() {
    if (ok_) runPlugin({kIp, "netns", "del", name_}, baseEnv(), "");
  }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  std::string path() const { return "/var/run/netns/" + name_; }

 private:
  std::string name_;
  bool ok_ = false;
};

class CniChainTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "cni_chain_test needs root (network namespaces, veth, "
                                  "iptables inside them); run it as root";
    for (const char* plugin : {"tuning", "portmap", "bandwidth"}) {
      ASSERT_TRUE(std::filesystem::exists(std::string(kPluginDir) + "/" + plugin))
          << kPluginDir << "/" << plugin
          << " is missing: install Debian's containernetworking-plugins";
    }
    ASSERT_FALSE(dir_.path().empty());
    fake_ = std::make_unique<FakeCorald>(dir_.path() + "/cni.sock");
    ASSERT_TRUE(fake_->started());
    host_ = std::make_unique<Netns>("host");
    pod_ = std::make_unique<Netns>("pod");
    ASSERT_TRUE(host_->ok() && pod_->ok());
    // What corald would have built: the veth, the pod's /32, both ends up.
    ip({"-n", host_->name(), "link", "add", kHostIf, "address", kHostMac, "type", "veth", "peer",
        "name", "eth0", "address", kPodMac, "netns", pod_->name()});
    ip({"-n", host_->name(), "link", "set", kHostIf, "up"});
    ip({"-n", pod_->name(), "addr", "add", kPodAddress, "dev", "eth0"});
    ip({"-n", pod_->name(), "addr", "add", kPodAddress6, "dev", "eth0", "nodad"});
    ip({"-n", pod_->name(), "link", "set", "eth0", "up"});

    Result result;
    result.interfaces.push_back({kHostIf, kHostMac, "", std::nullopt});
    result.interfaces.push_back({"eth0", kPodMac, pod_->path(), std::nullopt});
    result.ips.push_back({kPodAddress, "169.254.1.1", 1});
    result.ips.push_back({kPodAddress6, "fe80::ecee:eeff:feee:eeee", 1});
    result.routes.push_back({"0.0.0.0/0", "169.254.1.1"});
    result.routes.push_back({"::/0", "fe80::ecee:eeff:feee:eeee"});
    fake_->setAddResult(result);
  }

  // The conflist's plugins, each already in the shape a runtime hands to the plugin
  // (name and cniVersion copied in, runtimeConfig filled for the declared capabilities).
  std::vector<Json> plugins(const std::string& version) const {
    const Json common = {{"cniVersion", version}, {"name", "coral-chain"}};
    std::vector<Json> out = {
        {{"type", "coral"}, {"socket", fake_->socketPath()}, {"timeout_ms", 5000}},
        {{"type", "tuning"},
         {"mtu", 1400},
         {"sysctl", {{"net.ipv4.conf.eth0.arp_notify", "1"}}},
         {"dataDir", dir_.path() + "/tuning"}},
        {{"type", "portmap"},
         {"capabilities", {{"portMappings", true}}},
         {"snat", true},
         {"runtimeConfig",
          {{"portMappings", {{{"hostPort", 18080}, {"containerPort", 80}, {"protocol", "tcp"}}}}}}},
        // With limits: bandwidth 1.1.1 CHECK dereferences a nil config without them.
        {{"type", "bandwidth"},
         {"capabilities", {{"bandwidth", true}}},
         {"runtimeConfig",
          {{"bandwidth", {{"ingressRate", 100000000}, {"ingressBurst", 1000000}}}}}},
    };
    for (Json& p : out) p.update(common);
    return out;
  }

  PluginRun runInHost(const Json& conf, const std::string& command) const {
    const std::string type = conf["type"];
    const std::string binary =
        type == "coral" ? std::string(CORAL_CNI_BINARY) : std::string(kPluginDir) + "/" + type;
    auto env = baseEnv();
    env["CNI_COMMAND"] = command;
    env["CNI_CONTAINERID"] = "c0ffee01";
    env["CNI_NETNS"] = pod_->path();
    env["CNI_IFNAME"] = "eth0";
    env["CNI_PATH"] = kPluginDir;
    env["CNI_ARGS"] = "IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-0";
    return runPlugin({kIp, "netns", "exec", host_->name(), binary}, env, conf.dump());
  }

  coral::testing::TempDir dir_;
  std::unique_ptr<FakeCorald> fake_;
  // Declared after fake_ so the namespaces go first; both are removed in every path.
  std::unique_ptr<Netns> host_;
  std::unique_ptr<Netns> pod_;
};

TEST_P(CniChainTest, AddCheckDelThroughReferencePlugins) {
  const std::string version = GetParam();
  const std::vector<Json> chain = plugins(version);

  // ADD: each plugin's stdout is the next one's prevResult.
  Json prev;
  for (const Json& plugin : chain) {
    Json conf = plugin;
    if (!prev.is_null()) conf["prevResult"] = prev;
    const PluginRun r = runInHost(conf, "ADD");
    ASSERT_EQ(r.exit_code, 0) << conf["type"] << " ADD failed: " << r.out << r.err;
    prev = Json::parse(r.out, nullptr, false);
    ASSERT_TRUE(prev.is_object()) << conf["type"] << " printed: " << r.out;
    // Every link of the chain still reads as a valid result of this version.
    const auto parsed = parseResult(r.out, version);
    ASSERT_TRUE(parsed.ok()) << conf["type"] << ": " << parsed.error().details << "\n" << r.out;
  }
  const Json& final_result = prev;
  EXPECT_EQ(final_result["cniVersion"], version);
  ASSERT_EQ(final_result["ips"].size(), 2u) << final_result.dump();
  EXPECT_EQ(final_result["ips"][0]["address"], kPodAddress);
  EXPECT_EQ(final_result["ips"][1]["address"], kPodAddress6);
  EXPECT_EQ(final_result["ips"][0].contains("version"), version != "1.0.0");

  // The reference plugins did their part inside our namespaces.
  EXPECT_NE(ip({"-n", pod_->name(), "link", "show", "eth0"}).find("mtu 1400"), std::string::npos);
  const PluginRun nat = runPlugin(
      {kIp, "netns", "exec", host_->name(), "iptables", "-t", "nat", "-S"}, baseEnv(), "");
  EXPECT_NE(nat.out.find("18080"), std::string::npos) << nat.out << nat.err;

  // CHECK (from 0.4.0): every plugin gets the cached final result.
  if (version != "0.3.0" && version != "0.3.1") {
    for (const Json& plugin : chain) {
      Json conf = plugin;
      conf["prevResult"] = final_result;
      const PluginRun r = runInHost(conf, "CHECK");
      if (conf["type"] == "portmap" && r.exit_code == 1 &&
          r.out.find("could not check ipv6 dnat") != std::string::npos) {
        // portmap 1.1.1 checks the IPv4 rules in the ip6tables table (upstream bug, the
        // #819 family); it got there only by reading our prevResult, so that part holds.
        EXPECT_NE(r.out.find("10.244.1.5"), std::string::npos) << r.out;
        continue;
      }
      EXPECT_EQ(r.exit_code, 0) << conf["type"] << " CHECK failed: " << r.out << r.err;
    }
  }

  // DEL in reverse order, each with the cached result.
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    Json conf = *it;
    conf["prevResult"] = final_result;
    const PluginRun r = runInHost(conf, "DEL");
    EXPECT_EQ(r.exit_code, 0) << conf["type"] << " DEL failed: " << r.out << r.err;
    EXPECT_EQ(r.out, "") << conf["type"];
  }

  std::vector<std::string> rpcs;
  for (const auto& call : fake_->calls()) rpcs.push_back(call.rpc);
  if (version == "0.3.0" || version == "0.3.1") {
    EXPECT_EQ(rpcs, (std::vector<std::string>{"Add", "Del"}));
  } else {
    EXPECT_EQ(rpcs, (std::vector<std::string>{"Add", "Check", "Del"}));
  }
  // DEL of corald got the chain's final result as its prevResult, in the 1.0.0 shape.
  const auto calls = fake_->calls();
  EXPECT_NE(calls.back().request.prev_result_json().find(kPodAddress), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Versions, CniChainTest,
                         ::testing::Values("0.3.0", "0.3.1", "0.4.0", "1.0.0"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '.') c = '_';
                           }
                           return "v" + name;
                         });

}  // namespace
}  // namespace coral::cni::testing
