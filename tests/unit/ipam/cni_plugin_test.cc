// coral-ipam's command handling without a process or a network namespace: the result's
// addresses skip the pool's network and broadcast addresses, the gateway and `exclude`;
// the gateway is returned; allocations carry owner=coral-ipam; bad config is CNI error 7.
#include <gtest/gtest.h>

#include "ipam/check.h"
#include "ipam/cni/plugin.h"
#include "tests/unit/ipam/ipam_test_util.h"

namespace coral::ipam::testing {
namespace {

class CniPluginTest : public IpamTest {
 protected:
  cni::Response call(const std::string& command, const std::string& container,
                     const model::Json& ipam) {
    model::Json conf = {{"cniVersion", "1.0.0"}, {"name", "l2"}, {"type", "bridge"}};
    conf["ipam"] = ipam;
    conf["ipam"]["type"] = "coral-ipam";
    conf["ipam"]["datastore"] = "file://" + dir_.path();
    conf["ipam"]["nodename"] = "n1";
    return cni::handle(
        {.env = {{"CNI_COMMAND", command},
                 {"CNI_CONTAINERID", container},
                 {"CNI_IFNAME", "eth0"},
                 {"CNI_ARGS", "K8S_POD_NAMESPACE=default;K8S_POD_NAME=" + container}},
         .stdin_config = conf.dump()});
  }
  // The first IP entry of an ADD result.
  model::Json add(const std::string& container, const model::Json& ipam) {
    auto r = call("ADD", container, ipam);
    EXPECT_EQ(r.exit_code, 0) << r.stdout_text;
    auto j = model::Json::parse(r.stdout_text, nullptr, false);
    if (j.is_discarded() || !j.contains("ips") || j["ips"].empty()) return model::Json::object();
    return j["ips"][0];
  }
};

TEST_F(CniPluginTest, NeverHandsOutTheNetworkBroadcastGatewayOrExcluded) {
  addPool("l2", "10.9.0.0/29", 29);  // one block: .0 network, .7 broadcast
  addNode("n1");
  const model::Json ipam = {{"gateway", "10.9.0.1"}, {"exclude", {"10.9.0.3", "10.9.0.4/31"}}};
  auto first = add("c1", ipam);
  EXPECT_EQ(first.value("address", ""), "10.9.0.2/29");
  EXPECT_EQ(first.value("gateway", ""), "10.9.0.1");
  EXPECT_EQ(add("c2", ipam).value("address", ""), "10.9.0.6/29");
  auto full = call("ADD", "c3", ipam);
  EXPECT_EQ(full.exit_code, 1);
  EXPECT_EQ(model::Json::parse(full.stdout_text)["code"], cni::kNoAddressAvailable);
  // DEL gives .2 back; it is the next one handed out.
  EXPECT_EQ(call("DEL", "c1", ipam).exit_code, 0);
  EXPECT_EQ(add("c4", ipam).value("address", ""), "10.9.0.2/29");
}

TEST_F(CniPluginTest, AllocationsAreMarkedAsCoralIpamsAndAreNotLeaks) {
  addPool("l2", "10.9.0.0/24", 26);
  addNode("n1");
  EXPECT_EQ(add("c1", model::Json::object()).value("address", ""), "10.9.0.1/24");
  auto block = store_->get<model::IPAMBlock>("10-9-0-0-26");
  ASSERT_TRUE(block.ok()) << block.status();
  ASSERT_EQ(block->spec.allocations.size(), 1u);
  EXPECT_EQ(block->spec.allocations[0].attributes.at(kAttrOwner), kOwnerCoralIpam);
  EXPECT_EQ(block->spec.allocations[0].attributes.at(kAttrPod), "c1");
  auto report = analyze(*readSnapshot(*store_));
  EXPECT_TRUE(report.clean()) << formatReport(report);
}

TEST_F(CniPluginTest, HostPrefixesKeepTheWholePool) {
  addPool("l3", "10.9.0.0/24", 26);
  addNode("n1");
  EXPECT_EQ(add("c1", {{"address_prefix", "host"}}).value("address", ""), "10.9.0.0/32");
}

TEST_F(CniPluginTest, BadGatewayOrExcludeIsAConfigError) {
  addPool("l2", "10.9.0.0/24", 26);
  for (const model::Json& ipam : {model::Json{{"gateway", "10.9.0.300"}},
                                  model::Json{{"exclude", model::Json::array({"10.9.0.0/33"})}},
                                  model::Json{{"exclude", "10.9.0.1"}}}) {
    auto r = call("ADD", "c1", ipam);
    EXPECT_EQ(r.exit_code, 1) << ipam.dump();
    EXPECT_EQ(model::Json::parse(r.stdout_text)["code"], cni::kInvalidNetworkConfig)
        << r.stdout_text;
  }
}

}  // namespace
}  // namespace coral::ipam::testing
