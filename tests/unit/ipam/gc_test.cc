// IPAM check and garbage collection with a fake clock: leaks wait out their grace period
// and are re-checked right before release; live pods are never touched; orphaned blocks,
// dangling affinities, stale handles and out-of-pool allocations are reported. coral-ipam's
// allocations live while their node does; a StatefulSet pod's old allocation is a leak.
#include <gtest/gtest.h>

#include "ipam/block.h"
#include "ipam/check.h"
#include "ipam/gc.h"
#include "tests/unit/ipam/ipam_test_util.h"

namespace coral::ipam::testing {
namespace {

class GcTest : public IpamTest {
 protected:
  CheckReport check() {
    auto snap = readSnapshot(*store_);
    EXPECT_TRUE(snap.ok()) << snap.status();
    return analyze(*snap);
  }
  GcOptions options{.leak_grace = std::chrono::seconds(60),
                    .block_grace = std::chrono::seconds(60)};

  // What coral-ipam records: CNI_ARGS' pod, the container id and owner=coral-ipam.
  void assignLikeCoralIpam(const std::string& node, const std::string& container,
                           const std::string& pod) {
    AssignRequest req{.handle_id = handleIdFor(container, "eth0"),
                      .node = node,
                      .attributes = {{kAttrNamespace, "default"},
                                     {kAttrPod, pod},
                                     {kAttrContainerId, container},
                                     {kAttrOwner, kOwnerCoralIpam}}};
    auto r = ipam_->autoAssign(req);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  void addEndpoint(const std::string& pod, const std::string& container, const std::string& ip) {
    model::WorkloadEndpoint wep;
    wep.metadata.name = "n1-" + pod + "-eth0";
    wep.metadata.namespace_ = "default";
    wep.spec.node = "n1";
    wep.spec.pod = pod;
    wep.spec.container_id = container;
    wep.spec.interface_name = "cor0123456789a";
    wep.spec.ip_networks = {ip + "/32"};
    auto r = store_->apply(model::toResource(wep));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  // Runs the collector until well past every grace period.
  GcRound collect(GarbageCollector& gc) {
    EXPECT_TRUE(gc.runOnce().ok());
    clock_.advance(std::chrono::seconds(3600));
    auto r = gc.runOnce();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : GcRound{};
  }
};

TEST_F(GcTest, CoralIpamAllocationsLiveWhileTheirNodeExists) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  // A macvlan pod: no Pod, no WorkloadEndpoint is ever written for it.
  assignLikeCoralIpam("n1", "ctr1", "macvlan-0");
  auto r = check();
  EXPECT_TRUE(r.leaks.empty()) << formatReport(r);
  EXPECT_EQ(r.coral_ipam, 1);
  EXPECT_TRUE(r.clean()) << formatReport(r);
  GarbageCollector gc(*ipam_, clock_, options);
  EXPECT_TRUE(collect(gc).released.empty());
  EXPECT_EQ(ipam_->addressesOf(handleIdFor("ctr1", "eth0"))->size(), 1u);
  // Its node is deleted: now nothing can be using it.
  ASSERT_TRUE(store_->remove(model::kindOf<model::Node>(), "", "n1").ok());
  ASSERT_EQ(check().leaks.size(), 1u);
  auto round = collect(gc);
  ASSERT_EQ(round.released.size(), 1u);
  EXPECT_EQ(round.released[0].handle, handleIdFor("ctr1", "eth0"));
}

TEST_F(GcTest, AStatefulSetPodsEarlierAllocationIsALeak) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  addPod("default", "db-0");
  // db-0's first sandbox (ctr-old) got 10.0.0.0; its DEL never ran. The re-created db-0
  // (same name, ctr-new) got 10.0.0.1 and its WorkloadEndpoint names ctr-new.
  auto old_req = AssignRequest{
      .handle_id = "ctr-old.eth0",
      .node = "n1",
      .attributes = {
          {kAttrNamespace, "default"}, {kAttrPod, "db-0"}, {kAttrContainerId, "ctr-old"}}};
  ASSERT_TRUE(ipam_->autoAssign(old_req).ok());
  auto new_req = old_req;
  new_req.handle_id = "ctr-new.eth0";
  new_req.attributes[kAttrContainerId] = "ctr-new";
  ASSERT_TRUE(ipam_->autoAssign(new_req).ok());
  addEndpoint("db-0", "ctr-new", "10.0.0.1");
  auto r = check();
  ASSERT_EQ(r.leaks.size(), 1u) << formatReport(r);
  EXPECT_EQ(r.leaks[0].ip, "10.0.0.0");
  EXPECT_EQ(r.leaks[0].handle, "ctr-old.eth0");
  GarbageCollector gc(*ipam_, clock_, options);
  auto round = collect(gc);
  ASSERT_EQ(round.released.size(), 1u);
  EXPECT_EQ(round.released[0].handle, "ctr-old.eth0");
  EXPECT_TRUE(ipam_->addressesOf("ctr-old.eth0")->empty());
  EXPECT_EQ(ipam_->addressesOf("ctr-new.eth0")->size(), 1u);
  EXPECT_TRUE(check().clean()) << formatReport(check());
}

TEST_F(GcTest, AnEndpointThatUsesTheAddressOrNamesNoContainerKeepsItAlive) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  auto req = AssignRequest{
      .handle_id = "ctr-a.eth0",
      .node = "n1",
      .attributes = {{kAttrNamespace, "default"}, {kAttrPod, "db-0"}, {kAttrContainerId, "ctr-a"}}};
  ASSERT_TRUE(ipam_->autoAssign(req).ok());  // 10.0.0.0
  addEndpoint("db-0", "ctr-b", "10.0.0.0");  // another container id, but our address
  EXPECT_TRUE(check().leaks.empty()) << formatReport(check());
  addEndpoint("db-0", "", "10.0.0.9");  // no container id: cannot tell, so alive
  EXPECT_TRUE(check().leaks.empty()) << formatReport(check());
  addEndpoint("db-0", "ctr-b", "10.0.0.9");
  EXPECT_EQ(check().leaks.size(), 1u);
}

TEST_F(GcTest, EndpointAddressesAreReadWithTheirHostBits) {
  // An endpoint written with its subnet's length ("10.0.0.5/24") uses 10.0.0.5, not the
  // network address a prefix parser would make of it.
  Snapshot s;
  model::WorkloadEndpoint wep;
  wep.metadata.namespace_ = "default";
  wep.spec.pod = "db-0";
  wep.spec.container_id = "ctr-b";
  wep.spec.ip_networks = {"10.0.0.5/24"};
  ipam::addEndpoint(s, wep);
  const std::map<std::string, std::string> attrs = {
      {kAttrNamespace, "default"}, {kAttrPod, "db-0"}, {kAttrContainerId, "ctr-a"}};
  EXPECT_TRUE(workloadExists(s, attrs, "10.0.0.5"));
  EXPECT_FALSE(workloadExists(s, attrs, "10.0.0.0"));
}

TEST_F(GcTest, ACleanStoreChecksClean) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  addPod("default", "web");
  ASSERT_TRUE(assign("n1", "h", true, false, "web").ok());
  auto r = check();
  EXPECT_TRUE(r.clean()) << formatReport(r);
  EXPECT_EQ(r.allocations, 1);
}

