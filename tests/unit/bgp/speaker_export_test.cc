// Export rules: who gets a path (iBGP split horizon, route reflection, NO_EXPORT) and the
// attribute rewrites towards eBGP and iBGP peers.
#include <gtest/gtest.h>

#include "bgp/speaker/export.h"
#include "tests/unit/bgp/rib_test_util.h"

namespace coral::bgp {
namespace {

using namespace testing;

const LocalIdentity kMe{65000, 0x0a000063, 0x0a000063};  // router id / cluster 10.0.0.99

ExportTarget target(uint32_t id, bool ebgp, bool client = false) {
  ExportTarget t;
  t.source_id = id;
  t.ebgp = ebgp;
  t.rr_client = client;
  t.self_v4 = ip("192.0.2.99");
  t.self_v6 = ip("fd00::99");
  t.ipv6 = true;
  return t;
}

PathSourcePtr ibgp(uint32_t id, const char* addr, bool client) {
  auto s = std::const_pointer_cast<PathSource>(peer(id, addr, 65000, false));
  s->rr_client = client;
  return s;
}

TEST(Export, WhoGetsWhat) {
  auto from_client = path(ibgp(1, "10.0.0.1", true), attrs({65001}));
  auto from_nonclient = path(ibgp(2, "10.0.0.2", false), attrs({65001}));
  auto from_ebgp = path(peer(3, "10.0.0.3", 65003, true), attrs({65003}));
  auto local = path(localSource(), attrs({}));
  // Never back to the source.
  EXPECT_FALSE(mayExport(from_client, target(1, false, true)));
  // Client routes go to everyone.
  EXPECT_TRUE(mayExport(from_client, target(4, false, true)));
  EXPECT_TRUE(mayExport(from_client, target(4, false, false)));
  // Non-client routes only to clients.
  EXPECT_TRUE(mayExport(from_nonclient, target(4, false, true)));
  EXPECT_FALSE(mayExport(from_nonclient, target(4, false, false)));
  EXPECT_TRUE(mayExport(from_nonclient, target(4, true)));
  EXPECT_TRUE(mayExport(from_ebgp, target(4, false)));
  EXPECT_TRUE(mayExport(local, target(4, false)));
  auto no_export = attrs({65003});
  no_export.communities = {kNoExport};
  EXPECT_FALSE(mayExport(path(peer(3, "10.0.0.3", 65003, true), no_export), target(4, true)));
  EXPECT_TRUE(mayExport(path(peer(3, "10.0.0.3", 65003, true), no_export), target(4, false)));
}

TEST(Export, EbgpRewrites) {
  auto a = attrs({65001}, "10.9.9.9");
  a.local_pref = 200;
  a.med = 10;
  a.originator_id = ip("10.0.0.7");
  a.cluster_list = {1};
  auto got = exportAttributes(path(ibgp(1, "10.0.0.1", true), a), pfx("10.1.0.0/24"),
                              target(4, true), kMe);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->as_path->toString(), "65000 65001");
  EXPECT_EQ(got->next_hop, ip("192.0.2.99"));
  EXPECT_FALSE(got->local_pref);
  EXPECT_FALSE(got->med);
  EXPECT_FALSE(got->originator_id);
  EXPECT_TRUE(got->cluster_list.empty());
  auto keep = target(4, true);
  keep.next_hop_mode = NextHopMode::kKeep;
  got = exportAttributes(path(ibgp(1, "10.0.0.1", true), a), pfx("10.1.0.0/24"), keep, kMe);
  EXPECT_EQ(got->next_hop, ip("10.9.9.9"));
  // IPv6 prefixes carry the next hop in MP_REACH.
  got = exportAttributes(path(localSource(), attrs({})), pfx("fd00:1::/64"), target(4, true), kMe);
  EXPECT_EQ(got->mp_next_hop, ip("fd00::99"));
  EXPECT_FALSE(got->next_hop);
  // No next hop of the family: not exported.
  auto v4only = target(4, true);
  v4only.self_v6.reset();
  EXPECT_FALSE(exportAttributes(path(localSource(), attrs({})), pfx("fd00:1::/64"), v4only, kMe));
}

TEST(Export, IbgpAndReflection) {
  auto a = attrs({65001}, "10.9.9.9");
  // eBGP-learned to iBGP: next hop kept, LOCAL_PREF defaulted, no reflection attributes.
  auto got = exportAttributes(path(peer(3, "10.0.0.3", 65001, true), a), pfx("10.1.0.0/24"),
                              target(4, false), kMe);
  EXPECT_EQ(got->next_hop, ip("10.9.9.9"));
  EXPECT_EQ(got->local_pref, 100u);
  EXPECT_EQ(got->as_path->toString(), "65001");
  EXPECT_FALSE(got->originator_id);
  auto self = target(4, false);
  self.next_hop_mode = NextHopMode::kSelf;
  EXPECT_EQ(
      exportAttributes(path(peer(3, "10.0.0.3", 65001, true), a), pfx("10.1.0.0/24"), self, kMe)
          ->next_hop,
      ip("192.0.2.99"));
  // Reflected: ORIGINATOR_ID is the source's router id, our cluster id goes first.
  a.cluster_list = {7};
  got = exportAttributes(path(ibgp(1, "10.0.0.1", true), a), pfx("10.1.0.0/24"),
                         target(4, false, true), kMe);
  EXPECT_EQ(got->originator_id, ip("10.0.0.1"));
  EXPECT_EQ(got->cluster_list, (std::vector<uint32_t>{0x0a000063, 7}));
  EXPECT_EQ(got->next_hop, ip("10.9.9.9"));
}

}  // namespace
}  // namespace coral::bgp
