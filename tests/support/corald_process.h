// CoraldProcess: a real corald (and helpers to drive coral-cni) inside a test network
// namespace. The process is started through `ip netns exec`, which execs in place, so
// the pid we hold is corald's own; it is killed by that pid when the object goes.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "tests/support/netns.h"

namespace coral::testing {

inline std::filesystem::path buildDir() {
  const char* b = std::getenv("CORAL_BUILD_DIR");
  return b ? b : ".";
}

class CoraldProcess {
 public:
  CoraldProcess(const TestNetns& ns, std::map<std::string, std::string> env, std::string log_path)
      : ns_(ns), env_(std::move(env)), log_path_(std::move(log_path)) {}
  ~CoraldProcess() { kill(SIGKILL); }

  bool start() {
    std::string cmd = "exec ip netns exec " + ns_.name() + " env";
    for (const auto& [k, v] : env_) cmd += " " + k + "=" + v;
    cmd += " " + (buildDir() / "agent" / "corald").string() + " >>" + log_path_ + " 2>&1";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid_ > 0;
  }

  // Polls /readyz inside the namespace until it answers 200 (bounded).
  bool waitReady(std::chrono::milliseconds limit = std::chrono::seconds(20)) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!alive()) return false;
      if (httpGet("/readyz").find("200 OK") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  std::string httpGet(const std::string& path) const {
    const std::string port = env_.count("CORAL_HTTP_PORT") ? env_.at("CORAL_HTTP_PORT") : "9099";
    return shell("ip netns exec " + ns_.name() + " bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + port +
                 " && printf \"GET " + path + " HTTP/1.0\\r\\n\\r\\n\" >&3 && cat <&3'")
        .output;
  }

  bool alive() const { return pid_ > 0 && ::kill(pid_, 0) == 0 && !reaped(); }

  void kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // Sends `sig` and waits up to `limit` for the exit. Returns the exit code (128 + signal
  // when a signal ended it), or nullopt when it was still running (then it is SIGKILLed).
  std::optional<int> stopWithin(int sig, std::chrono::milliseconds limit) {
    if (pid_ <= 0) return std::nullopt;
    ::kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= deadline) {
        kill(SIGKILL);
        return std::nullopt;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  bool reaped() const {
    int status = 0;
    return ::waitpid(pid_, &status, WNOHANG) == pid_;
  }
  const TestNetns& ns_;
  std::map<std::string, std::string> env_;
  std::string log_path_;
  pid_t pid_ = -1;
};

struct CniOutput {
  int exit_code = -1;
  std::string out;
};

// Runs the real coral-cni as a container runtime would.
inline CniOutput runCni(const std::string& command, const std::string& container_id,
                        const std::string& netns_path, const std::string& pod_ns,
                        const std::string& pod_name, const std::string& config_json,
                        const std::string& ifname = "eth0") {
  const std::string conf_file = "/tmp/coral-cni-conf-" + std::to_string(::getpid()) + ".json";
  std::ofstream(conf_file) << config_json;
  const std::string cmd = "CNI_COMMAND=" + command + " CNI_CONTAINERID=" + container_id +
                          " CNI_NETNS=" + netns_path + " CNI_IFNAME=" + ifname +
                          " CNI_PATH=/usr/lib/cni CNI_ARGS='K8S_POD_NAMESPACE=" + pod_ns +
                          ";K8S_POD_NAME=" + pod_name + "' " +
                          (buildDir() / "cni" / "coral-cni").string() + " <" + conf_file;
  auto r = shell(cmd);
  std::filesystem::remove(conf_file);
  return {r.exit_code, r.output};
}

}  // namespace coral::testing
