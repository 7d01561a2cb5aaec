// IPPool bad input: overlapping pools, block size larger than the pool, invalid CIDR —
// rejected with errors that name the pool and the reason.
#include <gtest/gtest.h>

#include "ipam/pools.h"
#include "model/yaml.h"
#include "tests/unit/ipam/ipam_test_util.h"

namespace coral::ipam::testing {
namespace {

using PoolsTest = IpamTest;

model::Resource poolResource(const std::string& name, const std::string& cidr,
                             std::optional<int> block_size = std::nullopt) {
  model::IPPool p;
  p.metadata.name = name;
  p.spec.cidr = cidr;
  p.spec.block_size = block_size;
  return model::toResource(p);
}

TEST_F(PoolsTest, OverlappingPoolsAreRejectedOnWrite) {
  ASSERT_TRUE(store_->create(poolResource("a", "10.0.0.0/16")).ok());
  auto r = store_->create(poolResource("b", "10.0.128.0/17"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "IPPool \"b\": spec.cidr 10.0.128.0/17 overlaps IPPool \"a\" (10.0.0.0/16): pools "
            "must not share addresses");
  // Updating a pool in place is not an overlap with itself; apply goes through the same rule.
  EXPECT_TRUE(store_->apply(poolResource("a", "10.0.0.0/15")).ok());
  EXPECT_FALSE(store_->apply(poolResource("c", "10.1.0.0/24")).ok());
  EXPECT_TRUE(store_->apply(poolResource("d", "10.2.0.0/16")).ok());
}

TEST_F(PoolsTest, TheAllocatorRefusesOverlappingPoolsWrittenBehindItsBack) {
  ASSERT_TRUE(store_->create(poolResource("a", "10.0.0.0/16")).ok());
  // Straight to the backend, as an old writer or a racing apply could have done.
  auto b = poolResource("b", "10.0.0.0/24");
  ASSERT_TRUE(model::normalize(b).ok());
  ASSERT_TRUE(backend_
                  ->create(datastore::resourceKey(model::kindOf<model::IPPool>(), "", "b"),
                           model::resourceToJson(b).dump())
                  .ok());
  auto r = assign("n1", "h");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("IPPool \"a\" (10.0.0.0/16) overlaps IPPool \"b\""),
            std::string::npos)
      << r.status();
}

TEST_F(PoolsTest, BlockSizeLargerThanThePoolIsRejected) {
  auto r = store_->create(poolResource("small", "10.0.0.0/28", 24));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(
                "IPPool \"small\": spec.blockSize: 24 is shorter than the pool's /28"),
            std::string::npos)
      << r.status();
  auto v6 = store_->create(poolResource("v6", "fd00::/120", 129));
  ASSERT_FALSE(v6.ok());
  EXPECT_NE(v6.status().message().find("129"), std::string::npos) << v6.status();
}

TEST_F(PoolsTest, InvalidCidrsAreRejected) {
  for (const char* cidr : {"10.0.0.0/33", "10.0.0.1/24", "banana", "fd00::/129"}) {
    auto r = store_->create(poolResource("bad", cidr));
    ASSERT_FALSE(r.ok()) << cidr;
    EXPECT_NE(r.status().message().find(std::string("IPPool \"bad\": spec.cidr \"") + cidr),
              std::string::npos)
        << r.status();
  }
}

TEST_F(PoolsTest, ParsePoolAndNodeSelection) {
  model::IPPool p;
  p.metadata.name = "p";
  p.spec.cidr = "10.0.0.0/24";
  p.spec.block_size = 26;
  p.spec.node_selector = "zone == 'x'";
  auto pool = parsePool(p);
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_EQ(pool->numBlocks(), 4u);
  EXPECT_EQ(pool->blockOf(ip("10.0.0.77")).toString(), "10.0.0.64/26");
  std::vector<Pool> pools{*pool};
  EXPECT_EQ(poolsForNode(pools, common::Family::kV4, {{"zone", "x"}}).size(), 1u);
  EXPECT_TRUE(poolsForNode(pools, common::Family::kV4, {{"zone", "y"}}).empty());
  EXPECT_TRUE(poolsForNode(pools, common::Family::kV6, {{"zone", "x"}}).empty());
}

}  // namespace
}  // namespace coral::ipam::testing
