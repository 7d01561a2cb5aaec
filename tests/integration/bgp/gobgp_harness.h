// Test harness for interop with GoBGP: gobgpd started by pid in a network namespace
// (foreground, TOML config, gRPC API on 127.0.0.1:kGoBgpApiPort inside that namespace,
// killed in every path) and queried with `ip netns exec NS gobgp -p PORT ...`. Needs root
// and /usr/bin/gobgpd (Debian: gobgpd).
#pragma once

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/bgp/bird_harness.h"
#include "tests/support/child_process.h"
#include "tests/support/netns.h"

namespace coral::testing {

#define CORAL_REQUIRE_GOBGP()                                                               \
  do {                                                                                      \
    CORAL_REQUIRE_ROOT();                                                                   \
    if (!std::filesystem::exists("/usr/bin/gobgpd") ||                                      \
        !std::filesystem::exists("/usr/bin/gobgp")) {                                       \
      FAIL() << "/usr/bin/gobgpd or /usr/bin/gobgp is missing: install the Debian package " \
                "gobgpd";                                                                   \
    }                                                                                       \
  } while (0)

// The namespace is the test's own, so a fixed port cannot clash.
constexpr int kGoBgpApiPort = 50051;

class GoBgpd {
 public:
  GoBgpd(const TestNetns& ns, const std::string& dir, const std::string& toml)
      : ns_(ns.name()), conf_(dir + "/gobgpd.toml"), log_(dir + "/gobgpd.log") {
    writeFile(conf_, toml);
    // sh execs ip, which execs gobgpd: the pid is gobgpd's. gobgpd logs to stderr.
    proc_ = std::make_unique<ChildProcess>(std::vector<std::string>{
        "/bin/sh", "-c",
        "exec /usr/sbin/ip netns exec " + ns_ + " /usr/bin/gobgpd -f " + conf_ +
            " -t toml -p --pprof-disable --api-hosts=127.0.0.1:" + std::to_string(kGoBgpApiPort) +
            " >>" + log_ + " 2>&1"});
  }
  ~GoBgpd() { proc_.reset(); }
  GoBgpd(const GoBgpd&) = delete;
  GoBgpd& operator=(const GoBgpd&) = delete;

  ExecResult gobgp(const std::string& args) const {
    return shell("/usr/sbin/ip netns exec " + ns_ + " /usr/bin/gobgp -p " +
                 std::to_string(kGoBgpApiPort) + " " + args);
  }
  nlohmann::json gobgpJson(const std::string& args) const {
    auto j = nlohmann::json::parse(gobgp("-j " + args).output, nullptr, false);
    return j.is_discarded() ? nlohmann::json() : j;
  }
  bool established(const std::string& neighbour) const {
    const std::string out = gobgp("neighbor " + neighbour).output;
    return out.find("BGP state = ESTABLISHED") != std::string::npos ||
           out.find("BGP state = established") != std::string::npos;
  }
  // The best path for `prefix` in the global RIB ("ipv4" or "ipv6"), null when absent.
  nlohmann::json route(const std::string& family, const std::string& prefix) const {
    auto rib = gobgpJson("global rib -a " + family);
    if (!rib.is_object() || !rib.contains(prefix)) return nlohmann::json();
    for (const auto& path : rib[prefix]) {
      if (path.value("best", false)) return path;
    }
    return rib[prefix].empty() ? nlohmann::json() : rib[prefix][0];
  }
  // The attribute of `type` (RFC code) in a path from route(), null when absent.
  static nlohmann::json attribute(const nlohmann::json& path, int type) {
    if (!path.contains("attrs")) return nlohmann::json();
    for (const auto& a : path["attrs"]) {
      if (a.value("type", -1) == type) return a;
    }
    return nlohmann::json();
  }
  std::string log() const { return readFile(log_); }

 private:
  std::string ns_, conf_, log_;
  std::unique_ptr<ChildProcess> proc_;
};

}  // namespace coral::testing
