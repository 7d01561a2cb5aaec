// IPAM allocation on the file store: block claim, reuse order, exhaustion, borrowing,
// strictAffinity, maxBlocksPerHost (also under racing threads), disabled pools,
// nodeSelector, dual stack, reserved addresses (pool edges, gateway, exclude).
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <atomic>
#include <thread>

#include "ipam/block.h"
#include "tests/unit/ipam/ipam_test_util.h"

namespace coral::ipam::testing {
namespace {

using AllocateTest = IpamTest;

TEST_F(AllocateTest, FirstAddressClaimsTheLowestBlockWithAConfirmedAffinity) {
  addPool("p", "10.0.0.0/28", 30);  // four blocks of four
  addNode("n1");
  EXPECT_EQ(assign4("n1", "h1"), "10.0.0.0");
  EXPECT_EQ(assign4("n1", "h2"), "10.0.0.1");
  auto blocks = ipam_->nodeBlocks("n1");
  ASSERT_TRUE(blocks.ok()) << blocks.status();
  EXPECT_EQ(*blocks, std::vector<common::Prefix>{prefix("10.0.0.0/30")});
  auto aff = store_->get<model::BlockAffinity>(affinityName("n1", prefix("10.0.0.0/30")));
  ASSERT_TRUE(aff.ok()) << aff.status();
  EXPECT_EQ(aff->spec.state, "confirmed");
  auto block = store_->get<model::IPAMBlock>("10-0-0-0-30");
  ASSERT_TRUE(block.ok());
  EXPECT_EQ(block->spec.affinity, "host:n1");
  ASSERT_EQ(block->spec.allocations.size(), 2u);
  EXPECT_EQ(block->spec.allocations[1].attributes.at("node"), "n1");
  auto handle = store_->get<model::IPAMHandle>("h1");
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(handle->spec.blocks, (std::map<std::string, int64_t>{{"10.0.0.0/30", 1}}));
}

TEST_F(AllocateTest, EachNodeGetsItsOwnBlockAndANewOneWhenFull) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  addNode("n2");
  EXPECT_EQ(assign4("n1", "a"), "10.0.0.0");
  EXPECT_EQ(assign4("n2", "b"), "10.0.0.4");
  for (int i = 1; i < 4; ++i) assign4("n1", "a" + std::to_string(i));
  EXPECT_EQ(assign4("n1", "a4"), "10.0.0.8");  // block 1 full: a third block
  EXPECT_EQ(*ipam_->nodeBlocks("n1"),
            (std::vector<common::Prefix>{prefix("10.0.0.0/30"), prefix("10.0.0.8/30")}));
}

TEST_F(AllocateTest, ReleasedAddressesAreReusedLowestFirst) {
  addPool("p", "10.0.0.0/28", 30);
  for (int i = 0; i < 4; ++i) assign4("n1", "h" + std::to_string(i));
  ASSERT_TRUE(ipam_->releaseHandle("h2").ok());
  ASSERT_TRUE(ipam_->releaseHandle("h1").ok());
  EXPECT_EQ(assign4("n1", "x"), "10.0.0.1");
  EXPECT_EQ(assign4("n1", "y"), "10.0.0.2");
  EXPECT_EQ(assign4("n1", "z"), "10.0.0.4");
}

TEST_F(AllocateTest, ARetriedAddForTheSameHandleGetsTheSameAddress) {
  addPool("p", "10.0.0.0/28", 30);
  EXPECT_EQ(assign4("n1", "h"), "10.0.0.0");
  EXPECT_EQ(assign4("n1", "h"), "10.0.0.0");
  auto held = ipam_->addressesOf("h");
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->size(), 1u);
}

TEST_F(AllocateTest, ExhaustionIsResourceExhaustedAndNamesThePool) {
  addPool("tiny", "10.0.0.0/30", 30);
  setConfig(/*strict=*/true, 0);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(assign("n1", "h" + std::to_string(i)).ok());
  auto r = assign("n1", "h4");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("tiny (10.0.0.0/30)"), std::string::npos) << r.status();
}

TEST_F(AllocateTest, BorrowsFromAnotherNodesBlockWhenThePoolHasNoFreeBlock) {
  addPool("p", "10.0.0.0/29", 30);  // two blocks
  addNode("n1");
  addNode("n2");
  addNode("n3");
  EXPECT_EQ(assign4("n1", "a"), "10.0.0.0");
  EXPECT_EQ(assign4("n2", "b"), "10.0.0.4");
  auto r = assign("n3", "c");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ipv4->address.toString(), "10.0.0.1");  // lowest block with room
  EXPECT_TRUE(r->ipv4->borrowed);
  EXPECT_TRUE(ipam_->nodeBlocks("n3")->empty());
  auto block = store_->get<model::IPAMBlock>("10-0-0-0-30");
  EXPECT_EQ(block->spec.affinity, "host:n1");  // still n1's block
  EXPECT_EQ(findOrdinal(*block, 1)->attributes.at("node"), "n3");
}