TEST_F(GcTest, LeaksAreReleasedOnlyAfterTheGracePeriod) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  addPod("default", "live");
  addPod("default", "dead");
  ASSERT_TRUE(assign("n1", "live", true, false, "live").ok());
  ASSERT_TRUE(assign("n1", "dead", true, false, "dead").ok());
  deletePod("default", "dead");
  auto report = check();
  ASSERT_EQ(report.leaks.size(), 1u);
  EXPECT_EQ(report.leaks[0].ip, "10.0.0.1");
  EXPECT_EQ(report.leaks[0].handle, "dead");
  EXPECT_EQ(report.leaks[0].pod, "dead");

  GarbageCollector gc(*ipam_, clock_, options);
  auto r1 = gc.runOnce();
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_TRUE(r1->released.empty());
  EXPECT_EQ(r1->waiting, 1u);
  clock_.advance(std::chrono::seconds(59));
  EXPECT_TRUE(gc.runOnce()->released.empty());
  clock_.advance(std::chrono::seconds(1));
  auto r3 = gc.runOnce();
  ASSERT_EQ(r3->released.size(), 1u);
  EXPECT_EQ(r3->released[0].ip, "10.0.0.1");
  EXPECT_TRUE(ipam_->addressesOf("dead")->empty());
  EXPECT_EQ(ipam_->addressesOf("live")->size(), 1u);
  EXPECT_TRUE(check().clean()) << formatReport(check());
}

