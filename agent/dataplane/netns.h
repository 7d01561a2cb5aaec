// Network namespaces: open one by path, and run code inside it. setns() changes only the
// calling thread, so runInNetns() does the work on a short-lived thread of its own and the
// agent's threads never leave the node's namespace.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace coral::agent {

class NetnsFd {
 public:
  // Opens /var/run/netns/NAME, /proc/PID/ns/net or any other netns path.
  static absl::StatusOr<NetnsFd> open(const std::string& path);
  NetnsFd(NetnsFd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  NetnsFd& operator=(NetnsFd&& other) noexcept;
  ~NetnsFd();
  int fd() const { return fd_; }

 private:
  explicit NetnsFd(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// Runs fn on a new thread that has entered the namespace; returns fn's status.
absl::Status runInNetns(const NetnsFd& ns, const std::function<absl::Status()>& fn);

}  // namespace coral::agent
