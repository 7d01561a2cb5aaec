// coral-ipam through the reference macvlan and bridge plugins (Debian
// containernetworking-plugins): ADD gives the pod netns an address from a Coral pool (never
// the pool's network address, nor the gateway), CHECK passes, DEL releases it; two bridge
// pods reach each other through a bridge whose address is coral-ipam's gateway.
// The macvlan parent is a dummy link (or a veth end where the kernel lacks the dummy
// module) inside a network namespace the test creates; the
// plugin runs there (ip netns exec). Nothing touches the root namespace; both namespaces
// are deleted on every path. The bridge test's bridge lives in the parent namespace too.
// Needs root, /usr/lib/cni/macvlan and /usr/lib/cni/bridge: fails loudly without.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "datastore/backend.h"
#include "datastore/resource_store.h"
#include "ipam/ipam.h"
#include "model/codec.h"
#include "tests/support/child_process.h"

namespace coral::ipam {
namespace {

constexpr const char* kMacvlan = "/usr/lib/cni/macvlan";
constexpr const char* kBridge = "/usr/lib/cni/bridge";

struct ShellRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class MacvlanCniTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "this test needs root (network namespaces)";
    ASSERT_TRUE(std::filesystem::exists(kMacvlan))
        << kMacvlan << " is missing: install the Debian package containernetworking-plugins";
    const std::string id = std::to_string(::getpid());
    parent_ = "coral-ipam-parent-" + id;
    pod_ = "coral-ipam-pod-" + id;
    ASSERT_EQ(sh("ip netns add " + parent_).exit_code, 0);
    made_parent_ = true;
    ASSERT_EQ(sh("ip netns add " + pod_).exit_code, 0);
    made_pod_ = true;
    // The parent link: a dummy when the kernel has the module, else one end of a veth pair
    // (both ends stay inside the parent namespace).
    if (sh("ip -n " + parent_ + " link add parent0 type dummy").exit_code != 0) {
      ASSERT_EQ(sh("ip -n " + parent_ + " link add parent0 type veth peer name parent1").exit_code,
                0);
      ASSERT_EQ(sh("ip -n " + parent_ + " link set parent1 up").exit_code, 0);
    }
    ASSERT_EQ(sh("ip -n " + parent_ + " link set parent0 up").exit_code, 0);

    url_ = "file://" + dir_.path() + "/store";
    auto b = datastore::openBackend(url_);
    ASSERT_TRUE(b.ok()) << b.status();
    backend_ = std::move(*b);
    store_ = std::make_unique<datastore::ResourceStore>(*backend_);
    model::IPPool pool;
    pool.metadata.name = "macvlan-pods";
    pool.spec.cidr = "10.77.0.0/24";
    pool.spec.block_size = 28;
    ASSERT_TRUE(store_->create(pool).ok());
    model::Node node;
    node.metadata.name = "cni-node";
    ASSERT_TRUE(store_->create(node).ok());
  }
  void TearDown() override {
    if (made_pod2_) sh("ip netns del " + pod2_);
    if (made_pod_) sh("ip netns del " + pod_);
    if (made_parent_) sh("ip netns del " + parent_);
  }

