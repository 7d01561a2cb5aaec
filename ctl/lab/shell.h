// Running commands for the lab: synchronous shell commands with their output, and
// daemons started inside a network namespace (`ip netns exec` execs in place, so the pid
// returned is the daemon's own).
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace coral::lab {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
  bool ok() const { return exit_code == 0; }
};

// Runs `command` with /bin/sh; echoes it first when verbose is on.
CommandResult run(const std::string& command);
// As run(), but an error naming the command and its output when it fails.
absl::Status runChecked(const std::string& command);
void setVerbose(bool verbose);

// Starts `command` inside `netns` as a daemon in its own session, output appended to
// `log_path`. Returns its pid.
absl::StatusOr<int> spawnInNetns(const std::string& netns, const std::string& command,
                                 const std::string& log_path);
// True when `pid` is alive and its command line contains `needle` (guards against
// killing a recycled pid).
bool processMatches(int pid, const std::string& needle);
// SIGTERM, then SIGKILL after `grace_ms`.
void stopProcess(int pid, int grace_ms = 2000);
std::string shellQuote(const std::string& s);

}  // namespace coral::lab