TEST_F(AllocateTest, StrictAffinityNeverBorrows) {
  addPool("p", "10.0.0.0/29", 30);
  setConfig(/*strict=*/true, 0);
  ASSERT_TRUE(assign("n1", "a").ok());
  ASSERT_TRUE(assign("n2", "b").ok());
  auto r = assign("n3", "c");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("strictAffinity"), std::string::npos);
}

TEST_F(AllocateTest, MaxBlocksPerHostBorrowsOrFails) {
  addPool("p", "10.0.0.0/28", 30);
  setConfig(/*strict=*/false, 1);
  for (int i = 0; i < 4; ++i) assign4("n1", "h" + std::to_string(i));
  ASSERT_TRUE(assign("n2", "other").ok());  // n2 owns 10.0.0.4/30
  // n1 may not claim a second block: it borrows from n2's.
  auto r = assign("n1", "h4");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ipv4->address.toString(), "10.0.0.5");
  EXPECT_TRUE(r->ipv4->borrowed);
  EXPECT_EQ(ipam_->nodeBlocks("n1")->size(), 1u);
  setConfig(/*strict=*/true, 1);
  auto strict = assign("n1", "h5");
  EXPECT_EQ(strict.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(strict.status().message().find("maxBlocksPerHost is 1"), std::string::npos);
}

TEST_F(AllocateTest, DisabledPoolsAllocateNothingButKeepTheirAllocations) {
  addPool("old", "10.0.0.0/28", 30);
  EXPECT_EQ(assign4("n1", "keep"), "10.0.0.0");
  auto pool = store_->get<model::IPPool>("old");
  pool->spec.disabled = true;
  ASSERT_TRUE(store_->update(*pool).ok());
  auto r = assign("n1", "new");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("no enabled IPv4 IPPool selects node \"n1\""),
            std::string::npos);
  addPool("fresh", "10.1.0.0/28", 30);
  EXPECT_EQ(assign4("n1", "new"), "10.1.0.0");
  EXPECT_EQ(ipam_->addressesOf("keep")->at(0).address.toString(), "10.0.0.0");
}

