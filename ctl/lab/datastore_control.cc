// lab datastore stop|start: the lab's etcd frozen (SIGSTOP) or killed, then resumed or
// restarted. The restart reuses the exact command line and working directory `lab up`
// gave etcd (read from /proc before the kill and kept in <lab dir>/etcd/restart.sh), so
// the same data dir and the same unix socket come back and this file never has to know
// etcd's flags.
#include "ctl/lab/datastore_control.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <ostream>
#include <sstream>
#include <thread>
#include <vector>

#include "ctl/lab/lab.h"
#include "ctl/lab/shell.h"
#include "ctl/lab/state.h"

namespace coral::lab {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::seconds kHealthyWithin{20};

absl::StatusOr<LabState> loadEtcdLab(const std::string& lab) {
  auto state = LabState::load(labDir(lab));
  if (!state.ok()) {
    return absl::NotFoundError(fmt::format("lab {} is not up (`coralctl lab up`)", lab));
  }
  if (state->config.datastore != "etcd") {
    return absl::FailedPreconditionError(fmt::format(
        "lab {} uses the {} datastore ({}), which has no process to stop or start: `lab "
        "datastore stop|start` needs a lab made with `coralctl lab up --datastore etcd`",
        lab, state->config.datastore, state->datastore_url));
  }
  return state;
}

std::string restartScript(const LabState& state) { return state.dir + "/etcd/restart.sh"; }

// The one-letter state of /proc/PID/stat ('T' when stopped by a signal), 0 when gone.
char processState(int pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto paren = stat.rfind(')');
  if (paren == std::string::npos || paren + 2 >= stat.size()) return 0;
  return stat[paren + 2];
}

bool frozen(int pid) {
  const char s = processState(pid);
  return s == 'T' || s == 't';
}

bool waitUntil(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

bool etcdAnswers(const LabState& state) {
  return run(fmt::format("printf 'GET /health HTTP/1.0\\r\\n\\r\\n' | nc -U -w 2 {}",
                         shellQuote(state.dir + "/etcd/" + kEtcdSocket)))
             .output.find("\"health\":\"true\"") != std::string::npos;
}

absl::Status waitHealthy(const LabState& state, Clock::time_point since, std::ostream& out) {
  if (!waitUntil([&] { return etcdAnswers(state); }, kHealthyWithin)) {
    return absl::DeadlineExceededError(
        fmt::format("etcd of lab {} is not healthy after {} s; see {}/logs/etcd.log", state.name,
                    kHealthyWithin.count(), state.dir));
  }
  out << fmt::format("etcd healthy after {:.1f} s\n",
                     std::chrono::duration<double>(Clock::now() - since).count());
  return absl::OkStatus();
}

// "cd CWD && exec ARGV..." for the running etcd, from /proc.
absl::StatusOr<std::string> commandOf(int pid) {
  std::ifstream in(fmt::format("/proc/{}/cmdline", pid));
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::error_code ec;
  const fs::path cwd = fs::read_symlink(fmt::format("/proc/{}/cwd", pid), ec);
  if (raw.empty() || ec) {
    return absl::InternalError(
        fmt::format("cannot read the command line of etcd (pid {}) from /proc", pid));
  }
  std::string command = fmt::format("cd {} && exec", shellQuote(cwd.string()));
  size_t start = 0;
  while (start < raw.size()) {
    const size_t end = raw.find('\0', start);
    const std::string arg = raw.substr(start, end == std::string::npos ? end : end - start);
    command += " " + shellQuote(arg);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return command;
}

}  // namespace

std::string etcdProcessState(int pid) {
  if (!processMatches(pid, "etcd")) return "DOWN";
  return fmt::format("{}, pid {}", frozen(pid) ? "FROZEN (SIGSTOP)" : "running", pid);
}

absl::Status datastoreStop(const std::string& lab, DatastoreStop how, std::ostream& out) {
  if (::geteuid() != 0) return absl::PermissionDeniedError("coralctl lab datastore needs root");
  auto state = loadEtcdLab(lab);
  if (!state.ok()) return state.status();
  const int pid = state->etcd_pid;
  if (!processMatches(pid, "etcd")) {
    out << fmt::format(
        "etcd of lab {} (pid {}) is not running; `coralctl lab --name {} "
        "datastore start` starts it\n",
        lab, pid, lab);
    return absl::OkStatus();
  }
  if (how == DatastoreStop::kFreeze) {
    if (frozen(pid)) {
      out << fmt::format("etcd of lab {} (pid {}) is already frozen\n", lab, pid);
      return absl::OkStatus();
    }
    if (::kill(pid, SIGSTOP) != 0 ||
        !waitUntil([&] { return frozen(pid); }, std::chrono::milliseconds(2000))) {
      return absl::InternalError(fmt::format("cannot SIGSTOP etcd (pid {})", pid));
    }
    out << fmt::format(
        "etcd of lab {} (pid {}) frozen (SIGSTOP): requests to it hang until their deadline. "
        "`coralctl lab --name {} datastore start` resumes it.\n",
        lab, pid, lab);
    return absl::OkStatus();
  }
  auto command = commandOf(pid);
  if (!command.ok()) return command.status();
  {
    std::ofstream script(restartScript(*state));
    script << *command << '\n';
    if (!script) {
      return absl::InternalError(fmt::format("cannot write {}", restartScript(*state)));
    }
  }
  // A frozen etcd gets its SIGTERM when it continues, and exits cleanly.
  ::kill(pid, SIGTERM);
  ::kill(pid, SIGCONT);
  stopProcess(pid, 5000);
  if (::kill(pid, 0) == 0) {
    return absl::InternalError(fmt::format("etcd (pid {}) does not exit", pid));
  }
  out << fmt::format(
      "etcd of lab {} (pid {}) stopped (SIGTERM): connections to it are refused. `coralctl lab "
      "--name {} datastore start` starts it again with the same data.\n",
      lab, pid, lab);
  return absl::OkStatus();
}

absl::Status datastoreStart(const std::string& lab, std::ostream& out) {
  if (::geteuid() != 0) return absl::PermissionDeniedError("coralctl lab datastore needs root");
  auto state = loadEtcdLab(lab);
  if (!state.ok()) return state.status();
  const auto since = Clock::now();
  const int pid = state->etcd_pid;
  if (processMatches(pid, "etcd")) {
    if (!frozen(pid)) {
      out << fmt::format("etcd of lab {} (pid {}) is running\n", lab, pid);
      return absl::OkStatus();
    }
    if (::kill(pid, SIGCONT) != 0) {
      return absl::InternalError(fmt::format("cannot SIGCONT etcd (pid {})", pid));
    }
    out << fmt::format("etcd of lab {} (pid {}) resumed (SIGCONT)\n", lab, pid);
    return waitHealthy(*state, since, out);
  }
  std::ifstream in(restartScript(*state));
  std::stringstream script;
  script << in.rdbuf();
  std::string command = script.str();
  while (!command.empty() && command.back() == '\n') command.pop_back();
  if (command.empty()) {
    return absl::FailedPreconditionError(fmt::format(
        "etcd of lab {} (pid {}) is not running and was not stopped by `lab datastore stop "
        "--kill` (no {}): `coralctl lab --name {} down` and up again",
        lab, pid, restartScript(*state), lab));
  }
  auto started = spawnInNetns(netnsName(lab, "etcd"), "sh -c " + shellQuote(command),
                              state->dir + "/logs/etcd.log");
  if (!started.ok()) return started.status();
  // Recorded at once, so `lab down` stops it whatever happens next.
  state->etcd_pid = *started;
  if (auto s = state->save(); !s.ok()) return s;
  fs::remove(restartScript(*state));
  out << fmt::format("etcd of lab {} started again (pid {}, data in {}/etcd/data)\n", lab, *started,
                     state->dir);
  return waitHealthy(*state, since, out);
}

}  // namespace coral::lab