  ShellRun sh(const std::string& cmd, const std::string& input = "") {
    const std::string in = dir_.path() + "/in", out = dir_.path() + "/out",
                      err = dir_.path() + "/err";
    std::ofstream(in) << input;
    const int status = std::system((cmd + " <" + in + " >" + out + " 2>" + err).c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
  }

  model::Json netconf() const {
    return {{"cniVersion", "1.0.0"},
            {"name", "coralnet"},
            {"type", "macvlan"},
            {"master", "parent0"},
            {"mode", "bridge"},
            {"ipam", {{"type", "coral-ipam"}, {"datastore", url_}, {"nodename", "cni-node"}}}};
  }

  // Runs the macvlan plugin inside the parent namespace for the pod namespace.
  ShellRun cni(const std::string& command, const model::Json& conf,
               const std::string& plugin = kMacvlan, const std::string& container = "ctr0123",
               const std::string& netns = "") {
    const std::string plugin_dir = std::filesystem::path(CORAL_IPAM_PLUGIN).parent_path().string();
    return sh("ip netns exec " + parent_ + " env CNI_COMMAND=" + command + " CNI_CONTAINERID=" +
                  container + " CNI_NETNS=/var/run/netns/" + (netns.empty() ? pod_ : netns) +
                  " CNI_IFNAME=eth0 "
                  "CNI_ARGS='IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=" +
                  container + "'" + " CNI_PATH=" + plugin_dir + ":/usr/lib/cni " + plugin,
              conf.dump());
  }

  coral::testing::TempDir dir_;
  std::string parent_, pod_, pod2_, url_;
  bool made_parent_ = false, made_pod_ = false, made_pod2_ = false;
  datastore::BackendPtr backend_;
  std::unique_ptr<datastore::ResourceStore> store_;
};

TEST_F(MacvlanCniTest, AddCheckDelThroughTheReferenceMacvlanPlugin) {
  auto add = cni("ADD", netconf());
  ASSERT_EQ(add.exit_code, 0) << add.out << add.err;
  auto result = model::Json::parse(add.out, nullptr, false);
  ASSERT_FALSE(result.is_discarded()) << add.out;
  ASSERT_EQ(result["ips"].size(), 1u) << add.out;
  // The pool's prefix length, and not its network address 10.77.0.0.
  EXPECT_EQ(result["ips"][0]["address"], "10.77.0.1/24");
  EXPECT_EQ(result["cniVersion"], "1.0.0");

  // The address is on the pod's eth0, and recorded with the pod's attributes.
  auto addr = sh("ip -n " + pod_ + " -o addr show dev eth0");
  EXPECT_NE(addr.out.find("inet 10.77.0.1/24"), std::string::npos) << addr.out;
  Ipam ipam(*store_);
  auto held = ipam.addressesOf(handleIdFor("ctr0123", "eth0"));
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ(held->at(0).address.toString(), "10.77.0.1");
  auto block = store_->get<model::IPAMBlock>("10-77-0-0-28");
  ASSERT_TRUE(block.ok());
  EXPECT_EQ(block->spec.allocations[0].attributes.at("pod"), "ctr0123");
  EXPECT_EQ(block->spec.allocations[0].attributes.at("owner"), "coral-ipam");
  EXPECT_EQ(block->spec.allocations[0].attributes.at("containerID"), "ctr0123");

  // No Pod or WorkloadEndpoint exists for this pod: check and gc must still leave it alone
  // (they used to call it a leak, and `gc --grace-period 1` released it).
  const std::string ctl = std::string(CORAL_CTL) + " --datastore " + url_ + " ipam ";
  auto ipam_check = sh(ctl + "check");
  EXPECT_EQ(ipam_check.exit_code, 0) << ipam_check.out << ipam_check.err;
  auto gc = sh(ctl + "gc --grace-period 1");
  EXPECT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_EQ(gc.out, "Nothing to collect.\n");
  EXPECT_EQ(ipam.addressesOf(handleIdFor("ctr0123", "eth0"))->size(), 1u);

  auto conf = netconf();
  conf["prevResult"] = result;
  auto check = cni("CHECK", conf);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;

  auto del = cni("DEL", netconf());
  EXPECT_EQ(del.exit_code, 0) << del.out << del.err;
  EXPECT_TRUE(ipam.addressesOf(handleIdFor("ctr0123", "eth0"))->empty());
  EXPECT_EQ(sh("ip -n " + pod_ + " link show eth0").exit_code, 1);  // gone
  // CHECK after DEL fails with our code, DEL again is fine (idempotent).
  auto recheck = cni("CHECK", conf, CORAL_IPAM_PLUGIN);
  EXPECT_EQ(recheck.exit_code, 1);
  EXPECT_EQ(model::Json::parse(recheck.out)["code"], 101) << recheck.out;
  EXPECT_EQ(cni("DEL", netconf()).exit_code, 0);
}

TEST_F(MacvlanCniTest, TwoBridgePodsGetAddressesAroundTheGatewayAndPingEachOther) {
  ASSERT_TRUE(std::filesystem::exists(kBridge))
      << kBridge << " is missing: install the Debian package containernetworking-plugins";
  pod2_ = pod_ + "-b";
  ASSERT_EQ(sh("ip netns add " + pod2_).exit_code, 0);
  made_pod2_ = true;
  // The bridge (in the parent namespace) takes the gateway address: isGateway.
  const model::Json conf = {{"cniVersion", "1.0.0"},
                            {"name", "coralbr"},
                            {"type", "bridge"},
                            {"bridge", "corbr0"},
                            {"isGateway", true},
                            {"ipam",
                             {{"type", "coral-ipam"},
                              {"datastore", url_},
                              {"nodename", "cni-node"},
                              {"gateway", "10.77.0.1"}}}};
  auto a = cni("ADD", conf, kBridge, "ctra", pod_);
  ASSERT_EQ(a.exit_code, 0) << a.out << a.err;
  auto b = cni("ADD", conf, kBridge, "ctrb", pod2_);
  ASSERT_EQ(b.exit_code, 0) << b.out << b.err;
  auto ra = model::Json::parse(a.out), rb = model::Json::parse(b.out);
  // Not .0 (the network) nor .1 (the gateway).
  EXPECT_EQ(ra["ips"][0]["address"], "10.77.0.2/24") << a.out;
  EXPECT_EQ(ra["ips"][0]["gateway"], "10.77.0.1") << a.out;
  EXPECT_EQ(rb["ips"][0]["address"], "10.77.0.3/24") << b.out;
  auto br = sh("ip -n " + parent_ + " -o addr show dev corbr0");
  EXPECT_NE(br.out.find("inet 10.77.0.1/24"), std::string::npos) << br.out;

  auto ping = sh("ip netns exec " + pod_ + " ping -c 1 -W 2 10.77.0.3");
  EXPECT_EQ(ping.exit_code, 0) << ping.out << ping.err;
  auto back = sh("ip netns exec " + pod2_ + " ping -c 1 -W 2 10.77.0.2");
  EXPECT_EQ(back.exit_code, 0) << back.out << back.err;
  auto gw = sh("ip netns exec " + pod_ + " ping -c 1 -W 2 10.77.0.1");
  EXPECT_EQ(gw.exit_code, 0) << gw.out << gw.err;

  EXPECT_EQ(cni("DEL", conf, kBridge, "ctra", pod_).exit_code, 0);
  EXPECT_EQ(cni("DEL", conf, kBridge, "ctrb", pod2_).exit_code, 0);
  Ipam ipam(*store_);
  EXPECT_TRUE(ipam.addressesOf(handleIdFor("ctra", "eth0"))->empty());
  EXPECT_TRUE(ipam.addressesOf(handleIdFor("ctrb", "eth0"))->empty());
}

TEST_F(MacvlanCniTest, ErrorsAreCniErrorJson) {
  auto bad = cni("ADD", model::Json{{"cniVersion", "1.0.0"}, {"name", "x"}}, CORAL_IPAM_PLUGIN);
  EXPECT_EQ(bad.exit_code, 1);
  auto j = model::Json::parse(bad.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << bad.out;
  EXPECT_EQ(j["code"], 7);
  EXPECT_EQ(j["msg"], "network configuration has no \"ipam\" object");
  auto old = netconf();
  old["cniVersion"] = "0.1.0";
  EXPECT_EQ(model::Json::parse(cni("ADD", old, CORAL_IPAM_PLUGIN).out)["code"], 1);
  // Exhaustion: a pool selecting no node.
  auto pool = store_->get<model::IPPool>("macvlan-pods");
  pool->spec.node_selector = "rack == 'nowhere'";
  ASSERT_TRUE(store_->update(*pool).ok());
  auto none = cni("ADD", netconf());
  EXPECT_NE(none.exit_code, 0);
  auto version = sh("env CNI_COMMAND=VERSION " + std::string(CORAL_IPAM_PLUGIN));
  EXPECT_EQ(model::Json::parse(version.out)["cniVersion"], "1.0.0");
}

}  // namespace
}  // namespace coral::ipam
