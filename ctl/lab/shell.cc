#include "ctl/lab/shell.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace coral::lab {
namespace {
bool g_verbose = false;
}

void setVerbose(bool verbose) { g_verbose = verbose; }

std::string shellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CommandResult run(const std::string& command) {
  if (g_verbose) std::cerr << "  $ " << command << '\n';
  CommandResult r;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

absl::Status runChecked(const std::string& command) {
  auto r = run(command);
  if (r.ok()) return absl::OkStatus();
  return absl::InternalError(fmt::format("`{}` failed ({}): {}", command, r.exit_code, r.output));
}

absl::StatusOr<int> spawnInNetns(const std::string& netns, const std::string& command,
                                 const std::string& log_path) {
  const std::string full = fmt::format("exec ip netns exec {} {} >>{} 2>&1 </dev/null", netns,
                                       command, shellQuote(log_path));
  if (g_verbose) std::cerr << "  $ " << full << " &\n";
  const pid_t pid = ::fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    ::setsid();
    // Double-forking is unnecessary: coralctl exits and init adopts the daemon.
    ::execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Give it a moment to fail fast (bad binary, bad config).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) {
    std::ifstream in(log_path);
    std::stringstream ss;
    ss << in.rdbuf();
    return absl::InternalError(
        fmt::format("`{}` in {} exited at once: {}", command, netns, ss.str()));
  }
  return static_cast<int>(pid);
}

bool processMatches(int pid, const std::string& needle) {
  if (pid <= 0) return false;
  std::ifstream in(fmt::format("/proc/{}/cmdline", pid));
  if (!in) return false;
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : cmdline) {
    if (c == '\0') c = ' ';
  }
  return cmdline.find(needle) != std::string::npos;
}

void stopProcess(int pid, int grace_ms) {
  if (pid <= 0 || ::kill(pid, 0) != 0) return;
  ::kill(pid, SIGTERM);
  for (int waited = 0; waited < grace_ms; waited += 50) {
    int status = 0;
    ::waitpid(pid, &status, WNOHANG);  // reap when it is our child
    if (::kill(pid, 0) != 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  if (::waitpid(pid, &status, 0) == pid) return;
  // Not our child: it is gone once its parent (init) has reaped it; `lab down` returns
  // only when nothing of the lab runs any more.
  for (int waited = 0; waited < 2000 && ::kill(pid, 0) == 0; waited += 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace coral::lab
