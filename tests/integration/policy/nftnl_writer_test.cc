// The netlink fast path (NftnlWriter) writes exactly what nft writes. A PolicyDataplane in
// one namespace follows a sequence of snapshots — pods added, relabelled, moved to another
// interface, removed, now and then a policy change (which goes the libnftables way) — and
// after every step its table must equal, chain by chain and rule by rule, the table that
// `renderNftables` of the same state gives when loaded with libnftables into a second,
// empty namespace. Set elements are compared as sets (hash order differs). Pods added on
// the node are staged first (policy/staging.h); the comparison follows consolidate().
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>

#include "agent/policy/iptables_dataplane.h"
#include "agent/policy/nft_applier.h"
#include "agent/policy/policy_dataplane.h"
#include "policy/compiler.h"
#include "policy/nftables.h"
#include "tests/support/netns.h"
#include "tests/unit/policy/policy_world.h"

namespace coral::policy::testing {
namespace {

using coral::testing::TestNetns;

// chain → its rules, set/map → its sorted elements; stateless JSON listing.
std::map<std::string, std::vector<std::string>> tableShape(agent::NftApplier& nft) {
  std::map<std::string, std::vector<std::string>> out;
  auto listing = nft.listTableJson(/*stateless=*/true);
  EXPECT_TRUE(listing.ok()) << listing.status();
  if (!listing.ok()) return out;
  const auto doc = nlohmann::json::parse(*listing);
  for (const auto& item : doc.at("nftables")) {
    if (item.contains("chain")) {
      out["chain " + item["chain"]["name"].get<std::string>()];
    } else if (item.contains("rule")) {
      auto rule = item["rule"];
      rule.erase("handle");
      out["chain " + rule["chain"].get<std::string>()].push_back(rule.dump());
    } else if (item.contains("set") || item.contains("map")) {
      const auto& set = item.contains("set") ? item["set"] : item["map"];
      auto& elements = out["set " + set["name"].get<std::string>()];
      auto header = set;
      header.erase("elem");
      header.erase("handle");
      elements.push_back(header.dump());
      if (set.contains("elem")) {
        std::vector<std::string> elems;
        for (const auto& e : set["elem"]) elems.push_back(e.dump());
        std::sort(elems.begin(), elems.end());
        elements.insert(elements.end(), elems.begin(), elems.end());
      }
    }
  }
  return out;
}

std::string firstDifference(const std::map<std::string, std::vector<std::string>>& got,
                            const std::map<std::string, std::vector<std::string>>& want) {
  for (const auto& [name, lines] : want) {
    auto it = got.find(name);
    if (it == got.end()) return name + " is missing";
    if (it->second != lines) {
      for (size_t i = 0; i < std::max(lines.size(), it->second.size()); ++i) {
        const std::string g = i < it->second.size() ? it->second[i] : "(none)";
        const std::string w = i < lines.size() ? lines[i] : "(none)";
        if (g != w) return fmt::format("{} line {}:\n got  {}\n want {}", name, i, g, w);
      }
    }
  }
  for (const auto& [name, lines] : got) {
    if (!want.count(name)) return name + " is stale";
  }
  return "";
}

Endpoint pod(int i, std::mt19937& rng) {
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  static const char* kApps[] = {"a", "b", "c"};
  Endpoint e;
  e.namespace_ = pick(2) ? "x" : "y";
  e.name = fmt::format("p{}", i);
  e.node = "n1";
  e.interface_name = fmt::format("cor{}{}i{}", e.namespace_, i, pick(2));
  e.labels = {{"pod", kApps[pick(3)]}};
  e.addresses = {common::IpAddress::v4(0x0a050000u + static_cast<uint32_t>(i) + 1)};
  if (pick(3) == 0)
    e.addresses.push_back(*common::IpAddress::parse(fmt::format("fd05::{:x}", i + 1)));
  if (pick(2)) e.ports.push_back({"http", kProtoTcp, static_cast<uint16_t>(80 + pick(2))});
  return e;
}

// A PolicyDataplane writing into one namespace (live_nft reads it back), and a second
// namespace where the reference table (renderNftables loaded by libnftables) goes.
class NftnlWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CORAL_REQUIRE_ROOT();
    ASSERT_TRUE(live_.ok() && reference_.ok());
    auto dp = agent::makePolicyDataplane("nftables", "n1", live_.path());
    ASSERT_TRUE(dp.ok()) << dp.status();
    dp_ = std::move(*dp);
    auto live_nft = agent::makeLibNftApplier(live_.path());
    auto ref_nft = agent::makeLibNftApplier(reference_.path());
    ASSERT_TRUE(live_nft.ok() && ref_nft.ok());
    live_nft_ = std::move(*live_nft);
    ref_nft_ = std::move(*ref_nft);
  }

  // Loads the table for `s` into the reference namespace; the first difference between
  // the live table and it ("" when equal).
  std::string differenceFromReference(const Snapshot& s) {
    const Program program = compile(s, "n1");
    const absl::Status loaded = ref_nft_->run(renderNftables(program, computeMembers(program, s)));
    EXPECT_TRUE(loaded.ok()) << loaded;
    return firstDifference(tableShape(*live_nft_), tableShape(*ref_nft_));
  }

  TestNetns live_{"nftnl-live"}, reference_{"nftnl-ref"};
  std::unique_ptr<agent::PolicyDataplane> dp_;
  std::unique_ptr<agent::NftApplier> live_nft_, ref_nft_;
};

