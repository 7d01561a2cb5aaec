#include "common/ip.h"

#include <gtest/gtest.h>

#include <unordered_set>

namespace coral::common {
namespace {

IpAddress ip(std::string_view s) { return IpAddress::parse(s).value(); }
Prefix pfx(std::string_view s) { return Prefix::parse(s).value(); }

TEST(IpAddressTest, ParsesAndFormatsBothFamilies) {
  EXPECT_EQ(ip("10.1.2.3").toString(), "10.1.2.3");
  EXPECT_TRUE(ip("10.1.2.3").isV4());
  EXPECT_EQ(ip("10.1.2.3").v4Value(), 0x0a010203u);
  EXPECT_EQ(ip("FD00:0::1").toString(), "fd00::1");
  EXPECT_TRUE(ip("fd00::1").isV6());
  EXPECT_EQ(ip("::").toString(), "::");
}

TEST(IpAddressTest, RejectsGarbage) {
  for (auto bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "fd00:::1", "abc", " 1.2.3.4",
                   "1.2.3.4/24", "fe80::1%eth0"}) {
    EXPECT_FALSE(IpAddress::parse(bad).ok()) << bad;
  }
  EXPECT_EQ(IpAddress::parse("300.1.1.1").status().message(), "\"300.1.1.1\" is not an IP address");
}

TEST(IpAddressTest, OrdersByFamilyThenValue) {
  EXPECT_LT(ip("9.255.255.255"), ip("10.0.0.0"));
  EXPECT_LT(ip("255.255.255.255"), ip("::"));
  std::unordered_set<IpAddress> set{ip("10.0.0.1"), ip("10.0.0.1"), ip("::1")};
  EXPECT_EQ(set.size(), 2u);
}

TEST(IpAddressTest, ArithmeticStaysInFamily) {
  EXPECT_EQ(ip("10.0.0.255").plus(1), ip("10.0.1.0"));
  EXPECT_EQ(ip("255.255.255.255").plus(1), std::nullopt);
  EXPECT_EQ(ip("fd00::ffff:ffff:ffff:ffff").plus(1), ip("fd00:0:0:1::"));
  EXPECT_EQ(ip("10.0.1.5").distanceFrom(ip("10.0.0.0")), 261u);
  EXPECT_EQ(ip("10.0.0.0").distanceFrom(ip("10.0.1.5")), std::nullopt);
  EXPECT_EQ(ip("fd00::5").distanceFrom(ip("10.0.0.0")), std::nullopt);
  EXPECT_EQ(ip("fd01::").distanceFrom(ip("fd00::")), std::nullopt);  // > 2^64
}

TEST(IpAddressTest, FromBytesRoundTrips) {
  auto a = ip("fd00::1:2");
  EXPECT_EQ(IpAddress::fromBytes(a.bytes()).value(), a);
  uint8_t three[3] = {1, 2, 3};
  EXPECT_FALSE(IpAddress::fromBytes(three).ok());
}

TEST(IpAddressTest, LinkLocal) {
  EXPECT_TRUE(ip("169.254.1.1").isLinkLocal());
  EXPECT_TRUE(ip("fe80::1").isLinkLocal());
  EXPECT_FALSE(ip("fd00::1").isLinkLocal());
}

TEST(PrefixTest, ParsesStrictlyAndLoosely) {
  EXPECT_EQ(pfx("10.0.0.0/24").toString(), "10.0.0.0/24");
  EXPECT_EQ(pfx("10.0.0.7").toString(), "10.0.0.7/32");
  EXPECT_EQ(pfx("fd00::/48").toString(), "fd00::/48");
  auto strict = Prefix::parse("10.0.0.1/24");
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("did you mean \"10.0.0.0/24\""), std::string::npos);
  EXPECT_EQ(Prefix::parseLoose("10.0.0.1/24").value(), pfx("10.0.0.0/24"));
  EXPECT_EQ(Prefix::parse("10.0.0.0/33").status().message(),
            "\"10.0.0.0/33\": prefix length 33 out of range (0-32)");
  for (auto bad : {"10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/abc", "/8", "fd00::/129"}) {
    EXPECT_FALSE(Prefix::parse(bad).ok()) << bad;
  }
}

TEST(PrefixTest, ContainsAndOverlaps) {
  EXPECT_TRUE(pfx("10.0.0.0/8").contains(ip("10.255.0.1")));
  EXPECT_FALSE(pfx("10.0.0.0/8").contains(ip("11.0.0.0")));
  EXPECT_FALSE(pfx("0.0.0.0/0").contains(ip("::1")));
  EXPECT_TRUE(pfx("10.0.0.0/8").contains(pfx("10.1.0.0/16")));
  EXPECT_FALSE(pfx("10.1.0.0/16").contains(pfx("10.0.0.0/8")));
  EXPECT_TRUE(pfx("10.1.0.0/16").overlaps(pfx("10.0.0.0/8")));
  EXPECT_FALSE(pfx("10.1.0.0/16").overlaps(pfx("10.2.0.0/16")));
  EXPECT_FALSE(pfx("::/0").overlaps(pfx("10.0.0.0/8")));
}

TEST(PrefixTest, IteratesAddressesAndSubPrefixes) {
  auto p = pfx("10.0.0.0/30");
  EXPECT_EQ(p.numAddresses(), 4u);
  EXPECT_EQ(p.addressAt(3), ip("10.0.0.3"));
  EXPECT_EQ(p.addressAt(4), std::nullopt);
  EXPECT_EQ(p.indexOf(ip("10.0.0.2")), 2u);
  EXPECT_EQ(p.indexOf(ip("10.0.0.4")), std::nullopt);
  EXPECT_EQ(p.lastAddress(), ip("10.0.0.3"));

  auto pool = pfx("10.0.0.0/16");
  EXPECT_EQ(pool.numSubPrefixes(26), 1024u);
  EXPECT_EQ(pool.subPrefixAt(26, 0), pfx("10.0.0.0/26"));
  EXPECT_EQ(pool.subPrefixAt(26, 5), pfx("10.0.1.64/26"));
  EXPECT_EQ(pool.subPrefixAt(26, 1023), pfx("10.0.255.192/26"));
  EXPECT_EQ(pool.subPrefixAt(26, 1024), std::nullopt);
  EXPECT_EQ(pool.numSubPrefixes(8), 0u);

  auto v6 = pfx("fd00::/48");
  EXPECT_EQ(v6.numAddresses(), UINT64_MAX);
  EXPECT_EQ(v6.numSubPrefixes(122), UINT64_MAX);
  EXPECT_EQ(v6.subPrefixAt(122, 1), pfx("fd00::40/122"));
  EXPECT_EQ(v6.subPrefixAt(64, 3), pfx("fd00:0:0:3::/64"));
  EXPECT_EQ(pfx("::/0").subPrefixAt(1, 1), pfx("8000::/1"));
  EXPECT_EQ(pfx("fd00::/120").lastAddress(), ip("fd00::ff"));
  EXPECT_EQ(pfx("0.0.0.0/0").lastAddress(), ip("255.255.255.255"));
}

}  // namespace
}  // namespace coral::common