TEST_F(AllocateTest, NodeSelectorChoosesThePoolFromTheNodesLabels) {
  addPool("rack-a", "10.0.0.0/28", 30, "rack == 'a'");
  addPool("rack-b", "10.1.0.0/28", 30, "rack == 'b'");
  addNode("na", {{"rack", "a"}});
  addNode("nb", {{"rack", "b"}});
  addNode("nc", {{"rack", "c"}});
  EXPECT_EQ(assign4("na", "x"), "10.0.0.0");
  EXPECT_EQ(assign4("nb", "y"), "10.1.0.0");
  EXPECT_EQ(assign("nc", "z").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(AllocateTest, DualStackGivesOneOfEach) {
  addPool("v4", "10.0.0.0/28", 30);
  addPool("v6", "fd00::/120", 126);
  auto r = assign("n1", "h", true, true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ipv4->address.toString(), "10.0.0.0");
  EXPECT_EQ(r->ipv6->address.toString(), "fd00::");
  EXPECT_EQ(r->ipv6->block.toString(), "fd00::/126");
  EXPECT_EQ(ipam_->addressesOf("h")->size(), 2u);
}

TEST_F(AllocateTest, DualStackRollsBackIPv4WhenIPv6Fails) {
  addPool("v4", "10.0.0.0/28", 30);
  addPool("v6", "fd00::/126", 126);
  setConfig(/*strict=*/true, 0);
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(assign("n1", "v6-" + std::to_string(i), false, true).ok());
  auto r = assign("n1", "both", true, true);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("IPv4 released"), std::string::npos) << r.status();
  EXPECT_TRUE(ipam_->addressesOf("both")->empty());
  EXPECT_FALSE(store_->get<model::IPAMHandle>("both").ok());
  EXPECT_EQ(assign4("n1", "next"), "10.0.0.0");  // the rolled-back address is free again
}

TEST_F(AllocateTest, ALostBlockRaceMovesToTheNextBlock) {
  addPool("p", "10.0.0.0/28", 30);
  // Another node created the first block but has not written its affinity yet.
  model::IPAMBlock taken;
  taken.metadata.name = "10-0-0-0-30";
  taken.spec.cidr = "10.0.0.0/30";
  taken.spec.affinity = "host:racer";
  ASSERT_TRUE(store_->create(taken).ok());
  EXPECT_EQ(assign4("n1", "h"), "10.0.0.4");
  // The loser's pending affinity for the first block is gone.
  EXPECT_TRUE(datastore::isNotFound(
      store_->get<model::BlockAffinity>(affinityName("n1", prefix("10.0.0.0/30"))).status()));
}

TEST_F(AllocateTest, HandleIdsThatAreNotNamesAreFoldedAndStillFound) {
  addPool("p", "10.0.0.0/28", 30);
  const std::string id = handleIdFor("ABC_123", "eth0");
  EXPECT_EQ(id, "ABC_123.eth0");
  EXPECT_NE(handleName(id), id);
  EXPECT_TRUE(model::validateObjectName(handleName(id)).ok()) << handleName(id);
  EXPECT_EQ(assign4("n1", id), "10.0.0.0");
  EXPECT_EQ(ipam_->addressesOf(id)->size(), 1u);
  ASSERT_TRUE(ipam_->releaseHandle(id).ok());
  EXPECT_TRUE(ipam_->addressesOf(id)->empty());
}

TEST_F(AllocateTest, BadRequestsAreInvalidArgument) {
  addPool("p", "10.0.0.0/28", 30);
  EXPECT_EQ(assign("", "h").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(assign("n1", "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(assign("n1", "h", false, false).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AllocateTest, MaxBlocksPerHostHoldsWhenAnotherAllocatorClaimsBetweenCountAndClaim) {
  addPool("p", "10.0.0.0/28", 30);
  addNode("n1");
  setConfig(/*strict=*/true, 1);
  // Allocator A counts n1's blocks (none), then, before its claim, allocator B of the same
  // node claims n1's one allowed block. A must not claim a second one: it uses B's.
  Ipam b(*store_);
  bool raced = false;
  Ipam a(*store_, {.before_claim = [&](const std::string& node) {
    if (raced) return;
    raced = true;
    ASSERT_TRUE(b.autoAssign({.handle_id = "b", .node = node}).ok());
  }});
  auto r = a.autoAssign({.handle_id = "a", .node = "n1"});
  ASSERT_TRUE(raced);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ipv4->address.toString(), "10.0.0.1");  // in B's block
  EXPECT_EQ(store_->list<model::IPAMBlock>()->size(), 1u) << "maxBlocksPerHost 1 exceeded";
  EXPECT_EQ(ipam_->nodeBlocks("n1")->size(), 1u);
  EXPECT_EQ(store_->list<model::BlockAffinity>()->size(), 1u);  // A's pending one is gone
}

TEST_F(AllocateTest, MaxBlocksPerHostHoldsWhenThreadsOfOneNodeRace) {
  addPool("p", "10.0.0.0/22", 30);  // 256 blocks of four
  setConfig(/*strict=*/true, 1);
  // 16 nodes, 8 threads each, all at once. Each thread has its own Ipam (no shared block
  // cache), as separate processes would: a node's threads all count "no block yet" and
  // claim (the test above makes that interleaving deterministic).
  constexpr int kNodes = 16, kThreads = 8;
  for (int n = 0; n < kNodes; ++n) addNode("n" + std::to_string(n));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int n = 0; n < kNodes; ++n) {
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, n, t] {
        Ipam own(*store_);
        AssignRequest req{.handle_id = fmt::format("h{}-{}", n, t),
                          .node = "n" + std::to_string(n)};
        if (own.autoAssign(req).ok()) ++ok;
      });
    }
  }
  for (auto& th : threads) th.join();
  std::map<std::string, int> per_node;
  auto blocks = store_->list<model::IPAMBlock>();
  ASSERT_TRUE(blocks.ok()) << blocks.status();
  for (const auto& b : *blocks) per_node[b.spec.affinity]++;
  for (const auto& [owner, count] : per_node) {
    EXPECT_EQ(count, 1) << owner << ": maxBlocksPerHost 1 exceeded";
  }
  // A thread that finds its node at the limit while the winner's block is not created yet
  // fails (strict: no borrowing) rather than claim a second block: at most 4 per node.
  EXPECT_GE(ok.load(), kNodes);
  EXPECT_LE(ok.load(), kNodes * 4);
}

TEST_F(AllocateTest, PoolEdgesAndReservedAddressesAreNeverHandedOut) {
  addPool("p", "10.9.0.0/29", 30);  // blocks 10.9.0.0/30 and 10.9.0.4/30
  addNode("n1");
  setConfig(/*strict=*/true, 0);
  AssignRequest req{.node = "n1",
                    .reserved = {prefix("10.9.0.1/32"), prefix("10.9.0.4/31")},
                    .skip_pool_edges = true};
  std::vector<std::string> got;
  for (int i = 0; i < 8; ++i) {
    req.handle_id = "h" + std::to_string(i);
    auto r = ipam_->autoAssign(req);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
      break;
    }
    got.push_back(r->ipv4->address.toString());
  }
  // Not .0 (network), .1 (gateway), .4/.5 (excluded), .7 (broadcast).
  EXPECT_EQ(got, (std::vector<std::string>{"10.9.0.2", "10.9.0.3", "10.9.0.6"}));
  // Without the request's reservations the same pool hands out .0 (Coral's own /32 pods).
  EXPECT_EQ(assign4("n1", "plain"), "10.9.0.0");
}

TEST_F(AllocateTest, IPv6SkipsTheSubnetRouterAnycastAddress) {
  addPool("p6", "fd00:9::/120", 122);
  addNode("n1");
  AssignRequest req{
      .handle_id = "h", .node = "n1", .ipv4 = false, .ipv6 = true, .skip_pool_edges = true};
  auto r = ipam_->autoAssign(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->ipv6->address.toString(), "fd00:9::1");
}

}  // namespace
}  // namespace coral::ipam::testing