TEST_F(NftnlWriterTest, WritesTheSameTableAsNft) {
  Snapshot s = makeWorld();
  applyYaml(
      s,
      "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a-from-b, "
      "namespace: x}\nspec:\n  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from:\n"
      "    - podSelector: {matchLabels: {pod: b}}\n    ports: [{port: http}]\n---\n"
      "apiVersion: coral.network/v1\nkind: GlobalNetworkPolicy\nmetadata: {name: g}\n"
      "spec:\n  order: 1\n  selector: pod == 'c'\n  egress:\n  - action: Deny\n    protocol: TCP\n"
      "    destination: {selector: pod == 'a', ports: [http]}\n  - action: Pass\n");
  std::mt19937 rng(7);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  int netlink_writes = 0, staged_steps = 0;
  for (int step = 0; step < 80; ++step) {
    SCOPED_TRACE(fmt::format("step {}", step));
    const int what = pick(10);
    const int i = pick(12);
    if (what < 5) {
      s.addEndpoint(pod(i, rng));
    } else if (what < 8) {
      s.removeEndpoint(fmt::format("x/p{}", i));
      s.removeEndpoint(fmt::format("y/p{}", i));
    } else if (what < 9 && step % 20 == 0) {  // a policy appears or goes: the text path
      applyYaml(s, fmt::format("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                               "metadata: {{name: deny{}, namespace: y}}\nspec:\n"
                               "  podSelector: {{matchLabels: {{pod: b}}}}\n",
                               step));
    }
    const absl::Status applied = dp_->apply(s);
    ASSERT_TRUE(applied.ok()) << applied;
    if (dp_->lastApply().netlink) ++netlink_writes;
    if (dp_->staged() > 0) {
      // Pods added on the node are staged (policy/staging.h): their interfaces sit in the
      // staging sets, and consolidate() must leave exactly the full table.
      ++staged_steps;
      const auto shape = tableShape(*live_nft_);
      ASSERT_EQ(shape.at("set staged-in").size(), 1 + dp_->staged());  // header + elements
      const absl::Status consolidated = dp_->consolidate();
      ASSERT_TRUE(consolidated.ok()) << consolidated;
      ASSERT_EQ(dp_->staged(), 0u);
    }
    ASSERT_EQ(differenceFromReference(s), "")
        << "after a " << (dp_->lastApply().netlink ? "netlink" : "nft") << " write";
  }
  EXPECT_GT(netlink_writes, 40);
  EXPECT_GT(staged_steps, 10);
  // A batch the kernel refuses changes nothing and names the operation that failed.
  auto writer = agent::NftnlWriter::open(live_.path());
  ASSERT_TRUE(writer.ok()) << writer.status();
  Program after = compile(s, "n1");
  Endpoint extra = pod(99, rng);
  extra.namespace_ = "x";
  Snapshot with_extra = s;
  with_extra.addEndpoint(extra);
  after = compile(with_extra, "n1");
  after.sets["sel4-bogus"] =
      SetDef{"sel4-bogus", SetKind::kEndpoints, common::Family::kV4, Selector::all(), "", {}};
  ProgramChange bad;
  bad.endpoints_added = {extra.id()};
  bad.elements_added["sel4-bogus"].addresses = {common::IpAddress::v4(0x0a0909ff)};
  ASSERT_TRUE(agent::NftnlWriter::handles(after, bad));
  const auto before = tableShape(*live_nft_);
  absl::Status status = (*writer)->write(after, bad);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.ToString().find("set sel4-bogus"), std::string::npos) << status;
  EXPECT_EQ(firstDifference(tableShape(*live_nft_), before), "")
      << "a refused batch changed the table";
  // The refusal's answers must not be taken for the next batch's.
  ProgramChange good;
  good.endpoints_added = {extra.id()};
  after.sets.erase("sel4-bogus");
  status = (*writer)->write(after, good);
  EXPECT_TRUE(status.ok()) << status;
}

// Consolidating many staged pods is one batch of thousands of rule messages. With an
// acknowledgement per message, the answers overran the socket's receive buffer: the kernel
// dropped some (ENOBUFS) and the writer waited 5 s for acks that never came, holding up
// the CNI ADD behind it. Now it completes, and the table is the full one.
TEST_F(NftnlWriterTest, ConsolidatesManyStagedPodsInOneBatch) {
  Snapshot s = makeWorld();
  applyYaml(s,
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: a-from-b, "
            "namespace: x}\nspec:\n  podSelector: {matchLabels: {pod: a}}\n  ingress:\n  - from:\n"
            "    - podSelector: {matchLabels: {pod: b}}\n    ports: [{port: http}]\n");
  ASSERT_TRUE(dp_->apply(s).ok());
  std::mt19937 rng(11);
  for (int i = 0; i < 60; ++i) {
    s.addEndpoint(pod(i, rng));
    const absl::Status applied = dp_->apply(s);
    ASSERT_TRUE(applied.ok()) << "pod " << i << ": " << applied;
  }
  ASSERT_GT(dp_->staged(), 50u);
  const absl::Status consolidated = dp_->consolidate();
  ASSERT_TRUE(consolidated.ok()) << consolidated;
  EXPECT_TRUE(dp_->lastApply().netlink);
  EXPECT_EQ(dp_->staged(), 0u);
  EXPECT_EQ(differenceFromReference(s), "");
}

}  // namespace
}  // namespace coral::policy::testing
