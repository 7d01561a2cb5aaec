// Test harness for interop with BIRD 2: namespaces joined by veths, BIRD and coral-bgpd
// started by pid inside them (foreground, killed in every path), birdc and the
// coral-bgpd status socket for queries. Needs root and /usr/sbin/bird (Debian: bird2).
#pragma once

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "tests/support/child_process.h"
#include "tests/support/netns.h"

namespace coral::testing {

#define CORAL_REQUIRE_BIRD()                                                   \
  do {                                                                         \
    CORAL_REQUIRE_ROOT();                                                      \
    if (!std::filesystem::exists("/usr/sbin/bird")) {                          \
      FAIL() << "/usr/sbin/bird is missing: install the Debian package bird2"; \
    }                                                                          \
  } while (0)

inline bool waitUntil(const std::function<bool()>& cond, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return cond();
}

inline void writeFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

inline std::string readFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline std::string bgpdPath() {
  const char* dir = std::getenv("CORAL_BUILD_DIR");
  return std::string(dir ? dir : ".") + "/bgp/coral-bgpd";
}

// BIRD in a namespace, foreground, by pid.
class Bird {
 public:
  Bird(const TestNetns& ns, const std::string& dir, const std::string& name,
       const std::string& config)
      : conf_(dir + "/" + name + ".conf"), sock_(dir + "/" + name + ".ctl") {
    writeFile(conf_, config);
    const std::string log = dir + "/" + name + ".out";
    const int fd = openOutputFile(log);
    proc_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/sbin/ip", "netns", "exec", ns.name(), "/usr/sbin/bird", "-f",
                                 "-c", conf_, "-s", sock_, "-P", dir + "/" + name + ".pid"},
        fd);
    if (fd >= 0) ::close(fd);
  }
  ~Bird() { stop(); }
  void stop() { proc_.reset(); }
  std::string birdc(const std::string& command) const {
    return shell("/usr/sbin/birdc -s " + sock_ + " " + command).output;
  }
  bool established(const std::string& protocol) const {
    return birdc("show protocols " + protocol).find("Established") != std::string::npos;
  }
  bool hasRoute(const std::string& prefix) const {
    const std::string out = birdc("show route " + prefix);
    return out.find(prefix) != std::string::npos;
  }

 private:
  std::string conf_;
  std::string sock_;
  std::unique_ptr<ChildProcess> proc_;
};

// coral-bgpd in a namespace, by pid; stderr to a log file.
class CoralBgpd {
 public:
  CoralBgpd(const TestNetns& ns, const std::string& dir, const std::string& config)
      : ns_(ns.name()),
        conf_(dir + "/bgpd.yaml"),
        sock_(dir + "/bgpd.sock"),
        log_(dir + "/bgpd.log") {
    writeFile(conf_, config);
    start();
  }
  ~CoralBgpd() { proc_.reset(); }
  void start() {
    // sh execs ip, which execs coral-bgpd: the pid is coral-bgpd's.
    proc_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/bin/sh", "-c",
                                 "exec /usr/sbin/ip netns exec " + ns_ + " " + bgpdPath() + " -c " +
                                     conf_ + " -s " + sock_ + " 2>>" + log_});
  }
  void kill(int signal) {
    proc_->kill(signal);
    proc_->wait();
    proc_.reset();
  }
  void reload(const std::string& config) {
    writeFile(conf_, config);
    proc_->kill(SIGHUP);
  }
  std::string log() const { return readFile(log_); }
  const std::string& socket() const { return sock_; }

  nlohmann::json query(const nlohmann::json& request) const {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      return nlohmann::json::object();
    }
    const std::string line = request.dump() + "\n";
    (void)!::write(fd, line.data(), line.size());
    std::string reply;
    char buf[65536];
    while (reply.empty() || reply.back() != '\n') {
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n <= 0) break;
      reply.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    auto j = nlohmann::json::parse(reply, nullptr, false);
    return j.is_discarded() ? nlohmann::json::object() : j;
  }
  nlohmann::json peers() const {
    return query({{"command", "peers"}}).value("peers", nlohmann::json::array());
  }
  nlohmann::json route(const std::string& prefix) const {
    auto routes =
        query({{"command", "routes"}, {"prefix", prefix}}).value("routes", nlohmann::json::array());
    for (const auto& r : routes) {
      if (r["prefix"] == prefix) return r;
    }
    return nlohmann::json();
  }
  bool established(size_t count = 1) const {
    auto p = peers();
    size_t n = 0;
    for (const auto& peer : p) n += peer.value("state", "") == "Established";
    return n >= count;
  }

 private:
  std::string ns_, conf_, sock_, log_;
  std::unique_ptr<ChildProcess> proc_;
};

}  // namespace coral::testing
