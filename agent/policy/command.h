// Running a helper program (iptables-restore, iptables-save) with text on stdin and its
// output captured, in the calling thread's network namespace (a child inherits it).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace coral::agent {

struct CommandOutput {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// argv[0] is looked up in PATH. Fails only when the program cannot be run at all.
absl::StatusOr<CommandOutput> runCommand(const std::vector<std::string>& argv,
                                         const std::string& input = "");

}  // namespace coral::agent