TEST_F(GcTest, TheRecheckSparesAPodThatAppearsRightBeforeRelease) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  ASSERT_TRUE(assign("n1", "h", true, false, "slow").ok());  // its endpoint is not written yet
  // The endpoint is written after the collector's scan, right before its release.
  options.before_recheck = [this](const AllocationRef& ref) {
    model::WorkloadEndpoint wep;
    wep.metadata.name = "n1-slow-eth0";
    wep.metadata.namespace_ = ref.ns;
    wep.spec.node = "n1";
    wep.spec.pod = ref.pod;
    wep.spec.interface_name = "cor0123456789a";
    ASSERT_TRUE(store_->create(wep).ok());
  };
  GarbageCollector gc(*ipam_, clock_, options);
  ASSERT_EQ(gc.runOnce()->waiting, 1u);
  clock_.advance(std::chrono::seconds(61));
  auto r = gc.runOnce();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->released.empty());
  ASSERT_EQ(r->spared.size(), 1u);
  EXPECT_EQ(r->spared[0].pod, "slow");
  EXPECT_EQ(ipam_->addressesOf("h")->size(), 1u);
}

TEST_F(GcTest, ACandidateThatRecoversRestartsItsGracePeriod) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  addPod("default", "flaky");
  ASSERT_TRUE(assign("n1", "h", true, false, "flaky").ok());
  deletePod("default", "flaky");
  GarbageCollector gc(*ipam_, clock_, options);
  ASSERT_TRUE(gc.runOnce().ok());  // candidate
  addPod("default", "flaky");
  clock_.advance(std::chrono::seconds(30));
  ASSERT_TRUE(gc.runOnce().ok());  // alive: no longer a candidate
  deletePod("default", "flaky");
  clock_.advance(std::chrono::seconds(40));
  auto r = gc.runOnce();  // candidate again, from now
  EXPECT_TRUE(r->released.empty());
  clock_.advance(std::chrono::seconds(60));
  EXPECT_EQ(gc.runOnce()->released.size(), 1u);
}

TEST_F(GcTest, ReleaseOfALeakDoesNotTakeAnAddressReusedInTheMeantime) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  ASSERT_TRUE(assign("n1", "old", true, false, "gone").ok());
  auto snap = readSnapshot(*store_);
  auto report = analyze(*snap);
  ASSERT_EQ(report.leaks.size(), 1u);
  // The address is released by its owner and handed to a live pod before the release.
  ASSERT_TRUE(ipam_->releaseHandle("old").ok());
  addPod("default", "new");
  ASSERT_TRUE(assign("n1", "new", true, false, "new").ok());
  EXPECT_EQ(ipam_->addressesOf("new")->at(0).address.toString(), report.leaks[0].ip);
  // A release from the stale report (what `coralctl ipam release --from-report` does).
  EXPECT_FALSE(*ipam_->releaseAddress(ip(report.leaks[0].ip), report.leaks[0].handle));
  EXPECT_EQ(ipam_->addressesOf("new")->size(), 1u);
}

