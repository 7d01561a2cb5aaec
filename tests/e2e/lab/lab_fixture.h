// LabFixture: what every `coralctl lab` e2e test needs - a lab of its own name under a
// temporary CORAL_LAB_DIR, the real coralctl, `lab down` on every path, and the names and
// paths the lab makes (namespaces, BIRD sockets, pod addresses).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/strings.h"
#include "tests/support/child_process.h"
#include "tests/support/corald_process.h"
#include "tests/support/netns.h"

namespace coral::testing {

class LabFixture : public ::testing::Test {
 protected:
  // `prefix` tells the tests' labs apart when several run at once: "<prefix><pid>".
  explicit LabFixture(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    CORAL_REQUIRE_ROOT();
    name_ = prefix_ + std::to_string(::getpid() % 100000);
    ::setenv("CORAL_LAB_DIR", dir_.path().c_str(), 1);
  }
  void TearDown() override {
    if (isRoot()) lab("down");  // also kills a frozen etcd (SIGKILL works on stopped ones)
  }

  std::string coralctl() const { return (buildDir() / "ctl" / "coralctl").string(); }
  ExecResult lab(const std::string& args) {
    return shell(coralctl() + " lab --name " + name_ + " " + args);
  }
  std::string labDir() const { return dir_.path() + "/" + name_; }
  // The lab's namespace for `what` ("dc1-n1", "dc1-r", "p-<ns>-<pod>"); "" is the prefix.
  std::string netns(const std::string& what) const { return "coral-" + name_ + "-" + what; }
  std::string birdSocket(const std::string& router) const {
    return labDir() + "/run/" + router + ".bird.ctl";
  }
  // "birdc -s <socket> " for a router, to append a command to.
  std::string bird(const std::string& router) const {
    return "birdc -s " + birdSocket(router) + " ";
  }
  size_t leftoverNamespaces() const {
    auto list = shell("ip netns list").output;
    size_t n = 0;
    for (size_t pos = 0; (pos = list.find(netns(""), pos)) != std::string::npos; ++pos) ++n;
    return n;
  }
  // A pod's IPv4 address on eth0.
  std::string podAddress(const std::string& pod, const std::string& ns = "default") const {
    return std::string(trim(shell("ip netns exec " + netns("p-" + ns + "-" + pod) +
                                  " ip -4 -o addr show dev eth0 | awk '{print $4}' | cut -d/ -f1")
                                .output));
  }

  // `lab matrix` (or `args`, e.g. "matrix --ipv6") until no pair is blocked, ~10 s at most:
  // routes take a moment to spread after pods are added.
  ExecResult matrixUntilConnected(const std::string& args = "matrix") {
    ExecResult matrix;
    for (int attempt = 0; attempt < 20; ++attempt) {
      matrix = lab(args);
      if (matrix.exit_code == 0 && matrix.output.find("BLOCKED") == std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return matrix;
  }
  // The /26 block of an IPv4 address (the lab pools' block size).
  static std::string blockOf(const std::string& address) {
    const size_t dot = address.rfind('.');
    const int last = std::stoi(address.substr(dot + 1));
    return address.substr(0, dot + 1) + std::to_string(last & ~63) + "/26";
  }
  // Pids (space separated) of processes whose command line mentions this lab's directory
  // and one of `programs`.
  std::string labProcesses(const std::vector<std::string>& programs = {"bird", "etcd", "corald",
                                                                       "coral-bgpd"}) const {
    std::string found;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string pid = entry.path().filename();
      if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream in(entry.path() / "cmdline");
      const std::string cmdline((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
      if (cmdline.find(dir_.path()) == std::string::npos) continue;
      if (std::any_of(programs.begin(), programs.end(),
                      [&](const std::string& p) { return cmdline.find(p) != std::string::npos; })) {
        found += pid + " ";
      }
    }
    return found;
  }
  // `lab up` with `up_args`, pods a on dc1-n1, b on dc1-n2 and c on dc2-n1, and a matrix in
  // which every pair connects. Call through ASSERT_NO_FATAL_FAILURE.
  void upWithThreePods(const std::string& up_args) {
    auto up = lab("up " + up_args);
    ASSERT_EQ(up.exit_code, 0) << up.output;
    for (const char* pod : {"a --node dc1-n1", "b --node dc1-n2", "c --node dc2-n1"}) {
      auto added = lab(std::string("pod add ") + pod);
      ASSERT_EQ(added.exit_code, 0) << added.output;
    }
    const ExecResult matrix = matrixUntilConnected();
    ASSERT_EQ(matrix.exit_code, 0) << matrix.output;
    EXPECT_EQ(matrix.output.find("BLOCKED"), std::string::npos) << matrix.output;
  }
  // `coralctl node status` of a node's corald (its status socket in the lab's run dir).
  std::string nodeStatus(const std::string& node) const {
    return shell(coralctl() + " node status --socket " + labDir() + "/run/" + node + ".sock")
        .output;
  }
  // Whether a line of `text` holds `words` one after the other, however they are spaced
  // (tables size their columns to what they hold).
  static bool hasRow(const std::string& text, const std::vector<std::string>& words) {
    for (std::string_view line : split(text, '\n', true)) {
      const auto fields = split(trim(line), ' ', true);
      for (size_t i = 0; i + words.size() <= fields.size(); ++i) {
        if (std::equal(words.begin(), words.end(), fields.begin() + static_cast<long>(i))) {
          return true;
        }
      }
    }
    return false;
  }

  TempDir dir_;
  std::string name_;

 private:
  std::string prefix_;
};

}  // namespace coral::testing
