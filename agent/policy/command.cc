// runCommand (see command.h): stdin, stdout and stderr are memfds, so no pipe can fill up
// and deadlock, whatever the sizes.
#include "agent/policy/command.h"

#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/strings.h"

namespace coral::agent {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

bool writeAll(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return ::lseek(fd, 0, SEEK_SET) == 0;
}

std::string readAll(int fd) {
  std::string out;
  if (::lseek(fd, 0, SEEK_SET) != 0) return out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

absl::StatusOr<CommandOutput> runCommand(const std::vector<std::string>& argv,
                                         const std::string& input) {
  if (argv.empty()) return absl::InvalidArgumentError("runCommand: empty argv");
  Fd in{::memfd_create("coral-in", MFD_CLOEXEC)};
  Fd out{::memfd_create("coral-out", MFD_CLOEXEC)};
  Fd err{::memfd_create("coral-err", MFD_CLOEXEC)};
  if (in.fd < 0 || out.fd < 0 || err.fd < 0 || !writeAll(in.fd, input)) {
    return absl::InternalError(fmt::format("{}: memfd: {}", argv[0], std::strerror(errno)));
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0)
    return absl::InternalError(fmt::format("{}: fork: {}", argv[0], std::strerror(errno)));
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    ::dup2(in.fd, 0);
    ::dup2(out.fd, 1);
    ::dup2(err.fd, 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  CommandOutput result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = readAll(out.fd);
  result.err = readAll(err.fd);
  if (result.exit_code == 127) {
    return absl::FailedPreconditionError(
        fmt::format("{}: cannot be run (not installed?): {}", argv[0], trim(result.err)));
  }
  return result;
}

}  // namespace coral::agent