TEST_F(GcTest, OrphanedBlocksOfADeletedNodeAreReportedAndReleased) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  addNode("gone");
  addPod("default", "a");
  ASSERT_TRUE(assign("gone", "a", true, false, "a").ok());
  ASSERT_TRUE(store_->remove(model::kindOf<model::Node>(), "", "gone").ok());
  auto r = check();
  ASSERT_EQ(r.orphaned_blocks.size(), 1u);
  EXPECT_EQ(r.orphaned_blocks[0].node, "gone");
  EXPECT_TRUE(r.leaks.empty());  // the pod still exists
  GarbageCollector gc(*ipam_, clock_, options);
  ASSERT_TRUE(gc.runOnce().ok());
  clock_.advance(std::chrono::seconds(60));
  auto round = gc.runOnce();
  ASSERT_TRUE(round.ok()) << round.status();
  EXPECT_EQ(round->released_nodes, std::vector<std::string>{"gone"});
  EXPECT_TRUE(store_->list<model::BlockAffinity>()->empty());
  EXPECT_EQ(ipam_->addressesOf("a")->size(), 1u);  // the live pod keeps its address
}

TEST_F(GcTest, InterruptedWritesAreReportedAndRepaired) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  // Crash after the pending affinity (claim step 1).
  model::BlockAffinity pending;
  pending.metadata.name = affinityName("n1", prefix("10.0.0.8/30"));
  pending.spec = {.node = "n1", .cidr = "10.0.0.8/30", .state = "pending"};
  ASSERT_TRUE(store_->create(pending).ok());
  // Crash after the handle count (allocation step 1).
  model::IPAMHandle stale;
  stale.metadata.name = "stale";
  stale.spec.handle_id = "stale";
  stale.spec.blocks["10.0.0.0/30"] = 1;
  ASSERT_TRUE(store_->create(stale).ok());
  auto r = check();
  ASSERT_EQ(r.dangling_affinities.size(), 1u);
  EXPECT_EQ(r.dangling_affinities[0].block, "10.0.0.8/30");
  EXPECT_EQ(r.stale_handles, std::vector<std::string>{"stale"});
  EXPECT_TRUE(r.leaks.empty());
  EXPECT_TRUE(r.duplicates.empty());
  GarbageCollector gc(*ipam_, clock_, options);
  ASSERT_TRUE(gc.runOnce().ok());
  clock_.advance(std::chrono::seconds(60));
  auto round = gc.runOnce();
  ASSERT_TRUE(round.ok()) << round.status();
  EXPECT_EQ(round->removed_affinities.size(), 1u);
  EXPECT_EQ(round->repaired_handles, std::vector<std::string>{"stale"});
  EXPECT_TRUE(check().clean()) << formatReport(check());
}

TEST_F(GcTest, OutOfPoolAndDuplicateAllocationsAreReported) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  addPod("default", "a");
  ASSERT_TRUE(assign("n1", "a", true, false, "a").ok());
  // A block outside every pool that overlaps nothing, and one overlapping 10.0.0.0/30.
  for (auto [name, cidr] :
       {std::pair{"10-9-0-0-30", "10.9.0.0/30"}, std::pair{"10-0-0-0-29", "10.0.0.0/29"}}) {
    model::IPAMBlock b;
    b.metadata.name = name;
    b.spec.cidr = cidr;
    b.spec.affinity = "host:n1";
    b.spec.allocations.push_back({.ordinal = 0, .handle_id = "a", .attributes = {}});
    ASSERT_TRUE(store_->create(b).ok());
  }
  auto r = check();
  ASSERT_EQ(r.out_of_pool.size(), 1u);
  EXPECT_EQ(r.out_of_pool[0].ip, "10.9.0.0");
  ASSERT_EQ(r.duplicates.size(), 2u);
  EXPECT_EQ(r.duplicates[0].ip, "10.0.0.0");
  auto json = reportToJson(r);
  auto back = reportFromJson(model::Json::parse(json.dump()));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->out_of_pool, r.out_of_pool);
  EXPECT_EQ(back->leaks, r.leaks);
  EXPECT_FALSE(reportFromJson(model::Json::parse("{\"kind\":\"x\"}")).ok());
}

}  // namespace
}  // namespace coral::ipam::testing
