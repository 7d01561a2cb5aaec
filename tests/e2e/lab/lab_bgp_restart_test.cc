// corald restarted (SIGKILL) in a `--bgp mesh` lab, where it installs the routes it learns
// (routeSource bgp): the routes it had learned must stay in the kernel through the
// restart, while its sessions come back and the peers resend them (graceful restart, as
// the receiving speaker). Watched with `ip monitor route` in the node's namespace.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <thread>

#include "tests/e2e/lab/lab_fixture.h"

namespace coral::testing {
namespace {

class LabBgpRestartTest : public LabFixture {
 protected:
  LabBgpRestartTest() : LabFixture("gr") {}
  void TearDown() override {
    stopMonitor();
    LabFixture::TearDown();
  }
  void stopMonitor() {
    if (monitor_pid_ > 0) ::kill(monitor_pid_, SIGTERM);
    monitor_pid_ = 0;
  }
  std::string kernelRoute(const std::string& node, const std::string& prefix) {
    return shell("ip netns exec " + netns(node) + " ip route show proto 77 " + prefix).output;
  }
  pid_t monitor_pid_ = 0;
};

TEST_F(LabBgpRestartTest, KilledCoraldKeepsTheRoutesItLearnedThroughTheRestart) {
  ASSERT_NO_FATAL_FAILURE(upWithThreePods("--bgp mesh"));
  // dc1-n1 routes dc1-n2's block over the iBGP path it learned from dc1-n2.
  const std::string block_b = blockOf(podAddress("b"));
  std::string before;
  for (int i = 0; i < 50; ++i) {
    before = kernelRoute("dc1-n1", block_b);
    if (before.find("via 10.101.0.12") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_NE(before.find("via 10.101.0.12"), std::string::npos) << block_b << ": " << before;

  const std::string monitor_log = dir_.path() + "/monitor.log";
  auto monitor = shell("ip netns exec " + netns("dc1-n1") + " ip monitor route > " + monitor_log +
                       " 2>&1 & echo $!");
  monitor_pid_ = std::stoi(std::string(trim(monitor.output)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the monitor is listening

  auto restart = lab("node restart dc1-n1 --kill");
  ASSERT_EQ(restart.exit_code, 0) << restart.output;
  EXPECT_NE(restart.output.find("ready again"), std::string::npos) << restart.output;
  std::string status;
  for (int i = 0; i < 60; ++i) {
    status = nodeStatus("dc1-n1");
    if (hasRow(status, {"10.101.0.12", "64601", "Established"}) &&
        hasRow(status, {"10.101.0.1", "65001", "Established"})) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(hasRow(status, {"10.101.0.12", "64601", "Established"})) << status;
  // corald kept the routes while its sessions came back, and let go of the stale copies
  // once they were up and quiet (not when the 120 s restart time ran out); the reconciles
  // after that must not delete them either: they were learned again.
  const std::string corald_log = labDir() + "/logs/dc1-n1.corald.log";
  std::string log;
  for (int i = 0; i < 60; ++i) {
    log = shell("cat " + corald_log).output;
    if (log.find("stale routes are no longer kept") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_NE(log.find("keeping the routes learned from BGP"), std::string::npos) << log;
  EXPECT_NE(log.find("every session up and quiet"), std::string::npos) << log;
  std::this_thread::sleep_for(std::chrono::seconds(2));
  stopMonitor();

  const std::string events = shell("cat " + monitor_log).output;
  for (std::string_view line : split(events, '\n', true)) {
    EXPECT_FALSE(line.starts_with("Deleted") && line.find("proto 77") != std::string_view::npos)
        << "a Coral route was deleted during the restart: " << line << "\nall events:\n"
        << events;
  }
  EXPECT_NE(kernelRoute("dc1-n1", block_b).find("via 10.101.0.12"), std::string::npos);
  status = nodeStatus("dc1-n1");
  EXPECT_TRUE(hasRow(status, {block_b, "remote-block", "10.101.0.12"})) << status;

  EXPECT_EQ(lab("down").exit_code, 0);
  EXPECT_EQ(leftoverNamespaces(), 0u);
  EXPECT_EQ(labProcesses(), "");
}

}  // namespace
}  // namespace coral::testing
