// Network namespaces for tests: each TestNetns is created with a unique name (so parallel
// tests and leftovers from a crashed run never clash) and deleted when the object goes,
// on every path. Commands run inside with `ip netns exec`. Nothing here touches the
// machine's own namespace.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace coral::testing {

inline bool isRoot() { return ::geteuid() == 0; }

// Fails the current test loudly when not root: kernel tests never pass silently.
#define CORAL_REQUIRE_ROOT()                                                             \
  do {                                                                                   \
    if (!::coral::testing::isRoot()) {                                                   \
      FAIL() << "this test needs root (network namespaces, veth, routes): run ctest as " \
                "root, e.g. sudo ctest -L integration";                                  \
    }                                                                                    \
  } while (0)

struct ExecResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs a shell command, capturing its output.
inline ExecResult shell(const std::string& command) {
  ExecResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class TestNetns {
 public:
  // Creates "ct<pid>-<tag>" (kept short: veth names derived from it stay < 16 chars).
  explicit TestNetns(const std::string& tag)
      : name_("ct" + std::to_string(::getpid()) + "-" + tag) {
    shell("ip netns del " + name_);
    created_ = shell("ip netns add " + name_).exit_code == 0;
    if (created_) exec("ip link set lo up");
  }
  ~TestNetns() {
    if (created_) shell("ip netns del " + name_);
  }
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;

  bool ok() const { return created_; }
  const std::string& name() const { return name_; }
  std::string path() const { return "/var/run/netns/" + name_; }
  ExecResult exec(const std::string& command) const {
    return shell("ip netns exec " + name_ + " sh -c '" + command + "'");
  }

 private:
  std::string name_;
  bool created_ = false;
};

// Joins two namespaces with a veth pair: `a_if` in a, `b_if` in b.
inline bool linkNamespaces(const TestNetns& a, const std::string& a_if, const TestNetns& b,
                           const std::string& b_if) {
  return shell("ip link add " + a_if + " netns " + a.name() + " type veth peer name " + b_if +
               " netns " + b.name())
                 .exit_code == 0 &&
         a.exec("ip link set " + a_if + " up").exit_code == 0 &&
         b.exec("ip link set " + b_if + " up").exit_code == 0;
}

// Two node namespaces on one underlay, as the agent tests use it: a veth u1 (in a) - u2
// (in b) with 10.99.0.1/24 + fd00:99::1/64 and 10.99.0.2/24 + fd00:99::2/64.
inline bool linkUnderlay(const TestNetns& a, const TestNetns& b) {
  return linkNamespaces(a, "u1", b, "u2") &&
         a.exec("ip addr add 10.99.0.1/24 dev u1 && ip addr add fd00:99::1/64 dev u1 nodad")
                 .exit_code == 0 &&
         b.exec("ip addr add 10.99.0.2/24 dev u2 && ip addr add fd00:99::2/64 dev u2 nodad")
                 .exit_code == 0;
}

}  // namespace coral::testing
