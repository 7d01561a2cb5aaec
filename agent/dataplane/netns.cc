#include "agent/dataplane/netns.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace coral::agent {

absl::StatusOr<NetnsFd> NetnsFd::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    const std::string msg = fmt::format("network namespace {}: {}", path, std::strerror(e));
    if (e == ENOENT) return absl::NotFoundError(msg);
    return absl::FailedPreconditionError(msg);
  }
  return NetnsFd(fd);
}

NetnsFd& NetnsFd::operator=(NetnsFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

NetnsFd::~NetnsFd() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status runInNetns(const NetnsFd& ns, const std::function<absl::Status()>& fn) {
  absl::Status result;
  std::thread worker([&] {
    if (::setns(ns.fd(), CLONE_NEWNET) != 0) {
      result = absl::FailedPreconditionError(
          fmt::format("setns into the pod's network namespace: {}", std::strerror(errno)));
      return;
    }
    result = fn();
  });
  worker.join();
  return result;
}

}  // namespace coral::agent
