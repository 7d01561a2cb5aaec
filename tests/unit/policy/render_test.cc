// Renderer golden files: the full nftables table and an incremental update for the
// render_fixture.h world on node n1, and the iptables-restore form. See render_fixture.h
// for how to regenerate the golden files.
#include <gtest/gtest.h>

#include "policy/compiler.h"
#include "policy/iptables.h"
#include "policy/nftables.h"
#include "tests/unit/policy/render_fixture.h"

namespace coral::policy {
namespace {

struct Rendered {
  Snapshot snapshot;
  Program program;
  MemberMap members;
};

Rendered build(const std::string& extra_yaml = "") {
  Rendered r{testing::makeWorld(), {}, {}};
  testing::applyYaml(r.snapshot, testing::kRenderPolicies);
  if (!extra_yaml.empty()) testing::applyYaml(r.snapshot, extra_yaml);
  r.program = compile(r.snapshot, "n1");
  r.members = computeMembers(r.program, r.snapshot);
  return r;
}

TEST(NftablesRender, FullTable) {
  Rendered r = build();
  testing::expectGolden("n1_full.nft", renderNftables(r.program, r.members));
}

TEST(NftablesRender, UpdateForNewPodAndChangedPolicy) {
  Rendered before = build();
  Rendered after = build(R"(
apiVersion: coral.network/v1
kind: NetworkPolicy
metadata: {name: b-rules, namespace: x}
spec:
  order: 10
  selector: pod == 'b'
  ingress:
  - action: Deny
    protocol: UDP
)");
  Endpoint d;
  d.namespace_ = "y";
  d.name = "d";
  d.node = "n1";
  d.interface_name = "coryd";
  d.labels = {{"pod", "d"}, {"tier", "back"}};
  d.addresses = {*common::IpAddress::parse("10.2.0.4")};
  d.ports = {{"http", kProtoTcp, 8080}};
  after.snapshot.addEndpoint(d);
  after.snapshot.removePolicy("gnp:deny-z-to-c");
  after.program = compile(after.snapshot, "n1");
  after.members = computeMembers(after.program, after.snapshot);
  testing::expectGolden("n1_update.nft", renderNftablesUpdate(before.program, before.members,
                                                              after.program, after.members));
}

TEST(IptablesRender, RestoreInput) {
  Rendered r = build();
  testing::expectGolden("n1.iptables",
                        renderIptablesRestore(r.program, r.members, common::Family::kV4));
}

TEST(NftablesRender, UpdateIsEmptyWhenNothingChanged) {
  Rendered r = build();
  EXPECT_EQ(renderNftablesUpdate(r.program, r.members, r.program, r.members), "");
}

TEST(NftablesRender, MemberChangeTouchesOnlySetElements) {
  Rendered before = build();
  Rendered after = build();
  Endpoint e;
  e.namespace_ = "z";
  e.name = "e";
  e.node = "n2";  // a pod on another node: only set members change on n1
  e.labels = {{"pod", "c"}, {"tier", "back"}};
  e.addresses = {*common::IpAddress::parse("10.3.0.9")};
  after.snapshot.addEndpoint(e);
  after.members = computeMembers(after.program, after.snapshot);
  const std::string update =
      renderNftablesUpdate(before.program, before.members, after.program, after.members);
  EXPECT_NE(update.find("add element inet coral sel4-"), std::string::npos) << update;
  for (const auto& line : split(update, '\n', true)) {
    EXPECT_EQ(line.rfind("add element inet coral ", 0), 0u) << line;
  }
}

}  // namespace
}  // namespace coral::policy
