// coralctl ipam show / check / release / gc through the real binary on the file store:
// output, exit codes (check: 0 consistent, 1 findings, 2 error), no log lines on stderr.
#include <gtest/gtest.h>

#include <fstream>

#include "model/codec.h"
#include "tests/support/coralctl_cases.h"
#include "tests/unit/ipam/ipam_test_util.h"

namespace coral::ipam::testing {
namespace {

class CoralctlIpamTest : public IpamTest {
 protected:
  coral::testing::CommandResult run(const std::string& args) {
    const char* build = std::getenv("CORAL_BUILD_DIR");
    const std::string coralctl = std::string(build ? build : ".") + "/ctl/coralctl";
    const std::string out = dir_.path() + "/stdout", err = dir_.path() + "/stderr";
    const std::string cmd = coral::testing::shellQuote(coralctl) + " --datastore file://" +
                            dir_.path() + " " + args + " </dev/null >" + out + " 2>" + err;
    const int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, coral::testing::readAll(out),
            coral::testing::readAll(err)};
  }
};

TEST_F(CoralctlIpamTest, ShowCheckAndReleaseFromAReport) {
  addPool("pods", "10.0.0.0/28", 30);
  addNode("n1");
  addPod("default", "live");
  ASSERT_TRUE(assign("n1", "live", true, false, "live").ok());
  ASSERT_TRUE(assign("n1", "gone", true, false, "gone").ok());

  auto show = run("ipam show --show-blocks");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("pods   10.0.0.0/28   16      2 (12.5%)   14     1        enabled"),
            std::string::npos)
      << show.out;
  EXPECT_NE(show.out.find("10.0.0.0/30   pods   n1      4      2 (50.0%)   2"), std::string::npos)
      << show.out;

  auto check = run("ipam check -o json");
  ASSERT_EQ(check.exit_code, 1) << check.err;  // findings
  auto report = model::Json::parse(check.out);
  ASSERT_EQ(report["leaks"].size(), 1u) << check.out;
  EXPECT_EQ(report["leaks"][0]["ip"], "10.0.0.1");
  EXPECT_EQ(report["leaks"][0]["handle"], "gone");
  std::ofstream(dir_.path() + "/report.json") << check.out;

  auto text = run("ipam check");
  EXPECT_NE(text.out.find("Leaked allocations (no Pod or WorkloadEndpoint) (1):\n  10.0.0.1  "
                          "handle=gone block=10.0.0.0/30 pod=default/gone node=n1"),
            std::string::npos)
      << text.out;

  auto live = run("ipam release --ip 10.0.0.0");
  EXPECT_EQ(live.exit_code, 1);
  EXPECT_EQ(live.err, "error: 10.0.0.0 belongs to a live workload; use --force to release it\n");

  auto release = run("ipam release --from-report " + dir_.path() + "/report.json");
  ASSERT_EQ(release.exit_code, 0) << release.err;
  EXPECT_EQ(release.out, "10.0.0.1 released\n");
  EXPECT_EQ(release.err, "");  // no log lines next to the output
  auto again = run("ipam release --from-report " + dir_.path() + "/report.json");
  EXPECT_EQ(again.out, "10.0.0.1 skipped: no longer leaked (released, re-used or alive)\n");
  auto clean = run("ipam check");
  EXPECT_EQ(clean.exit_code, 0);
  EXPECT_EQ(clean.out, "1 allocations in 1 blocks\nIPAM is consistent.\n");
  EXPECT_EQ(run("ipam check -o yaml").exit_code, 2);

  auto bad = run("ipam release --ip nope");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("--ip \"nope\""), std::string::npos) << bad.err;
  EXPECT_EQ(run("ipam release").exit_code, 1);
}

TEST_F(CoralctlIpamTest, GcNeverReleasesCoralIpamAllocationsOfALiveNode) {
  addPool("pods", "10.0.0.0/28", 30);
  addNode("n1");
  // What coral-ipam writes for a macvlan pod: no Pod or WorkloadEndpoint follows.
  AssignRequest req{.handle_id = "ctr1.eth0",
                    .node = "n1",
                    .attributes = {{kAttrNamespace, "default"},
                                   {kAttrPod, "macvlan-0"},
                                   {kAttrContainerId, "ctr1"},
                                   {kAttrOwner, kOwnerCoralIpam}}};
  ASSERT_TRUE(ipam_->autoAssign(req).ok());
  auto check = run("ipam check");
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_NE(check.out.find("1 of them by coral-ipam"), std::string::npos) << check.out;
  auto json = run("ipam check -o json");
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_EQ(model::Json::parse(json.out)["coralIpam"], 1) << json.out;
  // The address is in use as far as anyone can tell: gc leaves it alone.
  auto gc = run("ipam gc --grace-period 1");
  ASSERT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_EQ(gc.out, "Nothing to collect.\n");
  EXPECT_EQ(ipam_->addressesOf("ctr1.eth0")->size(), 1u);
  EXPECT_EQ(run("ipam release --ip 10.0.0.0").exit_code, 1);  // live: needs --force
  auto forced = run("ipam release --ip 10.0.0.0 --force");
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(forced.out, "10.0.0.0 released\n");
  EXPECT_EQ(forced.err, "");
  EXPECT_TRUE(ipam_->addressesOf("ctr1.eth0")->empty());
}

TEST_F(CoralctlIpamTest, GcOutputHasNoLogLinesUnlessVerbose) {
  addPool("pods", "10.0.0.0/28", 30);
  addNode("n1");
  ASSERT_TRUE(assign("n1", "gone", true, false, "gone").ok());
  auto gc = run("ipam gc --grace-period 0");
  ASSERT_EQ(gc.exit_code, 0) << gc.err;
  EXPECT_NE(gc.out.find("released 10.0.0.0 (handle gone, pod default/gone)"), std::string::npos)
      << gc.out;
  EXPECT_EQ(gc.err, "");
  ASSERT_TRUE(assign("n1", "gone2", true, false, "gone2").ok());
  auto verbose = run("ipam --verbose gc --grace-period 0");
  EXPECT_NE(verbose.err.find("level=info"), std::string::npos) << verbose.err;
  ASSERT_TRUE(assign("n1", "gone3", true, false, "gone3").ok());
  auto after = run("ipam gc --grace-period 0 --verbose");
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_NE(after.err.find("level=info"), std::string::npos) << after.err;
}

TEST_F(CoralctlIpamTest, ShowPrintsHugeIPv6CountsAsPowersOfTwo) {
  addPool("v6", "fd00:10::/48", 122);
  addNode("n1");
  ASSERT_TRUE(assign("n1", "h", false, true).ok());
  auto show = run("ipam show");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("v6     fd00:10::/48   2^80    1 (0.0%)   2^80 - 1   1        enabled"),
            std::string::npos)
      << show.out;
  EXPECT_EQ(show.out.find("18446744073709551615"), std::string::npos) << show.out;
}

}  // namespace
}  // namespace coral::ipam::testing
