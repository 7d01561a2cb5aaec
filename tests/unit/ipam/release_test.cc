// IPAM release on the file store: by handle (idempotent), by address, empty blocks after a
// grace period, node deletion.
#include <gtest/gtest.h>

#include "ipam/gc.h"
#include "tests/unit/ipam/ipam_test_util.h"

namespace coral::ipam::testing {
namespace {

using ReleaseTest = IpamTest;

TEST_F(ReleaseTest, ReleaseByHandleIsIdempotent) {
  addPool("v4", "10.0.0.0/28", 30);
  addPool("v6", "fd00::/120", 126);
  ASSERT_TRUE(assign("n1", "h", true, true).ok());
  ASSERT_TRUE(ipam_->releaseHandle("h").ok());
  EXPECT_TRUE(ipam_->addressesOf("h")->empty());
  EXPECT_TRUE(datastore::isNotFound(store_->get<model::IPAMHandle>("h").status()));
  EXPECT_TRUE(ipam_->releaseHandle("h").ok());
  EXPECT_TRUE(ipam_->releaseHandle("never-existed").ok());
  auto block = store_->get<model::IPAMBlock>("10-0-0-0-30");
  EXPECT_TRUE(block->spec.allocations.empty());
}

TEST_F(ReleaseTest, ReleaseByAddressUncountsTheHandle) {
  addPool("p", "10.0.0.0/28", 30);
  ASSERT_TRUE(assign("n1", "a").ok());
  ASSERT_TRUE(assign("n1", "b").ok());
  auto released = ipam_->releaseAddress(ip("10.0.0.1"));
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_TRUE(*released);
  EXPECT_TRUE(datastore::isNotFound(store_->get<model::IPAMHandle>("b").status()));
  EXPECT_FALSE(*ipam_->releaseAddress(ip("10.0.0.1")));       // already free
  EXPECT_FALSE(*ipam_->releaseAddress(ip("10.0.0.0"), "b"));  // held by another handle
  EXPECT_EQ(ipam_->addressesOf("a")->size(), 1u);
  EXPECT_FALSE(*ipam_->releaseAddress(ip("192.168.0.1")));  // in no block
}

TEST_F(ReleaseTest, EmptyBlocksReturnToThePoolAfterTheGracePeriod) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  ASSERT_TRUE(assign("n1", "h").ok());
  ASSERT_TRUE(ipam_->releaseHandle("h").ok());
  GarbageCollector gc(
      *ipam_, clock_,
      {.leak_grace = std::chrono::seconds(60), .block_grace = std::chrono::seconds(30)});
  auto r1 = gc.runOnce();
  ASSERT_TRUE(r1.ok()) << r1.status();
  EXPECT_TRUE(r1->released_blocks.empty());
  clock_.advance(std::chrono::seconds(29));
  EXPECT_TRUE(gc.runOnce()->released_blocks.empty());
  clock_.advance(std::chrono::seconds(1));
  auto r3 = gc.runOnce();
  EXPECT_EQ(r3->released_blocks, std::vector<std::string>{"10.0.0.0/30"});
  EXPECT_TRUE(ipam_->nodeBlocks("n1")->empty());
  EXPECT_TRUE(store_->list<model::BlockAffinity>()->empty());
}

TEST_F(ReleaseTest, ABlockThatIsUsedAgainDuringTheGracePeriodStays) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  ASSERT_TRUE(assign("n1", "h").ok());
  ASSERT_TRUE(ipam_->releaseHandle("h").ok());
  GarbageCollector gc(*ipam_, clock_, {.block_grace = std::chrono::seconds(30)});
  ASSERT_TRUE(gc.runOnce().ok());
  addPod("default", "again");
  ASSERT_TRUE(assign("n1", "again").ok());
  clock_.advance(std::chrono::seconds(31));
  EXPECT_TRUE(gc.runOnce()->released_blocks.empty());
  EXPECT_EQ(ipam_->nodeBlocks("n1")->size(), 1u);
}

TEST_F(ReleaseTest, NodeDeletionReleasesItsAffinities) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(assign("n1", "h" + std::to_string(i)).ok());
  ASSERT_TRUE(ipam_->releaseHandle("h4").ok());  // the second block is now empty
  ASSERT_EQ(ipam_->nodeBlocks("n1")->size(), 2u);
  ASSERT_TRUE(ipam_->releaseNode("n1").ok());
  EXPECT_TRUE(ipam_->nodeBlocks("n1")->empty());
  EXPECT_TRUE(store_->list<model::BlockAffinity>()->empty());
  auto blocks = store_->list<model::IPAMBlock>();
  ASSERT_EQ(blocks->size(), 1u);  // the empty one is gone, the used one stays unowned
  EXPECT_EQ(blocks->at(0).spec.affinity, "");
  EXPECT_EQ(blocks->at(0).spec.allocations.size(), 4u);
  // A new node does not claim the unowned block; it takes the next free one.
  EXPECT_EQ(assign4("n2", "x"), "10.0.0.4");
}

}  // namespace
}  // namespace coral::ipam::testing
