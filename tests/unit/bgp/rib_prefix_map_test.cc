// PrefixMap: the dense table with its probing index against std::map under random inserts
// and erases (growth, backward-shift deletion, the last entry moving into a hole), both
// families, draining with pop.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "bgp/rib/prefix_map.h"
#include "tests/unit/bgp/rib_test_util.h"

namespace coral::bgp {
namespace {

using namespace testing;

common::Prefix randomPrefix(std::mt19937& rng) {
  // A small space so inserts and erases collide often.
  const uint32_t n = rng() % 5000;
  if (n % 7 == 0) {
    std::array<uint8_t, 16> b{};
    b[0] = 0xfd;
    b[5] = static_cast<uint8_t>(n >> 8);
    b[6] = static_cast<uint8_t>(n);
    return *common::Prefix::make(common::IpAddress::v6(b), 64);
  }
  return *common::Prefix::make(common::IpAddress::v4(0x0a000000 + (n << 8)), 16 + n % 9);
}

TEST(PrefixMap, MatchesStdMapUnderRandomInsertsAndErases) {
  std::mt19937 rng(7);
  PrefixMap<uint64_t> map;
  std::map<common::Prefix, uint64_t> model;
  for (int step = 0; step < 200000; ++step) {
    const common::Prefix p = randomPrefix(rng);
    if (rng() % 3 == 0) {
      EXPECT_EQ(map.erase(p), model.erase(p) == 1);
    } else {
      auto [value, inserted] = map.tryEmplace(p);
      EXPECT_EQ(inserted, !model.count(p));
      *value = step;
      model[p] = step;
    }
    if (step % 20000 == 0) {
      ASSERT_EQ(map.size(), model.size());
      for (const auto& [prefix, v] : model) {
        const uint64_t* got = map.find(prefix);
        ASSERT_NE(got, nullptr) << prefix.toString();
        EXPECT_EQ(*got, v);
      }
    }
  }
  size_t seen = 0;
  map.forEach([&](const common::Prefix& p, const uint64_t& v) {
    ++seen;
    EXPECT_EQ(model.at(p), v);
  });
  EXPECT_EQ(seen, model.size());
  common::Prefix p;
  uint64_t v = 0;
  while (map.pop(p, v)) {
    EXPECT_EQ(model.at(p), v);
    model.erase(p);
  }
  EXPECT_TRUE(model.empty());
  EXPECT_EQ(map.size(), 0u);
  EXPECT_EQ(map.find(pfx("10.0.0.0/24")), nullptr);
}

TEST(PrefixMap, AMillionIpv4Prefixes) {
  PrefixMap<uint32_t> map;
  for (uint32_t i = 0; i < 1000000; ++i) {
    *map.tryEmplace(*common::Prefix::make(common::IpAddress::v4((16u << 24) + (i << 8)), 24))
         .first = i;
  }
  EXPECT_EQ(map.size(), 1000000u);
  for (uint32_t i = 0; i < 1000000; i += 997) {
    const auto p = *common::Prefix::make(common::IpAddress::v4((16u << 24) + (i << 8)), 24);
    ASSERT_NE(map.find(p), nullptr);
    EXPECT_EQ(*map.find(p), i);
    // Same address, other length: absent.
    EXPECT_EQ(map.find(*common::Prefix::make(p.address(), 25)), nullptr);
  }
}

TEST(PrefixMap, ResetEmptiesAndTheMapStaysUsable) {
  PrefixMap<uint32_t> map;
  for (int round = 0; round < 3; ++round) {
    const uint32_t n = round == 1 ? 20000 : 100;  // a large round frees its index
    for (uint32_t i = 0; i < n; ++i) {
      *map.tryEmplace(*common::Prefix::make(common::IpAddress::v4(0x0a000000 + (i << 8)), 24))
           .first = i;
    }
    *map.tryEmplace(pfx("fd00:1::/64")).first = 7;
    EXPECT_EQ(map.size(), n + 1);
    EXPECT_EQ(*map.find(pfx("10.0.0.0/24")), 0u);
    map.reset();
    EXPECT_EQ(map.size(), 0u);
    EXPECT_EQ(map.find(pfx("10.0.0.0/24")), nullptr);
    EXPECT_EQ(map.find(pfx("fd00:1::/64")), nullptr);
  }
}

}  // namespace
}  // namespace coral::bgp
